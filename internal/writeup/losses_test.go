package writeup

import (
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// lossFixture is a run whose history holds a failure of every kind the
// engine records, around one reload and the stop.
func lossFixture(t *testing.T) (*result.Result, int) {
	ms := time.Millisecond
	d, w, b := load.Dialed, load.Written, load.Responded
	recs := []load.Record{
		{Scheduled: 100 * ms, Latency: ms, Class: load.OK, Flags: w | b, PID: 10},
		{Scheduled: 1000 * ms, Latency: ms, Class: load.Refused, Flags: d, Err: "connection refused"},
		{Scheduled: 1001 * ms, Latency: ms, Class: load.Refused, Flags: d | load.Retried, Err: "connection refused"},
		{Scheduled: 1002 * ms, Latency: ms, Class: load.Reset, Flags: d | w, Err: "connection reset by peer"},
		{Scheduled: 1003 * ms, Latency: ms, Class: load.EOF, Flags: d | w, Err: "EOF"},
		{Scheduled: 1004 * ms, Latency: ms, Class: load.EOF, Flags: w | b, Err: "unexpected EOF"},
		{Scheduled: 1005 * ms, Latency: ms, Class: load.Reset, Flags: w, Err: "connection reset by peer"},
		{Scheduled: 1006 * ms, Latency: 5000 * ms, Class: load.Timeout, Flags: d, Err: "timeout"},
		{Scheduled: 3100 * ms, Latency: ms, Class: load.HTTP5xx, Code: 503, Flags: d | w | b, Err: "503 Service Unavailable"},
		{Scheduled: 3200 * ms, Latency: ms, Class: load.Other, Flags: d | w | b, Err: "malformed HTTP response"},
	}
	data, err := history.Encode(recs, map[int32]string{10: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	r := &result.Result{ID: "loss-fixture", Experiment: "reload", Server: "plain", Variant: "restart", Profile: "new-conn",
		Env:     result.Env{Provider: "nspawn", Suite: "bookworm", SystemdVersion: "252"},
		History: &result.History{WindowMS: 4000, Requests: len(recs), Data: data},
		Reloads: []result.Reload{{N: 1, StartMS: 900, Kernel: &result.KernelDelta{FromMS: 900, ToMS: 2500,
			Counters: map[string]int64{"Tcp.AttemptFails": 2, "Tcp.OutRsts": 3, "Tcp.EstabResets": 1}}}},
		Final: result.Final{StopAtMS: 3000, StopKernel: &result.KernelDelta{FromMS: 3000, ToMS: 4000, Counters: map[string]int64{"Tcp.ActiveOpens": 2}}},
	}
	return r, len(recs) - 1
}

func TestEveryLossLandsInExactlyOneClass(t *testing.T) {
	r, failed := lossFixture(t)
	old := *r
	old.ID, old.History = "no-history", nil
	old.Summary.Failed = 7
	tl, err := tallyLosses([]*result.Result{r, &old})
	if err != nil {
		t.Fatal(err)
	}
	want := map[analysis.Loss]int{
		analysis.LostRefused: 2, analysis.LostAcceptQueue: 1, analysis.LostAfterRead: 2,
		analysis.LostIdleClose: 1, analysis.LostTimeout: 1, analysis.Unattributed: 2,
	}
	// The 503 and the malformed answer come after the stop began.
	wantStop := map[analysis.Loss]int{analysis.Unattributed: 2}
	total := 0
	for _, c := range analysis.Losses() {
		reloads, stop := tl.byClass[atReloads][c].requests, tl.byClass[atStop][c].requests
		if reloads+stop != want[c] || stop != wantStop[c] {
			t.Errorf("%v: %d requests at reloads and %d from the stop on, want %d in all, %d from the stop on", c, reloads, stop, want[c], wantStop[c])
		}
		total += reloads + stop
	}
	if total != failed {
		t.Errorf("%d failures placed, the fixture has %d", total, failed)
	}
	if tl.runs != 1 || tl.noHistory != 1 || tl.noHistoryFailed != 7 {
		t.Errorf("runs %d, without history %d (%d failed); want 1, 1 (7)", tl.runs, tl.noHistory, tl.noHistoryFailed)
	}
	if c := tl.byClass[atReloads][analysis.LostRefused].counters["Tcp.AttemptFails"]; c != 2 {
		t.Errorf("refused: AttemptFails %+d in its stretches, want +2", c)
	}

	m := newModel([]*result.Result{r, &old})
	var p page
	readmeLosses(&p, m)
	out := p.String()
	for _, s := range []string{"| unattributed |", "| 1 of 1 runs, 2 requests |", "`Tcp.AttemptFails` +2, `Tcp.OutRsts` +3, beside 2 of its requests in the 1 stretch with readings (of 1)", "without raw history (an older schema): 1, with 7 failed requests",
		"refused 2, accept-queue reset 1, closed after read 2, idle keep-alive closed 1, timeout 1 |", "| unattributed 2 |", "at most 0 of these 1 were closed by a process with the request unread, at least 1 left in an accept queue"} {
		if !strings.Contains(out, s) {
			t.Errorf("section lacks %q:\n%s", s, out)
		}
	}
}
