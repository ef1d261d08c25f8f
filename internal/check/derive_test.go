package check

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// Mutants RC1, RC2 of .ci/mutants.txt survived without this test.
func TestRunCompleteOnOneErrorAndOnNothingSent(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Errors = []string{"unit never became healthy"}
	if o := outcome(verdict(r), "run_complete"); o != result.Unknown {
		t.Errorf("one run error: run_complete %q, want unknown", o)
	}
	if o := outcome(verdict(run(nil, []result.Reload{goodReload(1, 1, 2)}, "active")), "run_complete"); o != result.Unknown {
		t.Errorf("nothing sent: run_complete %q, want unknown", o)
	}
}

// Mutants NF3, SR3, NB4 of .ci/mutants.txt survived without this test.
func TestChecksThatDoNotApplyStaySilent(t *testing.T) {
	// nothing sent: no_failed_requests has nothing to judge
	if o := outcome(verdict(run(nil, []result.Reload{goodReload(1, 1, 2)}, "active")), "no_failed_requests"); o != "" {
		t.Errorf("nothing sent: no_failed_requests %q, want it not to speak", o)
	}
	// nothing sent because the start failed: no end of a load to judge
	r := run(nil, nil, "inactive")
	r.Errors = []string{"systemctl start x.service: exit 5: Unit x.service not found."}
	r.Final.AfterStop = result.Snapshot{ActiveState: "inactive", SubState: "dead", Result: "success"}
	r.Final.StopExit = 5
	for _, name := range []string{"unit_active_at_end", "unit_stops_cleanly"} {
		if o := outcome(verdict(r), name); o != "" {
			t.Errorf("start failed, nothing sent: %s = %q, want it not to speak", name, o)
		}
	}
	// no slow requests, no stop recorded
	v := verdict(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active"))
	for _, name := range []string{"slow_requests_completed", "nothing_left_behind", "unit_stops_cleanly"} {
		if o := outcome(v, name); o != "" {
			t.Errorf("%s = %q on a run without it, want it not to speak", name, o)
		}
	}
}

// Mutants NF5 of .ci/mutants.txt survived without this test.
func TestOneRequestThatFailedFails(t *testing.T) {
	recs := steady(1, msd, msd, 1)
	failAt(recs, 0, 1, load.Reset)
	if o := outcome(verdict(run(recs, []result.Reload{goodReload(1, 1, 2)}, "active")), "no_failed_requests"); o != result.Fail {
		t.Errorf("1 of 1 failed: no_failed_requests %q, want fail", o)
	}
}

// Mutants ST5 (outcome is equal, the reason is what the writeup shows) of .ci/mutants.txt survived without this test.
func TestTrackedNamesTheHealthCheckWhenNothingServes(t *testing.T) {
	_, why := Tracked(result.Snapshot{MainPID: 10, ServingPID: 0, ServingError: "connection refused", ActiveState: "active"})
	if !strings.Contains(why, "connection refused") {
		t.Errorf("nothing serving, reason %q does not name the health check error", why)
	}
}

// Mutants NP1 of .ci/mutants.txt survived without this test.
func TestReloadAfterWhichNothingServesFails(t *testing.T) {
	v := verdict(run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 0)}, "active"))
	if o := outcome(v, "new_process_serves"); o != result.Fail {
		t.Errorf("nothing serves after the reload: new_process_serves %q, want fail", o)
	}
}

// Mutants OP1 of .ci/mutants.txt survived without this test.
func TestBrokenUpgradeWithNothingServingFails(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 0, 0)}, "active")
	r.Load.Upgrade = "broken"
	if o := outcome(verdict(r), "old_process_keeps_serving"); o != result.Fail {
		t.Errorf("nothing served before or after: old_process_keeps_serving %q, want fail", o)
	}
}

// Mutants NL10 of .ci/mutants.txt survived without this test.
func TestLeakSkipsMemoryNotMeasuredAtStart(t *testing.T) {
	first := result.Snapshot{ServingPID: 1, CgroupPIDs: []int{1}, ServingFDs: 8}
	last := result.Snapshot{ServingPID: 9, CgroupPIDs: []int{9}, ServingFDs: 8, MainRSSKB: 12000}
	if o, why := Leak(first, last); o != result.Pass {
		t.Errorf("no RSS at the start judged %s: %s", o, why)
	}
}

// Mutants D1..D10, J16, J17 of .ci/mutants.txt survived without this test.
func TestDeriveRecomputesFromHistory(t *testing.T) {
	recs := steady(1000, msd, msd, 1)
	failAt(recs, 500, 503, load.Reset)
	data, err := history.Encode(recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2)}, "active")
	r.Summary.FellBehind = true // stale stored summary: no failures, fell behind
	r.Load.Rate = 1000
	r.History = &result.History{WindowMS: 1000, Requests: len(recs), Data: data}
	r.Slow = []result.SlowRequest{{Outcome: "completed"}, {Outcome: "cut"}, {Outcome: "completed"}}
	stored := r.Summary
	want := analysis.Summarize(recs, 1000, time.Second)
	want.SlowTotal, want.SlowDone = 3, 2
	want.DroppedAfterReloadMS = analysis.DroppedAfterReload(recs, r.Reloads) // the 3 resets, after the reload at 0
	if len(want.DroppedAfterReloadMS) != 3 {
		t.Fatalf("dropped after the reload: %v, want the 3 resets", want.DroppedAfterReloadMS)
	}

	d, err := Derive(r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Summary, want) {
		t.Errorf("derived summary\n%+v\nwant\n%+v", d.Summary, want)
	}
	if !reflect.DeepEqual(r.Summary, stored) {
		t.Errorf("Derive changed the stored result")
	}
	out, err := JudgeAll([]*result.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out[0].Summary, want) {
		t.Errorf("JudgeAll reports summary %+v, want the derived one", out[0].Summary)
	}
	v := out[0].Verdict
	if v.Overall != result.Fail || outcome(v, "load_sustained") != result.Pass ||
		outcome(v, "no_failed_requests") != result.Fail || outcome(v, "slow_requests_completed") != result.Fail {
		t.Errorf("judged from the stored summary, not the history: %+v", v)
	}
	for _, n := range []int{len(recs) - 1, len(recs) + 1} {
		bad := *r
		h := *r.History
		h.Requests = n
		bad.History = &h
		if _, err := Derive(&bad); err == nil {
			t.Errorf("history of %d records said to hold %d: no error", len(recs), n)
		}
	}
}

// The deploy checks read the last reload, should a kind ever schedule more.
func TestDeployChecksReadTheLastReload(t *testing.T) {
	r := run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 1), goodReload(2, 1, 2)}, "active")
	r.Load.Upgrade = "broken"
	if o := outcome(verdict(r), "old_process_keeps_serving"); o != result.Fail {
		t.Errorf("a new process serves after the last reload: old_process_keeps_serving %q, want fail", o)
	}
	r = run(steady(1000, msd, msd, 1), []result.Reload{goodReload(1, 1, 2), goodReload(2, 2, 3)}, "active")
	r.Load.Upgrade = "v2"
	r.Reloads[0].Settled.ServingVersion, r.Reloads[1].Settled.ServingVersion = "v2", "v1"
	if o := outcome(verdict(r), "new_version_serves"); o != result.Fail {
		t.Errorf("v1 serves after the last reload: new_version_serves %q, want fail", o)
	}
}
