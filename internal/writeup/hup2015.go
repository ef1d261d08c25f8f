package writeup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

// hup2015Kind is the experiment this section reports (internal/kind).
const hup2015Kind = "hup-2015"

// The 2015 comparison's figures (Shogo82148, 2015-11-23), per server of
// the catalog; starter (net/http's Server.Shutdown) was not in it.
var hup2015Published = map[string]struct {
	library   string
	published string
	lost      bool // the post saw failed requests
	inPost    bool
}{
	"manners":   {"braintree/manners", "122 failed of 1,000,000, about 70 restarts", true, true},
	"gracedown": {"shogo82148/go-gracedown", "0 failed of 1,000,000, about 70 restarts", false, true},
	"starter":   {"net/http `Server.Shutdown`", "not in the 2015 comparison", false, false},
}

// hup2015Runs are the runs of the newest batch that holds hup-2015 runs,
// judged: that experiment is run on its own, outside the full batches.
func hup2015Runs(stored []*result.Result) ([]*result.Result, error) {
	batch := ""
	for _, r := range stored {
		if r.Experiment == hup2015Kind && r.Batch > batch {
			batch = r.Batch
		}
	}
	var rs []*result.Result
	for _, r := range stored {
		if r.Experiment == hup2015Kind && r.Batch == batch {
			rs = append(rs, r)
		}
	}
	return check.JudgeAll(rs)
}

// hup2015Row is one library, client and lab.
type hup2015Row struct {
	server, profile string
	env             env
	runs, failing   int // runs, and runs with any failed request
	unknown         int // runs whose client's report could not be read
	hups, workers   int // HUPs start_server received, workers it started after the first
	cut             bool
	requests, lost  int
	detail          map[string]int // failures by ab's breakdown or our classes
}

func hup2015Rows(rs []*result.Result) []*hup2015Row {
	by := map[string]*hup2015Row{}
	var rows []*hup2015Row
	for _, r := range rs {
		e := envOf(r)
		k := r.Server + "\x00" + r.Profile + "\x00" + e.label()
		x := by[k]
		if x == nil {
			x = &hup2015Row{server: r.Server, profile: r.Profile, env: e, detail: map[string]int{}}
			by[k] = x
			rows = append(rows, x)
		}
		x.runs++
		started, hups, cut := analysis.Workers(r.Journal)
		x.hups += hups
		x.workers += max(0, started-1)
		x.cut = x.cut || cut
		lost, requests, ok := hup2015Figures(r, x.detail)
		if !ok {
			x.unknown++
			continue
		}
		x.requests += requests
		x.lost += lost
		if lost > 0 {
			x.failing++
		}
	}
	slices.SortStableFunc(rows, func(a, b *hup2015Row) int {
		return strings.Compare(a.server+a.profile+a.env.label(), b.server+b.profile+b.env.label())
	})
	return rows
}

// hup2015Figures is one run's failed and total requests as its client
// counted them; ok is false when ab's report could not be read or the
// run was interrupted.
func hup2015Figures(r *result.Result, detail map[string]int) (lost, requests int, ok bool) {
	if r.Interrupted {
		return 0, 0, false
	}
	if r.Profile == protocol.AB {
		a := r.AB
		if a == nil || !a.Parsed {
			return 0, 0, false
		}
		for k, n := range map[string]int{"connect": a.Connect, "receive": a.Receive, "length": a.Length, "exceptions": a.Exceptions, "non-2xx": a.Non2xx} {
			detail[k] += n
		}
		return a.Failed + a.Non2xx, a.Complete, true
	}
	for k, n := range r.Summary.ByClass {
		detail[k] += n
	}
	return r.Summary.Failed, r.Summary.Sent, r.Summary.Sent > 0
}

