package writeup

import (
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// clientRun is a run of one client with ok requests, failed ones (reset),
// and retried ones answered on their second attempt.
func clientRun(t *testing.T, experiment, profile, batch string, ok, failed, retried int) *result.Result {
	t.Helper()
	var recs []load.Record
	for i := range ok + failed + retried {
		rec := load.Record{Scheduled: time.Duration(i) * time.Millisecond, Latency: time.Millisecond, PID: 7, Code: 200}
		switch {
		case i >= ok+retried:
			rec = load.Record{Scheduled: rec.Scheduled, Latency: time.Millisecond, Class: load.Reset, Err: "reset"}
		case i >= ok:
			rec.Flags = load.Retried | load.Dialed
		}
		recs = append(recs, rec)
	}
	data, err := history.Encode(recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &result.Result{ID: experiment + "-" + profile + "-" + batch, Experiment: experiment, Server: "grace", Variant: "pidfile",
		Profile: profile, Batch: batch, Env: bookworm,
		Reloads: make([]result.Reload, 3), History: &result.History{Data: data, Requests: len(recs)}}
	r.Summary.Failed = failed
	if failed > 0 {
		r.Summary.ByClass = map[string]int{"reset": failed}
	}
	return r
}

func TestClientsComparesTheSameBatch(t *testing.T) {
	m := newModel([]*result.Result{
		clientRun(t, "reload", "keepalive", "b1", 100, 0, 4),
		clientRun(t, "reload", "keepalive", "b0", 100, 50, 0), // another batch: left out
		clientRun(t, "clients", "post", "b1", 100, 3, 0),
		clientRun(t, "clients", "go-client", "b1", 100, 0, 6),
	})
	var p page
	readmeClients(&p, m)
	got := p.String()
	for _, want := range []string{
		"GET (engine) lost 0 requests in 0 of 1 runs, POST (engine) lost 3 requests in 1 of 1 runs (3 reset; 0 at the stop) and GET (Go client) lost 0 requests in 0 of 1 runs.",
		"A retry hid 4 GETs of the engine's and 6 GETs of the Go client's",
		"Around the reloads, POST lost 3 where GET through the same engine lost none.",
		"| 4 / 0 / 6 |",
		"transport.go#L818-L863",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "50 requests") {
		t.Errorf("a reload run of another batch was compared:\n%s", got)
	}
}

func TestClientsNeedsClientsRuns(t *testing.T) {
	m := newModel([]*result.Result{clientRun(t, "reload", "keepalive", "b1", 10, 0, 0)})
	var p page
	readmeClients(&p, m)
	if p.Len() != 0 {
		t.Errorf("a section without clients runs:\n%s", p.String())
	}
}
