package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

const msd = time.Millisecond

// steady makes n records scheduled every step, all ok, served by pid, each
// taking lat.
func steady(n int, step, lat time.Duration, pid int32) []load.Record {
	recs := make([]load.Record, n)
	for i := range recs {
		s := time.Duration(i) * step
		recs[i] = load.Record{Scheduled: s, Sent: s, Latency: lat, PID: pid, Code: 200, Class: load.OK}
	}
	return recs
}

func fail(recs []load.Record, from, to int, c load.Class) {
	for i := from; i < to; i++ {
		recs[i].Class, recs[i].Code, recs[i].PID = c, 0, 0
	}
}

func TestLongestGap(t *testing.T) {
	recs := steady(100, 10*msd, 1*msd, 7) // 1 s of load
	fail(recs, 40, 60, load.Refused)      // 200 ms with no success
	gap, start := LongestGap(recs, time.Second)
	// last success before: #39 ends at 391 ms; first after: #60 ends at 601 ms.
	if gap != 210*msd || start != 391*msd {
		t.Fatalf("gap %v at %v, want 210ms at 391ms", gap, start)
	}
}

func TestLongestGapCountsTheEdges(t *testing.T) {
	recs := steady(100, 10*msd, 1*msd, 7)
	fail(recs, 70, 100, load.Reset) // server died and never came back
	gap, start := LongestGap(recs, time.Second)
	if gap != 309*msd || start != 691*msd {
		t.Fatalf("gap %v at %v, want 309ms at 691ms (to the end of the load)", gap, start)
	}
	gap, _ = LongestGap(nil, time.Second)
	if gap != time.Second {
		t.Fatalf("no success at all: gap %v, want the whole run", gap)
	}
}

func TestSummarizeCountsAndClasses(t *testing.T) {
	recs := steady(1000, time.Millisecond, 2*msd, 100)
	for i := 500; i < 1000; i++ {
		recs[i].PID = 200
	}
	fail(recs, 300, 303, load.Refused)
	fail(recs, 600, 601, load.EOF)
	recs[700].Class, recs[700].Code = load.HTTP5xx, 502
	s := Summarize(recs, 1000, time.Second)
	if s.Sent != 1000 || s.OK != 995 || s.Failed != 5 || s.OK+s.Failed != s.Sent {
		t.Fatalf("sent/ok/failed = %d/%d/%d", s.Sent, s.OK, s.Failed)
	}
	if s.ByClass["refused"] != 3 || s.ByClass["eof"] != 1 || s.ByClass["http_5xx"] != 1 {
		t.Fatalf("by class %v", s.ByClass)
	}
	if len(s.PIDs) != 2 || s.PIDs[0] != 100 || s.PIDs[1] != 200 {
		t.Fatalf("pids %v, want [100 200] in order of appearance", s.PIDs)
	}
	if s.FellBehind {
		t.Fatalf("a load on schedule reported as fallen behind: %+v", s)
	}
	if got := ClassList(s.ByClass); got != "refused 3, eof 1, http_5xx 1" {
		t.Fatalf("ClassList = %q", got)
	}
}

func TestSummarizeFellBehind(t *testing.T) {
	// Half the requests the schedule called for.
	if s := Summarize(steady(500, 2*msd, msd, 1), 1000, time.Second); !s.FellBehind {
		t.Fatal("sent half the schedule but not reported as fallen behind")
	}
	// All sent, but late.
	recs := steady(1000, msd, msd, 1)
	for i := range recs {
		recs[i].Sent += 100 * msd
	}
	if s := Summarize(recs, 1000, time.Second); !s.FellBehind || s.SendLagP99MS != 100 {
		t.Fatalf("sends 100 ms late not reported: %+v", s)
	}
}

func TestBins(t *testing.T) {
	recs := steady(1000, time.Millisecond, 3*msd, 5)
	fail(recs, 150, 160, load.Timeout)
	recs[999].PID = 6
	bins := Bins(recs, 100*msd, time.Second)
	if len(bins) != 10 {
		t.Fatalf("%d bins", len(bins))
	}
	b := bins[1]
	if b.Sent != 100 || b.OK != 90 || b.Failed["timeout"] != 10 || b.PIDs[5] != 90 {
		t.Fatalf("bin 1 = %+v", b)
	}
	if bins[9].PIDs[6] != 1 || bins[9].PIDs[5] != 99 {
		t.Fatalf("bin 9 pids %v", bins[9].PIDs)
	}
	if b.P50MS != 3 || b.MaxMS != 3 {
		t.Fatalf("latency %v/%v", b.P50MS, b.MaxMS)
	}
}

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
	r := &result.Result{Reloads: reloads}
	r.Summary = Summarize(recs, 1000, time.Second)
	r.Final.Snapshot = result.Snapshot{ActiveState: final}
	return r
}

