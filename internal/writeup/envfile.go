package writeup

import (
	"fmt"
	"github.com/gracelab/gracelab/internal/analysis"
	"slices"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/result"
)

// envfileVariants are the unit variants that put the PID file path in a
// variable or a specifier instead of a literal path (catalog tag
// pidfile-path).
func envfileVariants() []string {
	var out []string
	for _, v := range variants {
		if v.PIDFilePath {
			out = append(out, v.Name)
		}
	}
	return out
}

func isEnvfileVariant(v string) bool { return slices.Contains(envfileVariants(), v) }

func envfilePage(m *model) []byte {
	var p page
	p.para("%s", Marker)
	p.heading(1, "Can the PID file path come from `EnvironmentFile=`?")
	p.para("[← back to the writeup](README.md)")
	p.para("Some services keep their settings, the PID file path among them, in a file read with " +
		"`EnvironmentFile=` and write the unit as `PIDFile=${PIDFILE}`. systemd must know the PID file to " +
		"follow a server that replaces its own process. This page shows what systemd did with that line, " +
		"next to a unit that names the path with a systemd specifier instead, and what happened to the " +
		"service and its requests.")
	cells := m.cellsWhere(func(k key) bool { return isEnvfileVariant(k.Variant) })
	var have, missing []string
	for _, v := range envfileVariants() {
		found := false
		for _, c := range cells {
			found = found || c.key.Variant == v
		}
		if found {
			have = append(have, code(v))
		} else {
			missing = append(missing, code(v))
		}
	}
	if len(cells) == 0 {
		p.para("No result in `results/` has one of the variants %s, so this page has no answer yet. "+
			"Run `go run mage.go experiment:reload grace` and render again.", strings.Join(missing, ", "))
		return p.Bytes()
	}
	p.f("Built from the results with variant %s", strings.Join(have, ", "))
	if len(missing) > 0 {
		p.f(" (no result has variant %s)", strings.Join(missing, ", "))
	}
	p.f(".\n\n")

	p.heading(2, "Which form works")
	var rows [][]string
	var works, not []string
	for _, c := range cells {
		for _, e := range c.envs(m.envs) {
			r := c.newest(e)
			o := outcome(r.Verdict)
			written, _ := writtenPIDFile(r.Unit)
			item := fmt.Sprintf("%s [%s](%s), profile %s", c.key.Server, code(c.key.Variant), c.key.link(), code(c.key.Profile))
			if !isBase(c.key.Experiment) {
				item += ", experiment " + code(c.key.Experiment)
			}
			row := []string{item}
			if len(m.envs) > 1 {
				row = append(row, e.label())
				item += " on " + e.label()
			}
			rows = append(rows, append(row, code("PIDFile="+written), showPIDFile(r.Unit.Show),
				fmt.Sprintf("%d of %d", r.Summary.Failed, r.Summary.Sent), stateText(r.Final.Snapshot), verdictCell(r)))
			if o == result.Pass {
				works = append(works, "- "+item)
			} else {
				not = append(not, fmt.Sprintf("- %s: %s", item, outcomeText(o)))
			}
		}
	}
	header := []string{"Run"}
	if len(m.envs) > 1 {
		header = append(header, "Environment")
	} else {
		p.para("All runs on %s.", m.envs[0].label())
	}
	p.table(append(header, "Unit file says", "systemd's PIDFile", "Failed requests", "Final state", "Verdict"), rows)
	if len(works) == 0 {
		p.para("None of these forms passed.")
	} else {
		p.para("Passed:")
		p.lines(works)
	}
	if len(not) > 0 {
		p.para("Did not pass:")
		p.lines(not)
	}

	for _, c := range cells {
		for _, e := range c.envs(m.envs) {
			envfileSection(&p, c, e, len(m.envs) > 1)
		}
	}
	return p.Bytes()
}

