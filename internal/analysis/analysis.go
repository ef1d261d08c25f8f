// Package analysis turns request records and systemd snapshots into the
// numbers and verdicts of a result. It is pure: no I/O, no clock.
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

// Tracked says whether systemd's view in s follows the process that serves:
// MainPID is the serving process or one of its ancestors (a supervisor such
// as start_server), and the unit is active.
func Tracked(s result.Snapshot) (bool, string) {
	switch {
	case s.ServingPID == 0:
		return false, fmt.Sprintf("no process answered the health check (%s)", orNone(s.ServingError))
	case s.MainPID == 0:
		return false, fmt.Sprintf("systemd has no MainPID (ActiveState=%s) while PID %d serves", s.ActiveState, s.ServingPID)
	case s.ActiveState != "active":
		return false, fmt.Sprintf("unit is %s/%s while PID %d serves", s.ActiveState, s.SubState, s.ServingPID)
	case s.MainPID == s.ServingPID:
		return true, fmt.Sprintf("MainPID %d serves", s.MainPID)
	case slices.Contains(s.ServingAncestors, s.MainPID):
		return true, fmt.Sprintf("MainPID %d is the parent of serving PID %d", s.MainPID, s.ServingPID)
	}
	return false, fmt.Sprintf("MainPID %d, but PID %d serves", s.MainPID, s.ServingPID)
}

func servingText(s result.Snapshot) string {
	if s.ServingPID == 0 {
		return "nothing served (" + orNone(s.ServingError) + ")"
	}
	return fmt.Sprintf("PID %d served version %s", s.ServingPID, s.ServingVersion)
}

func orNone(s string) string {
	if s == "" {
		return "no error"
	}
	return s
}

// Judge computes the verdict of a finished run.
func Judge(r *result.Result) result.Verdict {
	var checks []result.Check
	add := func(name string, o result.Outcome, format string, args ...any) {
		checks = append(checks, result.Check{Name: name, Outcome: o, Reason: fmt.Sprintf(format, args...)})
	}
	s := r.Summary

	switch {
	case r.Interrupted:
		add("run_complete", result.Unknown, "the run was interrupted")
	case len(r.Errors) > 0:
		add("run_complete", result.Unknown, "the run had errors: %s", strings.Join(r.Errors, "; "))
	case s.Sent == 0:
		add("run_complete", result.Unknown, "no request was sent")
	}

	if s.FellBehind {
		add("load_sustained", result.Unknown, "the load generator fell behind: sent %d at %.0f/s of %.0f/s, send lag p99 %.1f ms",
			s.Sent, s.AchievedRate, s.TargetRate, s.SendLagP99MS)
	} else {
		add("load_sustained", result.Pass, "sent %d at %.0f/s (target %.0f/s), send lag p99 %.1f ms", s.Sent, s.AchievedRate, s.TargetRate, s.SendLagP99MS)
	}

	if s.Failed == 0 && s.Sent > 0 {
		add("no_failed_requests", result.Pass, "all %d requests succeeded; longest gap without a success %.0f ms", s.Sent, s.LongestGapMS)
	} else if s.Sent > 0 {
		add("no_failed_requests", result.Fail, "%d of %d requests failed (%s); longest gap without a success %.0f ms",
			s.Failed, s.Sent, ClassList(s.ByClass), s.LongestGapMS)
	}

	if s.SlowTotal > 0 {
		if s.SlowDone == s.SlowTotal {
			add("slow_requests_completed", result.Pass, "all %d slow in-flight requests completed", s.SlowTotal)
		} else {
			add("slow_requests_completed", result.Fail, "%d of %d slow in-flight requests were cut", s.SlowTotal-s.SlowDone, s.SlowTotal)
		}
	}

	if len(r.Reloads) > 0 {
		var bad []string
		var took []string
		for _, rl := range r.Reloads {
			if ok, why := Tracked(rl.Settled); !ok {
				bad = append(bad, fmt.Sprintf("after reload %d: %s", rl.N, why))
			}
			if rl.Settled.ServingPID == 0 || rl.Settled.ServingPID == rl.Before.ServingPID {
				took = append(took, fmt.Sprintf("reload %d: PID %d before, %d after", rl.N, rl.Before.ServingPID, rl.Settled.ServingPID))
			}
		}
		if len(bad) == 0 {
			add("systemd_tracks_server", result.Pass, "after every reload systemd's MainPID is the serving process or its supervisor")
		} else {
			add("systemd_tracks_server", result.Fail, "%s", strings.Join(bad, "; "))
		}
		switch r.Load.Upgrade {
		case "broken":
			// The new build cannot start: the right outcome is the old
			// process serving on, untouched.
			first, last := r.Reloads[0], r.Reloads[len(r.Reloads)-1]
			if last.Settled.ServingPID != 0 && last.Settled.ServingPID == first.Before.ServingPID {
				add("old_process_keeps_serving", result.Pass, "PID %d (%s) still served after the broken upgrade", last.Settled.ServingPID, last.Settled.ServingVersion)
			} else {
				add("old_process_keeps_serving", result.Fail, "PID %d served before the broken upgrade, %s after", first.Before.ServingPID, servingText(last.Settled))
			}
		default:
			if len(took) == 0 {
				add("new_process_serves", result.Pass, "after every reload a new process served")
			} else {
				add("new_process_serves", result.Fail, "no new serving process: %s", strings.Join(took, "; "))
			}
		}
		if r.Load.Upgrade != "" && r.Load.Upgrade != "broken" {
			last := r.Reloads[len(r.Reloads)-1]
			if last.Settled.ServingVersion == r.Load.Upgrade {
				add("new_version_serves", result.Pass, "version %s served %.0f ms after the reload", r.Load.Upgrade, last.FirstNewOKMS)
			} else {
				add("new_version_serves", result.Fail, "after the upgrade to %s, %s", r.Load.Upgrade, servingText(last.Settled))
			}
		}
	}

	f := r.Final.Snapshot
	if f.ActiveState == "active" {
		add("unit_active_at_end", result.Pass, "unit was %s/%s at the end of the load", f.ActiveState, f.SubState)
	} else {
		add("unit_active_at_end", result.Fail, "unit was %s/%s (result %s) at the end of the load", f.ActiveState, f.SubState, f.Result)
	}
	if as := r.Final.AfterStop; as.ActiveState != "" {
		if r.Final.StopExit == 0 && as.ActiveState == "inactive" && as.Result == "success" {
			add("unit_stops_cleanly", result.Pass, "systemctl stop took %.0f ms", r.Final.StopTookMS)
		} else {
			add("unit_stops_cleanly", result.Fail, "systemctl stop took %.0f ms (exit %d), then the unit was %s/%s with result %s",
				r.Final.StopTookMS, r.Final.StopExit, as.ActiveState, as.SubState, as.Result)
		}
	}
	if r.Experiment == "soak" && len(r.Reloads) > 0 {
		o, why := Leak(r.Reloads[0].Before, r.Final.Snapshot)
		add("no_leak", o, "%s", why)
	}
	if len(r.Final.ProcessesLeft) > 0 {
		add("nothing_left_behind", result.Fail, "%d processes were left after the unit was stopped", len(r.Final.ProcessesLeft))
	}
	return result.Verdict{Overall: Overall(checks), Checks: checks}
}

