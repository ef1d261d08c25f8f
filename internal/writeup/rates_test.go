package writeup

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
		lo, hi := wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("wilson(%d, %d) = %.4f–%.4f, want %.4f–%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestApartOnlyWhenIntervalsDoNotOverlap(t *testing.T) {
	if !apart(rate{k: 0, n: 10}, rate{k: 10, n: 10}) {
		t.Error("0 of 10 and 10 of 10 not told apart")
	}
	if apart(rate{k: 1, n: 5}, rate{k: 3, n: 5}) {
		t.Error("1 of 5 and 3 of 5 told apart; their intervals overlap")
	}
	if apart(rate{k: 0, n: 0}, rate{k: 5, n: 5}) {
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
	req := rateOf(rs, check.Requests)
	if req.k != 1 || req.n != 2 || req.unknown != 1 || req.lost != 6 || req.reloads != 6 {
		t.Errorf("requests rate %+v", req)
	}
	if got := req.lostText(); got != "6 (1.0 per reload)" {
		t.Errorf("lost text %q", got)
	}
	if stop := rateOf(rs, check.Stopping); stop.k != 1 || stop.n != 2 {
		t.Errorf("stopping rate %+v", stop)
	}
}
