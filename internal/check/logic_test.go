package check

import (
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/load/loadtest"
	"github.com/gracelab/gracelab/internal/result"
)

const msd = time.Millisecond

// The records of these tests: steady ones, some made failures.
var (
	steady = loadtest.Steady
	failAt = loadtest.Fail
)

func TestTracked(t *testing.T) {
	cases := []struct {
		s    result.Snapshot
		want bool
	}{
		{result.Snapshot{MainPID: 10, ServingPID: 10, ActiveState: "active"}, true},
		{result.Snapshot{MainPID: 10, ServingPID: 11, ServingAncestors: []int{10, 1}, ActiveState: "active"}, true},
		{result.Snapshot{MainPID: 10, ServingPID: 11, ServingAncestors: []int{1}, ActiveState: "active"}, false},
		{result.Snapshot{MainPID: 0, ServingPID: 11, ActiveState: "inactive"}, false},
		{result.Snapshot{MainPID: 10, ServingPID: 10, ActiveState: "reloading"}, false},
		{result.Snapshot{MainPID: 10, ServingPID: 0, ServingError: "connection refused", ActiveState: "active"}, false},
	}
	for i, c := range cases {
		if got, why := Tracked(c.s); got != c.want {
			t.Errorf("case %d: Tracked = %v (%s), want %v", i, got, why, c.want)
		}
	}
}

func run(recs []load.Record, reloads []result.Reload, final string) *result.Result {
	r := &result.Result{ID: "t", Experiment: "reload", Reloads: reloads}
	r.Summary = analysis.Summarize(recs, 1000, time.Second)
	r.Final.Snapshot = result.Snapshot{ActiveState: final}
	return r
}

func goodReload(n, before, after int) result.Reload {
	return result.Reload{N: n,
		Before:  result.Snapshot{ServingPID: before, MainPID: before, ActiveState: "active"},
		Settled: result.Snapshot{ServingPID: after, MainPID: after, ActiveState: "active"}}
}

// verdict judges a synthetic run of the kind its deploy implies.
func verdict(r *result.Result) result.Verdict {
	for _, k := range kind.All {
		if k.Deploy == r.Load.Upgrade && (k.Deploy != "" || r.Experiment == "") {
			r.Experiment = k.Name
		}
	}
	j, err := Judge(r)
	if err != nil {
		panic(err)
	}
	return j.Verdict
}

func outcome(v result.Verdict, name string) result.Outcome {
	for _, c := range v.Checks {
		if c.Name == name {
			return c.Outcome
		}
	}
	return ""
}

func TestJudgePass(t *testing.T) {
	v := verdict(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Pass {
		t.Fatalf("clean run judged %s: %+v", v.Overall, v.Checks)
	}
}

func TestJudgeFailsOnLoss(t *testing.T) {
	recs := steady(1000, msd, msd, 1)
	failAt(recs, 10, 11, load.Reset)
	v := verdict(run(recs, []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Fail || outcome(v, "no_failed_requests") != result.Fail {
		t.Fatalf("one lost request not a failure: %+v", v)
	}
}

func TestJudgeFailsWhenSystemdLosesTrack(t *testing.T) {
	rl := goodReload(1, 1, 2)
	rl.Settled.MainPID = 1 // systemd still believes in the old process
	v := verdict(run(steady(1000, msd, msd, 1), []result.Reload{rl}, "active"))
	if v.Overall != result.Fail || outcome(v, "systemd_tracks_server") != result.Fail {
		t.Fatalf("lost tracking not a failure: %+v", v)
	}
	if !strings.Contains(reason(v, "systemd_tracks_server"), "PID 2 serves") {
		t.Fatalf("reason does not name the serving PID: %+v", v.Checks)
	}
}

func TestJudgeFailsWhenReloadDidNothing(t *testing.T) {
	v := verdict(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 1)}, "active"))
	if outcome(v, "new_process_serves") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("reload without a new process not a failure: %+v", v)
	}
}

