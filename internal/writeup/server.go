package writeup

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// keyProps are systemd properties worth reading before the full list.
var keyProps = []string{"Type", "PIDFile", "ExecStart", "ExecReload", "EnvironmentFiles", "KillMode", "NotifyAccess", "GuessMainPID", "Restart"}

// variantHeading is the heading of a variant's part of its server page.
func variantHeading(variant string) string { return "Variant " + code(variant) }

func serverPage(m *model, server string) []byte {
	var p page
	p.para("%s", Marker)
	p.heading(1, fmt.Sprintf("Server %s under systemd", code(server)))
	p.para("[← back to the writeup](README.md)")
	if st := describe(server); st != "" {
		p.para("How it restarts: %s", st)
	}
	p.para("Every variant, experiment and load profile this server ran, newest run per environment. For each: the exact unit files, " +
		"what systemd made of them and said about them, the requests over time, what systemd reported after each reload, " +
		"how the unit stopped, the journal and the verdict.")
	oneEnv := len(m.envs) == 1
	if oneEnv {
		p.para("All runs on %s.", m.envs[0].label())
	}
	var rows [][]string
	for _, v := range m.variants(server) {
		for _, c := range serverCells(m, server, v) {
			for _, e := range c.envs(m.envs) {
				r := c.newest(e)
				row := []string{fmt.Sprintf("[%s](#%s)", code(v), slug(variantHeading(v))),
					fmt.Sprintf("[%s · %s](#%s)", c.key.Experiment, code(c.key.Profile), slug(c.key.heading()))}
				if !oneEnv {
					row = append(row, e.label())
				}
				rows = append(rows, append(row, verdictCell(r), fmt.Sprintf("%d of %d", r.Summary.Failed, r.Summary.Sent), stopText(r)))
			}
		}
	}
	header := []string{"Variant", "Experiment · profile"}
	if !oneEnv {
		header = append(header, "Environment")
	}
	p.table(append(header, "Verdict", "Failed requests", "Stop"), rows)

	for _, v := range m.variants(server) {
		cells := serverCells(m, server, v)
		p.heading(2, variantHeading(v))
		var newest []*result.Result
		control := false
		for _, c := range cells {
			for _, e := range c.envs(m.envs) {
				newest = append(newest, c.newest(e))
				control = control || c.newest(e).Unit.Control
			}
		}
		if sum := m.summaryOf(server, v); sum != "" {
			p.para("*%s*", sum)
		}
		if control {
			p.para("**This variant is the control:** it must lose requests. A run of it that loses none would mean the lab cannot see loss.")
		}
		p.para("Settings that decide how a reload goes: %s.", traitsText(newest[0].Unit))
		shared := sameFiles(newest)
		if shared {
			p.para("The unit files, the same in every run below:")
			unitFiles(&p, newest[0].Unit)
		}
		for _, c := range cells {
			p.heading(3, c.key.heading())
			for _, e := range c.envs(m.envs) {
				runSection(&p, m, c, e, !shared)
			}
		}
	}
	return p.Bytes()
}

// serverCells are the rows of one variant, by experiment and profile.
func serverCells(m *model, server, variant string) []*cell {
	return m.cellsWhere(func(k key) bool { return k.Server == server && k.Variant == variant })
}

// sameFiles says every run installed the same files with the same text.
func sameFiles(rs []*result.Result) bool {
	for _, r := range rs[1:] {
		if len(r.Unit.Files) != len(rs[0].Unit.Files) {
			return false
		}
		for i, f := range r.Unit.Files {
			if f != rs[0].Unit.Files[i] {
				return false
			}
		}
	}
	return true
}

func unitFiles(p *page, u result.Unit) {
	if len(u.Files) == 0 {
		p.para("The result records no unit file.")
	}
	for _, f := range u.Files {
		p.para("%s:", code(f.Path))
		p.fence(langOf(f.Path), f.Text)
	}
}

// upgradeText says what the deploy of an upgrade experiment put on disk.
func upgradeText(r *result.Result) string {
	if r.Load.Upgrade == "" || len(r.Reloads) == 0 {
		return ""
	}
	at := secs(r.Reloads[0].StartMS)
	if r.Load.Upgrade == "broken" {
		return fmt.Sprintf("The deploy: right before the reload at %s s, the binary on disk was replaced by the build %s, which exits "+
			"at once at start with a config error. The best outcome is the old process serving on as if nothing happened.", at, code(r.Load.Upgrade))
	}
	return fmt.Sprintf("The deploy: right before the reload at %s s, the binary on disk was replaced by the new build %s. "+
		"The reload must bring that version up without losing a request.", at, code(r.Load.Upgrade))
}

