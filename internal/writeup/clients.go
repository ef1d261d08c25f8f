package writeup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// net/http's retry rule (go1.26.8, the toolchain the lab builds with),
// which the clients section rests on.
const (
	srcRetryLoop   = "https://github.com/golang/go/blob/go1.26.8/src/net/http/transport.go#L673-L748"
	srcShouldRetry = "https://github.com/golang/go/blob/go1.26.8/src/net/http/transport.go#L818-L863"
	srcReplayable  = "https://github.com/golang/go/blob/go1.26.8/src/net/http/request.go#L1534-L1548"
)

// client is one of the three clients the section compares: the runs of an
// experiment and profile.
type client struct {
	name       string
	experiment string
	profile    string
}

var clients = []client{
	{"GET (engine)", kind.Base().Name, protocol.KeepAlive},
	{"POST (engine)", kind.Clients.Name, protocol.Post},
	{"GET (Go client)", kind.Clients.Name, protocol.GoClient},
}

// tally is one client's runs of one variant in one environment.
type tally struct {
	runs, lossRuns, reloads int
	lost                    int // load requests that failed before the stop, or were accepted and dropped at it
	lostAtStop              int // of lost, those at the stop
	retried                 int // sent again after a first attempt failed, and answered
	retriedLost             int // of lost, those sent again that failed all the same
	byClass                 map[string]int
}

// add counts run r: its load's requests only (the slow requests go
// through the runner's own client whatever the profile).
func (t *tally) add(r *result.Result) error {
	lost := r.Summary.Failed
	for c, n := range r.Summary.ByClass {
		t.byClass[c] += n
	}
	if st := r.Final.Stop; st != nil {
		lost += st.Lost
		t.lostAtStop += st.Lost
		for c, n := range st.LostByClass {
			t.byClass[c] += n
		}
	}
	t.runs++
	t.reloads += len(r.Reloads)
	t.lost += lost
	if lost > 0 {
		t.lossRuns++
	}
	if r.History == nil {
		return nil
	}
	recs, _, err := history.Decode(r.History.Data)
	if err != nil {
		return fmt.Errorf("%s: history: %w", r.ID, err)
	}
	before, after := recs, []load.Record(nil)
	if r.Final.StopAtMS > 0 {
		before, after = analysis.SplitAtStop(recs, analysis.Dur(r.Final.StopAtMS))
	}
	for i, rec := range slices.Concat(before, after) {
		switch {
		case !rec.Flags.Has(load.Retried):
		case rec.Class == load.OK:
			t.retried++
		case i < len(before) || rec.Class != load.Refused:
			// After the stop, refused is no loss (see Stop.Lost).
			t.retriedLost++
		}
	}
	return nil
}

// lostText is the requests lost, and how many of them at the stop.
func (t *tally) lostText() string {
	switch {
	case t.runs == 0:
		return "–"
	case t.lostAtStop == 0:
		return fmt.Sprintf("%d", t.lost)
	}
	return fmt.Sprintf("%d (%d at the stop)", t.lost, t.lostAtStop)
}

func (t *tally) rate() rate.Rate {
	return rate.Rate{K: t.lossRuns, N: t.runs, Lost: t.lost, Reloads: t.reloads}
}

func (t *tally) classes() string {
	var parts []string
	for _, c := range sortedKeys(t.byClass) {
		if t.byClass[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", t.byClass[c], c))
		}
	}
	return strings.Join(parts, ", ")
}

// clientsRow is one variant in one environment, each client's runs.
type clientsRow struct {
	variant string // its link
	control bool
	env     env
	by      []*tally // as clients
}

// clientsRows pairs, per variant and environment, the clients runs with
// the reload runs on keep-alive of the same batches.
func (m *model) clientsRows() ([]*clientsRow, error) {
	batches := map[string]bool{}
	for _, r := range m.results {
		if r.Experiment == kind.Clients.Name {
			batches[r.Batch] = true
		}
	}
	var out []*clientsRow
	for _, vr := range m.byVariant() {
		for _, e := range m.envs {
			row := &clientsRow{variant: vr.name(), control: vr.control, env: e}
			for _, cl := range clients {
				t := &tally{byClass: map[string]int{}}
				row.by = append(row.by, t)
				c := m.cell(key{cl.experiment, vr.server, vr.variant, cl.profile})
				if c == nil {
					continue
				}
				for _, r := range c.runs[e] {
					if !batches[r.Batch] {
						continue
					}
					if err := t.add(r); err != nil {
						return nil, err
					}
				}
			}
			if row.by[1].runs+row.by[2].runs > 0 {
				out = append(out, row)
			}
		}
	}
	return out, nil
}

