package writeup

import (
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

func hupRun(server, profile string, failed int) *result.Result {
	r := &result.Result{Experiment: hup2015Kind, Server: server, Profile: profile,
		Journal: []string{"a: starting new worker 1", "a: received HUP", "a: starting new worker 2", "a: received HUP"}}
	if profile == "ab" {
		r.AB = &result.AB{Parsed: true, Complete: 1000, Failed: failed, Receive: failed}
	} else {
		r.Summary = result.Summary{Sent: 1000, Failed: failed, ByClass: map[string]int{"eof": failed}}
	}
	return r
}

func TestHUP2015VerdictFollowsTheRuns(t *testing.T) {
	rows := hup2015Rows([]*result.Result{hupRun("manners", "ab", 3), hupRun("manners", "ab", 0), hupRun("gracedown", "ab", 0)})
	if got := hup2015Verdict(rows); !strings.Contains(got, "braintree/manners failed requests in 1 of 2 runs") ||
		!strings.Contains(got, "the 2015 result reproduces") {
		t.Fatalf("verdict %q", got)
	}
	if rows[1].workers != 2 || rows[1].hups != 4 || rows[1].lost != 3 {
		t.Fatalf("manners row %+v", rows[1])
	}
	rows = hup2015Rows([]*result.Result{hupRun("manners", "ab", 0), hupRun("gracedown", "ab", 0)})
	if got := hup2015Verdict(rows); !strings.Contains(got, "does not reproduce") {
		t.Fatalf("no loss with manners, yet %q", got)
	}
	unread := hupRun("gracedown", "ab", 0)
	unread.AB.Parsed = false
	rows = hup2015Rows([]*result.Result{hupRun("manners", "ab", 5), unread})
	if got := hup2015Verdict(rows); strings.Contains(got, " reproduces") {
		t.Fatalf("an unread ab report counted as no loss: %q", got)
	}
}