func detailText(d map[string]int) string {
	var parts []string
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if d[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, d[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// readmeHUP2015 is the section on the 2015 comparison, when there are runs.
func readmeHUP2015(p *page, m *model) {
	rows := hup2015Rows(m.hup2015)
	if len(rows) == 0 {
		return
	}
	p.heading(3, "The 2015 start_server comparison, again (experiment `hup-2015`)")
	p.para("In 2015 Shogo82148 (\"golang-graceful-restart-2nd\", blog.shogo82148.com) sent `start_server` a HUP once a second "+
		"under `ab -r -n 1000000 -c 10`: 122 failed requests with braintree/manners, 0 with go-gracedown. Here each library "+
		"is a `start_server` worker under systemd, reloaded once a second for 30 s, under ab (`-r -c 10`, time-limited to the "+
		"run) and under our engine (a new connection per request, 1000/s). Batch %s; method in "+
		"[experiments/hup-2015](../experiments/hup-2015/README.md).", code(m.hup2015[0].Batch))
	var table [][]string
	for _, x := range rows {
		pub := hup2015Published[x.server]
		runs := fmt.Sprintf("%d of %d", x.failing, x.runs-x.unknown)
		if x.unknown > 0 {
			runs += fmt.Sprintf(" (%d unknown)", x.unknown)
		}
		restarts := fmt.Sprintf("%d (of %d HUPs)", x.workers, x.hups)
		if x.cut {
			restarts = "at least " + restarts + ", journal cut"
		}
		table = append(table, []string{cmp.Or(pub.library, x.server), code(x.profile), x.env.label(), restarts,
			fmt.Sprint(x.requests), runs, fmt.Sprintf("%d (%s)", x.lost, detailText(x.detail)), pub.published})
	}
	p.table([]string{"library", "client", "lab", "restarts (workers started, total)", "requests (total)", "runs with any failure",
		"failed requests (breakdown)", "published 2015"}, table)
	p.para("%s", hup2015Verdict(rows))
	abLost, abLength, ourLost, ourEOF := 0, 0, 0, 0
	for _, x := range rows {
		if x.profile == protocol.AB {
			abLost, abLength = abLost+x.lost, abLength+x.detail["length"]
		} else {
			ourLost, ourEOF = ourLost+x.lost, ourEOF+x.detail["eof"]
		}
	}
	p.para("Of ab's %d failed requests, %d were Length failures: ab counts a connection closed before a full response "+
		"(nothing read) that way, as the body of `/` has a fixed length. Of our engine's %d, %d were EOF: the connection "+
		"closed after the request was sent. Why each library does or does not close such connections is on its page "+
		"([manners](manners.md), [gracedown](gracedown.md)).", abLost, abLength, ourLost, ourEOF)
}

// hup2015Verdict says, from ab's runs, whether the 2015 result (manners
// fails, go-gracedown does not) reproduces, and the same for our engine.
func hup2015Verdict(rows []*hup2015Row) string {
	var out []string
	for _, profile := range []string{protocol.AB, protocol.NewConn} {
		var parts []string
		holds, seen := true, false
		for _, server := range []string{"manners", "gracedown"} {
			failing, runs := 0, 0
			for _, x := range rows {
				if x.server == server && x.profile == profile {
					failing += x.failing
					runs += x.runs - x.unknown
				}
			}
			if runs == 0 {
				holds = false
				continue
			}
			seen = true
			pub := hup2015Published[server]
			parts = append(parts, fmt.Sprintf("%s failed requests in %d of %d runs (2015: %s)", pub.library, failing, runs,
				map[bool]string{true: "failures", false: "none"}[pub.lost]))
			if (failing > 0) != pub.lost {
				holds = false
			}
		}
		if !seen {
			continue
		}
		verdict := "does not reproduce"
		if holds {
			verdict = "reproduces"
		}
		out = append(out, fmt.Sprintf("With %s, %s: the 2015 result %s.", code(profile), strings.Join(parts, ", "), verdict))
	}
	return strings.Join(out, " ")
}
