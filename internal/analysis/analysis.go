// Package analysis turns request records into the numbers of a result:
// summary, bins, gaps. It is pure: no I/O, no clock. Verdicts are
// package check's.
package analysis

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// A load counts as sustained when it sent at least MinSentRatio of the
// requests its schedule called for and MaxLagP99 bounds how late the 99th
// percentile went out. Otherwise the client, not the server, may explain
// what was seen, and the run's verdict is unknown.
const (
	MinSentRatio = 0.99
	MaxLagP99    = 25 * time.Millisecond
)

// MS is a duration in milliseconds, to the microsecond, as results store it.
func MS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Dur is MS the other way: milliseconds as results store them.
func Dur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Quantile is the q-th quantile (0..1) of xs, nearest rank from below; 0
// for none.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Percentile returns the p-th percentile (0..1) of sorted durations,
// nearest-rank.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Bins groups records by scheduled time into bins of width w covering
// [0, total).
func Bins(recs []load.Record, w, total time.Duration) []result.Bin {
	n := int((total + w - 1) / w)
	bins := make([]result.Bin, n)
	lats := make([][]time.Duration, n)
	for i := range bins {
		bins[i].StartMS = MS(time.Duration(i) * w)
	}
	for i := range recs {
		r := &recs[i]
		b := int(r.Scheduled / w)
		if b < 0 || b >= n {
			continue
		}
		bin := &bins[b]
		bin.Sent++
		if r.Class == load.OK {
			bin.OK++
			if r.PID != 0 {
				if bin.PIDs == nil {
					bin.PIDs = map[int]int{}
				}
				bin.PIDs[int(r.PID)]++
			}
		} else {
			if bin.Failed == nil {
				bin.Failed = map[string]int{}
			}
			bin.Failed[r.Class.String()]++
		}
		lats[b] = append(lats[b], r.Latency)
	}
	for i := range bins {
		slices.Sort(lats[i])
		bins[i].P50MS = MS(Percentile(lats[i], 0.5))
		bins[i].P99MS = MS(Percentile(lats[i], 0.99))
		if len(lats[i]) > 0 {
			bins[i].MaxMS = MS(lats[i][len(lats[i])-1])
		}
	}
	return bins
}

// LongestGap is the longest time without a successful response ending,
// counted from the start of the load to its end, with the gap's start. A
// run with no success at all has a gap as long as the run.
func LongestGap(recs []load.Record, total time.Duration) (gap, start time.Duration) {
	var ends []time.Duration
	for i := range recs {
		if recs[i].Class == load.OK {
			ends = append(ends, recs[i].End())
		}
	}
	slices.Sort(ends)
	prev := time.Duration(0)
	for _, e := range ends {
		if e-prev > gap {
			gap, start = e-prev, prev
		}
		prev = max(prev, e)
	}
	if total > prev && total-prev > gap {
		gap, start = total-prev, prev
	}
	return gap, start
}

// Summarize computes the run's summary from its records.
func Summarize(recs []load.Record, rate int, total time.Duration) result.Summary {
	s := result.Summary{Sent: len(recs), ByClass: map[string]int{}, TargetRate: float64(rate)}
	var lats, lags []time.Duration
	seen := map[int32]bool{}
	var lastSent time.Duration
	for i := range recs {
		r := &recs[i]
		lats = append(lats, r.Latency)
		lags = append(lags, max(0, r.Sent-r.Scheduled))
		lastSent = max(lastSent, r.Sent)
		if r.Class == load.OK {
			s.OK++
			if r.PID != 0 && !seen[r.PID] {
				seen[r.PID] = true
				s.PIDs = append(s.PIDs, int(r.PID))
			}
			continue
		}
		s.Failed++
		s.ByClass[r.Class.String()]++
	}
	slices.Sort(lats)
	slices.Sort(lags)
	s.P50MS = MS(Percentile(lats, 0.5))
	s.P99MS = MS(Percentile(lats, 0.99))
	if len(lats) > 0 {
		s.MaxMS = MS(lats[len(lats)-1])
	}
	s.SendLagP99MS = MS(Percentile(lags, 0.99))
	if len(lags) > 0 {
		s.SendLagMaxMS = MS(lags[len(lags)-1])
	}
	if total > 0 {
		s.AchievedRate = float64(len(recs)) / total.Seconds()
	}
	gap, start := LongestGap(recs, total)
	s.LongestGapMS, s.GapStartMS = MS(gap), MS(start)
	expected := float64(rate) * total.Seconds()
	s.FellBehind = float64(len(recs)) < MinSentRatio*expected || Percentile(lags, 0.99) > MaxLagP99
	return s
}

// ClassList formats failure counts by class in a fixed order.
func ClassList(by map[string]int) string {
	var parts []string
	known := map[string]bool{}
	for _, c := range load.FailureClasses() {
		known[c.String()] = true
		if n := by[c.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
	}
	var rest []string
	for k, n := range by {
		if !known[k] && n > 0 {
			rest = append(rest, fmt.Sprintf("%s %d", k, n))
		}
	}
	sort.Strings(rest)
	parts = append(parts, rest...)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// SlowCounts counts the slow requests, and those that completed.
func SlowCounts(slow []result.SlowRequest) (total, done int) {
	for _, s := range slow {
		if s.AtStop {
			continue // the stop's, counted in its figures
		}
		total++
		if s.Outcome == "completed" {
			done++
		}
	}
	return total, done
}
