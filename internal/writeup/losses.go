package writeup

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// Sources the loss classes rest on: Linux 6.12 as Debian ships it
// (linux-source-6.12 6.12.117, the files of stable v6.12.117; net/http's
// are explain.go's).
const (
	srcListenStop   = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/inet_connection_sock.c?h=v6.12.117#n1495"
	srcChildForget  = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/inet_connection_sock.c?h=v6.12.117#n1396"
	srcDisconnect   = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp.c?h=v6.12.117#n3306"
	srcCloseUnread  = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp.c?h=v6.12.117#n3109"
	srcCloseFin     = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp.c?h=v6.12.117#n3118"
	srcAttemptFails = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp.c?h=v6.12.117#n4895"
	srcEstabResets  = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp.c?h=v6.12.117#n2938"
	srcSendReset    = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp_ipv4.c?h=v6.12.117#n917"
	srcActiveReset  = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp_output.c?h=v6.12.117#n3650"
	srcAbortOnData  = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp_input.c?h=v6.12.117#n7024"
	srcOverflow     = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/ipv4/tcp_ipv4.c?h=v6.12.117#n1851"
	srcNspawnNetns  = "https://www.freedesktop.org/software/systemd/man/252/systemd-nspawn.html#--private-network"
)

// lossDoc is each class's mechanism and the counters that back it.
var lossDoc = map[analysis.Loss]struct {
	how      string
	counters []string
}{
	analysis.LostRefused: {fmt.Sprintf("Nothing listened: the kernel answers the SYN with a reset ([tcp_v4_send_reset](%s) counts `Tcp.OutRsts`) "+
		"and the client's connect fails ([tcp_done](%s) counts `Tcp.AttemptFails`).", srcSendReset, srcAttemptFails),
		[]string{"Tcp.AttemptFails", "Tcp.OutRsts"}},
	analysis.LostAcceptQueue: {fmt.Sprintf("A new connection reset before any answer byte: the server never read the request. "+
		"When the last descriptor of a listener closes, [inet_csk_listen_stop](%s) hands each connection still in its accept queue "+
		"to [inet_child_forget](%s), whose [tcp_disconnect](%s) sends a reset ([tcp_send_active_reset](%s) counts `Tcp.OutRsts`; "+
		"the client's established socket counts [`Tcp.EstabResets`](%s)), and no `TCPAbortOn*` counter moves; with `SO_REUSEPORT` "+
		"and `tcp_migrate_req` the kernel moves them to another listener instead (`TCPMigrateReqSuccess`). A process that closes an "+
		"accepted connection with the request unread resets it too, but [counts `TCPAbortOnClose`](%s): that counter tells the two apart.",
		srcListenStop, srcChildForget, srcDisconnect, srcActiveReset, srcEstabResets, srcCloseUnread),
		[]string{"Tcp.OutRsts", "Tcp.EstabResets", "TcpExt.TCPAbortOnClose", "TcpExt.TCPMigrateReqSuccess", "TcpExt.TCPMigrateReqFailure"}},
	analysis.LostAfterRead: {fmt.Sprintf("The server read the request and closed without answering (EOF, no byte, on a new connection), or cut its answer. "+
		"net/http's [serve loop](%s) returns right after reading a request when `Shutdown` has begun; with nothing left unread the "+
		"close [sends a FIN](%s), which no counter counts: the evidence is the client's EOF with no `TCPAbortOnClose` beside it.",
		srcServeShutdown, srcCloseFin),
		[]string{"TcpExt.TCPAbortOnClose", "Tcp.OutRsts"}},
	analysis.LostIdleClose: {fmt.Sprintf("A connection opened before this request (kept alive, or opened ahead) was closed under it before any answer, "+
		"and the request was not sent again. `Shutdown` [closes idle connections](%s); a request that reaches the closed socket "+
		"draws a reset ([`TCPAbortOnData`](%s)). The load engine sends such a request again on a new connection, as net/http does for "+
		"idempotent requests, so this class holds only what was not retried.", srcCloseIdle, srcAbortOnData),
		[]string{"TcpExt.TCPAbortOnData", "Tcp.EstabResets"}},
	analysis.LostTimeout: {fmt.Sprintf("No answer within the timeout: a SYN dropped by a full accept queue ([`ListenOverflows`, `ListenDrops`](%s); the "+
		"client's connect waits for a retransmission), or a request accepted and never answered.", srcOverflow),
		[]string{"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop", "TcpExt.TCPAbortOnTimeout"}},
	analysis.Unattributed: {"Fits none of the above (an HTTP error status, a malformed answer): shown here so that no loss goes missing.",
		nil},
}

