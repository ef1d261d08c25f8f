package writeup

import (
	"fmt"
	"math"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// rate is one question over the repeats of one cell in one environment:
// in how many of the runs that could decide it failed (k of n), how many
// could not decide, and, for requests, how many were lost.
type rate struct {
	k, n, unknown int
	lost, reloads int
}

// rateOf counts the runs of a cell in an environment for question q.
func rateOf(rs []*result.Result, q check.Question) rate {
	var out rate
	for _, r := range rs {
		o, ok := check.ByQuestion(r.Verdict)[q]
		if !ok {
			continue
		}
		switch o {
		case result.Unknown:
			out.unknown++
			continue
		case result.Fail:
			out.k++
		}
		out.n++
		// Requests cut: of the steady load, and slow ones in flight.
		out.lost += r.Summary.Failed + r.Summary.SlowTotal - r.Summary.SlowDone
		out.reloads += len(r.Reloads)
	}
	return out
}

// wilsonZ is the normal quantile of a 95% interval.
const wilsonZ = 1.959964

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), wilsonZ*wilsonZ
	center := (p + z2/(2*nf)) / (1 + z2/nf)
	half := wilsonZ / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

func (r rate) interval() (lo, hi float64) { return wilson(r.k, r.n) }

// apart says two rates' intervals do not overlap: only then do the data
// tell the two apart.
func apart(a, b rate) bool {
	alo, ahi := a.interval()
	blo, bhi := b.interval()
	return a.n > 0 && b.n > 0 && (ahi < blo || bhi < alo)
}

// text is "k of n (95% CI lo–hi%)", with the undecided runs named.
func (r rate) text() string {
	if r.n == 0 {
		if r.unknown > 0 {
			return fmt.Sprintf("❔ %d undecided", r.unknown)
		}
		return "–"
	}
	lo, hi := r.interval()
	mark := "✅"
	if r.k > 0 {
		mark = "❌"
	}
	s := fmt.Sprintf("%s %d of %d (%.0f–%.0f%%)", mark, r.k, r.n, 100*lo, 100*hi)
	if r.unknown > 0 {
		s += fmt.Sprintf(", %d undecided", r.unknown)
	}
	return s
}

// lostText is the requests lost over the decided runs, in all and per reload.
func (r rate) lostText() string {
	if r.n == 0 {
		return "–"
	}
	if r.reloads == 0 {
		return fmt.Sprintf("%d", r.lost)
	}
	return fmt.Sprintf("%d (%.1f per reload)", r.lost, float64(r.lost)/float64(r.reloads))
}

// questionHeaders name the rate columns: what failing a question means.
var questionHeaders = map[check.Question]string{
	check.Requests: "Runs that lost requests",
	check.Tracking: "Runs where systemd lost the server",
	check.Stopping: "Runs with an unclean stop",
	check.Deploys:  "Runs where the deploy went wrong",
}

// readmeRates is one table per environment: every cell, each question as
// k of N with its interval, and the requests lost.
func readmeRates(p *page, m *model) {
	p.heading(2, "Rates over the repeats")
	p.para("Each row is a cell (experiment, server, variant, load profile) run several times in the same environment. " +
		"Each question is judged on its own: *k of N* counts the runs that failed it, with a 95%% Wilson interval for the " +
		"rate; runs that could not decide (the load fell behind, the run was interrupted) are named apart and never count as passes. " +
		"*Lost* is the requests that failed over those runs (of the steady load, and slow ones in flight at a reload), in all and per reload.")
	for _, e := range m.envs {
		var rows [][]string
		for _, c := range m.cells {
			rs := c.runs[e]
			if len(rs) == 0 {
				continue
			}
			row := []string{code(c.key.Experiment), c.key.Server, fmt.Sprintf("[%s](%s)", code(c.key.Variant), c.key.link()), code(c.key.Profile)}
			req := rateOf(rs, check.Requests)
			row = append(row, req.text(), req.lostText())
			for _, q := range check.Questions[1:] {
				row = append(row, rateOf(rs, q).text())
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			continue
		}
		header := []string{"Experiment", "Server", "Variant", "Profile", questionHeaders[check.Requests], "Lost"}
		for _, q := range check.Questions[1:] {
			header = append(header, questionHeaders[q])
		}
		p.para("On %s:", e.label())
		p.table(header, rows)
	}
	readmeDisagree(p, m)
}

// readmeDisagree compares environments cell by cell and question by
// question: they disagree only where the intervals do not overlap.
func readmeDisagree(p *page, m *model) {
	if len(m.envs) < 2 {
		return
	}
	p.heading(3, "Where the environments disagree")
	var apartRows, unclear []string
	for _, c := range m.cells {
		for _, q := range check.Questions {
			var rates []rate
			var labels []string
			for _, e := range m.envs {
				if rs := c.runs[e]; len(rs) > 0 {
					if r := rateOf(rs, q); r.n > 0 {
						rates = append(rates, r)
						labels = append(labels, fmt.Sprintf("%d of %d on %s", r.k, r.n, e.label()))
					}
				}
			}
			if len(rates) < 2 {
				continue
			}
			differ, sep := false, false
			for i := range rates {
				for j := i + 1; j < len(rates); j++ {
					differ = differ || rates[i].k*rates[j].n != rates[j].k*rates[i].n
					sep = sep || apart(rates[i], rates[j])
				}
			}
			line := fmt.Sprintf("- %s %s %s %s, %s: %s", code(c.key.Experiment), c.key.Server, code(c.key.Variant), code(c.key.Profile),
				questionHeaders[q], strings.Join(labels, "; "))
			switch {
			case sep:
				apartRows = append(apartRows, line)
			case differ:
				unclear = append(unclear, line)
			}
		}
	}
	if len(apartRows) == 0 {
		p.para("Nowhere: for every cell and question, the environments' 95%% intervals overlap.")
	} else {
		p.para("Cells and questions whose 95%% intervals do not overlap:")
		p.f("%s\n\n", strings.Join(apartRows, "\n"))
	}
	if len(unclear) > 0 {
		p.para("Rates that differ, but whose intervals overlap, so these data cannot tell the environments apart:")
		p.f("%s\n\n", strings.Join(unclear, "\n"))
	}
}
