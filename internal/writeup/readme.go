package writeup

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/rate"
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

// findingsPage is findings.md: the lab, the method, every rate and
// every experiment in full, for the reader who wants all of it.
func findingsPage(m *model) []byte {
	var p page
	p.para("%s", Marker)
	p.heading(1, "Findings in full: the lab, the method, every rate and every experiment")
	p.para("[← back to the writeup](README.md)")
	p.para("Go servers built on libraries such as [facebookgo/grace](https://github.com/facebookgo/grace), " +
		"[lestrrat-go/server-starter](https://github.com/lestrrat-go/server-starter) or " +
		"[cloudflare/tableflip](https://github.com/cloudflare/tableflip) promise a graceful restart: " +
		"a new process takes over the listening socket and no request is lost. Under systemd, the unit file " +
		"decides whether that promise holds: `Type=`, `PIDFile=`, `ExecReload=`, `EnvironmentFile=`. " +
		"Unit files get copied from blog posts; few people check what happens to the requests that arrive " +
		"while `systemctl reload` runs. This lab checks it with a real systemd, real units and continuous load.")
	p.para("Three questions:")
	p.f("1. Does a graceful restart under systemd lose requests during `systemctl reload`, and does systemd keep track of the process that serves?\n")
	p.f("2. What happens when the reload deploys a new build, and when that new build cannot even start?\n")
	p.f("3. Can the PID file path come from `EnvironmentFile=`, as in `PIDFile=${PIDFILE}`? See [envfile.md](envfile.md).\n\n")
	if len(m.results) == 0 {
		p.para("There are no results in `results/` yet, so there are no findings. Run an experiment " +
			"(`go run mage.go experiment:reload grace`) and render again.")
		return p.Bytes()
	}
	p.para("Everything below is computed from the %s in `results/` (IDs %s to %s). "+
		"Nothing here is written by hand that a run could contradict.",
		plural(len(m.results), "result file", "result files"), code(m.results[0].ID), code(m.results[len(m.results)-1].ID))

	vs := m.byVariant()
	readmeShort(&p, m, vs)
	readmeLab(&p, m)
	readmeMethod(&p, m)
	readmeVariants(&p, m)
	readmeRates(&p, m)
	readmeRerun(&p, m)
	p.heading(2, "Findings")
	readmeControl(&p, m, 3)
	for _, x := range m.experiments() {
		switch {
		case isBase(x):
			p.heading(3, "Reload under load")
			p.para("Experiment `reload`: the same build reloaded under load. Newest run of each row; the variant links to its details.")
			readmeFindings(&p, m, m.cellsWhere(func(k key) bool { return k.Experiment == x }), reloadFindings)
		case isUpgrade(x):
			if x != firstUpgrade(m) {
				continue
			}
			p.heading(3, "Upgrades: a new build, and a broken one")
			p.para("Experiments `upgrade` (a new build `v2` is put on disk right before the single reload) and " +
				"`upgrade-broken` (the new build exits at once at start with a config error). *New version serves* " +
				"answers whether `v2` answered after the reload and how soon the first response from a new process came; " +
				"*old process keeps serving* whether the process from before the broken deploy still served afterwards.")
			readmeFindings(&p, m, m.cellsWhere(func(k key) bool { return isUpgrade(k.Experiment) }), upgradeFindings)
		default:
			p.heading(3, "Experiment "+code(x))
			readmeFindings(&p, m, m.cellsWhere(func(k key) bool { return k.Experiment == x }), reloadFindings)
		}
	}
	readmeStop(&p, m)
	readmeLosses(&p, m)
	readmeLong(&p, m)
	readmeSoak(&p, m)
	readmeClients(&p, m)
	readmeHUP2015(&p, m)
	readmeExplain(&p, m)
	readmeAdvice(&p, m, vs)
	p.heading(2, "All pages")
	for _, s := range m.servers() {
		cells := m.cellsWhere(func(k key) bool { return k.Server == s })
		p.f("- [%s](%s.md): %s, %s\n", s, fileSafe(s), plural(len(m.variants(s)), "variant", "variants"),
			plural(len(cells), "row", "rows"))
	}
	p.f("- [envfile.md](envfile.md): can the PID file path come from `EnvironmentFile=`?\n")
	for _, u := range m.checked {
		p.f("- [check/%s.md](%s/%s.md): the unit `%s.service`, run with `go run mage.go check`\n", u, CheckDir, u, u)
	}
	p.f("\n")
	return p.Bytes()
}

