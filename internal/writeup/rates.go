package writeup

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/rate"
)

// questionHeaders name the rate columns: what failing a question means.
var questionHeaders = map[check.Question]string{
	check.Requests: "Runs that lost requests",
	check.Tracking: "Runs where systemd lost the server or a reload started nothing",
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
			req := rate.Of(rs, check.Requests)
			row = append(row, req.Text(), req.LostText())
			for _, q := range check.Questions[1:] {
				row = append(row, rate.Of(rs, q).Text())
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
			var rates []rate.Rate
			var labels []string
			for _, e := range m.envs {
				if rs := c.runs[e]; len(rs) > 0 {
					if r := rate.Of(rs, q); r.N > 0 {
						rates = append(rates, r)
						labels = append(labels, fmt.Sprintf("%d of %d on %s", r.K, r.N, e.label()))
					}
				}
			}
			if len(rates) < 2 {
				continue
			}
			differ, sep := false, false
			for i := range rates {
				for j := i + 1; j < len(rates); j++ {
					differ = differ || rates[i].K*rates[j].N != rates[j].K*rates[i].N
					sep = sep || rate.Apart(rates[i], rates[j])
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
		p.lines(apartRows)
	}
	if len(unclear) > 0 {
		p.para("Rates that differ, but whose intervals overlap, so these data cannot tell the environments apart:")
		p.lines(unclear)
	}
}

// readmeRerun compares this batch with the previous full one, cell by
// cell: a difference counts only where the intervals do not overlap.
func readmeRerun(p *page, m *model) {
	x := m.rerun
	if x == nil {
		return
	}
	p.heading(3, "Does a rerun agree?")
	c := x.cmp
	p.para("The previous full batch, %s (%d runs), against this one, %s: %d cells in both (%d in one only), "+
		"%d cell-questions compared. %d differ in k of N; in %d the 95%% intervals do not overlap.",
		code(x.previous), x.runs, code(x.batch), c.Cells, c.OnlyOne, c.Compared, len(c.Diffs), c.Apart())
	var rows [][]string
	for _, d := range c.Diffs {
		if !d.Apart {
			continue
		}
		rows = append(rows, []string{d.Cell.String(), string(d.Question), d.A.Text(), d.B.Text()})
	}
	if len(rows) > 0 {
		p.para("Where they do not overlap:")
		p.table([]string{"Cell", "Question", "Previous", "This batch"}, rows)
	}
}