// Overall folds checks: any unknown makes the run unknown (it cannot
// decide, so it must not pass or fail on partial data); otherwise any
// fail fails it.
func Overall(checks []result.Check) result.Outcome {
	if len(checks) == 0 {
		return result.Unknown
	}
	out := result.Pass
	for _, c := range checks {
		switch c.Outcome {
		case result.Unknown:
			return result.Unknown
		case result.Fail:
			out = result.Fail
		}
	}
	return out
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

// Leak limits for the soak: after every reload, the unit must be back to
// the processes it started with, the serving process's descriptors may
// grow by a few (runtime noise), and the main process's memory by half.
const (
	LeakMaxExtraFDs = 5
	LeakMaxRSSRatio = 1.5
)

// Leak compares the unit before the first reload with the unit at the end
// of a soak.
func Leak(first, last result.Snapshot) (result.Outcome, string) {
	if first.ServingPID == 0 || last.ServingPID == 0 {
		return result.Unknown, "no serving process to measure at the start or the end"
	}
	var bad []string
	if len(last.CgroupPIDs) > len(first.CgroupPIDs) {
		bad = append(bad, fmt.Sprintf("%d processes in the unit at the end, %d at the start", len(last.CgroupPIDs), len(first.CgroupPIDs)))
	}
	if last.ServingFDs > first.ServingFDs+LeakMaxExtraFDs {
		bad = append(bad, fmt.Sprintf("serving process has %d descriptors open, %d at the start", last.ServingFDs, first.ServingFDs))
	}
	if first.MainRSSKB > 0 && float64(last.MainRSSKB) > LeakMaxRSSRatio*float64(first.MainRSSKB) {
		bad = append(bad, fmt.Sprintf("main process uses %d kB, %d kB at the start", last.MainRSSKB, first.MainRSSKB))
	}
	figures := fmt.Sprintf("processes %d -> %d, serving fds %d -> %d, main RSS %d -> %d kB",
		len(first.CgroupPIDs), len(last.CgroupPIDs), first.ServingFDs, last.ServingFDs, first.MainRSSKB, last.MainRSSKB)
	if len(bad) > 0 {
		return result.Fail, strings.Join(bad, "; ") + " (" + figures + ")"
	}
	return result.Pass, figures
}
