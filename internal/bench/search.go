package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/load"
)

// Trial is one timed load at one rate.
type Trial struct {
	Client       string // the engine that ran
	Rate         int
	Sent, OK     int
	Failed       int
	Planned      int
	AchievedRate float64 // sent per second of the schedule
	Completed    float64 // successful responses per second, until the last one ended
	LagP99MS     float64
	P50MS, P99MS float64
	Peak         int // most connections open at once (not known for vegeta)
	Aborted      bool
	Sustained    bool
	Why          string // why not sustained
}

// SearchReport is the search for one engine's highest sustained rate.
type SearchReport struct {
	Client string
	Best   int // highest sustained rate; 0 if none
	Trials []Trial
	Ended  string // why the search stopped
}

// abortBehind ends a trial early once the engine is this far behind its
// schedule: the rate is lost, and running on only loads the machine.
const abortBehind = time.Second

// Sustained is the definition the benchmark uses, in words; sustained
// says the same in code.
var Sustained = fmt.Sprintf("the analysis does not mark the run fell_behind (at least %.0f%% of the schedule's requests were sent, "+
	"and the 99th percentile of send lag, Sent minus Scheduled, is at most %s), no request failed, "+
	"and successful responses per second, counted until the last one ended, are at least %.0f%% of the rate",
	analysis.MinSentRatio*100, analysis.MaxLagP99, analysis.MinSentRatio*100)

// judge fills in whether a trial's records show a sustained rate.
func judge(t *Trial, recs []load.Record, d time.Duration) {
	s := analysis.Summarize(recs, t.Rate, d)
	t.Planned = load.Planned(t.Rate, d)
	t.Sent, t.OK, t.Failed = s.Sent, s.OK, s.Failed
	t.AchievedRate, t.LagP99MS, t.P50MS, t.P99MS = s.AchievedRate, s.SendLagP99MS, s.P50MS, s.P99MS
	last := d
	for i := range recs {
		last = max(last, recs[i].End())
	}
	t.Completed = float64(s.OK) / last.Seconds()
	var why []string
	if t.Aborted {
		why = append(why, fmt.Sprintf("stopped %s behind schedule", abortBehind))
	}
	if s.FellBehind {
		why = append(why, fmt.Sprintf("fell behind: sent %s of %s, send lag p99 %.1f ms", thousands(float64(s.Sent)), thousands(float64(t.Planned)), s.SendLagP99MS))
	}
	if s.Failed > 0 {
		why = append(why, fmt.Sprintf("%s failed (%s)", thousands(float64(s.Failed)), analysis.ClassList(s.ByClass)))
	}
	if t.Completed < analysis.MinSentRatio*float64(t.Rate) {
		why = append(why, fmt.Sprintf("the server completed only %s/s", thousands(t.Completed)))
	}
	t.Sustained = len(why) == 0
	t.Why = strings.Join(why, "; ")
}

// trialFunc runs one trial at rate.
type trialFunc func(rate int) Trial

// engineTrials runs trials of one engine against url.
func engineTrials(ctx context.Context, url string, client load.Client, o Options, out io.Writer) trialFunc {
	return func(rate int) Trial {
		cfg := load.Config{URL: url, Rate: rate, KeepAlive: true, Timeout: 5 * time.Second, Client: client}
		if o.Warmup > 0 {
			cfg.Duration = o.Warmup
			watch(ctx, load.Start(ctx, cfg))
		}
		cfg.Duration = o.Trial
		r := load.Start(ctx, cfg)
		t := Trial{Rate: rate, Client: r.Client().String()}
		t.Aborted = watch(ctx, r)
		recs := r.Wait()
		t.Peak = r.Progress().Peak
		judge(&t, recs, o.Trial)
		verdict := "sustained"
		if !t.Sustained {
			verdict = "not sustained: " + t.Why
			// Let the server wind down what the failed trial left it.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		fmt.Fprintf(out, "bench:   %s at %d/s: sent %d, completed %.0f/s, send lag p99 %.1f ms, latency p50 %.2f ms p99 %.1f ms, %d conns: %s\n",
			r.Client(), rate, t.Sent, t.Completed, t.LagP99MS, t.P50MS, t.P99MS, t.Peak, verdict)
		return t
	}
}

// watch waits for a load to end, stopping it when it is hopelessly
// behind; it says whether it did.
func watch(ctx context.Context, r *load.Run) (aborted bool) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Done():
			r.Wait()
			return aborted
		case <-tick.C:
			if !aborted && r.Progress().Behind > abortBehind {
				aborted = true
				r.Stop()
			}
		}
	}
}

// search finds the highest sustained rate: from start it climbs by a
// fifth while rates pass, then halves the interval between the highest
// pass and the lowest failure until they are within o.Resolution. A rate
// that fails is tried again, up to o.Attempts times, and counts as
// sustained if any attempt is (the machine is shared; wrk, too, is
// counted by its best run). At most maxTrials trials, and none starts
// after deadline; every rate is at most limit.
func search(ctx context.Context, try trialFunc, start, limit, maxTrials int, deadline time.Time, o Options) SearchReport {
	rep := SearchReport{}
	lo, hi := 0, 0 // highest sustained, lowest failed (0: none yet)
	rate := min(start, limit)
	for {
		switch {
		case ctx.Err() != nil:
			rep.Ended = "interrupted"
		case len(rep.Trials) >= maxTrials:
			rep.Ended = fmt.Sprintf("after %d trials", maxTrials)
		case time.Now().After(deadline):
			rep.Ended = "out of time"
		case rate <= 0 || rate == lo || hi > 0 && rate >= hi:
			rep.Ended = "converged"
		case hi > 0 && lo > 0 && float64(hi-lo) <= o.Resolution*float64(lo):
			rep.Ended = fmt.Sprintf("converged within %.0f%%", o.Resolution*100)
		}
		if rep.Ended != "" {
			break
		}
		ok := false
		for a := 0; a < max(1, o.Attempts) && len(rep.Trials) < maxTrials && ctx.Err() == nil; a++ {
			t := try(rate)
			rep.Trials = append(rep.Trials, t)
			if t.Sustained {
				ok = true
				break
			}
		}
		if ctx.Err() != nil {
			continue
		}
		if ok {
			lo = rate
			if hi == 0 {
				if rate >= limit {
					rep.Ended = "reached the limit"
					break
				}
				rate = min(limit, round100(rate*6/5))
				continue
			}
		} else {
			hi = rate
		}
		rate = round100((lo + hi) / 2)
	}
	rep.Best = lo
	if len(rep.Trials) > 0 {
		rep.Client = rep.Trials[0].Client
	}
	return rep
}

func round100(n int) int { return n / 100 * 100 }
