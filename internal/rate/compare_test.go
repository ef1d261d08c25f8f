package rate

import (
	"testing"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

func TestCompareFlagsOnlyIntervalsApart(t *testing.T) {
	runs := func(variant string, n, lossy int) []*result.Result {
		var out []*result.Result
		for i := range n {
			o := result.Pass
			if i < lossy {
				o = result.Fail
			}
			r := &result.Result{Experiment: "reload", Server: "grace", Variant: variant, Profile: "keepalive"}
			r.Env.Suite = "bookworm"
			r.Verdict.Checks = []result.Check{{Name: "no_failed_requests", Outcome: o}}
			out = append(out, r)
		}
		return out
	}
	var a, b []*result.Result
	a = append(append(append(a, runs("never", 10, 0)...), runs("always", 10, 10)...), runs("some", 10, 2)...)
	b = append(append(append(b, runs("never", 10, 10)...), runs("always", 10, 10)...), runs("some", 10, 4)...)
	b = append(b, runs("new", 5, 0)...)
	c := Compare(a, b)
	if c.Cells != 3 || c.OnlyOne != 1 || c.Compared != 3 {
		t.Fatalf("comparison %+v", c)
	}
	if len(c.Diffs) != 2 || c.Apart() != 1 {
		t.Fatalf("diffs %+v, apart %d; want 2 differing, 1 apart", c.Diffs, c.Apart())
	}
	for _, d := range c.Diffs {
		if d.Apart != (d.Cell.Variant == "never") || d.Question != check.Requests {
			t.Errorf("diff %+v", d)
		}
	}
}
