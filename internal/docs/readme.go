package docs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// classMeaning says what each failure class means, as load.Classify
// decides it.
var classMeaning = map[string]string{
	"refused":    "the connection was refused: nothing was listening on the port",
	"reset":      "the connection was reset by the peer, or the request hit a broken pipe",
	"eof":        "the server closed the connection before a complete response (EOF)",
	"timeout":    "no response within the request timeout",
	"http_5xx":   "the server answered with a 5xx status",
	"http_other": "the server answered with another non-success status (4xx)",
	"other":      "any other client error",
}

// checkMeaning says what each verdict check of internal/analysis asks.
var checkMeaning = []struct{ name, meaning string }{
	{"run_complete", "the run was not interrupted and had no errors of its own (otherwise: unknown)"},
	{"load_sustained", fmt.Sprintf("the load generator kept to its schedule: at least %.0f%% of the scheduled requests sent, send lag p99 at most %v (otherwise: unknown, since the client and not the server may explain what was seen)",
		analysis.MinSentRatio*100, analysis.MaxLagP99)},
	{"no_failed_requests", "every request succeeded"},
	{"slow_requests_completed", "every slow request that was in flight during a reload completed"},
	{"systemd_tracks_server", "after every reload the unit is active and systemd's MainPID is the serving process or its supervisor (such as start_server)"},
	{"new_process_serves", "after every reload a different process serves"},
	{"unit_active_at_end", "the unit is active at the end of the load"},
	{"nothing_left_behind", "no process of the unit is left after it was stopped"},
}

func readme(m *model) []byte {
	var p page
	p.para("%s", Marker)
	p.heading(1, "Does a graceful restart lose requests under `systemctl reload`?")
	p.para("Go servers built on libraries such as [facebookgo/grace](https://github.com/facebookgo/grace) or " +
		"[lestrrat-go/server-starter](https://github.com/lestrrat-go/server-starter) promise a graceful restart: " +
		"a new process takes over the listening socket and no request is lost. Under systemd, the unit file " +
		"decides whether that promise holds: `Type=`, `PIDFile=`, `ExecReload=`, `EnvironmentFile=`. " +
		"Unit files get copied from blog posts; few people check what happens to the requests that arrive " +
		"while `systemctl reload` runs. This lab checks it with a real systemd, real units and continuous load.")
	p.para("Two questions:")
	p.f("1. Does a graceful restart under systemd lose requests during `systemctl reload`, and does systemd keep track of the process that serves?\n")
	p.f("2. Can the PID file path come from `EnvironmentFile=`, as in `PIDFile=${PIDFILE}`? See [envfile.md](envfile.md).\n\n")
	if len(m.results) == 0 {
		p.para("There are no results in `results/` yet, so there are no findings. Run an experiment " +
			"(`go run mage.go experiment:reload grace`) and render again.")
		return p.Bytes()
	}
	p.para("Everything below is computed from the %s in `results/` (IDs %s to %s). "+
		"Nothing here is written by hand that a run could contradict.",
		plural(len(m.results), "result file", "result files"), code(m.results[0].ID), code(m.results[len(m.results)-1].ID))

	readmeLab(&p, m)
	readmeMethod(&p, m)
	p.heading(2, "Findings")
	for _, x := range m.experiments() {
		readmeFindings(&p, m, x)
	}
	p.heading(2, "What to put in your own unit file")
	p.para("Computed from the newest run of each row above. A variant counts as passed only if every one " +
		"of its runs passed; unknown never counts as a pass.")
	for _, x := range m.experiments() {
		readmeAdvice(&p, m, x)
	}
	p.heading(2, "All pages")
	for _, s := range m.servers() {
		cells := m.cellsWhere(func(k key) bool { return k.Server == s })
		p.f("- [%s](%s.md): %s\n", s, fileSafe(s), plural(len(cells), "variant and profile", "variants and profiles"))
	}
	p.f("- [envfile.md](envfile.md): can the PID file path come from `EnvironmentFile=`?\n\n")
	return p.Bytes()
}