// lossTally is the loss classes over a set of runs.
type lossTally struct {
	runs, noHistory, noHistoryFailed int
	flagsUnknown                     int // runs made before load.Written/Responded
	// by phase (atReloads, atStop), then class
	byClass [2]map[analysis.Loss]*classTally
	cells   map[string]*cellLosses
}

// The two phases of a run: up to the stop (the reloads, and before the
// first), and from the stop on, where refused is how a stopped server
// turns clients away.
const (
	atReloads = 0
	atStop    = 1
)

type classTally struct {
	runs, requests int
	// windows with this class, and of them those with kernel readings,
	// and the counters summed over those
	windows, kernelWindows int
	requestsRead           int // in the windows with readings
	// for resets before any answer: at most this many were closed by a
	// process with the request unread (TCPAbortOnClose), the rest left
	// in an accept queue (per window, the smaller of resets and counter)
	closedUnread int
	counters     map[string]int64
}

type cellLosses struct {
	name     string
	runs     int
	lossRuns [2]int
	by       [2]map[analysis.Loss]int
}

// tallyLosses attributes every failed request of every run with raw
// history; runs without it are counted apart.
func tallyLosses(rs []*result.Result) (*lossTally, error) {
	t := &lossTally{cells: map[string]*cellLosses{}}
	for ph := range t.byClass {
		t.byClass[ph] = map[analysis.Loss]*classTally{}
		for _, c := range analysis.Losses() {
			t.byClass[ph][c] = &classTally{counters: map[string]int64{}}
		}
	}
	for _, r := range rs {
		if r.History == nil {
			t.noHistory++
			t.noHistoryFailed += r.Summary.Failed
			continue
		}
		recs, _, err := history.Decode(r.History.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: history: %w", r.ID, err)
		}
		t.runs++
		if !analysis.FlagsKnown(recs) {
			t.flagsUnknown++
		}
		name := fmt.Sprintf("%s %s, %s, %s", r.Server, r.Variant, r.Profile, envOf(r).label())
		if r.Experiment != "" && !isBase(r.Experiment) {
			name = r.Experiment + ": " + name
		}
		cl := t.cells[name]
		if cl == nil {
			cl = &cellLosses{name: name, by: [2]map[analysis.Loss]int{{}, {}}}
			t.cells[name] = cl
		}
		cl.runs++
		inRun := [2]map[analysis.Loss]bool{{}, {}}
		for _, w := range analysis.LossWindows(r, recs) {
			ph := atReloads
			if w.Name == analysis.StopWindow {
				ph = atStop
			}
			for c, n := range w.ByClass {
				ct := t.byClass[ph][c]
				ct.requests += n
				cl.by[ph][c] += n
				ct.windows++
				inRun[ph][c] = true
				if w.Kernel != nil {
					ct.kernelWindows++
					ct.requestsRead += n
					if c == analysis.LostAcceptQueue {
						ct.closedUnread += int(min(int64(n), w.Kernel.Counters["TcpExt.TCPAbortOnClose"]))
					}
					for _, k := range lossDoc[c].counters {
						ct.counters[k] += w.Kernel.Counters[k]
					}
					if c == analysis.Unattributed {
						for k, v := range w.Kernel.Counters {
							ct.counters[k] += v
						}
					}
				}
			}
		}
		for ph := range inRun {
			for c := range inRun[ph] {
				t.byClass[ph][c].runs++
			}
			if len(inRun[ph]) > 0 {
				cl.lossRuns[ph]++
			}
		}
	}
	return t, nil
}

