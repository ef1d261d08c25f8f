package writeup

import (
	"fmt"
	"github.com/gracelab/gracelab/internal/rate"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/unitfile"
)

// env is one lab: results from different envs are never pooled.
type env struct {
	Provider, Distro, Suite, Systemd string
}

func envOf(r *result.Result) env {
	return env{r.Env.Provider, r.Env.Distro, r.Env.Suite, r.Env.SystemdVersion}
}

func (e env) less(o env) bool {
	if e.Provider != o.Provider {
		return e.Provider < o.Provider
	}
	if e.Distro != o.Distro {
		return e.Distro < o.Distro
	}
	if e.Suite != o.Suite {
		return e.Suite < o.Suite
	}
	return e.Systemd < o.Systemd
}

// label names the env briefly: the suite says more than the distro name.
func (e env) label() string {
	d := e.Suite
	if d == "" {
		d = e.Distro
	}
	return fmt.Sprintf("%s · %s · systemd %s", orUnknown(e.Provider), orUnknown(d), orUnknown(e.Systemd))
}

// suiteName is the suite, or the distro when the suite is unknown.
func (e env) suiteName() string {
	if e.Suite != "" {
		return e.Suite
	}
	return e.Distro
}

// systemdMajor is the leading number of the systemd version ("252" of
// "252 (252.39-1~deb12u2)"), or "" if there is none.
func (e env) systemdMajor() string {
	i := 0
	for i < len(e.Systemd) && e.Systemd[i] >= '0' && e.Systemd[i] <= '9' {
		i++
	}
	return e.Systemd[:i]
}

// imgSlugs names each env briefly for image file names: suite and
// systemd major ("bookworm-sd252"). Envs that would share a name get the
// provider too, then the full systemd version, so names stay unique and
// depend only on the set of envs.
func imgSlugs(envs []env) map[env]string {
	forms := []func(env) string{
		func(e env) string { return fileSafe(e.suiteName()) + "-sd" + fileSafe(orUnknown(e.systemdMajor())) },
		func(e env) string {
			return fileSafe(e.Provider) + "-" + fileSafe(e.suiteName()) + "-sd" + fileSafe(orUnknown(e.systemdMajor()))
		},
		func(e env) string {
			return fileSafe(e.Provider) + "-" + fileSafe(e.Distro) + "-" + fileSafe(e.Suite) + "-sd" + fileSafe(e.Systemd)
		},
	}
	out := map[env]string{}
	for _, e := range envs {
		for i, f := range forms {
			n := 0
			for _, o := range envs {
				if f(o) == f(e) {
					n++
				}
			}
			if n == 1 || i == len(forms)-1 {
				out[e] = f(e)
				break
			}
		}
	}
	return out
}

// key is one row of the findings: what was run, independent of where.
type key struct {
	Experiment, Server, Variant, Profile string
}

// expRank orders experiments as package kind lists them; unknown ones
// follow in alphabetical order.
func expRank(x string) int {
	if i := slices.Index(kind.Names(), x); i >= 0 {
		return i
	}
	return len(kind.All)
}

// isBase says the experiment is the first kind, the plain reload, which
// titles and file names leave out.
func isBase(x string) bool { return x == kind.Base().Name }

// isUpgrade says the experiment deploys a build before its reload.
func isUpgrade(x string) bool { return deployOf(x) != "" }

// isBroken says the deployed build cannot start.
func isBroken(x string) bool { return deployOf(x) == "broken" }

func deployOf(x string) string {
	k, err := kind.Find(x)
	if err != nil {
		return ""
	}
	return k.Deploy
}

// less orders rows by experiment, then server and variant in catalog
// order (unknown ones after, alphabetically), then profile.
func (k key) less(o key) bool {
	if a, b := expRank(k.Experiment), expRank(o.Experiment); a != b {
		return a < b
	}
	if k.Experiment != o.Experiment {
		return k.Experiment < o.Experiment
	}
	if k.Server != o.Server {
		return serverLess(k.Server, o.Server)
	}
	if k.Variant != o.Variant {
		return variantLess(k.Server, k.Variant, o.Variant)
	}
	return k.Profile < o.Profile
}

// heading is the cell's section heading on its server page.
func (k key) heading() string {
	return fmt.Sprintf("%s · variant %s · profile %s", k.Experiment, code(k.Variant), code(k.Profile))
}

// link is the relative link to the cell's section.
func (k key) link() string { return fileSafe(k.Server) + ".md#" + slug(variantHeading(k.Variant)) }