func envfileSection(p *page, c *cell, e env, manyEnvs bool) {
	r := c.newest(e)
	h := fmt.Sprintf("%s, variant %s, profile %s", c.key.Server, code(c.key.Variant), code(c.key.Profile))
	if !isBase(c.key.Experiment) {
		h += ", experiment " + code(c.key.Experiment)
	}
	if manyEnvs {
		h += ", on " + e.label()
	}
	p.heading(2, h)
	p.para("Run %s ([full details](%s)). Verdict: **%s**.", code(r.ID), c.key.link(), verdictText(r))

	written, ok := writtenPIDFile(r.Unit)
	shown, recorded := r.Unit.Show["PIDFile"]
	switch {
	case !ok:
		p.para("The unit file sets no `PIDFile=`.")
	case !recorded:
		p.para("The unit file says %s; the result does not record systemd's `PIDFile` property.", code("PIDFile="+written))
	case shown == "":
		p.para("The unit file says %s, and systemd reports an empty `PIDFile`: the line did not take effect.", code("PIDFile="+written))
	case shown == written:
		p.para("The unit file says %s, and systemd's `PIDFile` is %s: the text as written, nothing expanded.", code("PIDFile="+written), code(shown))
	default:
		p.para("The unit file says %s, and systemd turned it into %s.", code("PIDFile="+written), code(shown))
	}
	for _, f := range r.Unit.Files {
		p.para("%s:", code(f.Path))
		p.fence(langOf(f.Path), f.Text)
	}
	if r.Unit.Verify == "" {
		p.para("`systemd-analyze verify` exited %d with no output.", r.Unit.VerifyExit)
	} else {
		p.para("`systemd-analyze verify` exited %d:", r.Unit.VerifyExit)
		p.fence("text", r.Unit.Verify)
	}
	var lines []string
	for _, l := range systemdSaid(r) {
		if low := strings.ToLower(l.msg); strings.Contains(low, "pidfile") || strings.Contains(low, "pid file") {
			line := "- " + l.at + " " + code(l.msg)
			if l.n > 1 {
				line += fmt.Sprintf(" (%d times)", l.n)
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		p.para("systemd logged nothing about the PID file for this unit.")
	} else {
		p.para("What systemd said about the PID file:")
		p.lines(lines)
	}

	outageSequence(p, r)
	if len(r.Reloads) > 0 {
		var rows [][]string
		for _, rl := range r.Reloads {
			s := rl.Settled
			rows = append(rows, []string{fmt.Sprint(rl.N), fmt.Sprint(rl.Exit), code(s.PIDFile), orNone(s.PIDFileContent),
				pidText(s.MainPID), pidText(s.ServingPID), stateText(s)})
		}
		p.para("After each reload, once settled:")
		p.table([]string{"Reload", "Exit", "PIDFile property", "PID file content", "MainPID", "Serving PID", "State"}, rows)
	}
	s := r.Summary
	p.para("Requests: %d sent, %s failed, longest gap without a success %s ms. The unit was %s at the end of the load.",
		s.Sent, failedText(s), ms(s.LongestGapMS), stateText(r.Final.Snapshot))
	if bad := notPassing(r); len(bad) > 0 {
		p.para("Checks that did not pass:")
		for _, ch := range bad {
			p.f("- `%s` (%s): %s\n", ch.Name, outcomeOf(ch.Outcome), ch.Reason)
		}
		p.f("\n")
	}
}

// writtenPIDFile is the PIDFile= value as written in the unit's
// [Service] sections (the last one wins).
func writtenPIDFile(u result.Unit) (string, bool) {
	for _, t := range traits(u) {
		if v, ok := strings.CutPrefix(t, "PIDFile="); ok {
			return v, true
		}
	}
	return "", false
}

func showPIDFile(show map[string]string) string {
	v, ok := show["PIDFile"]
	switch {
	case !ok:
		return "not recorded"
	case v == "":
		return "(empty)"
	}
	return code(v)
}

// outageSequence is the journal from the first reload until the unit was
// deactivated (systemd's lines and the servers' own), each with its time
// after the reload, and what became of Restart=.
func outageSequence(p *page, r *result.Result) {
	if len(r.Reloads) == 0 || r.Load.Began.IsZero() {
		return
	}
	reloadAt := r.Load.Began.Add(time.Duration(r.Reloads[0].StartMS * float64(time.Millisecond)))
	var lines []string
	deactivated := false
	for _, l := range r.Journal {
		at, rest, ok := analysis.JournalStamp(l)
		if !ok || at.Before(reloadAt.Add(-50*time.Millisecond)) {
			continue
		}
		_, msg, ok := strings.Cut(rest, ": ")
		if !ok {
			continue
		}
		msg = strings.TrimPrefix(msg, r.Unit.Name+": ")
		lines = append(lines, fmt.Sprintf("- +%s ms %s", ms(analysis.MS(at.Sub(reloadAt))), code(msg)))
		if strings.Contains(msg, "Deactivated") || len(lines) >= 12 {
			deactivated = strings.Contains(msg, "Deactivated")
			break
		}
	}
	if !deactivated {
		return
	}
	p.para("The outage, from the journal (times after the first `systemctl reload` began; lines from `gracelab:` are the servers' own):")
	p.lines(lines)
	f := r.Final.Snapshot
	p.para("The unit ended %s with `Result=%s` and %d restarts, under `Restart=%s`: the main process had exited on its own, "+
		"so systemd stopped the rest of the unit's cgroup, and `on-failure` does not restart a unit whose result is success.",
		stateText(f), f.Result, f.NRestarts, orNone(r.Unit.Show["Restart"]))
}
