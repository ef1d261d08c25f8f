package rate

import (
	"math"
	"testing"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 5, 0, 0.4345}, {5, 5, 0.5655, 1}, {2, 10, 0.0567, 0.5098}, {0, 0, 0, 1},
	} {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = %.4f–%.4f, want %.4f–%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestApartOnlyWhenIntervalsDoNotOverlap(t *testing.T) {
	if !Apart(Rate{K: 0, N: 10}, Rate{K: 10, N: 10}) {
		t.Error("0 of 10 and 10 of 10 not told apart")
	}
	if Apart(Rate{K: 1, N: 5}, Rate{K: 3, N: 5}) {
		t.Error("1 of 5 and 3 of 5 told apart; their intervals overlap")
	}
	if Apart(Rate{K: 0, N: 0}, Rate{K: 5, N: 5}) {
		t.Error("a rate with no decided run told apart")
	}
}

func TestRateCountsQuestionsApartAndUnknownsAside(t *testing.T) {
	v := func(o map[string]result.Outcome) *result.Result {
		r := &result.Result{Summary: result.Summary{Failed: 0}, Reloads: make([]result.Reload, 3)}
		for name, out := range o {
			r.Verdict.Checks = append(r.Verdict.Checks, result.Check{Name: name, Outcome: out})
		}
		return r
	}
	lossy := v(map[string]result.Outcome{"no_failed_requests": result.Fail, "unit_stops_cleanly": result.Pass})
	lossy.Summary.Failed = 6
	rs := []*result.Result{
		lossy,
		v(map[string]result.Outcome{"no_failed_requests": result.Pass, "unit_stops_cleanly": result.Fail}),
		v(map[string]result.Outcome{"load_sustained": result.Unknown, "no_failed_requests": result.Pass}),
	}
	req := Of(rs, check.Requests)
	if req.K != 1 || req.N != 2 || req.Unknown != 1 || req.Lost != 6 || req.Reloads != 6 {
		t.Errorf("requests rate %+v", req)
	}
	if got := req.LostText(); got != "6 (1.0 per reload)" {
		t.Errorf("lost text %q", got)
	}
	if stop := Of(rs, check.Stopping); stop.K != 1 || stop.N != 2 {
		t.Errorf("stopping rate %+v", stop)
	}
}
