package check

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/result"
)

// recorded reads a run the lab recorded (testdata holds copies of runs
// from results/, so these tests outlive a new batch).
func recorded(t *testing.T, name string) *result.Result {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join("testdata", "*-"+name+".json"))
	if len(matches) != 1 {
		t.Fatalf("testdata has %d runs named %s", len(matches), name)
	}
	r, err := result.Read(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func outcomeOf(t *testing.T, r *result.Result, name string) (result.Outcome, string) {
	t.Helper()
	j, err := Judge(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range j.Verdict.Checks {
		if c.Name == name {
			return c.Outcome, c.Reason
		}
	}
	return "", ""
}

// Each check passes on one recorded run and fails (or is unknown, for the
// checks that can only be unknown) on another. Where no recorded run
// fails a check, the failing run is a recorded one with the one field
// changed that such a failure would show; the edit is named.
func TestEveryCheckPassesAndFailsOnRecordedRuns(t *testing.T) {
	type tc struct {
		pass, bad string
		edit      func(*result.Result)
		want      result.Outcome
	}
	cases := map[string]tc{
		"run_complete": {bad: "reload-grace-pidfile-keepalive-bookworm", want: result.Unknown,
			edit: func(r *result.Result) { r.Interrupted = true }},
		"load_sustained":          {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-socket-restart-keepalive-bookworm", want: result.Unknown},
		"no_failed_requests":      {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-envfile-keepalive-bookworm", want: result.Fail},
		"slow_requests_completed": {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-envfile-keepalive-bookworm", want: result.Fail},
		"systemd_tracks_server":   {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-envfile-keepalive-bookworm", want: result.Fail},
		"new_process_serves":      {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-envfile-keepalive-bookworm", want: result.Fail},
		"new_version_serves": {pass: "upgrade-grace-pidfile-keepalive-bookworm", bad: "upgrade-grace-pidfile-keepalive-bookworm", want: result.Fail,
			edit: func(r *result.Result) { r.Reloads[len(r.Reloads)-1].Settled.ServingVersion = "v1" }},
		"old_process_keeps_serving": {pass: "upgrade-broken-grace-pidfile-keepalive-bookworm", bad: "upgrade-broken-plain-restart-keepalive-bookworm", want: result.Fail},
		"no_leak": {pass: "soak-grace-pidfile-keepalive-bookworm", bad: "soak-grace-pidfile-keepalive-bookworm", want: result.Fail,
			edit: func(r *result.Result) { r.Final.Snapshot.CgroupPIDs = append(r.Final.Snapshot.CgroupPIDs, 99999) }},
		"unit_active_at_end": {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-envfile-keepalive-bookworm", want: result.Fail},
		"unit_stops_cleanly": {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-pidfile-new-conn-bookworm", want: result.Fail},
		"stop_drains":        {pass: "stop-drained", bad: "stop-lost", want: result.Fail},
		"ab_report_read": {pass: "hup-2015-manners-hup-ab-bookworm-r1", bad: "hup-2015-manners-hup-ab-bookworm-r1", want: result.Unknown,
			edit: func(r *result.Result) { r.AB.Output = "Benchmarking 127.0.0.1 (be patient)\n" }},
		"ab_no_failed_requests": {pass: "hup-2015-manners-hup-ab-bookworm-r1", bad: "hup-2015-gracedown-hup-ab-bookworm-r1", want: result.Fail},
		"nothing_left_behind": {pass: "reload-grace-pidfile-keepalive-bookworm", bad: "reload-grace-pidfile-keepalive-bookworm", want: result.Fail,
			edit: func(r *result.Result) { r.Final.ProcessesLeft = []result.Process{{PID: 4242, Command: "grace"}} }},
	}
	for _, c := range Registry {
		tc, ok := cases[c.Name]
		if !ok {
			t.Errorf("check %s has no pass/fail case here", c.Name)
			continue
		}
		if tc.pass != "" {
			if o, why := outcomeOf(t, recorded(t, tc.pass), c.Name); o != result.Pass {
				t.Errorf("%s on %s: %s (%s), want pass", c.Name, tc.pass, o, why)
			}
		} else if o, why := outcomeOf(t, recorded(t, tc.bad), c.Name); o != "" {
			t.Errorf("%s on %s before the edit: %s (%s), want it not to speak", c.Name, tc.bad, o, why)
		}
		bad := recorded(t, tc.bad)
		if tc.edit != nil {
			tc.edit(bad)
		}
		if o, why := outcomeOf(t, bad, c.Name); o != tc.want {
			t.Errorf("%s on %s: %s (%s), want %s", c.Name, tc.bad, o, why, tc.want)
		}
	}
}

// TestSameVerdictsAsStored judges every stored run that carries the
// lab's own verdict (schema 1) and wants the same outcome for every check
// it had, and for the run; the judge may only add passing checks.
func TestSameVerdictsAsStored(t *testing.T) {
	var paths []string
	for _, dir := range []string{"testdata", "../../results", "../writeup/testdata/results"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		paths = append(paths, m...)
	}
	n := 0
	for _, p := range paths {
		r, err := result.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict.Overall == "" {
			continue
		}
		n++
		j, err := Judge(r)
		if err != nil {
			t.Fatal(err)
		}
		want := r.Verdict.Overall
		if want == result.Unknown && slices.ContainsFunc(r.Verdict.Checks, func(c result.Check) bool { return c.Outcome == result.Fail }) {
			want = result.Fail // since issue 13 an unknown no longer hides a failure seen
		}
		if j.Verdict.Overall != want {
			t.Errorf("%s: judged %s, want %s (stored %s)", p, j.Verdict.Overall, want, r.Verdict.Overall)
		}
		got := map[string]result.Outcome{}
		for _, c := range j.Verdict.Checks {
			got[c.Name] = c.Outcome
		}
		for _, c := range r.Verdict.Checks {
			if got[c.Name] != c.Outcome {
				t.Errorf("%s: %s judged %q, stored %q", filepath.Base(p), c.Name, got[c.Name], c.Outcome)
			}
			delete(got, c.Name)
		}
		for name, o := range got {
			if o != result.Pass {
				t.Errorf("%s: judged a new check %s %s", filepath.Base(p), name, o)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d stored verdicts to compare with", n)
	}
}

func TestQuestionsAreJudgedApart(t *testing.T) {
	// The blog post's unit, new-conn: no request lost, stop not clean.
	j, err := Judge(recorded(t, "reload-grace-pidfile-new-conn-bookworm"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[Question]result.Outcome{Requests: result.Pass, Tracking: result.Pass, Stopping: result.Fail}
	if len(j.Questions) != len(want) {
		t.Errorf("questions %v, want %v (no deploy question for a reload)", j.Questions, want)
	}
	for q, o := range want {
		if j.Questions[q] != o {
			t.Errorf("%s = %s, want %s", q, j.Questions[q], o)
		}
	}
	if j.Verdict.Overall != result.Fail {
		t.Errorf("overall %s, want fail", j.Verdict.Overall)
	}
	// A run that cannot decide leaves every question unknown.
	r := recorded(t, "reload-socket-restart-keepalive-bookworm")
	j, _ = Judge(r)
	for q, o := range j.Questions {
		if o != result.Unknown {
			t.Errorf("load fell behind, yet %s = %s", q, o)
		}
	}
}

func TestFold(t *testing.T) {
	p, f, u := result.Check{Outcome: result.Pass}, result.Check{Outcome: result.Fail}, result.Check{Outcome: result.Unknown}
	for _, c := range []struct {
		in   []result.Check
		want result.Outcome
	}{
		{nil, result.Unknown},
		{[]result.Check{p}, result.Pass},
		{[]result.Check{p, f}, result.Fail},
		{[]result.Check{f, u}, result.Fail},
		{[]result.Check{u, f}, result.Fail},
		{[]result.Check{u, p}, result.Unknown},
		{[]result.Check{p, u, p}, result.Unknown},
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

// The registry and the kinds agree, and every check says what it means.
func TestRegistryAndKindsAgree(t *testing.T) {
	used := map[string]bool{}
	for _, k := range kind.All {
		for _, name := range k.Checks {
			if _, ok := Find(name); !ok {
				t.Errorf("kind %s lists unknown check %s", k.Name, name)
			}
			used[name] = true
		}
	}
	for _, c := range Registry {
		if !used[c.Name] {
			t.Errorf("check %s is in no kind", c.Name)
		}
		if c.Says == "" || !strings.HasSuffix(c.Says, ".") || c.Question.Says() == "" {
			t.Errorf("check %s: no sentence for the writeup, or no question", c.Name)
		}
	}
	if _, err := Judge(&result.Result{ID: "x", Experiment: "nap"}); err == nil {
		t.Error("a result of an unknown kind was judged")
	}
}

// A main PID that systemd does not hold as its child is SIGKILLed right
// after SIGTERM, and systemd still reports Result=success: the check
// reads the SIGKILL from the journal. Without those journal lines the
// same run passes, so it fails for the SIGKILL alone.
func TestSIGKILLAtOnceIsNotACleanStop(t *testing.T) {
	r := recorded(t, "stop-sigkill")
	if r.Final.AfterStop.Result != "success" || r.Final.MainPIDAlien != "yes" {
		t.Fatalf("recorded run: result %s, alien %q; want success, yes", r.Final.AfterStop.Result, r.Final.MainPIDAlien)
	}
	if o, why := outcomeOf(t, r, "unit_stops_cleanly"); o != result.Fail || !strings.Contains(why, "SIGKILL") {
		t.Errorf("unit_stops_cleanly: %s (%s), want a fail naming the SIGKILL", o, why)
	}
	r.Journal = slices.DeleteFunc(slices.Clone(r.Journal), func(l string) bool { return strings.Contains(l, "SIGKILL") })
	if o, why := outcomeOf(t, r, "unit_stops_cleanly"); o != result.Pass {
		t.Errorf("without the SIGKILL lines: %s (%s), want pass", o, why)
	}
}

// ab's figures are read again from its raw output: a run whose output
// holds no report is unknown on both ab checks, whatever figures it stored.
func TestABChecksReadTheRawOutput(t *testing.T) {
	r := recorded(t, "hup-2015-gracedown-hup-ab-bookworm-r1")
	r.AB.Output, r.AB.Failed = "", 0
	for _, name := range []string{"ab_report_read", "ab_no_failed_requests"} {
		if o, why := outcomeOf(t, r, name); o != result.Unknown {
			t.Errorf("%s with no report: %s (%s), want unknown", name, o, why)
		}
	}
	r.AB.Output = "Test aborted after 10 failures\n\napr_socket_connect(): Connection refused (111)\n"
	if o, why := outcomeOf(t, r, "ab_no_failed_requests"); o != result.Fail {
		t.Errorf("ab gave up after failed connects: %s (%s), want fail", o, why)
	}
}
