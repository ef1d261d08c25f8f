package analysis

import (
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

func TestSignalsFromTheJournal(t *testing.T) {
	started := time.Date(2026, 11, 25, 18, 57, 10, 500_000_000, time.UTC)
	journal := []string{
		"2026-11-25T18:57:09.000000+0000 vm systemd[1]: x.service: Killing process 7 (grace) with signal SIGKILL.", // before the stop
		"2026-11-25T18:57:10.516214+0000 vm grace[212]: gracelab: PID 212 received SIGTERM",
		"2026-11-25T18:57:10.516815+0000 vm systemd[1]: x.service: Killing process 212 (grace) with signal SIGKILL.",
		"2026-11-25T18:57:10.600000+0000 vm systemd[1]: x.service: Deactivated successfully.",
		"not a journal line",
	}
	got := Signals(journal, started)
	want := []result.SignalSeen{{AfterMS: 16.214, PID: 212, Signal: "SIGTERM", By: "server received"}, {AfterMS: 16.815, PID: 212, Signal: "SIGKILL", By: "systemd sent"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("signals %+v, want %+v", got, want)
	}
	if at, ok := FirstSIGKILL(&result.StopSummary{Signals: got}); !ok || at != 16.815 {
		t.Errorf("first SIGKILL %v %v", at, ok)
	}
}

func TestStopSplitsAndCounts(t *testing.T) {
	ms := time.Millisecond
	stopAt := 100 * ms
	recs := []load.Record{
		{Scheduled: 10 * ms, Sent: 10 * ms, Latency: ms, Class: load.OK},       // before
		{Scheduled: 90 * ms, Sent: 90 * ms, Latency: 50 * ms, Class: load.OK},  // in flight, answered
		{Scheduled: 95 * ms, Sent: 95 * ms, Latency: 10 * ms, Class: load.EOF}, // in flight, lost
		{Scheduled: 110 * ms, Sent: 110 * ms, Latency: ms, Class: load.Refused},
		{Scheduled: 120 * ms, Sent: 120 * ms, Latency: ms, Class: load.Reset},
	}
	before, after := SplitAtStop(recs, stopAt)
	if len(before) != 1 || len(after) != 4 {
		t.Fatalf("split %d / %d, want 1 / 4", len(before), len(after))
	}
	slow := []result.SlowRequest{{Outcome: "completed"}, {AtStop: true, Outcome: "cut"}, {AtStop: true, Outcome: "completed"}}
	s := Stop(after, stopAt, slow, nil, time.Time{})
	if s.InFlight != 2 || s.InFlightOK != 1 || s.After != 2 || s.Refused != 1 || s.Lost != 2 || s.LostByClass["eof"] != 1 || s.SlowTotal != 2 || s.SlowDone != 1 {
		t.Errorf("stop figures %+v", s)
	}
	if total, done := SlowCounts(slow); total != 1 || done != 1 {
		t.Errorf("reload slow requests %d of %d, want 1 of 1 (the stop's counted apart)", done, total)
	}
}

func TestDroppedAfterSIGTERM(t *testing.T) {
	ms := time.Millisecond
	sigs := []result.SignalSeen{
		{AfterMS: 100, Signal: "SIGUSR2", By: "server received"},
		{AfterMS: 200, Signal: "SIGTERM", By: "server received"},
		{AfterMS: 250, Signal: "SIGKILL", By: "systemd sent"},
		{AfterMS: 900, Signal: "SIGTERM", By: "server received"},
	}
	recs := []load.Record{
		{Scheduled: 150 * ms, Sent: 150 * ms, Latency: 10 * ms, Class: load.EOF},     // before any SIGTERM
		{Scheduled: 230 * ms, Sent: 230 * ms, Latency: 10 * ms, Class: load.EOF},     // 40 ms after the first
		{Scheduled: 300 * ms, Sent: 300 * ms, Latency: 10 * ms, Class: load.OK},      // not dropped
		{Scheduled: 400 * ms, Sent: 400 * ms, Latency: 10 * ms, Class: load.Refused}, // refused, not dropped
		{Scheduled: 950 * ms, Sent: 950 * ms, Latency: 10 * ms, Class: load.Reset},   // 60 ms after the second
	}
	after, none := DroppedAfterSIGTERM(recs, sigs)
	if none != 1 || len(after) != 2 || after[0] != 40 || after[1] != 60 {
		t.Fatalf("after %v, none %d; want [40 60], 1", after, none)
	}
}

func TestAlienFromJournal(t *testing.T) {
	j := []string{"2026-11-25T19:34:17.571818+0000 vm systemd[1]: x.service: Supervising process 1435 which is not our child. We'll most likely not notice when it exits."}
	for pid, want := range map[int]string{1435: "yes", 143: "no", 14350: "no", 0: ""} {
		if got := AlienFromJournal(j, pid, time.Time{}); got != want {
			t.Errorf("pid %d: %q, want %q", pid, got, want)
		}
	}
	// A daemon-reload after the line: systemd took the PID anew and did
	// not say it again, so it is its child now.
	dr := time.Date(2026, 11, 25, 19, 34, 18, 0, time.UTC)
	if got := AlienFromJournal(j, 1435, dr); got != "no" {
		t.Errorf("after a daemon-reload that logged nothing: %q, want no", got)
	}
	if got := AlienFromJournal(j, 1435, dr.Add(-time.Second)); got != "yes" {
		t.Errorf("a daemon-reload before the line: %q, want yes", got)
	}
}

func TestDroppedAfterReload(t *testing.T) {
	ms := time.Millisecond
	reloads := []result.Reload{{StartMS: 100}, {StartMS: 500}}
	recs := []load.Record{
		{Scheduled: 50 * ms, Sent: 50 * ms, Latency: ms, Class: load.EOF},          // before any reload: left out
		{Scheduled: 120 * ms, Sent: 120 * ms, Latency: 10 * ms, Class: load.EOF},   // 30 after the first
		{Scheduled: 520 * ms, Sent: 520 * ms, Latency: 10 * ms, Class: load.Reset}, // 30 after the second
		{Scheduled: 600 * ms, Sent: 600 * ms, Latency: 10 * ms, Class: load.Refused},
	}
	if got := DroppedAfterReload(recs, reloads); len(got) != 2 || got[0] != 30 || got[1] != 30 {
		t.Fatalf("%v, want [30 30]", got)
	}
}

// systemd 257's journalctl writes the zone with a colon.
func TestSignalsFromA257Journal(t *testing.T) {
	started := time.Date(2026, 11, 25, 20, 13, 30, 0, time.UTC)
	got := Signals([]string{"2026-11-25T20:15:00.332797+00:00 vm systemd[1]: x.service: Killing process 232 (tableflip) with signal SIGKILL."}, started)
	if len(got) != 1 || got[0].AfterMS != 90332.797 || got[0].Signal != "SIGKILL" {
		t.Fatalf("%+v", got)
	}
}
