package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/own"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/writeup"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/catalog"
)

// DefaultCheckRepeats is how often check runs each load profile.
const DefaultCheckRepeats = 5

// Check is `check UNIT BINARY`: the user's unit and binary, reloaded and
// stopped under load in the lab as the matrix does it, with repeats; the
// results go to results/ and a page to docs/check/<unit>.md.
func Check(ctx context.Context, w io.Writer, unitPath, binPath string) error {
	ctx, stop := interruptible(ctx)
	defer stop()
	cfg, o, suites, err := batchSetup(DefaultCheckRepeats)
	if err != nil {
		return err
	}
	_, _, err = RunCheck(ctx, w, CheckSetup{Cfg: cfg, Opts: o, Suites: suites, Docs: filepath.Join(cfg.Repo, "docs")},
		unitPath, binPath, own.SettingsFromEnv())
	return err
}

// CheckSetup is where check runs and writes.
type CheckSetup struct {
	Cfg    lab.Config
	Opts   Options
	Suites []string
	Docs   string // the docs dir; the page goes to its check/
}

// RunCheck prepares the user's unit, runs it and writes its page; it
// returns the runs and the page.
func RunCheck(ctx context.Context, w io.Writer, cs CheckSetup, unitPath, binPath string, s own.Settings) ([]*result.Result, string, error) {
	p, err := own.Prepare(unitPath, binPath, s)
	if err != nil {
		return nil, "", fmt.Errorf("check: %w", err)
	}
	o := cs.Opts
	o.Repeats = max(o.Repeats, 1)
	for _, x := range p.Lint {
		fmt.Fprintf(w, "lint: %s:%d: %s: %s\n", unitPath, x.Line, x.Setting, x.Rule)
	}
	k := kind.Base()
	v := catalog.Variant{Server: "check", Name: strings.TrimSuffix(p.Name, ".service"), Action: "reload", Unit: p.Name}
	job := &OwnJob{Own: p.Own, Listen: p.Listen, Path: p.Path, Health: p.Health, Slow: p.Slow}
	jobs := Jobs(k, []catalog.Variant{v}, o.Profiles)
	for i := range jobs {
		jobs[i].Own = job
	}
	o.Batch = BatchID(time.Now()) + "-check-" + v.Name
	tasks := Tasks(jobs, cs.Suites, o.Repeats)
	t0 := time.Now()
	fmt.Fprintf(w, "check %s: %d runs (%d per profile and suite) of %s under load at %d req/s, http://%s%s\n",
		p.Name, len(tasks), o.Repeats, k.Name, o.Rate, p.Listen, p.Path)
	// The first run alone: a unit that cannot start says so once, with
	// systemd's words, instead of once per run.
	rs, err := RunBatch(ctx, cs.Cfg, tasks[:1], o)
	if err == nil && len(rs) == 1 && len(rs[0].Errors) > 0 {
		err = errors.New(strings.Join(rs[0].Errors, "; "))
	}
	if err != nil {
		if len(rs) == 1 {
			explain(w, rs[0])
			os.Remove(filepath.Join(o.ResultsDir, rs[0].ID+".json"))
		}
		return nil, "", fmt.Errorf("check %s: %s", p.Name, oneLine(err.Error()))
	}
	more, err := RunBatch(ctx, cs.Cfg, tasks[1:], o)
	rs = append(rs, more...)
	fmt.Fprintf(w, "check %s: %d runs in %s; results in %s\n", p.Name, len(rs), time.Since(t0).Round(time.Second), o.ResultsDir)
	PrintTable(w, rs)
	page, rerr := writeup.Check(cs.Docs, filepath.Join(cs.Cfg.Repo, "results"), rs)
	if rerr != nil {
		return rs, "", errors.Join(err, rerr)
	}
	for _, line := range writeup.CheckVerdicts(rs) {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "page: %s\n", page)
	return rs, page, err
}

// oneLine joins a multi-line message (systemctl's, say) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}

// explain shows why a unit did not come up: what systemd said about it
// and its journal.
func explain(w io.Writer, r *result.Result) {
	if s := strings.TrimSpace(r.Unit.Verify); s != "" {
		fmt.Fprintf(w, "systemd-analyze verify says:\n%s\n", indent(s, "  ", ""))
	}
	if len(r.Journal) > 0 {
		fmt.Fprintf(w, "the unit's journal:\n%s\n", indent(strings.Join(r.Journal, "\n"), "  ", ""))
	}
}
