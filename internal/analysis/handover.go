package analysis

import (
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// HandOvers sets each reload's FirstNewOKMS from the requests: how soon
// after it a process that had not served before answered, waiting no
// longer than the next reload (or end, after the last one); -1 if none
// did in that time. Reading every request, not a probe at a fixed time,
// tells a slow hand-over from a reload that started nothing.
func HandOvers(recs []load.Record, reloads []result.Reload, end time.Duration) {
	for i := range reloads {
		at := Dur(reloads[i].StartMS)
		bound := end
		if i+1 < len(reloads) {
			bound = Dur(reloads[i+1].StartMS)
		}
		old := map[int32]bool{}
		for j := range recs {
			if recs[j].Class == load.OK && recs[j].End() < at {
				old[recs[j].PID] = true
			}
		}
		first := time.Duration(-1)
		for j := range recs {
			rc := &recs[j]
			if e := rc.End(); rc.Class == load.OK && rc.PID != 0 && !old[rc.PID] && e >= at && e < bound && (first < 0 || e < first) {
				first = e
			}
		}
		reloads[i].FirstNewOKMS = -1
		if first >= 0 {
			reloads[i].FirstNewOKMS = MS(first - at)
		}
	}
}

// Generations counts the reloads after which a new process served in
// time (see HandOvers); the rest started nothing that served.
func Generations(reloads []result.Reload) int {
	n := 0
	for _, rl := range reloads {
		if rl.FirstNewOKMS >= 0 {
			n++
		}
	}
	return n
}

// HandOverEnd bounds the last reload's hand-over: the stop, for a unit
// stopped under load, else the end of the load window.
func HandOverEnd(r *result.Result, window time.Duration) time.Duration {
	if r.Final.StopAtMS > 0 {
		return Dur(r.Final.StopAtMS)
	}
	return window
}
