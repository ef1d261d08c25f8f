package writeup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/rate"
)

// Primary sources the stop findings rest on.
const (
	srcAlienSet252   = "https://github.com/systemd/systemd/blob/v252/src/core/service.c#L157-L182"
	srcAlienSet257   = "https://github.com/systemd/systemd/blob/v257/src/core/service.c#L238-L246"
	srcKillMain252   = "https://github.com/systemd/systemd/blob/v252/src/core/unit.c#L4577-L4594"
	srcKillOne257    = "https://github.com/systemd/systemd/blob/v257/src/core/unit.c#L4771-L4807"
	srcKillCgroup252 = "https://github.com/systemd/systemd/blob/v252/src/core/unit.c#L4614-L4643"
	srcEnterSig252   = "https://github.com/systemd/systemd/blob/v252/src/core/service.c#L1965-L2005"
	srcEnterSig257   = "https://github.com/systemd/systemd/blob/v257/src/core/service.c#L2240-L2278"
	srcDead252       = "https://github.com/systemd/systemd/blob/v252/src/core/service.c#L1822-L1827"
	srcReloadPID252  = "https://github.com/systemd/systemd/blob/v252/src/core/service.c#L3763-L3770"
	srcDeserial252   = "https://github.com/systemd/systemd/blob/v252/src/core/service.c#L2958-L2964"
	srcGraceSigterm  = "https://github.com/facebookgo/grace/blob/75cf19382434e82df4dd84953f566b8ad23d6e9e/gracehttp/http.go#L152-L157"
)

// stopRow is one variant in one environment: its reload runs' stops.
type stopRow struct {
	server, name     string // the variant's
	variant          string // its link
	env              env
	runs             int
	alien, notAlien  int // systemd's view of the main PID just before the stop
	killed           int // runs where systemd sent SIGKILL during the stop
	killedAlien      int
	killedNotAlien   int
	alienAlone       int // alien and the only process in the unit's cgroup before the stop
	killedAlienAlone int
	aloneCut         int // slow requests cut in those runs
	aloneSlow        int
	aloneStopMS      []float64
	killAfter        []float64 // ms from the stop to the first SIGKILL
	killedSuccess    int       // of the killed, Result=success all the same
	slowCut, slowAll int
	lostRuns, lost   int
	lostBy           map[string]int
	stopMS           []float64
}

// stopRows gathers the stops of every reload run, by variant and
// environment, in catalog order.
func (m *model) stopRows() []*stopRow {
	var out []*stopRow
	for _, vr := range m.byVariant() {
		byEnv := map[env]*stopRow{}
		for _, r := range vr.allReload {
			st := r.Final.Stop
			if st == nil || r.Final.StopAtMS <= 0 {
				continue
			}
			e := envOf(r)
			row := byEnv[e]
			if row == nil {
				row = &stopRow{server: vr.server, name: vr.variant, variant: vr.name(), env: e, lostBy: map[string]int{}}
				byEnv[e] = row
			}
			row.runs++
			switch r.Final.MainPIDAlien {
			case "yes":
				row.alien++
			case "no":
				row.notAlien++
			}
			alone := r.Final.MainPIDAlien == "yes" && len(r.Final.Snapshot.CgroupPIDs) == 1
			if alone {
				row.alienAlone++
				row.aloneSlow += st.SlowTotal
				row.aloneCut += st.SlowTotal - st.SlowDone
				row.aloneStopMS = append(row.aloneStopMS, r.Final.StopTookMS)
			}
			if at, ok := analysis.FirstSIGKILL(st); ok {
				if alone {
					row.killedAlienAlone++
				}
				row.killed++
				row.killAfter = append(row.killAfter, at)
				if r.Final.AfterStop.Result == "success" {
					row.killedSuccess++
				}
				switch r.Final.MainPIDAlien {
				case "yes":
					row.killedAlien++
				case "no":
					row.killedNotAlien++
				}
			}
			row.slowAll += st.SlowTotal
			row.slowCut += st.SlowTotal - st.SlowDone
			if st.Lost > 0 {
				row.lostRuns++
				row.lost += st.Lost
				for c, n := range st.LostByClass {
					row.lostBy[c] += n
				}
			}
			row.stopMS = append(row.stopMS, r.Final.StopTookMS)
		}
		for _, e := range m.envs {
			if row := byEnv[e]; row != nil {
				out = append(out, row)
			}
		}
	}
	return out
}