func goodReload(n, before, after int) result.Reload {
	return result.Reload{N: n,
		Before:  result.Snapshot{ServingPID: before, MainPID: before, ActiveState: "active"},
		Settled: result.Snapshot{ServingPID: after, MainPID: after, ActiveState: "active"}}
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
	v := Judge(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Pass {
		t.Fatalf("clean run judged %s: %+v", v.Overall, v.Checks)
	}
}

func TestJudgeFailsOnLoss(t *testing.T) {
	recs := steady(1000, msd, msd, 1)
	fail(recs, 10, 11, load.Reset)
	v := Judge(run(recs, []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Fail || outcome(v, "no_failed_requests") != result.Fail {
		t.Fatalf("one lost request not a failure: %+v", v)
	}
}

func TestJudgeFailsWhenSystemdLosesTrack(t *testing.T) {
	rl := goodReload(1, 1, 2)
	rl.Settled.MainPID = 1 // systemd still believes in the old process
	v := Judge(run(steady(1000, msd, msd, 1), []result.Reload{rl}, "active"))
	if v.Overall != result.Fail || outcome(v, "systemd_tracks_server") != result.Fail {
		t.Fatalf("lost tracking not a failure: %+v", v)
	}
	if !strings.Contains(v.Checks[2].Reason+v.Checks[1].Reason, "PID 2 serves") {
		t.Fatalf("reason does not name the serving PID: %+v", v.Checks)
	}
}

func TestJudgeFailsWhenReloadDidNothing(t *testing.T) {
	v := Judge(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 1)}, "active"))
	if outcome(v, "new_process_serves") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("reload without a new process not a failure: %+v", v)
	}
}

func TestJudgeUnknownWhenLoadFellBehind(t *testing.T) {
	v := Judge(run(steady(500, 2*msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active"))
	if v.Overall != result.Unknown {
		t.Fatalf("fallen-behind run judged %s, want unknown", v.Overall)
	}
}

func TestJudgeUnknownWhenInterrupted(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Interrupted = true
	if v := Judge(r); v.Overall != result.Unknown {
		t.Fatalf("interrupted run judged %s, want unknown", v.Overall)
	}
}

func TestOverall(t *testing.T) {
	c := func(o ...result.Outcome) []result.Check {
		var cs []result.Check
		for _, x := range o {
			cs = append(cs, result.Check{Outcome: x})
		}
		return cs
	}
	if Overall(nil) != result.Unknown || Overall(c(result.Pass)) != result.Pass ||
		Overall(c(result.Pass, result.Fail)) != result.Fail || Overall(c(result.Fail, result.Unknown)) != result.Unknown {
		t.Fatal("Overall folds outcomes wrongly")
	}
}

func TestJudgeUpgrade(t *testing.T) {
	rl := goodReload(1, 1, 2)
	rl.Settled.ServingVersion = "v1" // a new process, but the old build
	r := run(steady(1000, msd, msd, 1), []result.Reload{rl}, "active")
	r.Load.Upgrade = "v2"
	if v := Judge(r); outcome(v, "new_version_serves") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("upgrade that still serves v1 not a failure: %+v", v)
	}
	r.Reloads[0].Settled.ServingVersion = "v2"
	if v := Judge(r); outcome(v, "new_version_serves") != result.Pass || v.Overall != result.Pass {
		t.Fatalf("good upgrade not a pass: %+v", v)
	}
}

func TestJudgeBrokenUpgrade(t *testing.T) {
	// The old process keeps serving: what a broken build should cause.
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 1)}, "active")
	r.Load.Upgrade = "broken"
	if v := Judge(r); outcome(v, "old_process_keeps_serving") != result.Pass || v.Overall != result.Pass {
		t.Fatalf("old process serving on after a broken upgrade not a pass: %+v", v)
	}
	// Nothing serves any more: fail.
	r.Reloads[0].Settled = result.Snapshot{ActiveState: "failed", ServingError: "connection refused"}
	if v := Judge(r); outcome(v, "old_process_keeps_serving") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("broken upgrade that took the service down not a failure: %+v", v)
	}
}

func TestJudgeStopThatTimesOut(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Final.StopTookMS = 90500
	r.Final.AfterStop = result.Snapshot{ActiveState: "failed", SubState: "failed", Result: "timeout"}
	if v := Judge(r); outcome(v, "unit_stops_cleanly") != result.Fail || v.Overall != result.Fail {
		t.Fatalf("a stop that systemd had to time out is not a failure: %+v", v)
	}
	r.Final.AfterStop = result.Snapshot{ActiveState: "inactive", SubState: "dead", Result: "success"}
	if v := Judge(r); outcome(v, "unit_stops_cleanly") != result.Pass {
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