func firstUpgrade(m *model) string {
	for _, x := range m.experiments() {
		if isUpgrade(x) {
			return x
		}
	}
	return ""
}

// variantRuns are the newest runs of one variant per profile, experiment
// and environment.
type variantRuns struct {
	server, variant string
	control         bool
	reload          []*result.Result // experiment reload
	allReload       []*result.Result // every repeat of it, in every environment and profile
	upgrade         []*result.Result // experiments upgrade and upgrade-broken
	other           []*result.Result // any other experiment
	older           int
}

func (v *variantRuns) name() string {
	return fmt.Sprintf("%s [%s](%s)", v.server, code(v.variant), fileSafe(v.server)+".md#"+slug(variantHeading(v.variant)))
}

// byVariant groups the newest runs by server and variant, in catalog
// order.
func (m *model) byVariant() []*variantRuns {
	var out []*variantRuns
	for _, s := range m.servers() {
		for _, v := range m.variants(s) {
			vr := &variantRuns{server: s, variant: v}
			for _, c := range m.cellsWhere(func(k key) bool { return k.Server == s && k.Variant == v }) {
				for _, e := range c.envs(m.envs) {
					r := c.newest(e)
					vr.control = vr.control || r.Unit.Control
					vr.older += len(c.runs[e]) - 1
					switch {
					case isBase(c.key.Experiment):
						vr.reload = append(vr.reload, r)
						vr.allReload = append(vr.allReload, c.runs[e]...)
					case isUpgrade(c.key.Experiment):
						vr.upgrade = append(vr.upgrade, r)
					default:
						vr.other = append(vr.other, r)
					}
				}
			}
			out = append(out, vr)
		}
	}
	return out
}

func allPass(rs []*result.Result) bool {
	for _, r := range rs {
		if outcome(r.Verdict) != result.Pass {
			return false
		}
	}
	return len(rs) > 0
}

// runText is one run of a variant in a list: its verdict symbol, what
// differs between runs of the variant, and what kept it from passing.
func runText(m *model, r *result.Result) string {
	o := outcome(r.Verdict)
	s := strings.Fields(outcomeText(o))[0] + " " + code(r.Profile)
	if len(m.envs) > 1 {
		s += " on " + envOf(r).label()
	}
	return s + whyText(r)
}

// whyText says in words, in parentheses, what kept a run from passing.
func whyText(r *result.Result) string {
	var why []string
	for _, c := range notPassing(r) {
		if w := unknownWhy[c.Name]; w != "" && outcomeOf(c.Outcome) == result.Unknown {
			why = addUniq(why, w)
		} else if ch, ok := check.Find(c.Name); ok {
			why = addUniq(why, english.question(ch.Question))
		} else {
			why = addUniq(why, c.Name)
		}
	}
	if len(why) == 0 {
		return ""
	}
	return " (" + strings.Join(why, "; ") + ")"
}

