package load

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/gracelab/gracelab/servers/sample"
)

// Config is one open-loop load: Rate requests per second for Duration.
type Config struct {
	URL       string
	Rate      int
	Duration  time.Duration
	KeepAlive bool
	Timeout   time.Duration
}

// Progress is a running count for the progress line.
type Progress struct {
	Elapsed time.Duration
	Done    int64
	Failed  int64
}

// Run is a load in progress.
type Run struct {
	Began time.Time
	cfg   Config

	atk    *vegeta.Attacker
	done   chan struct{}
	recs   []Record
	nDone  atomic.Int64
	nFail  atomic.Int64
}

// Start begins the load. Requests go out on a fixed schedule whatever the
// server does (open loop), so a stalled server shows as latency and
// failures, not as fewer requests.
func Start(ctx context.Context, cfg Config) *Run {
	atk := vegeta.NewAttacker(
		vegeta.KeepAlive(cfg.KeepAlive),
		vegeta.Timeout(cfg.Timeout),
		vegeta.MaxBody(0),
		vegeta.Redirects(vegeta.NoFollow),
	)
	r := &Run{cfg: cfg, atk: atk, done: make(chan struct{})}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: cfg.URL})
	rate := vegeta.Rate{Freq: cfg.Rate, Per: time.Second}
	interval := time.Second / time.Duration(cfg.Rate)
	r.recs = make([]Record, 0, int(cfg.Duration/interval)+16)
	r.Began = time.Now()
	results := atk.Attack(tr, rate, cfg.Duration, "gracelab")
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-r.done:
		}
	}()
	go func() {
		defer close(r.done)
		for res := range results {
			rec := toRecord(res, r.Began, interval)
			if rec.Class != OK {
				r.nFail.Add(1)
			}
			r.nDone.Add(1)
			r.recs = append(r.recs, rec)
		}
	}()
	return r
}

func toRecord(res *vegeta.Result, began time.Time, interval time.Duration) Record {
	sched := time.Duration(res.Seq) * interval
	sent := res.Timestamp.Sub(began)
	rec := Record{
		Scheduled: sched,
		Sent:      sent,
		// From the scheduled time, not the send time: a late send is latency
		// the client saw (no coordinated omission).
		Latency: sent + res.Latency - sched,
		Code:    res.Code,
	}
	rec.Class = Classify(int(res.Code), nil, res.Error)
	if rec.Class != OK {
		rec.Err = res.Error
	}
	if pid, err := strconv.Atoi(res.Headers.Get(sample.HeaderPID)); err == nil {
		rec.PID = int32(pid)
	}
	return rec
}

// Progress reports what has completed so far.
func (r *Run) Progress() Progress {
	return Progress{Elapsed: time.Since(r.Began), Done: r.nDone.Load(), Failed: r.nFail.Load()}
}

// Stop ends the load early (for an interrupt).
func (r *Run) Stop() { r.atk.Stop() }

// Wait blocks until every request has ended and returns the records.
func (r *Run) Wait() []Record {
	<-r.done
	return r.recs
}

// Done is closed when the load has ended.
func (r *Run) Done() <-chan struct{} { return r.done }
