package check

import (
	"fmt"
	"slices"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/result"
)

// Derive returns what the checks read: the result with its summary
// computed again from its raw history, when it has one, so a corrected
// computation reaches stored runs too. Results without history (schema 1)
// are read as stored. r is not changed.
func Derive(r *result.Result) (*result.Result, error) {
	if r.AB != nil {
		// ab's figures are read again from its raw output.
		c := *r
		a := analysis.ParseAB(r.AB.Output)
		a.Command, a.Exit = r.AB.Command, r.AB.Exit
		c.AB = &a
		r = &c
	}
	if r.History == nil {
		return r, nil
	}
	recs, _, err := history.Decode(r.History.Data)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if len(recs) != r.History.Requests {
		return nil, fmt.Errorf("history holds %d requests, the result says %d", len(recs), r.History.Requests)
	}
	d := *r
	window := analysis.Dur(r.History.WindowMS)
	d.Summary, d.Final.Stop = analysis.Figures(r, recs, window)
	if d.Final.StopAtMS > 0 && d.Final.MainPIDAlien == "" {
		var since time.Time
		for _, rl := range r.Reloads {
			if rl.DaemonReloadMS > 0 {
				since = r.Load.Began.Add(time.Duration(rl.DaemonReloadMS * float64(time.Millisecond)))
			}
		}
		d.Final.MainPIDAlien = analysis.AlienFromJournal(r.Journal, r.Final.Snapshot.MainPID, since)
	}
	d.Reloads = slices.Clone(r.Reloads)
	analysis.HandOvers(recs, d.Reloads, analysis.HandOverEnd(r, window))
	return &d, nil
}