func readmeLab(p *page, m *model) {
	p.heading(2, "The lab")
	p.para("Each run installs one unit variant of one sample server on a machine where systemd is PID 1, " +
		"starts it, waits until it answers, sends steady load while it reloads the unit on a schedule, " +
		"then stops and removes the unit. Every response names the process that served it, so each " +
		"request is attributed to the old or the new process. The results record where they ran:")
	var rows [][]string
	for _, e := range m.envs {
		var kernels, gos, cpus []string
		n := 0
		for _, r := range m.results {
			if envOf(r) != e {
				continue
			}
			n++
			kernels = addUniq(kernels, orUnknown(r.Env.Kernel))
			gos = addUniq(gos, orUnknown(r.Env.GoVersion))
			cpus = addUniq(cpus, fmt.Sprint(r.Env.CPUs))
		}
		rows = append(rows, []string{orUnknown(e.Provider), orUnknown(e.Distro), orUnknown(e.Suite), strings.Join(kernels, ", "),
			orUnknown(e.Systemd), strings.Join(gos, ", "), strings.Join(cpus, ", "), fmt.Sprint(n)})
	}
	p.table([]string{"Provider", "Distro", "Suite", "Kernel", "systemd", "Go", "CPUs", "Runs"}, rows)

	mods := map[string][]string{}
	for _, r := range m.results {
		for mod, v := range r.Env.Modules {
			mods[mod] = addUniq(mods[mod], v)
		}
	}
	if len(mods) == 0 {
		p.para("The results record no module versions.")
		return
	}
	p.para("Go modules in the servers and the runner, as recorded in their build info:")
	rows = nil
	for _, mod := range sortedKeys(mods) {
		rows = append(rows, []string{code(mod), strings.Join(mods[mod], ", ")})
	}
	p.table([]string{"Module", "Versions seen"}, rows)
}

func readmeMethod(p *page, m *model) {
	p.heading(2, "Method")
	p.para("The load is open loop: requests go out on a fixed schedule whatever the server does, so a " +
		"server that stalls shows up as failures and latency, not as a client that politely waits. " +
		"Latency counts from the scheduled send time. Just before each reload a few slow requests " +
		"(`?ms=`) start, to see whether requests in flight survive the handover.")
	p.para("Load profiles in these results:")
	type prof struct {
		name string
		lp   result.LoadProfile
	}
	var profs []prof
	seen := map[string]bool{}
	for _, r := range m.results {
		id := fmt.Sprintf("%s %+v", r.Profile, r.Load)
		if !seen[id] {
			seen[id] = true
			profs = append(profs, prof{r.Profile, r.Load})
		}
	}
	sort.SliceStable(profs, func(i, j int) bool { return profs[i].name < profs[j].name })
	var rows [][]string
	for _, pr := range profs {
		lp := pr.lp
		conn := "new connection per request"
		if lp.KeepAlive {
			conn = "keep-alive (connections reused)"
		}
		var at []string
		for _, t := range lp.ReloadAtMS {
			at = append(at, secs(t))
		}
		slow := "none"
		if lp.SlowPerReload > 0 {
			slow = fmt.Sprintf("%d × %d ms", lp.SlowPerReload, lp.SlowMS)
		}
		rows = append(rows, []string{code(pr.name), fmt.Sprint(lp.Rate), secs(lp.DurationMS), conn, ms(lp.TimeoutMS),
			code(lp.Path), code(lp.Action), strings.Join(at, ", "), slow})
	}
	p.table([]string{"Profile", "Rate (req/s)", "Duration (s)", "Connections", "Timeout (ms)", "Path", "Action", "Reloads at (s)", "Slow requests per reload"}, rows)

	p.para("A request fails when it does not end in a 2xx or 3xx response. Failures are counted by class:")
	for _, c := range load.FailureClasses() {
		p.f("- `%s`: %s\n", c, classMeaning[c.String()])
	}
	p.f("\n")
	p.para("The *longest gap* is the longest time in which no successful response ended, from the start " +
		"of the load to its end. Each run gets a verdict from these checks:")
	for _, c := range checkMeaning {
		p.f("- `%s`: %s\n", c.name, c.meaning)
	}
	p.f("\n")
	p.para("A run passes only when every check passes. Any unknown check makes the run unknown, " +
		"which is never shown or counted as a pass.")
}

func findingsRow(r *result.Result) []string {
	s := r.Summary
	return []string{fmt.Sprint(s.Sent), failedText(s), ms(s.LongestGapMS), slowText(s), tracksText(r),
		stateText(r.Final.Snapshot), verdictText(r)}
}

var findingsHeader = []string{"Sent", "Failed", "Longest gap (ms)", "Slow in-flight completed", "systemd tracks server", "Final state", "Verdict"}

