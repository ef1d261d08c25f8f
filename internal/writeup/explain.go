package writeup

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Primary sources of the failure mechanisms.
const (
	srcServeShutdown = "https://github.com/golang/go/blob/go1.26.8/src/net/http/server.go#L1988-L1996"
	srcCloseIdle     = "https://github.com/golang/go/blob/go1.26.8/src/net/http/server.go#L3199-L3223"
	issueShutdownEOF = "https://github.com/golang/go/issues/75591"
	srcHttpdownStop  = "https://github.com/facebookgo/httpdown/blob/5979d39b15c26299dc282711b0d65b113daccea6/httpdown.go#L298-L299"
	srcGracenetFile  = "https://github.com/facebookgo/grace/blob/75cf19382434e82df4dd84953f566b8ad23d6e9e/gracenet/net.go#L212-L243"
	srcFileFd        = "https://github.com/golang/go/blob/go1.26.8/src/os/file_unix.go#L70-L85"
	srcStartFd       = "https://github.com/golang/go/blob/go1.26.8/src/os/exec_posix.go#L50-L53"
)

// dropWindow is how soon after a SIGTERM a dropped request counts as
// the old process's shutdown.
const dropWindow = 250.0

// readmeExplain explains the failure classes the batch shows, each from
// what the runs recorded.
func readmeExplain(p *page, m *model) {
	drops := handOverDrops(m)
	hang := graceHangs(m)
	if drops == "" && hang == "" {
		return
	}
	p.heading(3, "Why requests fail, and why a stop hangs")
	if drops != "" {
		p.para("%s", drops)
	}
	if hang != "" {
		p.para("%s", hang)
	}
}

// handOverDrops times the requests accepted and then dropped (EOF,
// reset) at reloads, against the reload and against the journal's line of
// a server process receiving SIGTERM, per variant.
func handOverDrops(m *model) string {
	var parts []string
	total, near := 0, 0
	for _, vr := range m.byVariant() {
		if vr.control {
			continue
		}
		var afterTerm, afterReload []float64
		none := 0
		for _, r := range vr.allReload {
			afterTerm = append(afterTerm, r.Summary.DroppedAfterTermMS...)
			afterReload = append(afterReload, r.Summary.DroppedAfterReloadMS...)
			none += r.Summary.DroppedNoTerm
		}
		n := len(afterTerm) + none
		if n == 0 {
			continue
		}
		k := 0
		for _, a := range afterTerm {
			if a <= dropWindow {
				k++
			}
		}
		total += n
		near += k
		parts = append(parts, fmt.Sprintf("%s: %d; %d of them within %.0f ms after a server process received SIGTERM; "+
			"a median %s ms after the reload began", vr.name(), n, k, dropWindow, ms(medianOf(afterReload))))
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("**Requests dropped at a reload.** Besides refused connections, requests were lost as an EOF (the server "+
		"closed the connection without answering) or a reset, on connections it had accepted. Each is timed against the journal's "+
		"line of a server process receiving SIGTERM and against the reload; %d of %d came within %.0f ms after a SIGTERM:\n\n- %s\n\n"+
		"Where the old process is stopped with SIGTERM (grace, start_server's workers), a drop right after it is that process's "+
		"`Server.Shutdown`: net/http's serve loop returns without answering a request it read once shutdown has begun "+
		"([server.go](%s)), and Shutdown closes connections it takes for idle ([server.go](%s)), which a keep-alive client may "+
		"be sending on; it is reported as [golang/go#75591](%s). Drops long after any SIGTERM are not explained by that: for "+
		"units that lose their server they are part of the outage, and tableflip's old process stops without a signal.",
		near, total, dropWindow, strings.Join(parts, "\n- "), srcServeShutdown, srcCloseIdle, issueShutdownEOF)
}

// graceHangs explains a stop that runs into TimeoutStopSec after a broken
// deploy, from the listener's flags and the threads' kernel waits.
func graceHangs(m *model) string {
	var runs, blocked, inAccept, timeout int
	others := map[string]int{}
	for _, r := range m.results {
		if !isBroken(r.Experiment) || len(r.Reloads) == 0 || r.Final.StopTookMS < 60000 {
			continue
		}
		if r.Server != "grace" {
			others[r.Server]++
			continue
		}
		runs++
		first := r.Reloads[0]
		if strings.Contains(first.Before.ServingListener, "(non-blocking)") && strings.Contains(first.Settled.ServingListener, "(blocking)") {
			blocked++
		}
		if slices.ContainsFunc(r.Final.StopWaits, func(w string) bool { return strings.Contains(w, "inet_csk_accept") }) {
			inAccept++
		}
		if r.Final.AfterStop.Result == "timeout" {
			timeout++
		}
	}
	var rest []string
	for _, s := range slices.Sorted(maps.Keys(others)) {
		rest = append(rest, fmt.Sprintf("%s in %d", s, others[s]))
	}
	tail := ""
	if len(rest) > 0 {
		tail = fmt.Sprintf(" Other servers' stops also took over a minute after a broken deploy (%s runs); what they waited on "+
			"is recorded in each run's stop_waits and not explained here.", strings.Join(rest, ", "))
	}
	if runs == 0 || blocked == 0 {
		return strings.TrimSpace(tail)
	}
	return fmt.Sprintf("**A stop that waits 90 s after a broken deploy.** In %d grace runs a deploy of a build that cannot start was "+
		"followed by a stop that took over a minute (`Result=timeout` in %d). In %d of them the serving process's "+
		"listening socket was non-blocking before the deploy and blocking after it, and in %d a thread of the process still sat in "+
		"`accept(2)` (kernel wait `inet_csk_accept`) 3 s into the stop. grace hands the listener to the new process as a file "+
		"([gracenet](%s)); `os.StartProcess` calls `Fd()` on it ([exec_posix.go](%s)), and `Fd()` puts the descriptor in "+
		"blocking mode ([file_unix.go](%s)), which the original shares. The new build exits; the old process goes on serving, "+
		"but its `Accept` now blocks in the kernel, where closing the listener does not wake it, and `httpdown.Stop` waits "+
		"for the Serve loop to return ([httpdown.go](%s)) until systemd kills it.%s",
		runs, timeout, blocked, inAccept, srcGracenetFile, srcStartFd, srcFileFd, srcHttpdownStop, tail)
}