func TestJudgeUnknownWhenLoadFellBehind(t *testing.T) {
	v := verdict(run(steady(500, 2*msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Unknown {
		t.Fatalf("fallen-behind run judged %s, want unknown", v.Overall)
	}
}

// A failure the run saw is certain even when the load fell behind: the
// run fails, and so does the question, instead of hiding as unknown.
func TestFailureSeenWhileLoadFellBehind(t *testing.T) {
	recs := steady(500, 2*msd, msd, 1)
	recs[10].Class = load.Refused
	j, err := Judge(run(recs, []result.Reload{goodReload(1, 1, 2)}, "active"))
	if err != nil {
		t.Fatal(err)
	}
	if outcome(j.Verdict, "load_sustained") != result.Unknown {
		t.Fatalf("load did not fall behind: %+v", j.Verdict.Checks)
	}
	if j.Verdict.Overall != result.Fail || j.Questions[Requests] != result.Fail {
		t.Fatalf("a refused request while the load fell behind: overall %s, requests %s; want fail", j.Verdict.Overall, j.Questions[Requests])
	}
	if j.Questions[Tracking] != result.Unknown {
		t.Errorf("tracking passed on a run whose load fell behind: %s", j.Questions[Tracking])
	}
}

func TestJudgeUnknownWhenInterrupted(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Interrupted = true
	if v := verdict(r); v.Overall != result.Unknown {
		t.Fatalf("interrupted run judged %s, want unknown", v.Overall)
	}
}

func TestJudgeUpgrade(t *testing.T) {
	rl := goodReload(1, 1, 2)
	rl.Settled.ServingVersion = "v1" // a new process, but the old build
	r := run(steady(1000, msd, msd, 1), []result.Reload{rl}, "active")
	r.Load.Upgrade = "v2"
	if v := verdict(r); outcome(v, "new_version_serves") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("upgrade that still serves v1 not a failure: %+v", v)
	}
	r.Reloads[0].Settled.ServingVersion = "v2"
	if v := verdict(r); outcome(v, "new_version_serves") != result.Pass || v.Overall != result.Pass {
		t.Fatalf("good upgrade not a pass: %+v", v)
	}
}

func TestJudgeBrokenUpgrade(t *testing.T) {
	// The old process keeps serving: what a broken build should cause.
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 1)}, "active")
	r.Load.Upgrade = "broken"
	if v := verdict(r); outcome(v, "old_process_keeps_serving") != result.Pass || v.Overall != result.Pass {
		t.Fatalf("old process serving on after a broken upgrade not a pass: %+v", v)
	}
	// Nothing serves any more: fail.
	r.Reloads[0].Settled = result.Snapshot{ActiveState: "failed", ServingError: "connection refused"}
	if v := verdict(r); outcome(v, "old_process_keeps_serving") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("broken upgrade that took the service down not a failure: %+v", v)
	}
}

func TestJudgeStopThatTimesOut(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Final.StopTookMS = 90500
	r.Final.AfterStop = result.Snapshot{ActiveState: "failed", SubState: "failed", Result: "timeout"}
	if v := verdict(r); outcome(v, "unit_stops_cleanly") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("a stop that systemd had to time out is not a failure: %+v", v)
	}
	r.Final.AfterStop = result.Snapshot{ActiveState: "inactive", SubState: "dead", Result: "success"}
	if v := verdict(r); outcome(v, "unit_stops_cleanly") != result.Pass {
		t.Fatalf("clean stop not a pass: %+v", v)
	}
}

func TestLeak(t *testing.T) {
	first := result.Snapshot{ServingPID: 1, CgroupPIDs: []int{1}, ServingFDs: 8, MainRSSKB: 10000}
	same := result.Snapshot{ServingPID: 9, CgroupPIDs: []int{9}, ServingFDs: 9, MainRSSKB: 11000}
	if o, why := Leak(first, same); o != result.Pass {
		t.Fatalf("no leak judged %s: %s", o, why)
	}
	for name, last := range map[string]result.Snapshot{
		"processes": {ServingPID: 9, CgroupPIDs: []int{9, 3, 4}, ServingFDs: 8, MainRSSKB: 10000},
		"fds":       {ServingPID: 9, CgroupPIDs: []int{9}, ServingFDs: 60, MainRSSKB: 10000},
		"memory":    {ServingPID: 9, CgroupPIDs: []int{9}, ServingFDs: 8, MainRSSKB: 40000},
	} {
		if o, why := Leak(first, last); o != result.Fail {
			t.Errorf("%s leak judged %s: %s", name, o, why)
		}
	}
	if o, _ := Leak(first, result.Snapshot{}); o != result.Unknown {
		t.Errorf("nothing serving at the end: %s, want unknown", o)
	}
}

func reason(v result.Verdict, name string) string {
	for _, c := range v.Checks {
		if c.Name == name {
			return c.Reason
		}
	}
	return ""
}

// The leak limits are bounds: at the bound passes, one past fails.
func TestLeakBounds(t *testing.T) {
	first := result.Snapshot{ServingPID: 1, CgroupPIDs: []int{1, 2}, ServingFDs: 8, MainRSSKB: 10000}
	at := result.Snapshot{ServingPID: 9, CgroupPIDs: []int{9, 2}, ServingFDs: 8 + LeakMaxExtraFDs, MainRSSKB: 15000}
	if o, why := Leak(first, at); o != result.Pass {
		t.Fatalf("at the limits judged %s: %s", o, why)
	}
	for name, edit := range map[string]func(*result.Snapshot){
		"one more fd":      func(s *result.Snapshot) { s.ServingFDs++ },
		"one more kB":      func(s *result.Snapshot) { s.MainRSSKB++ },
		"one more process": func(s *result.Snapshot) { s.CgroupPIDs = append(s.CgroupPIDs, 3) },
	} {
		last := at
		last.CgroupPIDs = append([]int{}, at.CgroupPIDs...)
		edit(&last)
		if o, why := Leak(first, last); o != result.Fail {
			t.Errorf("%s past the limit judged %s: %s", name, o, why)
		}
	}
	if o, _ := Leak(result.Snapshot{}, at); o != result.Unknown {
		t.Errorf("nothing serving at the start: %s, want unknown", o)
	}
}

