// Package rate answers a question over the repeats of a cell: k of N
// runs failed it, with a 95% Wilson interval, and the requests lost.
// Two rates differ only when their intervals do not overlap.
package rate

import (
	"fmt"
	"math"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// Rate is one question over the repeats of one cell in one environment:
// in how many of the runs that could decide it failed (k of n), how many
// could not decide, and, for requests, how many were lost.
type Rate struct {
	K, N, Unknown int
	Lost, Reloads int
}

// Of counts the runs of a cell in an environment for question q.
func Of(rs []*result.Result, q check.Question) Rate {
	var out Rate
	for _, r := range rs {
		o, ok := check.ByQuestion(r.Verdict)[q]
		if !ok {
			continue
		}
		switch o {
		case result.Unknown:
			out.Unknown++
			continue
		case result.Fail:
			out.K++
		}
		out.N++
		// Requests cut: of the steady load, and slow ones in flight.
		out.Lost += r.Summary.Failed + r.Summary.SlowTotal - r.Summary.SlowDone
		out.Reloads += len(r.Reloads)
	}
	return out
}

// z is the normal quantile of a 95% interval.
const z = 1.959964

// Wilson is the 95% Wilson score interval of k successes in n trials.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), z*z
	center := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// Interval is the rate's 95% Wilson interval.
func (r Rate) Interval() (lo, hi float64) { return Wilson(r.K, r.N) }

// Apart says two rates' intervals do not overlap: only then do the data
// tell the two apart.
func Apart(a, b Rate) bool {
	alo, ahi := a.Interval()
	blo, bhi := b.Interval()
	return a.N > 0 && b.N > 0 && (ahi < blo || bhi < alo)
}

// Text is "k of n (95% CI lo–hi%)", with the undecided runs named.
func (r Rate) Text() string {
	if r.N == 0 {
		if r.Unknown > 0 {
			return fmt.Sprintf("❔ %d undecided", r.Unknown)
		}
		return "–"
	}
	lo, hi := r.Interval()
	s := fmt.Sprintf("%s %d of %d (%.0f–%.0f%%)", r.Mark(), r.K, r.N, 100*lo, 100*hi)
	if r.Unknown > 0 {
		s += fmt.Sprintf(", %d undecided", r.Unknown)
	}
	return s
}

// Mark is ❌ when a run failed the question, else ✅.
func (r Rate) Mark() string {
	if r.K > 0 {
		return "❌"
	}
	return "✅"
}

// LostText is the requests lost over the decided runs, in all and per reload.
func (r Rate) LostText() string {
	if r.N == 0 {
		return "–"
	}
	if r.Reloads == 0 {
		return fmt.Sprintf("%d", r.Lost)
	}
	return fmt.Sprintf("%d (%.1f per reload)", r.Lost, float64(r.Lost)/float64(r.Reloads))
}