func readmeLosses(p *page, m *model) {
	t, err := tallyLosses(m.results)
	p.heading(3, "Where the lost requests went")
	if err != nil {
		p.para("The lost requests could not be attributed: %v.", err)
		return
	}
	if t.runs == 0 {
		p.para("No run here has raw history, so no lost request can be attributed: %s, %d failed requests.",
			plural(t.noHistory, "run", "runs"), t.noHistoryFailed)
		return
	}
	p.para("Every failed request of every run with raw history is put in exactly one class below, from what its record knows "+
		"(how it failed; whether it opened a new connection, was sent again, was written, and whether any answer byte came) and "+
		"in the stretch of the run it was seen in (before the first reload, from a reload until it settled, from then to the next reload, "+
		"or from the stop on). "+
		"Beside each class are the kernel's TCP counters of the lab, read just before each `systemctl reload` and when it had settled, "+
		"and just before the stop and after it and the load were over. The lab is booted with [`--private-network`](%s), so "+
		"these count the lab's own traffic only; client and server both run in it, so one lost request can move a counter at both "+
		"ends (a refused connect is one `AttemptFails` at the client and one `OutRsts` from the server's kernel). The stretch after "+
		"a reload settled has no readings of its own; its losses are counted, and not set beside counters. A stretch's counters "+
		"stand beside every class lost in it: where several classes meet in one stretch (a stop that refuses and resets), "+
		"each class's column shows the same counters.", srcNspawnNetns)
	var rows [][]string
	for _, c := range analysis.Losses() {
		row := []string{c.String(), lossDoc[c].how}
		for ph := range t.byClass {
			ct := t.byClass[ph][c]
			row = append(row, fmt.Sprintf("%d of %d runs, %d requests", ct.runs, t.runs, ct.requests), kernelText(ct, c))
		}
		rows = append(rows, row)
	}
	p.table([]string{"where it went", "how (sources)", "at reloads", "kernel counters, at those reloads", "from the stop on", "kernel counters, at those stops"}, rows)
	if t.flagsUnknown > 0 {
		p.para("Runs made before the load engine recorded whether a request was written and whether an answer byte came: %d of %d; "+
			"in them "+
			"a cut answer is known by its error text (*unexpected EOF*) alone, so a reset after some answer bytes counts as an "+
			"accept-queue reset there.", t.flagsUnknown, t.runs)
	}
	if t.noHistory > 0 {
		p.para("Runs without raw history (an older schema): %d, with %d failed requests, in the findings above but not attributed here.",
			t.noHistory, t.noHistoryFailed)
	}
	var names []string
	for n, cl := range t.cells {
		if cl.lossRuns[atReloads]+cl.lossRuns[atStop] > 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	var crow [][]string
	for _, n := range names {
		cl := t.cells[n]
		row := []string{n}
		for ph := range cl.by {
			var parts []string
			for _, c := range analysis.Losses() {
				if cl.by[ph][c] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", c, cl.by[ph][c]))
				}
			}
			row = append(row, rate.Rate{K: cl.lossRuns[ph], N: cl.runs}.Text(), orNoneList(parts))
		}
		crow = append(crow, row)
	}
	p.details("Per row: runs that lost requests, and where they went", func() {
		p.table([]string{"row", "runs with a loss at reloads", "by class", "runs with a loss from the stop on", "by class"}, crow)
	})
}

// kernelText is the counters that back class c, summed over the stretches
// it happened in that have readings.
func kernelText(ct *classTally, c analysis.Loss) string {
	switch {
	case ct.windows == 0:
		return "–"
	case ct.kernelWindows == 0:
		return fmt.Sprintf("not read (runs made before the runner read them), %s", plural(ct.windows, "stretch", "stretches"))
	}
	out := fmt.Sprintf("%s, beside %d of its requests in the %s with readings (of %d)", counterList(ct.counters, lossDoc[c].counters),
		ct.requestsRead, plural(ct.kernelWindows, "stretch", "stretches"), ct.windows)
	if c == analysis.LostAcceptQueue && ct.requestsRead > 0 {
		out += fmt.Sprintf("; by `TCPAbortOnClose`, at most %d of these %d were closed by a process with the request unread, "+
			"at least %d left in an accept queue", ct.closedUnread, ct.requestsRead, ct.requestsRead-ct.closedUnread)
	}
	return out
}

// counterList writes the named counters' sums ("Tcp.OutRsts +12"); all
// of them when names is nil.
func counterList(sum map[string]int64, names []string) string {
	if names == nil {
		for n := range sum {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("`%s` %+d", n, sum[n]))
	}
	if len(parts) == 0 {
		return "none moved"
	}
	return strings.Join(parts, ", ")
}