func TestSlowRequestsCut(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Summary.SlowTotal, r.Summary.SlowDone = 3, 3
	if o := outcome(verdict(r), "slow_requests_completed"); o != result.Pass {
		t.Fatalf("3 of 3 completed: %s", o)
	}
	r.Summary.SlowDone = 2
	if o := outcome(verdict(r), "slow_requests_completed"); o != result.Fail {
		t.Fatalf("2 of 3 completed: %s", o)
	}
}

func TestUnitActiveAtEnd(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	if o := outcome(verdict(r), "unit_active_at_end"); o != result.Pass {
		t.Fatalf("active: %s", o)
	}
	r.Final.Snapshot.ActiveState = "reloading"
	if o := outcome(verdict(r), "unit_active_at_end"); o != result.Fail {
		t.Fatalf("reloading at the end: %s", o)
	}
}

func TestStopNeedsAllThree(t *testing.T) {
	base := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	base.Final.AfterStop = result.Snapshot{ActiveState: "inactive", SubState: "dead", Result: "success"}
	for name, edit := range map[string]func(*result.Result){
		"exit 1":        func(r *result.Result) { r.Final.StopExit = 1 },
		"still active":  func(r *result.Result) { r.Final.AfterStop.ActiveState = "active" },
		"result signal": func(r *result.Result) { r.Final.AfterStop.Result = "signal" },
	} {
		r := *base
		edit(&r)
		if o := outcome(verdict(&r), "unit_stops_cleanly"); o != result.Fail {
			t.Errorf("%s: %s, want fail", name, o)
		}
	}
}

// A probe that timed out while systemd held an active main PID cannot tell
// who served: unknown, never fail; a probe refused is a server gone: fail.
func TestTrackingBlindProbeIsUnknown(t *testing.T) {
	c, _ := Find("systemd_tracks_server")
	snap := func(err string) result.Snapshot {
		return result.Snapshot{MainPID: 7, ActiveState: "active", SubState: "running", ServingError: err}
	}
	for _, tc := range []struct {
		err  string
		want result.Outcome
	}{
		{"Get \"http://127.0.0.1:18080/health\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", result.Unknown},
		{"dial tcp 127.0.0.1:18080: connect: connection refused", result.Fail},
	} {
		r := &result.Result{Reloads: []result.Reload{{N: 1, Settled: snap(tc.err)}}}
		if got, why := c.Eval(r); got != tc.want {
			t.Errorf("probe error %q: %s (%s), want %s", tc.err, got, why, tc.want)
		}
	}
}

// A stop that began after the load had ended drained nothing: unknown.
func TestStopAfterLoadIsUnknown(t *testing.T) {
	c, _ := Find("stop_drains")
	late := &result.Result{Final: result.Final{Stop: &result.StopSummary{SlowDone: 3, SlowTotal: 3}}}
	if got, why := c.Eval(late); got != result.Unknown {
		t.Errorf("late stop: %s (%s), want unknown", got, why)
	}
	under := &result.Result{Final: result.Final{Stop: &result.StopSummary{SlowDone: 3, SlowTotal: 3, After: 1400, Refused: 1400}}}
	if got, why := c.Eval(under); got != result.Pass {
		t.Errorf("stop under load that lost nothing: %s (%s), want pass", got, why)
	}
}

// The settled snapshot can catch systemd before it handles the old main
// PID's exit; only a later snapshot showing it tracking clears that.
func TestTrackingCaughtMidExit(t *testing.T) {
	mid := result.Snapshot{MainPID: 421, ServingPID: 437, ServingAncestors: []int{1}, CgroupPIDs: []int{437}, ActiveState: "active"}
	later := result.Snapshot{MainPID: 437, ServingPID: 437, CgroupPIDs: []int{437}, ActiveState: "active"}
	r := run(steady(1000, msd, msd, 1), []result.Reload{{N: 1, Settled: mid}, {N: 2, Before: later, Settled: later}}, "active")
	if o := outcome(verdict(r), "systemd_tracks_server"); o != result.Pass {
		t.Errorf("systemd tracked the server by the next snapshot: %s, want pass", o)
	}
	// systemd never handled the exit: the stale MainPID stays.
	r.Reloads[1].Before = mid
	if o := outcome(verdict(r), "systemd_tracks_server"); o != result.Fail {
		t.Errorf("stale MainPID in the next snapshot too: %s, want fail", o)
	}
	// The main PID is alive but not the server: a failure whatever follows.
	alive := mid
	alive.CgroupPIDs = []int{421, 437}
	r.Reloads[0].Settled, r.Reloads[1].Before = alive, later
	if o := outcome(verdict(r), "systemd_tracks_server"); o != result.Fail {
		t.Errorf("live MainPID that does not serve: %s, want fail", o)
	}
}
