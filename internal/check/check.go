// Package check is the registry of checks and the judge. A check is one
// value: its name, the sentence the writeup prints, the question it
// answers, and its evaluation of a stored result. The host judges; the lab
// only records, so a corrected check re-judges every stored run.
package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/result"
)

// Question is what a check answers. Every run answers them apart.
type Question string

// The questions, and Run for what makes a run usable at all.
const (
	Run      Question = "run"
	Requests Question = "requests"
	Tracking Question = "tracking"
	Stopping Question = "stopping"
	Deploys  Question = "deploys"
)

// Questions are the four questions, in report order.
var Questions = []Question{Requests, Tracking, Stopping, Deploys}

// Says is the question in words, for the writeup.
func (q Question) Says() string {
	return map[Question]string{
		Run:      "is the run usable at all",
		Requests: "were requests lost around the reloads",
		Tracking: "does systemd follow the process that serves, and did each reload hand over to a new one",
		Stopping: "does the unit stop cleanly, leaving nothing behind",
		Deploys:  "does a new build serve, and a broken one leave the old one serving",
	}[q]
}

// Check is one check.
type Check struct {
	Name     string
	Question Question
	// Says is the sentence the writeup prints: what passing means.
	Says string
	// Eval judges a result. A check that does not apply to what the
	// result holds returns an empty outcome.
	Eval func(r *result.Result) (result.Outcome, string)
}

// Find returns a registered check.
func Find(name string) (Check, bool) {
	i := slices.IndexFunc(Registry, func(c Check) bool { return c.Name == name })
	if i < 0 {
		return Check{}, false
	}
	return Registry[i], true
}

func pass(format string, a ...any) (result.Outcome, string) {
	return result.Pass, fmt.Sprintf(format, a...)
}

func fail(format string, a ...any) (result.Outcome, string) {
	return result.Fail, fmt.Sprintf(format, a...)
}

func unknown(format string, a ...any) (result.Outcome, string) {
	return result.Unknown, fmt.Sprintf(format, a...)
}

