package runner

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// abRun is ab as the load: it keeps no per-request records, only its
// report.
type abRun interface {
	loadRun
	Report() *result.AB
}

// abConcurrency and abMaxRequests are the 2015 comparison's -c and -n; the
// run's duration (-t) bounds it instead, as a million requests took about
// 70 s there (about 70 restarts at one HUP a second).
const (
	abConcurrency = 10
	abMaxRequests = 1000000
)

// abArgs: -t must come before -n, as ab sets the request count to 50000
// when it reads -t.
func abArgs(url string, d time.Duration) []string {
	secs := int(math.Ceil(d.Seconds()))
	return []string{"-r", "-c", strconv.Itoa(abConcurrency), "-t", strconv.Itoa(secs), "-n", strconv.Itoa(abMaxRequests), url}
}

type abProc struct {
	began  time.Time
	done   chan struct{}
	report *result.AB
}

func startAB(ctx context.Context, url string, d time.Duration) abRun {
	args := abArgs(url, d)
	p := &abProc{began: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, "ab", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		a := analysis.ParseAB(out.String())
		a.Command = "ab " + strings.Join(args, " ")
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			a.Exit = ee.ExitCode()
		case err != nil:
			a.Exit = -1
			a.Output += "\ngracelab: could not run ab (is apache2-utils in the lab's rootfs?): " + err.Error()
		}
		p.report = &a
	}()
	return p
}

func (p *abProc) Began() time.Time           { return p.began }
func (p *abProc) Done() <-chan struct{}      { return p.done }
func (p *abProc) Versions() map[int32]string { return nil }
func (p *abProc) Progress() load.Progress    { return load.Progress{Elapsed: time.Since(p.began)} }

// Wait waits for ab to end; ab keeps no records of its own requests.
func (p *abProc) Wait() []load.Record { <-p.done; return nil }

func (p *abProc) Report() *result.AB { <-p.done; return p.report }