func readmeFindings(p *page, m *model, exp string) {
	cells := m.cellsWhere(func(k key) bool { return k.Experiment == exp })
	p.heading(3, "Experiment "+code(exp))
	envs := envsOf(cells, m.envs)
	full := func(e env) {
		var rows [][]string
		for _, c := range cells {
			if r := c.newest(e); r != nil {
				rows = append(rows, append([]string{c.key.Server, fmt.Sprintf("[%s](%s)", code(c.key.Variant), c.key.link()), code(c.key.Profile)}, findingsRow(r)...))
			}
		}
		p.table(append([]string{"Server", "Variant", "Profile"}, findingsHeader...), rows)
	}
	if len(envs) == 1 {
		p.para("On %s:", envs[0].label())
		full(envs[0])
		return
	}

	p.para("These results come from %d environments. One verdict column per environment, with the number of failed requests:", len(envs))
	header := []string{"Server", "Variant", "Profile"}
	for _, e := range envs {
		header = append(header, e.label())
	}
	var rows [][]string
	var disagree []string
	for _, c := range cells {
		row := []string{c.key.Server, fmt.Sprintf("[%s](%s)", code(c.key.Variant), c.key.link()), code(c.key.Profile)}
		seen := map[result.Outcome][]string{}
		for _, e := range envs {
			r := c.newest(e)
			if r == nil {
				row = append(row, "no run")
				continue
			}
			o := outcome(r.Verdict)
			seen[o] = append(seen[o], e.label())
			row = append(row, fmt.Sprintf("%s (%d failed)", outcomeText(o), r.Summary.Failed))
		}
		rows = append(rows, row)
		if len(seen) > 1 {
			var parts []string
			for _, o := range []result.Outcome{result.Pass, result.Fail, result.Unknown} {
				if len(seen[o]) > 0 {
					parts = append(parts, fmt.Sprintf("%s on %s", outcomeText(o), strings.Join(seen[o], " and ")))
				}
			}
			disagree = append(disagree, fmt.Sprintf("- %s, [%s](%s), profile %s: %s", c.key.Server, code(c.key.Variant),
				c.key.link(), code(c.key.Profile), strings.Join(parts, "; ")))
		}
	}
	p.table(header, rows)
	p.heading(4, "Where the environments disagree")
	if len(disagree) == 0 {
		p.para("Nowhere: every row that ran in more than one environment has the same verdict in each.")
	} else {
		p.f("%s\n\n", strings.Join(disagree, "\n"))
	}
	for _, e := range envs {
		p.heading(4, "Details on "+e.label())
		full(e)
	}
}

// readmeAdvice groups the newest runs per server and variant and says
// which passed, with the unit-file settings that made the difference.
func readmeAdvice(p *page, m *model, exp string) {
	type group struct {
		server, variant string
		runs            []*result.Result // newest per profile and env
		older           []*result.Result
		traits          []string
	}
	var groups []*group
	byName := map[[2]string]*group{}
	for _, c := range m.cellsWhere(func(k key) bool { return k.Experiment == exp }) {
		id := [2]string{c.key.Server, c.key.Variant}
		g := byName[id]
		if g == nil {
			g = &group{server: c.key.Server, variant: c.key.Variant}
			byName[id] = g
			groups = append(groups, g)
		}
		for _, e := range c.envs(m.envs) {
			rs := c.runs[e]
			g.runs = append(g.runs, rs[0])
			g.older = append(g.older, rs[1:]...)
			g.traits = addUniq(g.traits, traitsText(rs[0].Unit))
		}
	}
	var passed, failed, mixed, unknown []string
	for _, g := range groups {
		n := map[result.Outcome]int{}
		for _, r := range g.runs {
			n[outcome(r.Verdict)]++
		}
		name := fmt.Sprintf("%s, variant [%s](%s)", g.server, code(g.variant),
			key{exp, g.server, g.variant, g.runs[0].Profile}.link())
		line := fmt.Sprintf("- %s: %s", name, strings.Join(g.traits, " / "))
		for _, r := range g.runs {
			line += fmt.Sprintf("\n  - profile %s on %s: %s", code(r.Profile), envOf(r).label(), verdictText(r))
			for _, c := range notPassing(r) {
				line += fmt.Sprintf("\n    - %s %s: %s", outcomeText(outcomeOf(c.Outcome)), code(c.Name), c.Reason)
			}
		}
		var older []string
		for _, r := range g.older {
			older = append(older, fmt.Sprintf("%s %s", code(r.ID), verdictText(r)))
		}
		if len(older) > 0 {
			line += fmt.Sprintf("\n  - older runs of the same rows, not counted here: %s", strings.Join(older, ", "))
		}
		switch {
		case n[result.Pass] == len(g.runs):
			passed = append(passed, line)
		case n[result.Pass] > 0:
			mixed = append(mixed, line)
		case n[result.Fail] > 0:
			failed = append(failed, line)
		default:
			unknown = append(unknown, line)
		}
	}
	p.heading(3, "Experiment "+code(exp))
	list := func(title string, items []string, none string) {
		p.para("**%s**", title)
		if len(items) == 0 {
			p.para("%s", none)
			return
		}
		p.f("%s\n\n", strings.Join(items, "\n"))
	}
	list("Passed in every run: these settings worked", passed, "None.")
	list("Did not pass in any run: these settings did not work as they are", failed, "None.")
	if len(mixed) > 0 {
		list("Passed in some runs only: do not rely on these without more runs", mixed, "")
	}
	if len(unknown) > 0 {
		list("Undecided: the data could not decide (not a pass)", unknown, "")
	}
}

func envsOf(cells []*cell, all []env) []env {
	var out []env
	for _, e := range all {
		for _, c := range cells {
			if len(c.runs[e]) > 0 {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func addUniq(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}