// cell holds the runs of one key, per env, newest (largest ID) first.
type cell struct {
	key  key
	runs map[env][]*result.Result
}

func (c *cell) newest(e env) *result.Result {
	if rs := c.runs[e]; len(rs) > 0 {
		return rs[0]
	}
	return nil
}

func (c *cell) envs(all []env) []env {
	var out []env
	for _, e := range all {
		if len(c.runs[e]) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// model is all results, grouped, in a fixed order.
type model struct {
	results []*result.Result // by ID
	envs    []env
	cells   []*cell
	images  map[*result.Result]string // image base name of each newest run
	rerun   *rerun                    // the previous full batch against this one, if there is one
	checked []string                  // units with a check page, by name
	hup2015 []*result.Result          // the newest hup-2015 batch, judged
}

// rerun compares the previous full batch with the one rendered.
type rerun struct {
	batch, previous string
	runs            int // of the previous
	cmp             rate.Comparison
}

func newModel(rs []*result.Result) *model {
	m := &model{images: map[*result.Result]string{}}
	m.results = append(m.results, rs...)
	sort.SliceStable(m.results, func(i, j int) bool { return m.results[i].ID < m.results[j].ID })
	byKey := map[key]*cell{}
	m.envs = envsOfRuns(m.results)
	for _, r := range m.results {
		e := envOf(r)
		k := key{r.Experiment, r.Server, r.Variant, r.Profile}
		c := byKey[k]
		if c == nil {
			c = &cell{key: k, runs: map[env][]*result.Result{}}
			byKey[k] = c
			m.cells = append(m.cells, c)
		}
		c.runs[e] = append([]*result.Result{r}, c.runs[e]...) // IDs ascend, so prepend
	}
	sort.Slice(m.cells, func(i, j int) bool { return m.cells[i].key.less(m.cells[j].key) })

	slugs := imgSlugs(m.envs)
	used := map[string]bool{}
	for _, c := range m.cells {
		for _, e := range c.envs(m.envs) {
			k := c.key
			name := fileSafe(k.Server) + "-" + fileSafe(k.Variant) + "-" + fileSafe(k.Profile)
			if !isBase(k.Experiment) {
				name += "-" + fileSafe(k.Experiment)
			}
			name += "-" + slugs[e]
			base := name
			for i := 2; used[name]; i++ {
				name = fmt.Sprintf("%s-%d", base, i)
			}
			used[name] = true
			m.images[c.newest(e)] = name
		}
	}
	return m
}

func (m *model) experiments() []string {
	var out []string
	for _, c := range m.cells {
		if len(out) == 0 || out[len(out)-1] != c.key.Experiment {
			out = append(out, c.key.Experiment)
		}
	}
	return out
}

func (m *model) servers() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range m.cells {
		if !seen[c.key.Server] {
			seen[c.key.Server] = true
			out = append(out, c.key.Server)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return serverLess(out[i], out[j]) })
	return out
}

// variants lists a server's variants in catalog order.
func (m *model) variants(server string) []string {
	var out []string
	for _, c := range m.cells {
		if c.key.Server == server && !slices.Contains(out, c.key.Variant) {
			out = append(out, c.key.Variant)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return variantLess(server, out[i], out[j]) })
	return out
}

// summaryOf is the one-line description of a variant from its newest run.
func (m *model) summaryOf(server, variant string) string {
	s := ""
	for _, r := range m.results {
		if r.Server == server && r.Variant == variant && r.Unit.Summary != "" {
			s = r.Unit.Summary
		}
	}
	return s
}

// cell is the row of k.
func (m *model) cell(k key) *cell {
	for _, c := range m.cells {
		if c.key == k {
			return c
		}
	}
	return &cell{key: k}
}

func (m *model) cellsWhere(f func(key) bool) []*cell {
	var out []*cell
	for _, c := range m.cells {
		if f(c.key) {
			out = append(out, c)
		}
	}
	return out
}

// outcome is the verdict as shown. Pass needs an overall pass that every
// check agrees with; anything odd is unknown, never pass.
func outcome(v result.Verdict) result.Outcome {
	switch v.Overall {
	case result.Fail:
		return result.Fail
	case result.Pass:
		if len(v.Checks) == 0 {
			return result.Unknown
		}
		for _, c := range v.Checks {
			if c.Outcome != result.Pass {
				return result.Unknown
			}
		}
		return result.Pass
	}
	return result.Unknown
}

func outcomeText(o result.Outcome) string {
	switch o {
	case result.Pass:
		return "✅ pass"
	case result.Fail:
		return "❌ fail"
	}
	return "❔ unknown"
}

func verdictText(r *result.Result) string { return outcomeText(outcome(r.Verdict)) }

// unknownWhy says briefly which checks could not decide.
var unknownWhy = map[string]string{
	"load_sustained": "load fell behind",
	"run_complete":   "run incomplete",
}

// verdictCell is the verdict with, for an unknown one, why it is unknown.
func verdictCell(r *result.Result) string {
	o := outcome(r.Verdict)
	if o != result.Unknown {
		return verdictWords(r, english)
	}
	var why []string
	for _, c := range r.Verdict.Checks {
		if outcomeOf(c.Outcome) == result.Unknown {
			w := unknownWhy[c.Name]
			if w == "" {
				w = c.Name + " undecided"
			}
			why = addUniq(why, w)
		}
	}
	if len(why) == 0 {
		return outcomeText(o)
	}
	return outcomeText(o) + " (" + strings.Join(why, ", ") + ")"
}

func checkOf(r *result.Result, name string) (result.Check, bool) {
	for _, c := range r.Verdict.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return result.Check{}, false
}

// tracksText answers "did systemd track the serving process" from the
// verdict's systemd_tracks_server check.
func tracksText(r *result.Result) string {
	c, ok := checkOf(r, "systemd_tracks_server")
	if !ok {
		return "n/a (no reload)"
	}
	switch c.Outcome {
	case result.Pass:
		return "yes"
	case result.Fail:
		return "no"
	}
	return "unknown"
}

func stateText(s result.Snapshot) string {
	if s.ActiveState == "" && s.SubState == "" {
		return "not recorded"
	}
	return orUnknown(s.ActiveState) + "/" + orUnknown(s.SubState)
}

func failedText(s result.Summary) string {
	if s.Failed == 0 {
		return "0"
	}
	n := 0
	only := ""
	for c, k := range s.ByClass {
		if k > 0 {
			n++
			only = c
		}
	}
	if n == 1 && s.ByClass[only] == s.Failed {
		return fmt.Sprintf("%d %s", s.Failed, only)
	}
	return fmt.Sprintf("%d (%s)", s.Failed, analysis.ClassList(s.ByClass))
}

func slowText(s result.Summary) string {
	if s.SlowTotal == 0 {
		return "none sent"
	}
	return fmt.Sprintf("%d/%d", s.SlowDone, s.SlowTotal)
}

// notPassing lists the checks that kept a run from passing.
func notPassing(r *result.Result) []result.Check {
	var out []result.Check
	for _, c := range r.Verdict.Checks {
		if c.Outcome != result.Pass {
			out = append(out, c)
		}
	}
	return out
}

// traitKeys are the unit-file settings that decide how a reload goes.
var traitKeys = []string{"Type", "PIDFile", "ExecReload", "EnvironmentFile", "KillMode", "NotifyAccess"}

// traits are the decisive settings as written in the [Service] sections
// of the installed unit files and drop-ins (last one wins, as in systemd),
// then the listening settings of its .socket files: with one, systemd and
// not the server owns the listener.
func traits(u result.Unit) []string {
	var service []unitfile.Option
	var out []string
	for _, f := range u.Files {
		opts, err := unitfile.Parse(f.Text)
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(f.Path, ".service"), strings.HasSuffix(f.Path, ".conf"):
			service = append(service, unitfile.All(opts, "Service")...)
		case strings.HasSuffix(f.Path, ".socket"):
			for _, o := range unitfile.All(opts, "Socket") {
				if strings.HasPrefix(o.Name, "Listen") {
					out = append(out, "[Socket] "+o.Name+"="+o.Value)
				}
			}
		}
	}
	var front []string
	for _, k := range traitKeys {
		if v, ok := unitfile.Last(service, "Service", k); ok {
			front = append(front, k+"="+v)
		}
	}
	return append(front, out...)
}