func runSection(p *page, m *model, c *cell, e env, showFiles bool) {
	r := c.newest(e)
	sub := 4
	if len(m.envs) > 1 {
		p.heading(4, "On "+e.label())
		sub = 5
	}
	p.para("Run %s on %s, started %s, took %s s in all. Verdict: **%s**.", code(r.ID), e.label(),
		r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), secs(r.WallMS), verdictText(r))
	rerunSection(p, r)
	if t := upgradeText(r); t != "" {
		p.para("%s", t)
	}
	if r.Interrupted {
		p.para("⚠️ This run was interrupted.")
	}
	for _, err := range r.Errors {
		p.para("⚠️ Run error: %s", code(err))
	}

	said := systemdSaid(r)
	if len(said) > 0 {
		p.para("**What systemd said** about the PID file, the main process and the unit's state (from the journal below):")
		for _, l := range said {
			line := "- "
			if l.at != "" {
				line += l.at + " "
			}
			line += code(l.msg)
			if l.n > 1 {
				line += fmt.Sprintf(" (%d times in all)", l.n)
			}
			p.f("%s\n", line)
		}
		p.f("\n")
	} else if len(r.Journal) > 0 {
		p.para("systemd logged nothing about the PID file, the main process or the unit failing.")
	}

	if said := serverSaid(r); len(said) > 0 {
		p.para("**What the server's processes said** (errors, failures, upgrades):")
		for _, l := range said {
			p.f("%s\n", l)
		}
		p.f("\n")
	}

	var rows [][]string
	for _, ch := range r.Verdict.Checks {
		rows = append(rows, []string{code(ch.Name), outcomeText(outcomeOf(ch.Outcome)), ch.Reason})
	}
	if len(rows) == 0 {
		p.para("The result has no checks, so its verdict is unknown.")
	} else {
		p.table([]string{"Check", "Outcome", "Reason"}, rows)
	}

	if showFiles {
		p.heading(sub, "Unit files")
		unitFiles(p, r.Unit)
	}

	p.heading(sub, "What systemd made of it")
	if r.Unit.Verify == "" {
		p.para("`systemd-analyze verify %s` exited %d with no output.", r.Unit.Name, r.Unit.VerifyExit)
	} else {
		p.para("`systemd-analyze verify %s` exited %d:", r.Unit.Name, r.Unit.VerifyExit)
		p.fence("text", r.Unit.Verify)
	}
	showProps(p, r.Unit.Show)

	p.heading(sub, "Requests over time")
	base := m.images[r]
	p.para("![Requests per %s ms bin for %s, variant %s, profile %s: successes stacked by serving PID, failures by class with small counts written out, reloads and the stop shaded, changes of the unit's state marked](%s/%s-timeline.svg)",
		fmt.Sprintf("%g", r.Timeline.BinMS), r.Server, r.Variant, r.Profile, ImgDir, base)
	p.para("![Latency p50, p99 and max per bin, slow in-flight requests as points](%s/%s-latency.svg)", ImgDir, base)
	summaryTable(p, r)

	p.heading(sub, "What systemd reported around each reload")
	reloadTable(p, r)

	p.heading(sub, "Stopping the unit")
	stopSection(p, r)

	p.heading(sub, "Slow in-flight requests")
	if len(r.Slow) == 0 {
		p.para("None were sent.")
	} else {
		rows = nil
		for _, s := range r.Slow {
			rows = append(rows, []string{fmt.Sprint(s.Reload), secs(s.StartMS), s.Outcome, ms(s.LatencyMS), pidText(s.PID), s.Class, codeOrNone(s.Error)})
		}
		p.table([]string{"Reload", "Started (s)", "Outcome", "Latency (ms)", "Served by PID", "Class", "Error"}, rows)
	}

	if len(r.Failures) > 0 {
		p.details(fmt.Sprintf("%s (samples spread over the run)", plural(len(r.Failures), "failed request", "failed requests")), func() {
			rows := [][]string{}
			for _, f := range r.Failures {
				rows = append(rows, []string{secs(f.ScheduledMS), f.Class, codeOrNone(f.Error)})
			}
			p.table([]string{"Scheduled (s)", "Class", "Error"}, rows)
		})
	}

	if len(r.Journal) == 0 {
		p.para("The result has no journal lines for the unit.")
	} else {
		p.details(fmt.Sprintf("Journal: %s of %s, up to the end of the load", plural(len(r.Journal), "line", "lines"), r.Unit.Name), func() {
			if n := earlierLines(r); n > 0 {
				verb := "belong"
				if n == 1 {
					verb = "belongs"
				}
				p.para("%s stamped before this run started (%s) %s to an earlier run of the same unit; the list above leaves them out.",
					plural(n, "line", "lines"), r.Started.UTC().Format("15:04:05.000"), verb)
			}
			p.fence("text", strings.Join(r.Journal, "\n"))
		})
	}

	if older := c.runs[e][1:]; len(older) > 0 {
		p.para("Older runs of this row in the same environment (the tables above show the newest):")
		for _, o := range older {
			p.f("- %s: %s, %d of %d requests failed\n", code(o.ID), verdictText(o), o.Summary.Failed, o.Summary.Sent)
		}
		p.f("\n")
	}
}

