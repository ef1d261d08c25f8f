package host

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/writeup"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/nspawn"
)

// Task is one run of a batch: a job, on a suite, as its n-th repeat.
type Task struct {
	Job    Job
	Suite  string
	Repeat int
}

func (t Task) String() string { return fmt.Sprintf("%s %s #%d", t.Suite, t.Job, t.Repeat) }

// Tasks repeats every job n times on every suite, longest first, so runs
// that wait long (a soak, a stop that times out) start early and overlap
// with the rest instead of ending the batch alone.
func Tasks(jobs []Job, suites []string, n int) []Task {
	var out []Task
	for r := 1; r <= n; r++ {
		for _, s := range suites {
			for _, j := range jobs {
				if j.Kind.MaxRepeats > 0 && r > j.Kind.MaxRepeats {
					continue
				}
				out = append(out, Task{Job: j, Suite: s, Repeat: r})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Task) int { return cmp.Compare(weight(b.Job), weight(a.Job)) })
	return out
}

// weight orders tasks and drives the ETA: the load window and a second of
// overhead, and a deploy of a broken build, after which some servers hang
// at stop until systemd's 90 s timeout.
func weight(j Job) time.Duration {
	w := j.Kind.LoadDuration(DefaultDuration) + time.Second
	if j.Kind.StopUnderLoad {
		w += 2 * time.Second // the load goes on through the stop
	}
	if j.Kind.Deploy == "broken" {
		w += 90 * time.Second
	}
	if j.Kind.Slow > time.Second {
		w += j.Kind.Slow // its slow requests hold the run, or the stop does
	}
	return w
}

// waits says a run is sure to spend most of its time waiting, not
// loading: its slow requests are long. (A broken deploy may hang the stop
// for 90 s, or not: that is what it measures.)
func waits(j Job) bool { return j.Kind.Slow > 10*time.Second }

// FullBatch ends the name of an experiment:all batch; the writeup renders
// the newest one.
const FullBatch = writeup.FullBatch

// BatchID names a batch by its start time.
func BatchID(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// batch runs tasks on Parallel labs per suite at once; each worker owns
// one lab per suite (slot = worker), booted when first needed.
type batch struct {
	cfg   lab.Config
	o     Options
	tasks []Task

	mu   sync.Mutex
	done int
	// doneWeight and allWeight drive the ETA: tasks differ in length.
	doneWeight, allWeight time.Duration
	began                 time.Time
	results               []*result.Result
	errs                  []error
	booted                []lab.Provider
	hostOv                []time.Duration // host-side time per run beyond the runner's own wall
}

// RunBatch runs the tasks and stores each result; it prints one line per
// finished run with the batch's progress and an ETA, and the batch's wall
// time and per-run overhead at the end. An interrupt stops every run in
// flight (each stores a partial result) and every lab the batch booted.
func RunBatch(ctx context.Context, cfg lab.Config, tasks []Task, o Options) ([]*result.Result, error) {
	b := &batch{cfg: cfg, o: o, tasks: tasks, began: time.Now()}
	for _, t := range tasks {
		b.allWeight += weight(t.Job)
	}
	if cfg.Provider != "nspawn" && b.o.Parallel > 1 {
		fmt.Fprintf(o.Out, "parallel labs need the nspawn provider; running one at a time\n")
		b.o.Parallel = 1
	}
	if err := Build(ctx, cfg, o.Out); err != nil {
		return nil, err
	}
	defer b.downBooted(context.WithoutCancel(ctx))
	// One lab per suite first, one at a time: a suite's root filesystem is
	// built once, not by several labs at once.
	first := map[string]lab.Provider{}
	for _, s := range suites(tasks) {
		p, err := b.boot(ctx, s, 0)
		if err != nil {
			return nil, err
		}
		first[s] = p
	}
	// Runs that spend most of their time waiting (on systemd's stop
	// timeout, or on 100 s requests) get labs of their own beside the
	// others: they hardly use the CPU, and on the same labs they held the
	// batch up for minutes.
	var busy, waiting []Task
	for _, t := range tasks {
		if waits(t.Job) {
			waiting = append(waiting, t)
		} else {
			busy = append(busy, t)
		}
	}
	// Half as many labs for them: their loads still use the CPU. With as
	// many again (and the broken deploys counted as waiting, though most
	// servers do not hang) the batch's loads fell behind in 61 of 144 runs,
	// with one fewer in 57 of 192. One at a time runs everything on one lab.
	workers := min(b.o.Parallel, len(busy))
	waiters := min(max(1, b.o.Parallel/2), len(waiting))
	if b.o.Parallel == 1 {
		workers, waiters = 1, 0
		busy, waiting = tasks, nil
	}
	if workers == 0 {
		workers, waiters = waiters, 0
		busy, waiting = waiting, nil
	}
	fmt.Fprintf(o.Out, "batch %s: %d runs on %d lab(s) at once", o.Batch, len(tasks), workers)
	if waiters > 0 {
		fmt.Fprintf(o.Out, ", and %d more for the %d runs that mostly wait", waiters, len(waiting))
	}
	fmt.Fprintln(o.Out)
	var wg sync.WaitGroup
	feed := func(slot0, n int, tasks []Task, first map[string]lab.Provider) {
		queue := make(chan Task)
		for w := slot0; w < slot0+n; w++ {
			labs := map[string]lab.Provider{}
			if w == 0 {
				labs = first
			}
			wg.Go(func() { b.worker(ctx, w, labs, queue) })
		}
		wg.Go(func() {
			defer close(queue)
			for _, t := range tasks {
				select {
				case queue <- t:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	feed(0, workers, busy, first)
	if waiters > 0 {
		feed(workers, waiters, waiting, nil)
	}
	wg.Wait()
	b.summary()
	if ctx.Err() != nil {
		b.errs = append(b.errs, errors.New("interrupted"))
	}
	return b.results, errors.Join(b.errs...)
}

func suites(tasks []Task) []string {
	var out []string
	for _, t := range tasks {
		if !slices.Contains(out, t.Suite) {
			out = append(out, t.Suite)
		}
	}
	return out
}

func (b *batch) boot(ctx context.Context, suite string, slot int) (lab.Provider, error) {
	cfg := b.cfg
	cfg.Suite, cfg.Slot, cfg.Ephemeral = suite, slot, true
	p, err := Provider(cfg)
	if err != nil {
		return nil, err
	}
	up, _, _ := p.Running(ctx)
	var log bytes.Buffer
	if err := BootLab(ctx, cfg, p, &log); err != nil {
		return nil, fmt.Errorf("lab %s: %w\n%s", cfg.Machine(), err, log.String())
	}
	b.mu.Lock()
	if !up {
		b.booted = append(b.booted, p)
	}
	b.mu.Unlock()
	return p, nil
}

func (b *batch) worker(ctx context.Context, w int, labs map[string]lab.Provider, queue <-chan Task) {
	for t := range queue {
		if ctx.Err() != nil {
			return
		}
		p := labs[t.Suite]
		if p == nil {
			var err error
			if p, err = b.boot(ctx, t.Suite, w); err != nil {
				b.finish(t, nil, 0, err)
				continue
			}
			labs[t.Suite] = p
		}
		cfg := b.cfg
		cfg.Suite, cfg.Slot = t.Suite, w
		o := b.o
		o.Repeat = t.Repeat
		// Few runs: show the runner's progress as it goes, and each summary.
		few := len(b.tasks) <= 4
		var out bytes.Buffer
		o.Out = &out
		if few {
			o.Out = b.o.Out
		}
		t0 := time.Now()
		r, _, err := RunOne(ctx, cfg, p, t.Job, o)
		if r != nil && few {
			PrintSummary(b.o.Out, r)
		}
		b.finish(t, r, time.Since(t0), err)
	}
}

// finish records a run and prints its line: cell, repeat, each question's
// verdict, losses, and the batch's progress with an ETA.
func (b *batch) finish(t Task, r *result.Result, took time.Duration, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	b.doneWeight += weight(t.Job)
	elapsed := time.Since(b.began)
	eta := time.Duration(float64(elapsed) / float64(b.doneWeight) * float64(b.allWeight-b.doneWeight))
	head := fmt.Sprintf("[%d/%d %3.0f%% %s, ETA %s]", b.done, len(b.tasks), 100*float64(b.done)/float64(len(b.tasks)),
		elapsed.Round(time.Second), eta.Round(time.Second))
	switch {
	case r != nil:
		b.results = append(b.results, r)
		b.hostOv = append(b.hostOv, took-time.Duration(r.WallMS*float64(time.Millisecond)))
		line := fmt.Sprintf("%s %s: %s; lost %d", head, t, judgementLine(r), r.Summary.Failed)
		if n := len(r.Reloads); n > 0 {
			line += fmt.Sprintf(" (%.1f per reload)", float64(r.Summary.Failed)/float64(n))
		}
		if r.Summary.FellBehind {
			line += "; load fell behind"
		}
		fmt.Fprintln(b.o.Out, line)
	case errors.Is(err, ErrSkipped):
		fmt.Fprintf(b.o.Out, "%s %s: skipped: %v\n", head, t, err)
		return
	}
	if err != nil && !errors.Is(err, ErrSkipped) {
		b.errs = append(b.errs, fmt.Errorf("%s: %w", t, err))
		fmt.Fprintf(b.o.Out, "%s %s: error: %v\n", head, t, err)
	}
}

// summary prints the batch's wall time, its pace, the per-run overhead
// beyond the load window, and how often the load fell behind.
func (b *batch) summary() {
	wall := time.Since(b.began)
	n := len(b.results)
	if n == 0 {
		fmt.Fprintf(b.o.Out, "batch %s: no run finished in %s\n", b.o.Batch, wall.Round(time.Second))
		return
	}
	var inLab, total []float64
	behind := 0
	for i, r := range b.results {
		if r.Interrupted {
			continue
		}
		window := r.Load.DurationMS // the load ran longer when it went on through the stop
		if r.History != nil {
			window = r.History.WindowMS
		}
		lab := (r.WallMS - window) / 1000
		inLab = append(inLab, lab)
		total = append(total, lab+b.hostOv[i].Seconds())
		if r.Summary.FellBehind {
			behind++
		}
	}
	fmt.Fprintf(b.o.Out, "batch %s: %d runs in %s at parallel %d, %.1f runs/min\n", b.o.Batch, n, wall.Round(time.Second),
		b.o.Parallel, float64(n)/wall.Minutes())
	if len(total) > 0 {
		fmt.Fprintf(b.o.Out, "  overhead per run beyond the load window: median %.2f s (in the lab %.2f s), p90 %.2f s\n",
			analysis.Quantile(total, 0.5), analysis.Quantile(inLab, 0.5), analysis.Quantile(total, 0.9))
	}
	fmt.Fprintf(b.o.Out, "  load fell behind in %d of %d runs (%.1f%%)\n", behind, n, 100*float64(behind)/float64(n))
}

// downBooted stops the labs the batch booted, all at once (after Ctrl-C,
// mage waits only 5 s); labs that ran before it are left as they were.
func (b *batch) downBooted(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range b.booted {
		wg.Go(func() {
			var log bytes.Buffer
			if err := p.Down(ctx, &log); err != nil {
				b.mu.Lock()
				fmt.Fprintf(b.o.Out, "lab down: %v\n%s", err, strings.TrimSpace(log.String()))
				b.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// downAll stops every lab of this checkout (lab:down).
func downAll(ctx context.Context, cfg lab.Config, p lab.Provider, log io.Writer) error {
	if cfg.Provider == "nspawn" {
		return nspawn.DownAll(ctx, cfg.Repo, "", log)
	}
	return p.Down(ctx, log)
}
