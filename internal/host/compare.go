package host

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// Compare is results:compare A B: two batches (a batch name in results/,
// or a folder of results) cell by cell and question by question, as k of
// N; a cell is flagged only where the 95% intervals do not overlap.
func Compare(w io.Writer, a, b string) error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	ra, err := batchRuns(ResultsDir(repo), a)
	if err != nil {
		return err
	}
	rb, err := batchRuns(ResultsDir(repo), b)
	if err != nil {
		return err
	}
	ja, err := check.JudgeAll(ra)
	if err != nil {
		return err
	}
	jb, err := check.JudgeAll(rb)
	if err != nil {
		return err
	}
	return CompareRuns(w, ja, jb)
}

// batchRuns reads a folder of results, or the runs of one batch.
func batchRuns(dir, name string) ([]*result.Result, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return result.ReadDir(name)
	}
	all, err := result.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*result.Result
	var names []string
	for _, r := range all {
		if r.Batch == name {
			out = append(out, r)
		}
		if r.Batch != "" && !slices.Contains(names, r.Batch) {
			names = append(names, r.Batch)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no result of batch %q in %s; batches there: %s (or give a folder of results)", name, dir, strings.Join(names, ", "))
	}
	return out, nil
}

// CompareRuns prints one line per cell and question where the two sets
// differ, flagged when their intervals do not overlap, and a summary.
func CompareRuns(w io.Writer, a, b []*result.Result) error {
	c := rate.Compare(a, b)
	for _, d := range c.Diffs {
		mark := "  same within the intervals"
		if d.Apart {
			mark = "  DIFFERENT: the 95% intervals do not overlap"
		}
		fmt.Fprintf(w, "%s, %s: %d of %d vs %d of %d%s\n", d.Cell, d.Question, d.A.K, d.A.N, d.B.K, d.B.N, mark)
	}
	fmt.Fprintf(w, "%d cells in both (%d in one only); %d cell-questions compared: %d differ in k of N, %d with intervals that do not overlap\n",
		c.Cells, c.OnlyOne, c.Compared, len(c.Diffs), c.Apart())
	return nil
}