func readmeShort(p *page, m *model, vs []*variantRuns) {
	p.heading(2, "The answer in short")
	readmeControlLine(p, m)
	// Each question apart: losing requests is the seed's question; systemd
	// losing the server or an unclean stop are findings of their own.
	var kept, lost, other []string
	for _, v := range vs {
		if v.control || len(v.allReload) == 0 {
			continue
		}
		req := rate.Of(v.allReload, check.Requests)
		switch {
		case req.N == 0:
			other = append(other, fmt.Sprintf("%s (undecided in all %d runs)", v.name(), req.Unknown))
		case req.K == 0:
			kept = append(kept, fmt.Sprintf("%s (0 of %d runs)", v.name(), req.N))
		default:
			lost = append(lost, fmt.Sprintf("%s (%d of %d runs; lost %s)", v.name(), req.K, req.N, req.LostText()))
		}
	}
	if len(kept)+len(lost)+len(other) > 0 {
		p.para("**Were requests lost during `systemctl reload`?** Over every repeat, environment and load profile:")
		p.f("- Never lost a request: %s\n", orNoneList(kept))
		p.f("- Lost requests: %s\n", orNoneList(lost))
		if len(other) > 0 {
			p.f("- Could not tell: %s\n", strings.Join(other, ", "))
		}
		p.f("\n")
		var apart []string
		for _, v := range vs {
			if v.control || len(v.allReload) == 0 {
				continue
			}
			var parts []string
			for _, q := range check.Questions[1:] {
				if r := rate.Of(v.allReload, q); r.K > 0 {
					parts = append(parts, fmt.Sprintf("%s: %d of %d", strings.ToLower(questionHeaders[q]), r.K, r.N))
				}
			}
			if len(parts) > 0 {
				apart = append(apart, fmt.Sprintf("- %s: %s", v.name(), strings.Join(parts, "; ")))
			}
		}
		if len(apart) > 0 {
			p.para("Apart from requests, and never counted as lost requests:")
			p.lines(apart)
		}
	}
	var up []string
	for _, v := range vs {
		for _, r := range v.upgrade {
			what := "deploying a new build"
			if isBroken(r.Experiment) {
				what = "deploying a broken build"
			} else if !isUpgrade(r.Experiment) {
				what = "experiment " + code(r.Experiment)
			}
			line := fmt.Sprintf("%s, %s: %s%s", v.name(), what, verdictText(r), whyText(r))
			if len(m.envs) > 1 {
				line += " on " + envOf(r).label()
			}
			up = append(up, "- "+line)
		}
	}
	if len(up) > 0 {
		p.para("**Upgrades**, on each server's upgrade variant:")
		p.lines(up)
	}
	p.para("Details in [Findings](#findings); what this means for a unit file in [What to put in your own unit file](#what-to-put-in-your-own-unit-file).")
}

