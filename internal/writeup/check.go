package writeup

import (
	"bytes"
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/lint"
	"github.com/gracelab/gracelab/internal/plots"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/unitfile"
	"github.com/gracelab/gracelab/lab/catalog"
)

// CheckDir is where check pages go, under the docs dir.
const CheckDir = "check"

// Check writes the page of a user's unit, docs/check/<unit>.md, and its
// plots, from the check's runs; the catalog's published results (the
// newest full batch in resultsDir) give the advice. It returns the page.
func Check(docsDir, resultsDir string, runs []*result.Result) (string, error) {
	if len(runs) == 0 {
		return "", fmt.Errorf("no run to write a page about")
	}
	judged, err := check.JudgeAll(runs)
	if err != nil {
		return "", err
	}
	published, err := Published(resultsDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(docsDir, CheckDir)
	name := strings.TrimSuffix(judged[0].Unit.Name, ".service")
	files, err := checkPage(judged, published, name, moduleList(judged[0].Env.Modules))
	if err != nil {
		return "", err
	}
	if err := writeChanged(dir, files); err != nil {
		return "", err
	}
	return filepath.Join(dir, name+".md"), nil
}

// checkBatch says a batch is a check's: its runs make a page of their own.
func checkBatch(b string) bool { return strings.Contains(b, "-check-") }

// checkPages renders a page for each unit that was checked, from its
// newest check batch.
func checkPages(stored, published []*result.Result) (map[string][]byte, error) {
	newest := map[string]string{}
	for _, r := range stored {
		if checkBatch(r.Batch) && r.Batch > newest[r.Unit.Name] {
			newest[r.Unit.Name] = r.Batch
		}
	}
	units := make([]string, 0, len(newest))
	for u := range newest {
		units = append(units, u)
	}
	slices.Sort(units)
	out := map[string][]byte{}
	for _, u := range units {
		runs := slices.DeleteFunc(slices.Clone(stored), func(r *result.Result) bool { return r.Batch != newest[u] || r.Unit.Name != u })
		judged, err := check.JudgeAll(runs)
		if err != nil {
			return nil, err
		}
		files, err := checkPage(judged, published, strings.TrimSuffix(u, ".service"), moduleList(judged[0].Env.Modules))
		if err != nil {
			return nil, err
		}
		for n, data := range files {
			out[n] = data
		}
	}
	return out, nil
}

// Published are the reload runs of the newest full batch in resultsDir,
// judged: what the writeup publishes, and what check compares with.
func Published(resultsDir string) ([]*result.Result, error) {
	stored, err := result.ReadDir(resultsDir)
	if err != nil {
		return nil, err
	}
	newest, _ := fullBatches(stored)
	judged, err := check.JudgeAll(newest)
	if err != nil {
		return nil, err
	}
	return reloadRuns(judged), nil
}

// reloadRuns are the runs of the reload experiment: what check compares with.
func reloadRuns(rs []*result.Result) []*result.Result {
	return slices.DeleteFunc(slices.Clone(rs), func(r *result.Result) bool { return r.Experiment != kind.Base().Name })
}

// CheckVerdicts are check's verdict lines: each question as k of N, per
// environment.
func CheckVerdicts(runs []*result.Result) []string {
	judged, err := check.JudgeAll(runs)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range envsOfRuns(judged) {
		rs := inEnv(judged, e)
		var parts []string
		for _, q := range check.Questions[:3] {
			parts = append(parts, fmt.Sprintf("%s %s", q, rate.Of(rs, q).Text()))
		}
		out = append(out, fmt.Sprintf("verdict on %s: %s; lost %s", e.label(), strings.Join(parts, ", "), rate.Of(rs, check.Requests).LostText()))
	}
	return out
}

// envsOfRuns are the environments of runs, in the writeup's order.
func envsOfRuns(rs []*result.Result) []env {
	var out []env
	for _, r := range rs {
		if e := envOf(r); !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

func inEnv(rs []*result.Result, e env) []*result.Result {
	return slices.DeleteFunc(slices.Clone(rs), func(r *result.Result) bool { return envOf(r) != e })
}

func checkPage(runs, published []*result.Result, name string, modules []string) (map[string][]byte, error) {
	// By ID, as results/ lists them: the page is the same whoever renders it.
	runs = slices.SortedFunc(slices.Values(runs), func(a, b *result.Result) int { return cmp.Compare(a.ID, b.ID) })
	files := map[string][]byte{}
	unit := runs[0].Unit.Files[0]
	p := &page{}
	p.f("%s\n\n", Marker)
	p.heading(1, fmt.Sprintf("Check of `%s`", unit.Path[strings.LastIndex(unit.Path, "/")+1:]))
	p.para("[← back to the writeup](../README.md)")
	p.para("`go run mage.go check` installed this unit exactly as written, with the binary where `ExecStart=` names it, "+
		"and ran the matrix's `%s` experiment on it: load at %d req/s on `http://%s`, `systemctl reload` %d times, then "+
		"`systemctl stop` while the load still ran. %s %d runs in all.", kind.Base().Name, runs[0].Load.Rate,
		runs[0].Load.Listen+runs[0].Load.Path, len(runs[0].Load.ReloadAtMS), checkSlowText(runs[0]), len(runs))

	p.heading(2, "Verdict")
	p.para("Each question is judged on its own; *k of N* counts the runs that failed it, with a 95%% interval.")
	var rows [][]string
	for _, e := range envsOfRuns(runs) {
		rs := inEnv(runs, e)
		row := []string{e.label(), fmt.Sprint(len(rs))}
		for _, q := range check.Questions[:3] {
			row = append(row, rate.Of(rs, q).Text())
		}
		rows = append(rows, append(row, rate.Of(rs, check.Requests).LostText()))
	}
	p.table([]string{"Environment", "Runs", questionHeaders[check.Requests], questionHeaders[check.Tracking], questionHeaders[check.Stopping], "Lost"}, rows)
	if fails := failReasons(runs); len(fails) > 0 {
		p.para("What failed, in words:")
		p.lines(fails)
	}

	checkAdvice(p, unit.Text, modules, published)

	p.heading(2, "The unit")
	p.fence("ini", unit.Text)
	for _, e := range envsOfRuns(runs) {
		rs := inEnv(runs, e)
		r := rs[len(rs)-1]
		p.heading(2, "On "+e.label())
		p.para("Run `%s` (the last of %d here; all are in `results/`).", r.ID, len(rs))
		if v := strings.TrimSpace(r.Unit.Verify); v != "" {
			p.para("`systemd-analyze verify` said:")
			p.fence("", v)
		}
		slug := fileSafe(e.suiteName() + "-" + r.Profile)
		var svg bytes.Buffer
		if err := plots.Timeline(&svg, r); err != nil {
			return nil, err
		}
		files["img/"+name+"-"+slug+".svg"] = svg.Bytes()
		p.para("![Requests over time, %s, %s](img/%s-%s.svg)", e.label(), r.Profile, name, slug)
		p.para("What systemd reported after each reload:")
		var rr [][]string
		for _, rl := range r.Reloads {
			s := rl.Settled
			rr = append(rr, []string{fmt.Sprint(rl.N), fmt.Sprintf("%.1f", rl.StartMS/1000), fmt.Sprint(rl.Exit),
				fmt.Sprintf("%d → %d", rl.Before.ServingPID, s.ServingPID), fmt.Sprint(s.MainPID), s.ActiveState + "/" + s.SubState, fmt.Sprint(s.NRestarts)})
		}
		p.table([]string{"Reload", "At (s)", "Exit", "Serving PID", "MainPID", "State", "NRestarts"}, rr)
		as := r.Final.AfterStop
		stop := fmt.Sprintf("`systemctl stop` under load took %.0f ms (exit %d); the unit ended %s/%s with `Result=%s`; systemd's main PID was its own child: %s.",
			r.Final.StopTookMS, r.Final.StopExit, as.ActiveState, as.SubState, as.Result, ownChild(r.Final.MainPIDAlien))
		p.para("%s", stop)
		p.details("The unit's journal", func() { p.fence("", strings.Join(r.Journal, "\n")) })
	}
	files[name+".md"] = p.Bytes()
	return files, nil
}

// checkSlowText says whether slow requests were held across the reloads and
// the stop, as in the matrix.
func checkSlowText(r *result.Result) string {
	if r.Load.SlowPerReload == 0 {
		return "No long requests were in flight (no `CHECK_SLOW` path was given), so a stop had only the steady load to drain."
	}
	return fmt.Sprintf("%d long requests (`CHECK_SLOW`) were in flight at each reload and at the stop, as in the matrix.", r.Load.SlowPerReload)
}

func ownChild(alien string) string {
	switch alien {
	case "yes":
		return "no (systemd does not wait for such a process at stop)"
	case "no":
		return "yes"
	}
	return "unknown (this systemd's dump does not say)"
}

// failReasons lists each failed check once, with how many runs failed it
// and one run's reason.
func failReasons(runs []*result.Result) []string {
	type agg struct {
		n   int
		why string
	}
	by := map[string]*agg{}
	var order []string
	for _, r := range runs {
		for _, c := range r.Verdict.Checks {
			if c.Outcome != result.Fail {
				continue
			}
			a := by[c.Name]
			if a == nil {
				a = &agg{why: c.Reason}
				by[c.Name] = a
				order = append(order, c.Name)
			}
			a.n++
		}
	}
	var out []string
	for _, n := range order {
		c, _ := check.Find(n)
		out = append(out, fmt.Sprintf("- **Not met in %d of %d runs**: %s One of them: %s.", by[n].n, len(runs), c.Says, by[n].why))
	}
	return out
}

// feature is one way units differ that the matrix shows matters.
type feature struct{ name, value string }

// featuresOf describes a unit by the settings the matrix varies.
func featuresOf(text string) []feature {
	opts, _ := unitfile.Parse(text)
	get := func(n, def string) string { return cmp.Or(last(opts, n), def) }
	pid := "none"
	switch v := last(opts, "PIDFile"); {
	case v == "":
	case strings.Contains(v, "$"):
		pid = "a variable"
	case strings.Contains(v, "%"):
		pid = "specifiers"
	case strings.HasPrefix(v, "/var/run/"):
		pid = "a path under /var/run"
	default:
		pid = "a path"
	}
	reload := "none"
	if r := last(opts, "ExecReload"); r != "" {
		reload = "other"
		switch {
		case lint.Waits(r):
			reload = "signal, then wait for the old process"
		case strings.Contains(r, "--pidfile"):
			reload = "signal the PID in the PID file"
		case strings.Contains(r, "MAINPID"):
			reload = "signal $MAINPID"
		}
	}
	main := "the server"
	if s := unitfile.Argv(last(opts, "ExecStart")); len(s) > 0 && filepath.Base(s[0]) == "start_server" {
		main = "start_server"
	}
	stopTimeout := "default"
	if t := cmp.Or(last(opts, "TimeoutStopSec"), last(opts, "TimeoutSec")); t != "" {
		stopTimeout = t
	}
	return []feature{
		{"Type=", get("Type", "simple")}, {"PIDFile=", pid}, {"ExecReload=", reload}, {"NotifyAccess=", get("NotifyAccess", "main")},
		{"Main process", main}, {"TimeoutStopSec=", stopTimeout}, {"Restart=", get("Restart", "no")},
	}
}

func last(opts []unitfile.Option, name string) string {
	v, _ := unitfile.Last(opts, "Service", name)
	return v
}

// Libraries are the graceful-restart libraries the matrix runs; a
// binary's modules say which one it uses.
var Libraries = []string{"github.com/facebookgo/grace", "github.com/cloudflare/tableflip", "github.com/lestrrat-go/server-starter"}

// library names a unit's library from its features: start_server when
// the unit runs it, else the first of Libraries among the binary's modules.
func library(fs []feature, modules []string) string {
	if slices.Contains(fs, feature{"Main process", "start_server"}) {
		return "lestrrat-go/server-starter"
	}
	for _, l := range Libraries {
		if slices.Contains(modules, l) && !strings.HasSuffix(l, "server-starter") {
			return strings.TrimPrefix(l, "github.com/")
		}
	}
	return "none known"
}

// Near is a catalog variant a user's unit resembles, with its published runs.
type Near struct {
	Variant catalog.Variant
	// Features are its settings, Same how many equal the unit's, and
	// Library the library it uses.
	Features []feature
	Same     int
	Library  string
	Runs     []*result.Result
}

// Nearest ranks the catalog variants with published reload runs by how
// alike they are to a unit: the same library first, then the most
// settings alike, then catalog order.
func Nearest(unitText string, modules []string, published []*result.Result) []Near {
	mine := featuresOf(unitText)
	lib := library(mine, modules)
	var ns []Near
	for _, v := range catalog.Variants() {
		rs := slices.DeleteFunc(slices.Clone(published), func(r *result.Result) bool {
			return r.Server != v.Server || r.Variant != v.Name || r.Experiment != kind.Base().Name
		})
		if len(rs) == 0 {
			continue
		}
		files, err := catalog.Render(v, catalog.Params{Bin: "/bin", Listen: "127.0.0.1:1", User: "u"})
		if err != nil {
			continue
		}
		n := Near{Variant: v, Features: featuresOf(files[0].Text), Runs: rs}
		for i := range n.Features {
			if n.Features[i] == mine[i] {
				n.Same++
			}
		}
		n.Library = library(n.Features, moduleList(rs[0].Env.Modules))
		ns = append(ns, n)
	}
	slices.SortStableFunc(ns, func(a, b Near) int {
		if sa, sb := a.Library == lib, b.Library == lib; sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Same, a.Same)
	})
	return ns
}

func moduleList(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkAdvice names the catalog variants the unit resembles, setting by
// setting, with their published rates, and the lines lint would change.
func checkAdvice(p *page, text string, modules []string, published []*result.Result) {
	p.heading(2, "Advice")
	ws, _ := lint.Unit(text)
	if len(ws) == 0 {
		p.para("`lint` finds none of the failure modes the lab has measured in this unit.")
	} else {
		p.para("What to change, from `go run mage.go lint` (each links the published runs that show it):")
		var items []string
		for _, w := range ws {
			items = append(items, fmt.Sprintf("- **Line %d**, `%s`: %s Instead: %s. Evidence: %s.", w.Line, w.Setting, w.Happens, w.Fix, docLinks(w.Seen)))
		}
		p.lines(items)
	}
	ns := Nearest(text, modules, published)
	ns = ns[:min(3, len(ns))]
	if len(ns) == 0 {
		p.para("No published results to compare with: run `go run mage.go experiment:all` first.")
		return
	}
	mine := featuresOf(text)
	lib := library(mine, modules)
	p.para("This binary uses %s. The catalog's variants closest to this unit, the same library first, then setting by setting "+
		"(a value the same as this unit's in **bold**), and how they did in the published runs (newest full batch, all profiles and environments):",
		lib)
	header := []string{"Setting", "This unit"}
	for _, n := range ns {
		header = append(header, fmt.Sprintf("[%s](../%s)", n.Variant.ID(), fileSafe(n.Variant.Server)+".md#"+slug("Variant `"+n.Variant.Name+"`")))
	}
	rows := [][]string{append([]string{"Library", lib}, mapN(ns, func(n Near) string { return n.Library })...)}
	for i, f := range mine {
		row := []string{f.name, f.value}
		for _, n := range ns {
			v := n.Features[i].value
			if n.Features[i] == f {
				v = "**" + v + "**"
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	rows = append(rows, append([]string{"Settings alike", ""}, mapN(ns, func(n Near) string { return fmt.Sprintf("%d of %d", n.Same, len(mine)) })...))
	for _, q := range check.Questions[:3] {
		rows = append(rows, append([]string{questionHeaders[q], ""}, mapN(ns, func(n Near) string { return rate.Of(n.Runs, q).Text() })...))
	}
	p.table(header, rows)
}

func mapN[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// docLinks turns "docs/a.md#b, docs/c.md" into links relative to a check page.
func docLinks(seen string) string {
	var out []string
	for _, s := range strings.Split(seen, ", ") {
		rel := "../" + strings.TrimPrefix(s, "docs/")
		out = append(out, fmt.Sprintf("[%s](%s)", s, rel))
	}
	return strings.Join(out, ", ")
}
