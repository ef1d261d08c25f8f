package analysis

import (
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

func TestAttribute(t *testing.T) {
	const (
		d = load.Dialed
		w = load.Written
		b = load.Responded
		r = load.Retried
	)
	cases := []struct {
		class load.Class
		flags load.Flags
		err   string
		known bool
		want  Loss
	}{
		{load.Refused, d, "connection refused", true, LostRefused},
		{load.Refused, d | r, "connection refused", true, LostRefused}, // the retry found nothing listening
		{load.Timeout, d, "timeout", true, LostTimeout},
		{load.Timeout, d | w, "timeout", true, LostTimeout},
		{load.Reset, d | w, "connection reset", true, LostAcceptQueue},
		{load.Reset, d, "broken pipe", true, LostAcceptQueue},
		{load.Reset, d | r | w, "connection reset", true, LostAcceptQueue}, // the retry's new connection was reset
		{load.EOF, d | w, "EOF", true, LostAfterRead},
		{load.EOF, d | w | b, "unexpected EOF", true, LostAfterRead},
		{load.Reset, w | b, "connection reset", true, LostAfterRead}, // cut on a kept connection
		{load.EOF, w, "EOF", true, LostIdleClose},
		{load.Reset, w, "connection reset", true, LostIdleClose},
		{load.HTTP5xx, d | w | b, "503", true, Unattributed},
		{load.Other, d | w | b, "malformed HTTP response", true, Unattributed},
		// Records from before Written/Responded: the error text alone
		// says an answer was cut.
		{load.EOF, d, "unexpected EOF", false, LostAfterRead},
		{load.EOF, d, "EOF", false, LostAfterRead},
		{load.Reset, d, "connection reset", false, LostAcceptQueue},
		{load.EOF, 0, "EOF", false, LostIdleClose},
	}
	for _, tc := range cases {
		got := Attribute(load.Record{Class: tc.class, Flags: tc.flags, Err: tc.err}, tc.known)
		if got != tc.want {
			t.Errorf("%v flags %04b %q (flags known %v): %v, want %v", tc.class, tc.flags, tc.err, tc.known, got, tc.want)
		}
	}
}

func TestLossWindowsPlaceEveryFailureOnce(t *testing.T) {
	ms := time.Millisecond
	rec := func(sched, lat time.Duration, c load.Class, f load.Flags) load.Record {
		return load.Record{Scheduled: sched, Latency: lat, Class: c, Flags: f | load.Written}
	}
	recs := []load.Record{
		rec(100*ms, ms, load.OK, load.Responded),
		rec(200*ms, ms, load.Reset, load.Dialed),         // steady
		rec(1000*ms, ms, load.Refused, load.Dialed),      // reload 1
		rec(1500*ms, ms, load.EOF, load.Dialed),          // after reload 1 settled
		rec(1990*ms, 20*ms, load.EOF, load.Dialed),       // ends after reload 2 began: reload 2
		rec(2500*ms, 5000*ms, load.Timeout, load.Dialed), // sent in reload 2, seen in the stop's time
		rec(3100*ms, ms, load.HTTP5xx, load.Responded),   // stop
	}
	recs[2].Flags &^= load.Written // refused: never written
	r := &result.Result{
		Reloads: []result.Reload{{N: 1, StartMS: 900, Kernel: &result.KernelDelta{FromMS: 900, ToMS: 1400, Counters: map[string]int64{"Tcp.AttemptFails": 1}}}, {N: 2, StartMS: 2000}},
		Final:   result.Final{StopAtMS: 3000},
	}
	ws := LossWindows(r, recs)
	want := []struct {
		name string
		by   map[Loss]int
	}{
		{"steady", map[Loss]int{LostAcceptQueue: 1}},
		{"reload 1", map[Loss]int{LostRefused: 1}},
		{"after reload 1", map[Loss]int{LostAfterRead: 1}},
		{"reload 2", map[Loss]int{LostAfterRead: 1, LostTimeout: 1}},
		{"stop", map[Loss]int{Unattributed: 1}},
	}
	if len(ws) != len(want) {
		t.Fatalf("%d windows, want %d: %+v", len(ws), len(want), ws)
	}
	total := 0
	for i, w := range want {
		if ws[i].Name != w.name || len(ws[i].ByClass) != len(w.by) {
			t.Errorf("window %d: %s %v, want %s %v", i, ws[i].Name, ws[i].ByClass, w.name, w.by)
			continue
		}
		for c, n := range w.by {
			if ws[i].ByClass[c] != n {
				t.Errorf("%s: %v %d, want %d", w.name, c, ws[i].ByClass[c], n)
			}
			total += ws[i].ByClass[c]
		}
	}
	if total != 6 {
		t.Errorf("%d failures placed, want the 6 of the records", total)
	}
	if ws[1].Kernel == nil || ws[1].Kernel.Counters["Tcp.AttemptFails"] != 1 {
		t.Errorf("reload 1's kernel delta not carried: %+v", ws[1].Kernel)
	}
}
