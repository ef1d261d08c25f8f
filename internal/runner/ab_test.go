package runner

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

func TestABArgsPutTimeLimitBeforeCount(t *testing.T) {
	got := abArgs("http://127.0.0.1:18080/", 32500*time.Millisecond)
	want := []string{"-r", "-c", "10", "-t", "33", "-n", "1000000", "http://127.0.0.1:18080/"}
	if !slices.Equal(got, want) {
		t.Fatalf("ab %v, want %v", got, want)
	}
}

// fakeAB stands for ab: it runs for the load's duration and reports.
type fakeAB struct {
	began time.Time
	done  chan struct{}
	out   string
}

func (a *fakeAB) Began() time.Time           { return a.began }
func (a *fakeAB) Done() <-chan struct{}      { return a.done }
func (a *fakeAB) Versions() map[int32]string { return nil }
func (a *fakeAB) Progress() load.Progress    { return load.Progress{} }
func (a *fakeAB) Wait() []load.Record        { <-a.done; return nil }
func (a *fakeAB) Report() *result.AB {
	<-a.done
	r := analysis.ParseAB(a.out)
	return &r
}

func TestRunWithABStoresItsReport(t *testing.T) {
	f := newFake()
	e := f.env()
	var url string
	e.startAB = func(_ context.Context, u string, d time.Duration) abRun {
		url = u
		a := &fakeAB{began: time.Now(), done: make(chan struct{}), out: "Complete requests:      900\nFailed requests:        2\n   (Connect: 0, Receive: 0, Length: 2, Exceptions: 0)\n"}
		time.AfterFunc(d, func() { close(a.done) })
		return a
	}
	e.startLoad = func(context.Context, load.Config) loadRun { t.Fatal("our engine ran for profile ab"); return nil }
	s := spec(t)
	s.Profile = protocol.AB
	r, err := run(context.Background(), e, s, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if url != "http://"+s.Listen+"/" || r.AB == nil || !r.AB.Parsed || r.AB.Complete != 900 || r.AB.Length != 2 || len(r.Reloads) != 3 {
		t.Fatalf("ab at %q, report %+v, %d reloads", url, r.AB, len(r.Reloads))
	}
}