func medianOf(xs []float64) float64 { return analysis.Quantile(xs, 0.5) }

// readmeStop is the stop under load: SIGKILLs at once, requests dropped.
func readmeStop(p *page, m *model) {
	rows := m.stopRows()
	if len(rows) == 0 {
		return
	}
	p.heading(3, "Stopping under load")
	p.para("Each `%s` run ends with `systemctl stop` while the load still runs and %d slow requests (1 s each) are in flight, "+
		"2 s after the last reload. Just before it the runner reads systemd's own view of the main process "+
		"(`systemd-analyze dump`: `Main PID Alien:`, *yes* when it is not systemd's child). The journal shows each SIGKILL "+
		"systemd sends (it logs `Killing process … with signal SIGKILL`) and each signal a sample server receives (they log it). "+
		"*Lost at the stop* counts requests in flight when the stop began, or sent after it, that failed otherwise than "+
		"*connection refused*: refused is how a stopped server turns clients away; a reset or an EOF means the connection "+
		"was accepted and then dropped.", kind.Base().Name, kind.Base().SlowPerReload)
	var trows [][]string
	// The SIGKILL against systemd's view of the main PID, per environment.
	type tally struct {
		alien, alienKilled, alone, aloneKilled, notAlien, notAlienKilled, killed, killedSuccess int
		aloneCut, aloneSlow                                                                     int
		aloneStopMS                                                                             []float64
	}
	byEnv := map[env]*tally{}
	var killed int
	var after []float64
	for _, r := range rows {
		killText := rate.Rate{K: r.killed, N: r.runs}.Text()
		if r.killed > 0 {
			killText += fmt.Sprintf(", median %s ms after the stop began", ms(medianOf(r.killAfter)))
		}
		lostText := rate.Rate{K: r.lostRuns, N: r.runs}.Text()
		if r.lost > 0 {
			lostText += fmt.Sprintf("; %d lost (%s)", r.lost, analysis.ClassList(r.lostBy))
		}
		trows = append(trows, []string{r.variant, r.env.label(), fmt.Sprintf("%d of %d", r.alien, r.runs), killText,
			fmt.Sprintf("%d of %d", r.slowCut, r.slowAll), lostText, ms(medianOf(r.stopMS))})
		t := byEnv[r.env]
		if t == nil {
			t = &tally{}
			byEnv[r.env] = t
		}
		t.alien += r.alien
		t.alienKilled += r.killedAlien
		t.alone += r.alienAlone
		t.aloneKilled += r.killedAlienAlone
		t.aloneCut += r.aloneCut
		t.aloneSlow += r.aloneSlow
		t.aloneStopMS = append(t.aloneStopMS, r.aloneStopMS...)
		t.notAlien += r.notAlien
		t.notAlienKilled += r.killedNotAlien
		t.killed += r.killed
		t.killedSuccess += r.killedSuccess
		killed += r.killed
		after = append(after, r.killAfter...)
	}
	p.table([]string{"Variant", "Environment", "Main PID not systemd's child", "Runs where systemd sent SIGKILL",
		"Slow requests cut", "Runs that lost requests at the stop", "Stop took (median ms)"}, trows)
	if held := heldListener(rows); held != "" {
		p.para("%s", held)
	}
	if killed == 0 {
		p.para("systemd sent no SIGKILL during any stop.")
		return
	}
	var per []string
	for _, e := range m.envs {
		t := byEnv[e]
		if t == nil {
			continue
		}
		line := fmt.Sprintf("on %s: where systemd held a main PID that was not its child, a SIGKILL in the journal in %s runs "+
			"(%s of those where it was the only process in the unit's cgroup; in those the stop took a median %s ms and "+
			"%d of %d slow requests were cut); where the main PID was its child, in %s (%d of the %d runs with a SIGKILL "+
			"ended with `Result=success`)",
			e.label(), rate.Rate{K: t.alienKilled, N: t.alien}.Text(), rate.Rate{K: t.aloneKilled, N: t.alone}.Text(),
			ms(medianOf(t.aloneStopMS)), t.aloneCut, t.aloneSlow, rate.Rate{K: t.notAlienKilled, N: t.notAlien}.Text(),
			t.killedSuccess, t.killed)
		if n := silentKills(m, e); n > 0 {
			line += fmt.Sprintf(". Caution: this systemd logged no SIGKILL even in the %d runs whose stop ran into "+
				"`TimeoutStopSec=` (`Result=timeout`), so here the journal cannot show one: the cut requests and the "+
				"stop's length do", n)
		}
		per = append(per, line)
	}
	p.para("**SIGKILL right after SIGTERM.** The SIGKILLs came a median %s ms after the stop began, instead of after "+
		"`TimeoutStopSec=` (90 s), and cut the slow requests in flight. Against systemd's view of the main PID just before the "+
		"stop (from `systemd-analyze dump`, or where that could not be read, from the journal's \"not our child\" line for that PID):\n\n- %s",
		ms(medianOf(after)), strings.Join(per, "\n- "))
	p.para("Why, in systemd's source. A main PID read from `PIDFile=` (or sent as `MAINPID=`) is *alien* when its parent is not "+
		"systemd at that moment ([v252](%s), [v257](%s)); the flag is not looked at again when the process is later reparented, "+
		"until a `systemctl daemon-reload` takes the main PID anew from its saved state ([v252](%s)). "+
		"grace starts the new process as a child of the old one, which then gets SIGTERM from its successor ([gracehttp](%s)); "+
		"systemd re-reads the PID file as soon as `ExecReload=` exits ([v252](%s)), so whether it reads the new PID while the old "+
		"parent still lives is a race. At stop, `unit_kill_context()` sends SIGTERM to the main PID but counts an alien one as "+
		"nothing to wait for ([v252](%s), [v257](%s)); the rest of the cgroup is waited for only if some *other* process got the "+
		"signal ([v252](%s)). With nothing to wait for, `service_enter_signal()` goes straight on to SIGKILL "+
		"([v252](%s), [v257](%s)), and every step passes `SERVICE_SUCCESS`, hence `Result=success` ([v252](%s)).",
		srcAlienSet252, srcAlienSet257, srcDeserial252, srcGraceSigterm, srcReloadPID252, srcKillMain252, srcKillOne257, srcKillCgroup252,
		srcEnterSig252, srcEnterSig257, srcDead252)
	if mit := mitigation(rows); mit != "" {
		p.para("%s", mit)
	}
}