func orNoneList(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// controlRuns are all runs of a control variant, in the order of the
// findings.
func controlRuns(m *model) []*result.Result {
	var out []*result.Result
	for _, r := range m.results {
		if r.Unit.Control {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := key{out[i].Experiment, out[i].Server, out[i].Variant, out[i].Profile}, key{out[j].Experiment, out[j].Server, out[j].Variant, out[j].Profile}
		if a != b {
			return a.less(b)
		}
		if ea, eb := envOf(out[i]), envOf(out[j]); ea != eb {
			return ea.less(eb)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// readmeControlLine says in one paragraph whether every control run lost
// requests, loudly if one did not.
func readmeControlLine(p *page, m *model) {
	rs := controlRuns(m)
	if len(rs) == 0 {
		p.para("⚠️ **No control run in these results.** Nothing here shows that the lab can see a lost request; " +
			"a pass below means less until a control (such as `plain` `restart`) has run.")
		return
	}
	lost, sent := 0, 0
	var clean []string
	var names []string
	for _, r := range rs {
		lost += r.Summary.Failed
		sent += r.Summary.Sent
		names = addUniq(names, r.Server+" "+code(r.Variant))
		if r.Summary.Failed == 0 {
			clean = append(clean, code(r.ID))
		}
	}
	if len(clean) > 0 {
		p.para("🚨 **A control run lost no request: %s.** The control (%s) must lose requests; when it does not, the lab "+
			"may be unable to see loss, and no pass here can be trusted until that is explained.",
			strings.Join(clean, ", "), joinAnd(names))
		return
	}
	p.para("**Control:** %s must lose requests, and it did in every one of its %s: the control lost %d of %d requests, so the lab can see loss.",
		joinAnd(names), plural(len(rs), "run", "runs"), lost, sent)
}

func readmeControl(p *page, m *model, level int) {
	p.heading(level, "The control")
	readmeControlLine(p, m)
	rs := controlRuns(m)
	if len(rs) == 0 {
		return
	}
	var rows [][]string
	for _, r := range rs {
		lost := "yes"
		if r.Summary.Failed == 0 {
			lost = "🚨 **no**"
		}
		k := key{r.Experiment, r.Server, r.Variant, r.Profile}
		run := fmt.Sprintf("[%s · %s](%s)", r.Experiment, code(r.Profile), k.link())
		if newest := m.cell(k).newest(envOf(r)); newest != r {
			run += ", older run " + code(r.ID)
		}
		row := []string{r.Server + " " + code(r.Variant), run}
		if len(m.envs) > 1 {
			row = append(row, envOf(r).label())
		}
		rows = append(rows, append(row, fmt.Sprintf("%d of %d", r.Summary.Failed, r.Summary.Sent), ms(r.Summary.LongestGapMS), lost))
	}
	header := []string{"Control", "Run"}
	if len(m.envs) > 1 {
		header = append(header, "Environment")
	}
	p.table(append(header, "Failed", "Longest gap (ms)", "Lost requests?"), rows)
}

func readmeLab(p *page, m *model) {
	p.heading(2, "The lab")
	p.para("Each run installs one unit variant of one sample server on a machine where systemd is PID 1, " +
		"starts it, waits until it answers, sends steady load while it reloads the unit on a schedule, " +
		"then stops and removes the unit. Every response names the process that served it (PID and build " +
		"version), so each request is attributed to the old or the new process. The results record where they ran:")
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
	p.details(fmt.Sprintf("Go modules in the servers and the runner (%d), as recorded in their build info", len(mods)), func() {
		var rows [][]string
		for _, mod := range sortedKeys(mods) {
			rows = append(rows, []string{code(mod), strings.Join(mods[mod], ", ")})
		}
		p.table([]string{"Module", "Versions seen"}, rows)
	})
}

func readmeMethod(p *page, m *model) {
	p.heading(2, "Method")
	p.para("The load is open loop: requests go out on a fixed schedule whatever the server does, so a " +
		"server that stalls shows up as failures and latency, not as a client that politely waits. " +
		"Latency counts from the scheduled send time. Just before each reload a few slow requests " +
		"(`?ms=`) start, to see whether requests in flight survive the handover. " +
		"How fast the load engine is, against wrk on the same machine: [bench.md](bench.md).")
	p.para("Load profiles in these results:")
	type prof struct {
		name string
		lp   result.LoadProfile
		exps []string
	}
	var profs []*prof
	seen := map[string]*prof{}
	var restart []string
	for _, r := range m.results {
		lp := r.Load
		if lp.Action == "restart" {
			restart = addUniq(restart, r.Server+" "+code(r.Variant))
		}
		lp.Action, lp.Upgrade = "", ""
		id := fmt.Sprintf("%s %+v", r.Profile, lp)
		if seen[id] == nil {
			seen[id] = &prof{name: r.Profile, lp: lp}
			profs = append(profs, seen[id])
		}
		seen[id].exps = addUniq(seen[id].exps, r.Experiment)
	}
	sort.SliceStable(profs, func(i, j int) bool {
		a, b := profs[i], profs[j]
		if x, y := expRank(a.exps[0]), expRank(b.exps[0]); x != y {
			return x < y
		}
		return a.name < b.name
	})
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
		sort.SliceStable(pr.exps, func(i, j int) bool { return expRank(pr.exps[i]) < expRank(pr.exps[j]) })
		var exps []string
		for _, x := range pr.exps {
			exps = append(exps, code(x))
		}
		rows = append(rows, []string{code(pr.name), strings.Join(exps, ", "), fmt.Sprint(lp.Rate), secs(lp.DurationMS), conn, ms(lp.TimeoutMS),
			code(lp.Path), strings.Join(at, ", "), slow})
	}
	p.table([]string{"Profile", "Experiments", "Rate (req/s)", "Duration (s)", "Connections", "Timeout (ms)", "Path", "Reloads at (s)", "Slow requests per reload"}, rows)
	if len(restart) == 0 {
		p.para("Each reload is `systemctl reload`.")
	} else {
		p.para("Each reload is `systemctl reload`, except for %s, which cannot hand a socket over and get `systemctl restart` instead.", joinAnd(restart))
	}

	p.para("The experiments in these results:")
	for _, x := range m.experiments() {
		meaning := "no description: an experiment this gracelab does not know."
		if k, err := kind.Find(x); err == nil {
			meaning = k.Says
		}
		p.f("- `%s`: %s\n", x, meaning)
	}
	p.f("\n")

	p.para("A request fails when it does not end in a 2xx or 3xx response. Failures are counted by class:")
	for _, c := range load.FailureClasses() {
		p.f("- `%s`: %s\n", c, classMeaning[c.String()])
	}
	p.f("\n")
	p.para("The *longest gap* is the longest time in which no successful response ended, from the start " +
		"of the load to its end. Each run gets a verdict from these checks:")
	for _, c := range check.Registry {
		p.f("- `%s` (%s): %s\n", c.Name, c.Question, c.Says)
	}
	p.f("\n")
	p.para("A run passes only when every check passes. Any unknown check makes the run unknown, " +
		"which is never shown or counted as a pass.")
}

func readmeVariants(p *page, m *model) {
	p.heading(2, "The variants")
	p.para("Each server is installed as several unit variants, each written the way some guide or README writes it. " +
		"The settings column is what the unit files say (the exact files are on the server pages).")
	var rows [][]string
	for _, s := range m.servers() {
		for _, v := range m.variants(s) {
			var r *result.Result
			n := 0
			for _, x := range m.results {
				if x.Server == s && x.Variant == v {
					r = x
					n++
				}
			}
			what := m.summaryOf(s, v)
			if r.Unit.Control {
				what = "**control** · " + what
			}
			rows = append(rows, []string{s, fmt.Sprintf("[%s](%s.md#%s)", code(v), fileSafe(s), slug(variantHeading(v))),
				orNone(what), traitsCell(r.Unit), fmt.Sprint(n)})
		}
	}
	p.table([]string{"Server", "Variant", "What it is", "Unit-file settings", "Runs"}, rows)
	if nr := m.notRun(); len(nr) > 0 {
		p.para("Variants in the catalog (`lab/catalog`) with no result here:")
		for _, v := range nr {
			line := fmt.Sprintf("- %s %s (%s)", v.server, code(v.variant), v.summary)
			if v.why != "" {
				line += ": " + v.why
			}
			p.f("%s\n", line)
		}
		p.f("\n")
	}
}

// column is one computed column of a findings table.
type column struct {
	header string
	cell   func(*result.Result) string
}

// findingsTable is how one kind of experiment is tabled.
type findingsTable struct {
	lead []string // header of the leading columns
	row  func(c *cell) []string
	cols []column
}

// variantCell links a row's variant to its details and marks a control.
func variantCell(c *cell) string {
	s := fmt.Sprintf("[%s](%s)", code(c.key.Variant), c.key.link())
	for _, rs := range c.runs {
		if len(rs) > 0 && rs[0].Unit.Control {
			return s + " (control)"
		}
	}
	return s
}

// requestsCol is dropped from a table whose runs all sent the same
// number of requests; the table's lead says that number instead.
var requestsCol = column{"Requests", func(r *result.Result) string { return fmt.Sprint(r.Summary.Sent) }}

var reloadFindings = findingsTable{
	lead: []string{"Server", "Variant", "Profile"},
	row: func(c *cell) []string {
		return []string{c.key.Server, variantCell(c), code(c.key.Profile)}
	},
	cols: []column{
		{"Verdict", verdictCell},
		requestsCol,
		{"Failed", func(r *result.Result) string { return failedText(r.Summary) }},
		{"Longest gap (ms)", func(r *result.Result) string { return ms(r.Summary.LongestGapMS) }},
		{"Slow in-flight completed", func(r *result.Result) string { return slowText(r.Summary) }},
		{"systemd tracks server", tracksText},
		{"Final state", func(r *result.Result) string { return stateText(r.Final.Snapshot) }},
		{"Stop", stopText},
	},
}

var upgradeFindings = findingsTable{
	lead: []string{"Server", "Variant", "Experiment"},
	row: func(c *cell) []string {
		return []string{c.key.Server, variantCell(c), code(c.key.Experiment)}
	},
	cols: []column{
		{"Verdict", verdictCell},
		requestsCol,
		{"Failed", func(r *result.Result) string { return failedText(r.Summary) }},
		{"Longest gap (ms)", func(r *result.Result) string { return ms(r.Summary.LongestGapMS) }},
		{"New version serves", newVersionText},
		{"Old process keeps serving", oldKeepsText},
		{"Final state", func(r *result.Result) string { return stateText(r.Final.Snapshot) }},
		{"Stop", stopText},
	},
}

func readmeFindings(p *page, m *model, cells []*cell, t findingsTable) {
	envs := envsOf(cells, m.envs)
	full := func(e env) {
		var rs []*result.Result
		var rowCells []*cell
		sent := map[int]bool{}
		for _, c := range cells {
			if r := c.newest(e); r != nil {
				rs = append(rs, r)
				rowCells = append(rowCells, c)
				sent[r.Summary.Sent] = true
			}
		}
		cols := t.cols
		lead := fmt.Sprintf("On %s", e.label())
		if len(sent) == 1 {
			cols = nil
			for _, col := range t.cols {
				if col.header != requestsCol.header {
					cols = append(cols, col)
				}
			}
			lead += fmt.Sprintf(", every run sent %d requests", rs[0].Summary.Sent)
		}
		var rows [][]string
		for i, r := range rs {
			row := t.row(rowCells[i])
			for _, col := range cols {
				row = append(row, col.cell(r))
			}
			rows = append(rows, row)
		}
		header := append([]string{}, t.lead...)
		for _, col := range cols {
			header = append(header, col.header)
		}
		p.para("%s:", lead)
		p.table(header, rows)
	}
	if len(envs) == 1 {
		full(envs[0])
		return
	}

	p.para("These results come from %d environments; the newest run of each row in each is below. "+
		"Rates over all repeats, and where the environments disagree, are in [Rates over the repeats](#rates-over-the-repeats).", len(envs))
	p.para("**Details per environment.**")
	for _, e := range envs {
		full(e)
	}
}

// settingMeaning explains what the decisive settings do; static text
// about systemd, not a finding.
var settingMeaning = []struct{ name, meaning string }{
	{"Type=", "when systemd considers the service started, and which process it takes as the main one: " +
		"`simple` and `exec` take the process it started; `notify` waits for `READY=1` from the service and accepts " +
		"`MAINPID=` messages; `notify-reload` (systemd 253+) also makes `systemctl reload` send a signal and wait for " +
		"`RELOADING=1` and `READY=1`."},
	{"PIDFile=", "a file systemd reads the main PID from, so that a server that replaces its own process can tell systemd " +
		"which process is the main one now."},
	{"ExecReload=", "the command `systemctl reload` runs; `systemctl reload` returns when that command has exited. " +
		"`$MAINPID` in it is systemd's main PID at that moment."},
	{"NotifyAccess=", "which processes systemd accepts `sd_notify` messages from: by default only the main process, " +
		"so a new process that is not yet the main one needs `all`."},
	{"KillMode=", "what systemd kills when the service stops: with the default `control-group`, every process left in " +
		"the unit's cgroup, a new server that systemd did not know about included."},
	{"EnvironmentFile=", "a file of variables for the `Exec…=` commands (see [envfile.md](envfile.md) for `PIDFile=${PIDFILE}`)."},
	{"[Socket] Listen…=", "a `.socket` unit: systemd, not the server, owns the listening socket and passes it to the service."},
}

// readmeAdvice says per server which variants passed in every
// environment and profile, with their settings, and how the upgrades went.
func readmeAdvice(p *page, m *model, vs []*variantRuns) {
	p.heading(2, "What to put in your own unit file")
	p.para("Computed from the newest run of each row above. A variant counts as passed only if every one " +
		"of its runs passed; unknown never counts as a pass. The settings are those of the unit files as the lab ran them.")
	for _, s := range m.servers() {
		p.heading(3, fmt.Sprintf("If your server works like %s", code(s)))
		if st := describe(s); st != "" {
			p.para("%s", st)
		}
		var pass, fail, undecided, control, up []string
		for _, v := range vs {
			if v.server != s {
				continue
			}
			item := fmt.Sprintf("%s: %s", v.name(), orNone(m.summaryOf(v.server, v.variant)))
			rs := append(append(append([]*result.Result{}, v.reload...), v.upgrade...), v.other...)
			if len(v.reload) > 0 {
				n := map[result.Outcome]int{}
				var runs []string
				quiet := 0
				for _, r := range v.reload {
					o := outcome(r.Verdict)
					n[o]++
					runs = append(runs, runText(m, r))
					if r.Summary.Failed == 0 {
						quiet++
					}
				}
				line := item + "  \n  Settings: " + traitsText(latest(rs).Unit) + "  \n  Runs: " + strings.Join(runs, " · ")
				switch {
				case v.control:
					line = item
					if quiet > 0 {
						line += fmt.Sprintf("  \n  🚨 lost no request in %d of %d runs, which a control must not", quiet, len(v.reload))
					}
					control = append(control, "- "+line)
				case n[result.Pass] == len(v.reload):
					pass = append(pass, "- "+line)
				case n[result.Fail] > 0:
					fail = append(fail, "- "+line)
				default:
					undecided = append(undecided, "- "+line)
				}
			}
			for _, r := range v.upgrade {
				what := "a new build"
				if isBroken(r.Experiment) {
					what = "a broken build"
				}
				line := fmt.Sprintf("- deploying %s with %s: %s%s", what, v.name(), verdictText(r), whyText(r))
				if len(m.envs) > 1 {
					line += " on " + envOf(r).label()
				}
				up = append(up, line)
			}
		}
		list := func(title string, items []string) {
			if len(items) > 0 {
				p.para("%s", title)
				p.lines(items)
			}
		}
		if len(pass) == 0 && (len(fail) > 0 || len(undecided) > 0) {
			p.para("**No variant of %s passed reload under load in every run.**", code(s))
		}
		list("**Passed reload under load in every environment and profile; use one of these:**", pass)
		list("**Did not pass in every run; read why before you copy one of these:**", fail)
		list("**Undecided (the data could not decide, not a pass):**", undecided)
		list("**Control** (must lose requests; not a recommendation):", control)
		list("**Upgrades:**", up)
	}
	p.heading(3, "What the settings do")
	for _, s := range settingMeaning {
		p.f("- `%s`: %s\n", s.name, s.meaning)
	}
	p.f("\n")
}

// latest is the run with the largest ID.
func latest(rs []*result.Result) *result.Result {
	var out *result.Result
	for _, r := range rs {
		if out == nil || r.ID > out.ID {
			out = r
		}
	}
	return out
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