// stopSection says how `systemctl stop` went and what was left.
func stopSection(p *page, r *result.Result) {
	f := r.Final
	if f.AfterStop.ActiveState == "" {
		p.para("The result does not record the unit's state after `systemctl stop` (exit status %d, %s s).", f.StopExit, secs(f.StopTookMS))
	} else {
		p.para("`systemctl stop` took %s s and exited %d; afterwards the unit was %s.", secs(f.StopTookMS), f.StopExit, resultText(f.AfterStop))
	}
	if c, ok := checkOf(r, "unit_stops_cleanly"); ok && outcomeOf(c.Outcome) != result.Pass {
		msg := "⚠️ **The unit did not stop cleanly.**"
		if f.AfterStop.Result == "timeout" {
			msg += " systemd's result is `timeout`: the service did not exit within its stop timeout after SIGTERM, and systemd killed what was left."
		}
		p.para("%s", msg)
	}
	if len(r.Journal) > 0 && f.AfterStop.ActiveState != "" && (f.AfterStop.ActiveState != "inactive" || f.AfterStop.Result != "success") {
		p.para("The journal in this result ends with the load, before the stop, so it does not show what systemd did while stopping.")
	}
	p.para("Unit files removed afterwards: %s.", yesNo(f.UnitRemoved))
	if n := len(f.ProcessesLeft); n > 0 {
		p.para("⚠️ %s left after stopping:", plural(n, "process was", "processes were"))
		var rows [][]string
		for _, pr := range f.ProcessesLeft {
			rows = append(rows, []string{fmt.Sprint(pr.PID), code(pr.Command)})
		}
		p.table([]string{"PID", "Command"}, rows)
	}
}
func showProps(p *page, show map[string]string) {
	if len(show) == 0 {
		p.para("The result records no `systemctl show` properties.")
		return
	}
	var rows [][]string
	for _, k := range keyProps {
		if v, ok := show[k]; ok {
			rows = append(rows, []string{code(k), code(v)})
		}
	}
	if len(rows) > 0 {
		p.para("`systemctl show` after installing, the properties that decide how a reload goes:")
		p.table([]string{"Property", "Value"}, rows)
	}
	p.details(fmt.Sprintf("All %d properties recorded", len(show)), func() {
		var b strings.Builder
		for _, k := range sortedKeys(show) {
			fmt.Fprintf(&b, "%s=%s\n", k, show[k])
		}
		p.fence("text", b.String())
	})
}

func summaryTable(p *page, r *result.Result) {
	s := r.Summary
	pids := make([]string, len(s.PIDs))
	for i, pid := range s.PIDs {
		pids[i] = fmt.Sprint(pid)
	}
	behind := "no"
	if s.FellBehind {
		behind = "yes"
	}
	p.table([]string{"Requests", "Value"}, [][]string{
		{"sent / ok / failed", fmt.Sprintf("%d / %d / %s", s.Sent, s.OK, failedText(s))},
		{"longest gap without a success", fmt.Sprintf("%s ms, from %s s", ms(s.LongestGapMS), secs(s.GapStartMS))},
		{"latency p50 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f ms", s.P50MS, s.P99MS, s.MaxMS)},
		{"serving PIDs, in order", strings.Join(pids, ", ")},
		{"rate achieved / target", fmt.Sprintf("%.0f / %.0f req/s", s.AchievedRate, s.TargetRate)},
		{"send lag p99 / max; load fell behind", fmt.Sprintf("%.1f / %.1f ms; %s", s.SendLagP99MS, s.SendLagMaxMS, behind)},
		{"slow in-flight requests completed", slowText(s)},
	})
}