// mitigations are the variants that try to keep the main PID systemd's
// own child, each against the unit it changes.
var mitigations = []struct{ server, name, what string }{
	{"grace", "pidfile", "the blog post's unit, for comparison"},
	{"grace", "pidfile-wait", "`ExecReload=` waits until the old process has exited, so systemd reads the PID file once the new process is its own child"},
	{"grace", "pidfile-daemon-reload", "the blog post's unit, and `systemctl daemon-reload` once the last reload has settled, before the stop, so systemd takes the main PID again"},
	{"tableflip", "notify", "`Type=notify`: the new process sends `MAINPID=` itself"},
}

// mitigation sets the runs of each mitigation side by side.
func mitigation(rows []*stopRow) string {
	var parts []string
	measured := 0
	for _, mt := range mitigations {
		for _, r := range rows {
			if r.server != mt.server || r.name != mt.name {
				continue
			}
			if mt.name != "pidfile" {
				measured++
			}
			alien := fmt.Sprintf("main PID not its child in %d of %d runs", r.alien, r.runs)
			if r.alien+r.notAlien == 0 {
				alien = "systemd's dump did not say whether the main PID was its child"
			}
			parts = append(parts, fmt.Sprintf("%s on systemd %s (%s): %s, SIGKILL at the stop in %s",
				r.variant, r.env.Systemd, mt.what, alien, rate.Rate{K: r.killed, N: r.runs}.Text()))
		}
	}
	if measured == 0 {
		return ""
	}
	return "**What avoids it.** Each way of keeping the main PID systemd's own child, measured the same way:\n\n- " + strings.Join(parts, "\n- ")
}

