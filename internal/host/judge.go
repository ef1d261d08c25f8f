package host

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// Judge is results:judge: every stored result judged with today's
// checks, one line per run: its ID, then each question's verdict.
func Judge(w io.Writer) error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	t0 := time.Now()
	rs, err := result.ReadDir(ResultsDir(repo))
	if err != nil {
		return fmt.Errorf("results:judge: %w", err)
	}
	if err := JudgeLines(w, rs); err != nil {
		return err
	}
	fmt.Fprintf(w, "judged %d results in %.2fs\n", len(rs), time.Since(t0).Seconds())
	return nil
}

// JudgeLines writes one line per result: ID, then requests, tracking,
// stopping and deploys as pass, fail, unknown, or "-" where no check of
// the run's kind answers the question.
func JudgeLines(w io.Writer, rs []*result.Result) error {
	for _, r := range rs {
		j, err := check.Judge(r)
		if err != nil {
			return err
		}
		parts := []string{r.ID}
		for _, q := range check.Questions {
			o, ok := j.Questions[q]
			if !ok {
				o = "-"
			}
			parts = append(parts, fmt.Sprintf("%s=%s", q, o))
		}
		fmt.Fprintln(w, strings.Join(parts, " "))
	}
	return nil
}
