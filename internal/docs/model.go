package docs

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/result"
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

func (e env) fileSlug() string {
	d := e.Suite
	if d == "" {
		d = e.Distro
	}
	return fileSafe(e.Provider) + "-" + fileSafe(d) + "-systemd" + fileSafe(e.Systemd)
}

// key is one row of the findings: what was run, independent of where.
type key struct {
	Experiment, Server, Variant, Profile string
}

func (k key) less(o key) bool {
	a := []string{k.Experiment, k.Server, k.Variant, k.Profile}
	b := []string{o.Experiment, o.Server, o.Variant, o.Profile}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// heading is the cell's section heading on its server page.
func (k key) heading() string {
	return fmt.Sprintf("%s · variant %s · profile %s", k.Experiment, code(k.Variant), code(k.Profile))
}

// link is the relative link to the cell's section.
func (k key) link() string { return fileSafe(k.Server) + ".md#" + slug(k.heading()) }

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
}

func newModel(rs []*result.Result) *model {
	m := &model{images: map[*result.Result]string{}}
	m.results = append(m.results, rs...)
	sort.SliceStable(m.results, func(i, j int) bool { return m.results[i].ID < m.results[j].ID })
	byKey := map[key]*cell{}
	seenEnv := map[env]bool{}
	for _, r := range m.results {
		e := envOf(r)
		if !seenEnv[e] {
			seenEnv[e] = true
			m.envs = append(m.envs, e)
		}
		k := key{r.Experiment, r.Server, r.Variant, r.Profile}
		c := byKey[k]
		if c == nil {
			c = &cell{key: k, runs: map[env][]*result.Result{}}
			byKey[k] = c
			m.cells = append(m.cells, c)
		}
		c.runs[e] = append([]*result.Result{r}, c.runs[e]...) // IDs ascend, so prepend
	}
	sort.Slice(m.envs, func(i, j int) bool { return m.envs[i].less(m.envs[j]) })
	sort.Slice(m.cells, func(i, j int) bool { return m.cells[i].key.less(m.cells[j].key) })

	used := map[string]bool{}
	for _, c := range m.cells {
		for _, e := range c.envs(m.envs) {
			k := c.key
			name := fileSafe(k.Server) + "-" + fileSafe(k.Variant) + "-" + fileSafe(k.Profile)
			if k.Experiment != "reload" {
				name += "-" + fileSafe(k.Experiment)
			}
			name += "-" + e.fileSlug()
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
	sort.Strings(out)
	return out
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

func check(r *result.Result, name string) (result.Check, bool) {
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
	c, ok := check(r, "systemd_tracks_server")
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
// of the installed unit files and drop-ins (last one wins, as in systemd).
func traits(u result.Unit) []string {
	vals := map[string]string{}
	for _, f := range u.Files {
		if !strings.HasSuffix(f.Path, ".service") && !strings.HasSuffix(f.Path, ".conf") {
			continue
		}
		section := ""
		sc := bufio.NewScanner(strings.NewReader(f.Text))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "[") {
				section = line
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || section != "[Service]" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
				continue
			}
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	var out []string
	for _, k := range traitKeys {
		if v, ok := vals[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func traitsText(u result.Unit) string {
	t := traits(u)
	if len(t) == 0 {
		return "(none of " + strings.Join(traitKeys, ", ") + " set)"
	}
	var parts []string
	for _, s := range t {
		parts = append(parts, code(s))
	}
	return strings.Join(parts, " ")
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