// traitsText lists the decisive settings inline, separated so that a
// reader sees where one ends.
func traitsText(u result.Unit) string { return traitsJoined(u, " · ") }

// traitsCell lists them one per line, for a table cell.
func traitsCell(u result.Unit) string { return traitsJoined(u, "<br>") }

func traitsJoined(u result.Unit, sep string) string {
	t := traits(u)
	if len(t) == 0 {
		return "(none of " + strings.Join(traitKeys, ", ") + " set)"
	}
	var parts []string
	for _, s := range t {
		parts = append(parts, code(s))
	}
	return strings.Join(parts, sep)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkOutcome is a check's outcome, and whether the run has the check.
func checkOutcome(r *result.Result, name string) (result.Outcome, bool) {
	c, ok := checkOf(r, name)
	return outcomeOf(c.Outcome), ok
}

// stopText says how `systemctl stop` went, from the unit_stops_cleanly
// check and the recorded state after the stop.
func stopText(r *result.Result) string {
	f := r.Final
	o, ok := checkOutcome(r, "unit_stops_cleanly")
	if !ok && f.AfterStop.ActiveState == "" {
		return "not recorded"
	}
	took := secs(f.StopTookMS) + " s"
	after := orUnknown(f.AfterStop.ActiveState)
	if f.AfterStop.Result != "" && f.AfterStop.Result != "success" {
		after += " (" + f.AfterStop.Result + ")"
	}
	switch o {
	case result.Pass:
		return "clean, " + took
	case result.Fail:
		s := "⚠️ " + took
		if f.StopExit != 0 {
			s += fmt.Sprintf(", exit %d", f.StopExit)
		}
		return s + ", then " + after
	}
	return "❔ " + took + ", then " + after
}

// resultText is a unit's state with systemd's result when it is not a
// plain success.
func resultText(s result.Snapshot) string {
	t := stateText(s)
	if s.Result != "" && s.Result != "success" {
		t += " (result " + s.Result + ")"
	}
	return t
}

// newVersionText answers "did the new build serve, and how soon" from the
// new_version_serves check and the first reload's FirstNewOKMS.
func newVersionText(r *result.Result) string {
	o, ok := checkOutcome(r, "new_version_serves")
	after := -1.0
	if len(r.Reloads) > 0 {
		after = r.Reloads[0].FirstNewOKMS
	}
	switch {
	case !ok && after < 0:
		return "–"
	case !ok:
		return "a new process answered after " + ms(after) + " ms"
	case o == result.Pass && after >= 0:
		return "✅ yes, after " + ms(after) + " ms"
	case o == result.Pass:
		return "✅ yes"
	case o == result.Fail && after >= 0:
		return "❌ no (a new process answered after " + ms(after) + " ms)"
	case o == result.Fail:
		return "❌ no, no new process answered"
	}
	return "❔ unknown"
}

// oldKeepsText answers "did the old process keep serving" from the
// old_process_keeps_serving check.
func oldKeepsText(r *result.Result) string {
	o, ok := checkOutcome(r, "old_process_keeps_serving")
	switch {
	case !ok:
		return "–"
	case o == result.Pass:
		return "✅ yes"
	case o == result.Fail:
		return "❌ no"
	}
	return "❔ unknown"
}

// servingText is the process that answered a snapshot's health check,
// with its build version.
func servingText(s result.Snapshot) string {
	if s.ServingPID == 0 {
		if s.ServingError != "" {
			return "none (" + shortError(s.ServingError) + ")"
		}
		return "none"
	}
	if s.ServingVersion == "" {
		return fmt.Sprint(s.ServingPID)
	}
	return fmt.Sprintf("%d (%s)", s.ServingPID, s.ServingVersion)
}

// shortError is the innermost part of a Go error chain ("connection
// refused" of "Get ...: dial tcp ...: connect: connection refused").
func shortError(e string) string {
	if i := strings.LastIndex(e, ": "); i >= 0 && i+2 < len(e) {
		return e[i+2:]
	}
	return e
}

// saidPatterns pick out the journal lines in which systemd speaks about
// the PID file, the main process or the unit ending: what a reader most
// needs from the journal.
var saidPatterns = []string{
	"pid file", "pidfile", "mainpid", "main pid", "main process", "supervising process", "not our child",
	"refusing to accept", "notification message", "deactivated successfully", "failed with result",
	"cannot be reloaded", "timed out", "killing process", "scheduled restart job", "start request repeated",
}

// saidLine is one distinct message from systemd with how often and when
// it first appeared.
type saidLine struct {
	at, msg string
	n       int
}

// systemdSaid returns systemd's own journal lines that match saidPatterns,
// with the timestamp and host cut off and repeats (also with other PIDs)
// counted; the first of each is shown.
func systemdSaid(r *result.Result) []saidLine {
	var out []saidLine
	idx := map[string]int{}
	for _, l := range r.Journal {
		at, msg, ok := splitJournal(l)
		if !ok || beforeRun(r, l) {
			continue
		}
		low := strings.ToLower(withoutUnit(msg, r.Unit.Name))
		match := false
		for _, p := range saidPatterns {
			match = match || strings.Contains(low, p)
		}
		if !match {
			continue
		}
		msg = strings.TrimPrefix(msg, r.Unit.Name+": ")
		// Messages that differ only in a PID count as one.
		k := digits.ReplaceAllString(msg, "N")
		if i, ok := idx[k]; ok {
			out[i].n++
			continue
		}
		idx[k] = len(out)
		out = append(out, saidLine{at: at, msg: msg, n: 1})
	}
	return out
}

// beforeRun says a journal line is stamped before the run started: it
// belongs to an earlier run of the same unit (the journal is read from a
// second before the start).
func beforeRun(r *result.Result, line string) bool {
	f := strings.Fields(line)
	if len(f) == 0 || r.Started.IsZero() {
		return false
	}
	t, _, ok := analysis.JournalStamp(f[0])
	return ok && t.Before(r.Started)
}

// earlierLines counts the journal lines from before the run started.
func earlierLines(r *result.Result) int {
	n := 0
	for _, l := range r.Journal {
		if beforeRun(r, l) {
			n++
		}
	}
	return n
}

// withoutUnit cuts the unit's name, and the description systemd prints
// after it ("Started x.service - gracelab ...: PID file ..."), out of msg,
// so that a name or a description cannot make a line match.
func withoutUnit(msg, unit string) string {
	if unit == "" {
		return msg
	}
	i := strings.Index(msg, unit)
	if i < 0 {
		return msg
	}
	rest := msg[i+len(unit):]
	if strings.HasPrefix(rest, " - ") {
		rest = ""
	}
	return msg[:i] + rest
}

// serverPatterns pick out what the server's own processes logged about
// errors, failures and upgrades.
var serverPatterns = []string{"error", "fail", "panic", "upgrade", "refus", "cannot", "can't"}

// maxServerSaid bounds the list.
const maxServerSaid = 6

// serverSaid returns, as list items, the lines of the unit's other
// processes that match serverPatterns. Lines that differ only in numbers
// (PIDs) are shown once with a count, so a retry loop stays short.
func serverSaid(r *result.Result) []string {
	type item struct {
		at, proc, msg string
		n             int
	}
	var items []*item
	byKey := map[string]*item{}
	for _, l := range r.Journal {
		if beforeRun(r, l) || strings.Contains(l, " systemd[1]: ") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasSuffix(f[2], ":") {
			continue
		}
		msg := strings.Join(f[3:], " ")
		low := strings.ToLower(msg)
		match := false
		for _, p := range serverPatterns {
			match = match || strings.Contains(low, p)
		}
		if !match {
			continue
		}
		proc := strings.TrimSuffix(f[2], ":")
		name, _, _ := strings.Cut(proc, "[")
		k := name + " " + digits.ReplaceAllString(msg, "N")
		if it := byKey[k]; it != nil {
			it.n++
			continue
		}
		at := f[0]
		if t := strings.Index(at, "T"); t >= 0 && len(at) >= t+13 {
			at = at[t+1 : t+13]
		}
		byKey[k] = &item{at: at, proc: proc, msg: msg, n: 1}
		items = append(items, byKey[k])
	}
	var out []string
	for i, it := range items {
		if i == maxServerSaid {
			out = append(out, fmt.Sprintf("- … and %s (see the journal)", plural(len(items)-i, "more kind of line", "more kinds of line")))
			break
		}
		line := fmt.Sprintf("- %s %s %s", it.at, it.proc, code(it.msg))
		if it.n > 1 {
			line += fmt.Sprintf(" (%d times)", it.n)
		}
		out = append(out, line)
	}
	return out
}

var digits = regexp.MustCompile(`[0-9]+`)

// splitJournal splits a journal line of systemd (PID 1) into its time of
// day and message; lines of other processes are not systemd's.
func splitJournal(l string) (at, msg string, ok bool) {
	i := strings.Index(l, " systemd[1]: ")
	if i < 0 {
		return "", "", false
	}
	msg = l[i+len(" systemd[1]: "):]
	head := strings.Fields(l[:i])
	if len(head) > 0 {
		at = head[0]
		// short-iso-precise: 2026-11-25T07:15:50.126202+0000 -> 07:15:50.126
		if t := strings.Index(at, "T"); t >= 0 && len(at) >= t+13 {
			at = at[t+1 : t+13]
		} else if len(head) >= 3 {
			at = head[2] // short: Mar 01 10:00:02 host
		}
	}
	return at, msg, true
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