func reloadTable(p *page, r *result.Result) {
	if len(r.Reloads) == 0 {
		p.para("The run had no reload.")
	}
	for _, rl := range r.Reloads {
		line := fmt.Sprintf("- Reload %d: %s at %s s returned after %s ms with exit status %d", rl.N, code(rl.Command), secs(rl.StartMS), ms(rl.TookMS), rl.Exit)
		if o := strings.TrimSpace(rl.Output); o != "" {
			line += ", output " + code(o)
		}
		if rl.FirstNewOKMS >= 0 {
			line += fmt.Sprintf("; first success from a process that had not served before: %s ms after the reload", ms(rl.FirstNewOKMS))
		} else {
			line += "; no process that had not served before answered afterwards"
		}
		p.f("%s\n", line)
	}
	if len(r.Reloads) > 0 {
		p.f("\n")
	}
	snaps := []result.Snapshot{r.Final.Snapshot, r.Final.AfterStop}
	for _, rl := range r.Reloads {
		snaps = append(snaps, rl.Before, rl.After, rl.Settled)
	}
	var paths []string
	for _, s := range snaps {
		if s.PIDFile != "" {
			paths = addUniq(paths, s.PIDFile)
		}
	}
	// One PIDFile path throughout is said once; a changing one gets a column.
	pathCol := len(paths) > 1
	var rows [][]string
	add := func(what string, s result.Snapshot, at string) {
		tracked, _ := check.Tracked(s)
		t := "no"
		if tracked {
			t = "yes"
		}
		pf := orNone(s.PIDFileContent)
		if pathCol {
			pf = fmt.Sprintf("%s (%s)", pf, code(s.PIDFile))
		}
		rows = append(rows, []string{what, at, pidText(s.MainPID), resultText(s), fmt.Sprint(s.NRestarts), servingText(s), t, pf})
	}
	for _, rl := range r.Reloads {
		add(fmt.Sprintf("reload %d, before", rl.N), rl.Before, secs(rl.Before.AtMS))
		add(fmt.Sprintf("reload %d, just after", rl.N), rl.After, secs(rl.After.AtMS))
		add(fmt.Sprintf("reload %d, settled", rl.N), rl.Settled, secs(rl.Settled.AtMS))
	}
	// The final snapshots are taken after the load; their time is not on
	// the load's clock.
	finalAt := func(s result.Snapshot) string {
		if s.AtMS == 0 {
			return "after"
		}
		return secs(s.AtMS)
	}
	add("end of load", r.Final.Snapshot, finalAt(r.Final.Snapshot))
	add("after stop", r.Final.AfterStop, finalAt(r.Final.AfterStop))
	pfHeader := "PID file content"
	switch {
	case pathCol:
		pfHeader = "PID file content (PIDFile path)"
	case len(paths) == 1:
		p.para("systemd's `PIDFile` property was %s in every snapshot that recorded one.", code(paths[0]))
	default:
		p.para("No snapshot recorded a `PIDFile` property.")
	}
	p.table([]string{"When", "At (s)", "MainPID", "State", "NRestarts", "Serving PID (version)", "MainPID serves?", pfHeader}, rows)
	p.para("*MainPID serves?* is yes when the unit is active and MainPID is the serving process or its parent chain holds it.")
}

func outcomeOf(o result.Outcome) result.Outcome {
	if o == result.Pass || o == result.Fail {
		return o
	}
	return result.Unknown
}

func pidText(pid int) string {
	if pid == 0 {
		return "none"
	}
	return fmt.Sprint(pid)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func langOf(path string) string {
	if strings.HasSuffix(path, ".service") || strings.HasSuffix(path, ".socket") || strings.HasSuffix(path, ".conf") {
		return "ini"
	}
	return "sh"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// codeOrNone keeps error texts verbatim (no autolinked URLs).
func codeOrNone(s string) string {
	if s == "" {
		return "–"
	}
	return code(s)
}