// readmeSoak counts, per soak pace, the reloads that started nothing.
func readmeSoak(p *page, m *model) {
	type row struct {
		variant, pace string
		env           env
		runs          int
		reloads, gens int
		exit0Nothing  int
	}
	var rows []row
	for _, k := range kind.All {
		if k.Name != "soak" && k.Name != "soak-3s" {
			continue
		}
		for _, vr := range m.byVariant() {
			byEnv := map[env]*row{}
			for _, c := range m.cellsWhere(func(kk key) bool {
				return kk.Experiment == k.Name && kk.Server == vr.server && kk.Variant == vr.variant
			}) {
				for _, e := range c.envs(m.envs) {
					for _, r := range c.runs[e] {
						x := byEnv[e]
						if x == nil {
							x = &row{variant: vr.name(), pace: k.Name, env: e}
							byEnv[e] = x
						}
						x.runs++
						x.reloads += len(r.Reloads)
						x.gens += analysis.Generations(r.Reloads)
						for _, rl := range r.Reloads {
							if rl.FirstNewOKMS < 0 && rl.Exit == 0 {
								x.exit0Nothing++
							}
						}
					}
				}
			}
			for _, e := range m.envs {
				if x := byEnv[e]; x != nil {
					rows = append(rows, *x)
				}
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	p.heading(3, "Reloads that started nothing")
	p.para("In the soaks, a reload *handed over* when a process that had not served before answered a request after it and " +
		"before the next reload, read from every request's serving PID. `soak` reloads once a second, `soak-3s` once every 3 s.")
	var trows [][]string
	for _, x := range rows {
		trows = append(trows, []string{x.variant, code(x.pace), x.env.label(), fmt.Sprintf("%d", x.runs),
			fmt.Sprintf("%d of %d", x.gens, x.reloads), fmt.Sprintf("%d", x.exit0Nothing)})
	}
	p.table([]string{"Variant", "Soak", "Environment", "Runs", "Reloads that handed over", "`systemctl reload` exited 0 and nothing new served"}, trows)
}

// readmeLong shows what the clients of the 100 s requests and systemd saw
// in the long-request experiment.
func readmeLong(p *page, m *model) {
	var rows [][]string
	for _, c := range m.cellsWhere(func(k key) bool { return k.Experiment == "long" }) {
		for _, e := range c.envs(m.envs) {
			for _, r := range c.runs[e] {
				var across, atStop string
				for _, s := range r.Slow {
					t := fmt.Sprintf("%s after %s s", s.Outcome, secs(s.LatencyMS))
					if s.AtStop {
						atStop = t
					} else {
						across = t
					}
				}
				kill := "none"
				if st := r.Final.Stop; st != nil {
					if at, ok := analysis.FirstSIGKILL(st); ok {
						kill = fmt.Sprintf("%s s after the stop began", secs(at))
					}
				}
				rows = append(rows, []string{fmt.Sprintf("%s [%s](%s)", c.key.Server, code(c.key.Variant), c.key.link()), e.label(),
					codeOrNone(r.Unit.Show["TimeoutStopUSec"]),
					across, atStop, secs(r.Final.StopTookMS) + " s", code(r.Final.AfterStop.Result), kill})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	p.heading(3, "Requests longer than the stop allows")
	p.para("Experiment `long`: a 100 s request starts 0.3 s before a reload, another 0.3 s before the stop that follows 2 s " +
		"later, under keep-alive load. grace's httpdown waits up to 60 s for requests in flight; tableflip's sample here " +
		"drains without a limit (`-drain 0`). The `-30` variants set `TimeoutStopSec=30`; the others keep systemd's 90 s.")
	p.table([]string{"Variant", "Environment", "TimeoutStopUSec", "100 s request across the reload", "100 s request across the stop",
		"Stop took", "Result", "SIGKILL"}, rows)
}

// heldListener explains the rows whose stops reset many connections: as
// many as the load sent while the stop ran, queued on a listening socket
// that something other than the serving process still held.
func heldListener(rows []*stopRow) string {
	var parts []string
	for _, r := range rows {
		if r.runs == 0 || r.lostBy["reset"] < 100*r.runs || (r.server != "socket" && r.server != "starter") {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s on systemd %s: %d resets per run, while the stop took a median %s ms",
			r.variant, r.env.Systemd, r.lostBy["reset"]/r.runs, ms(medianOf(r.stopMS))))
	}
	if len(parts) == 0 {
		return ""
	}
	return "**Connections reset at the stop.** Where a process other than the server holds the listening socket, systemd's " +
		"`.socket` unit or start_server, the server's own close does not close it: the kernel goes on completing connections " +
		"into its backlog while nothing accepts them, and resets them when the last holder closes it. About the load's rate " +
		"times the stop's duration were lost that way:\n\n- " + strings.Join(parts, "\n- ")
}

// silentKills counts the runs in e whose stop timed out (so systemd
// killed) without a SIGKILL line in the journal.
func silentKills(m *model, e env) int {
	n := 0
	for _, r := range m.results {
		if envOf(r) != e || r.Final.AfterStop.Result != "timeout" {
			continue
		}
		if !slices.ContainsFunc(r.Journal, func(l string) bool { return strings.Contains(l, "with signal SIGKILL") }) {
			n++
		}
	}
	return n
}