// Registry is every check, in report order.
var Registry = []Check{
	{
		Name: "run_complete", Question: Run,
		Says: "the run was not interrupted, had no errors of its own, and sent requests.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			switch {
			case r.Interrupted:
				return unknown("the run was interrupted")
			case len(r.Errors) > 0:
				return unknown("the run had errors: %s", strings.Join(r.Errors, "; "))
			case r.Summary.Sent == 0 && r.AB == nil:
				return unknown("no request was sent")
			}
			return "", ""
		},
	},
	{
		Name: "load_sustained", Question: Run,
		Says: fmt.Sprintf("the load generator kept its schedule (at least %.0f%% of the requests sent, send lag p99 at most %s); "+
			"otherwise the client, not the server, may explain what was seen, and the run is unknown.",
			analysis.MinSentRatio*100, analysis.MaxLagP99),
		Eval: func(r *result.Result) (result.Outcome, string) {
			s := r.Summary
			if r.AB != nil {
				return "", "" // ab keeps no schedule: ab_report_read judges its runs
			}
			if s.FellBehind {
				return unknown("the load generator fell behind: sent %d at %.0f/s of %.0f/s, send lag p99 %.1f ms",
					s.Sent, s.AchievedRate, s.TargetRate, s.SendLagP99MS)
			}
			return pass("sent %d at %.0f/s (target %.0f/s), send lag p99 %.1f ms", s.Sent, s.AchievedRate, s.TargetRate, s.SendLagP99MS)
		},
	},
	{
		Name: "no_failed_requests", Question: Requests,
		Says: "every request of the steady load got a successful response.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			s := r.Summary
			switch {
			case s.Sent == 0:
				return "", ""
			case s.Failed == 0:
				return pass("all %d requests succeeded; longest gap without a success %.0f ms", s.Sent, s.LongestGapMS)
			}
			return fail("%d of %d requests failed (%s); longest gap without a success %.0f ms",
				s.Failed, s.Sent, analysis.ClassList(s.ByClass), s.LongestGapMS)
		},
	},
	{
		Name: "slow_requests_completed", Question: Requests,
		Says: "the slow requests in flight at each reload completed.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			s := r.Summary
			switch {
			case s.SlowTotal == 0:
				return "", ""
			case s.SlowDone == s.SlowTotal:
				return pass("all %d slow in-flight requests completed", s.SlowTotal)
			}
			return fail("%d of %d slow in-flight requests were cut", s.SlowTotal-s.SlowDone, s.SlowTotal)
		},
	},
	{
		Name: "systemd_tracks_server", Question: Tracking,
		Says: "after every reload, systemd's MainPID is the serving process or its supervisor, and the unit is active.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			if len(r.Reloads) == 0 {
				return "", ""
			}
			var bad, blind []string
			for i, rl := range r.Reloads {
				s := rl.Settled
				if probeBlind(s) {
					blind = append(blind, fmt.Sprintf("after reload %d the health probe got no answer in time (%s) while the unit was active with MainPID %d", rl.N, s.ServingError, s.MainPID))
					continue
				}
				if ok, why := Tracked(s); !ok && !caughtMidExit(s, nextSnapshot(r, i)) {
					bad = append(bad, fmt.Sprintf("after reload %d: %s", rl.N, why))
				}
			}
			switch {
			case len(bad) > 0:
				return fail("%s", strings.Join(bad, "; "))
			case len(blind) > 0:
				return unknown("%s: who served then cannot be told", strings.Join(blind, "; "))
			}
			return pass("after every reload systemd's MainPID is the serving process or its supervisor")
		},
	},
	{
		Name: "new_process_serves", Question: Tracking,
		Says: "after every reload, a process that had not served before answers, before the next reload (read from every " +
			"request's serving PID, not from a probe at a fixed time).",
		Eval: func(r *result.Result) (result.Outcome, string) {
			if len(r.Reloads) == 0 {
				return "", ""
			}
			var none []string
			for _, rl := range r.Reloads {
				if (r.History == nil || r.Load.NoPIDHeader) && (rl.Settled.ServingPID == 0 || rl.Settled.ServingPID == rl.Before.ServingPID) {
					// Schema 1 holds no history, and a server that names
					// no PID none to read: the probe is all there is.
					none = append(none, fmt.Sprintf("reload %d: PID %d before, %d after", rl.N, rl.Before.ServingPID, rl.Settled.ServingPID))
				} else if r.History != nil && !r.Load.NoPIDHeader && rl.FirstNewOKMS < 0 {
					none = append(none, fmt.Sprintf("reload %d (exit %d)", rl.N, rl.Exit))
				}
			}
			if len(none) > 0 {
				return fail("%d of %d reloads started no new serving process: %s", len(none), len(r.Reloads), strings.Join(none, "; "))
			}
			return pass("after every reload a new process served")
		},
	},
	{
		Name: "new_version_serves", Question: Deploys,
		Says: "after the deploy, the new build's version answers.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			if len(r.Reloads) == 0 || r.Load.Upgrade == "" {
				return "", ""
			}
			last := r.Reloads[len(r.Reloads)-1]
			if last.Settled.ServingVersion == r.Load.Upgrade {
				return pass("version %s served %.0f ms after the reload", r.Load.Upgrade, last.FirstNewOKMS)
			}
			return fail("after the upgrade to %s, %s", r.Load.Upgrade, servingText(last.Settled))
		},
	},
	{
		Name: "old_process_keeps_serving", Question: Deploys,
		Says: "after a deploy of a build that cannot start, the old process still answers.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			if len(r.Reloads) == 0 {
				return "", ""
			}
			first, last := r.Reloads[0], r.Reloads[len(r.Reloads)-1]
			if last.Settled.ServingPID != 0 && last.Settled.ServingPID == first.Before.ServingPID {
				return pass("PID %d (%s) still served after the broken upgrade", last.Settled.ServingPID, last.Settled.ServingVersion)
			}
			return fail("PID %d served before the broken upgrade, %s after", first.Before.ServingPID, servingText(last.Settled))
		},
	},
	{
		Name: "no_leak", Question: Tracking,
		Says: fmt.Sprintf("after all reloads the unit has no more processes than before, the serving process at most %d more "+
			"descriptors, and the main process at most %.1f times the memory.", LeakMaxExtraFDs, LeakMaxRSSRatio),
		Eval: func(r *result.Result) (result.Outcome, string) {
			if len(r.Reloads) == 0 {
				return "", ""
			}
			return Leak(r.Reloads[0].Before, r.Final.Snapshot)
		},
	},
	{
		Name: "unit_active_at_end", Question: Tracking,
		Says: "the unit was active at the end of the load.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			f := r.Final.Snapshot
			if r.Summary.Sent == 0 {
				// No load ran (the start failed): run_complete says why.
				return "", ""
			}
			if f.ActiveState == "active" {
				return pass("unit was %s/%s at the end of the load", f.ActiveState, f.SubState)
			}
			return fail("unit was %s/%s (result %s) at the end of the load", f.ActiveState, f.SubState, f.Result)
		},
	},
	{
		Name: "stop_drains", Question: Stopping,
		Says: "stopped under load, the server finished the requests in flight (the slow ones too) and dropped none it had " +
			"accepted; clients that came after it closed its listener were refused, which is how a stopped server turns them away.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			s := r.Final.Stop
			if s == nil {
				return "", ""
			}
			figures := fmt.Sprintf("in flight at the stop %d (answered %d), slow %d of %d completed, %d sent after it (%d refused)",
				s.InFlight, s.InFlightOK, s.SlowDone, s.SlowTotal, s.After, s.Refused)
			if s.Lost > 0 || s.SlowDone < s.SlowTotal {
				return fail("%d requests lost at the stop (%s); %s", s.Lost, analysis.ClassList(s.LostByClass), figures)
			}
			if s.After == 0 && s.InFlight == 0 {
				// A late reload pushed the stop past the load: nothing was
				// there to drain, which proves nothing either way.
				return unknown("the stop began after the load had ended, so it was not a stop under load; %s", figures)
			}
			return pass("none lost at the stop; %s", figures)
		},
	},
	{
		Name: "unit_stops_cleanly", Question: Stopping,
		Says: "`systemctl stop` succeeded, systemd sent no SIGKILL, and the unit ended inactive with result `success`. " +
			"The SIGKILL is read from the journal: systemd reports `success` when it kills a main process it cannot wait for.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			as := r.Final.AfterStop
			if as.ActiveState == "" || r.Summary.Sent == 0 {
				return "", ""
			}
			if s := r.Final.Stop; s != nil {
				if at, ok := analysis.FirstSIGKILL(s); ok {
					return fail("systemd sent SIGKILL %.0f ms after the stop began (main PID alien: %s); the unit ended %s/%s with result %s",
						at, orNone(r.Final.MainPIDAlien), as.ActiveState, as.SubState, as.Result)
				}
			}
			if r.Final.StopExit == 0 && as.ActiveState == "inactive" && as.Result == "success" {
				return pass("systemctl stop took %.0f ms", r.Final.StopTookMS)
			}
			return fail("systemctl stop took %.0f ms (exit %d), then the unit was %s/%s with result %s",
				r.Final.StopTookMS, r.Final.StopExit, as.ActiveState, as.SubState, as.Result)
		},
	},
	{
		Name: "nothing_left_behind", Question: Stopping,
		Says: "no process of ours was left after the unit was stopped.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			if n := len(r.Final.ProcessesLeft); n > 0 {
				return fail("%d processes were left after the unit was stopped", n)
			}
			if r.Final.AfterStop.ActiveState == "" {
				return "", ""
			}
			return pass("no process of ours was left")
		},
	},
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