// readmeClients compares, per variant, the requests lost by GET and POST
// through gracelab's engine and by GET through a stock Go client, and
// says which losses a retry hid.
func readmeClients(p *page, m *model) {
	rows, err := m.clientsRows()
	if err != nil {
		p.para("The clients comparison cannot be shown: %s.", err)
		return
	}
	if len(rows) == 0 {
		return
	}
	p.heading(3, "GET, POST and a stock Go client")
	p.para("Experiment `clients`: the reload experiment's reloads and stop under load, with POST through gracelab's engine " +
		"(keep-alive, a 28-byte form body) and with GET through a stock Go `http.Client` (a clone of `http.DefaultTransport`, " +
		"only its idle pool raised), beside the same variants' `reload` runs on `keepalive` (GET through gracelab's engine) " +
		"of the same batch. A run *lost* requests when a request of the load failed before the stop, or was accepted and " +
		"dropped at it (refused after the stop is how a stopped server turns clients away, and does not count); the slow " +
		"requests go through the runner's own client in every profile and are left out.")
	p.para("Go's `net/http` Transport sends a request again on a new connection when its attempt on a kept connection failed "+
		"([the retry loop](%s), [shouldRetryRequest](%s)): a GET when not a byte of the answer came, since GET is replayable "+
		"([isReplayable](%s)); a POST only when not a byte of it was written, or with an `Idempotency-Key` header. "+
		"gracelab's engine follows the same rule. A retried request that was then answered is a loss the calling program "+
		"never sees.", srcRetryLoop, srcShouldRetry, srcReplayable)
	header := []string{"Variant", "Environment"}
	for _, cl := range clients {
		header = append(header, cl.name+": runs with loss", cl.name+": lost")
	}
	header = append(header, "Sent again and answered (GET engine / POST / Go client)")
	var trows [][]string
	for _, r := range rows {
		cells := []string{r.variant, r.env.label()}
		for _, t := range r.by {
			cells = append(cells, t.rate().Text(), t.lostText())
		}
		cells = append(cells, fmt.Sprintf("%d / %d / %d", r.by[0].retried, r.by[1].retried, r.by[2].retried))
		trows = append(trows, cells)
	}
	p.table(header, trows)
	p.lines(clientsSentences(rows))
}

// clientsSentences says, per row, what each client saw and what a retry
// hid.
func clientsSentences(rows []*clientsRow) []string {
	var out []string
	for _, r := range rows {
		get, post, goc := r.by[0], r.by[1], r.by[2]
		var s []string
		for i, t := range r.by {
			if t.runs == 0 {
				s = append(s, fmt.Sprintf("%s has no run in this batch", clients[i].name))
				continue
			}
			x := fmt.Sprintf("%s lost %s in %d of %d runs", clients[i].name, plural(t.lost, "request", "requests"), t.lossRuns, t.runs)
			if t.lost > 0 {
				x += fmt.Sprintf(" (%s; %d at the stop)", t.classes(), t.lostAtStop)
			}
			s = append(s, x)
		}
		line := fmt.Sprintf("- %s on systemd %s: %s.", r.variant, r.env.Systemd, joinAnd(s))
		if hidden := get.retried + goc.retried; hidden > 0 {
			line += fmt.Sprintf(" A retry hid %s of the engine's and %s of the Go client's: each failed on a kept connection "+
				"before any byte of the answer, and went again on a new one.", plural(get.retried, "GET", "GETs"), plural(goc.retried, "GET", "GETs"))
		}
		if post.retried > 0 {
			line += fmt.Sprintf(" %s went again because not a byte of it had been written.", plural(post.retried, "POST", "POSTs"))
		}
		if goc.lost > 0 {
			line += fmt.Sprintf(" The Go client saw %s, which the Transport does not send again: failed on a new connection, "+
				"after a byte of the answer, a second time, or out of time.", plural(goc.lost, "failure", "failures"))
		}
		if pr, gr := post.lost-post.lostAtStop, get.lost-get.lostAtStop; post.runs > 0 && get.runs > 0 && pr > 0 && gr == 0 {
			line += fmt.Sprintf(" Around the reloads, POST lost %d where GET through the same engine lost none.", pr)
		}
		for i, t := range r.by {
			if t.retriedLost > 0 {
				line += fmt.Sprintf(" Of %s's losses, %d had been sent again and failed a second time.", clients[i].name, t.retriedLost)
			}
		}
		out = append(out, line)
	}
	return slices.Clip(out)
}