// probeBlind says the health probe timed out while systemd held an
// active unit with a main PID: a backlog draining, not a server gone (a
// server gone refuses at once).
func probeBlind(s result.Snapshot) bool {
	e := strings.ToLower(s.ServingError)
	return s.ServingPID == 0 && s.MainPID != 0 && s.ActiveState == "active" &&
		(strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded"))
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

// caughtMidExit says the settled snapshot caught systemd between the exit
// of its main PID (gone from the unit's cgroup) and its handling of it
// (seen on a loaded machine: 58 ms after the old endless process exited),
// and the next snapshot, with no reload in between, shows systemd
// tracking the same serving process: the lab looked too early.
func caughtMidExit(settled, next result.Snapshot) bool {
	if settled.MainPID == 0 || len(settled.CgroupPIDs) == 0 || slices.Contains(settled.CgroupPIDs, settled.MainPID) {
		return false
	}
	ok, _ := Tracked(next)
	return ok && next.ServingPID == settled.ServingPID
}

// nextSnapshot is the first snapshot after reload i settled: the next
// reload's before, or the final one.
func nextSnapshot(r *result.Result, i int) result.Snapshot {
	if i+1 < len(r.Reloads) {
		return r.Reloads[i+1].Before
	}
	return r.Final.Snapshot
}

// Leak limits for the soak: after every reload, the unit must be back to
// the processes it started with, the serving process's descriptors may
// grow by a few (runtime noise), and the main process's memory by half.
const (
	LeakMaxExtraFDs = 5
	LeakMaxRSSRatio = 1.5
)

// Leak compares the unit before the first reload with the unit at the end.
func Leak(first, last result.Snapshot) (result.Outcome, string) {
	if first.ServingPID == 0 || last.ServingPID == 0 {
		return unknown("no serving process to measure at the start or the end")
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
		return fail("%s (%s)", strings.Join(bad, "; "), figures)
	}
	return pass("%s", figures)
}
