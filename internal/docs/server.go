package docs

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/result"
)

// keyProps are systemd properties worth reading before the full list.
var keyProps = []string{"Type", "PIDFile", "ExecStart", "ExecReload", "EnvironmentFiles", "KillMode", "NotifyAccess", "GuessMainPID", "Restart"}

func serverPage(m *model, server string) []byte {
	var p page
	p.para("%s", Marker)
	p.heading(1, fmt.Sprintf("Server %s under systemd", code(server)))
	p.para("[← back to the writeup](README.md)")
	cells := m.cellsWhere(func(k key) bool { return k.Server == server })
	p.para("Every variant and load profile this server ran, newest run per environment. For each: the exact unit files, " +
		"what systemd made of them, the requests over time, what systemd reported after each reload, the journal and the verdict.")
	var rows [][]string
	for _, c := range cells {
		for _, e := range c.envs(m.envs) {
			r := c.newest(e)
			rows = append(rows, []string{code(c.key.Experiment), fmt.Sprintf("[%s](#%s)", code(c.key.Variant), slug(c.key.heading())),
				code(c.key.Profile), e.label(), verdictText(r)})
		}
	}
	p.table([]string{"Experiment", "Variant", "Profile", "Environment", "Verdict"}, rows)

	for _, c := range cells {
		p.heading(2, c.key.heading())
		for _, e := range c.envs(m.envs) {
			runSection(&p, m, c, e)
		}
	}
	return p.Bytes()
}

func runSection(p *page, m *model, c *cell, e env) {
	r := c.newest(e)
	p.heading(3, "On "+e.label())
	p.para("Run %s, started %s, took %s s in all. Verdict: **%s**.", code(r.ID), r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		secs(r.WallMS), verdictText(r))
	if r.Interrupted {
		p.para("⚠️ This run was interrupted.")
	}
	for _, err := range r.Errors {
		p.para("⚠️ Run error: %s", code(err))
	}

	p.heading(4, "Verdict")
	var rows [][]string
	for _, ch := range r.Verdict.Checks {
		rows = append(rows, []string{code(ch.Name), outcomeText(outcomeOf(ch.Outcome)), ch.Reason})
	}
	if len(rows) == 0 {
		p.para("The result has no checks, so its verdict is unknown.")
	} else {
		p.table([]string{"Check", "Outcome", "Reason"}, rows)
	}

	p.heading(4, "Unit files")
	if len(r.Unit.Files) == 0 {
		p.para("The result records no unit file.")
	}
	for _, f := range r.Unit.Files {
		p.para("%s:", code(f.Path))
		p.fence(langOf(f.Path), f.Text)
	}

	p.heading(4, "What systemd made of it")
	if r.Unit.Verify == "" {
		p.para("`systemd-analyze verify %s` exited %d with no output.", r.Unit.Name, r.Unit.VerifyExit)
	} else {
		p.para("`systemd-analyze verify %s` exited %d:", r.Unit.Name, r.Unit.VerifyExit)
		p.fence("text", r.Unit.Verify)
	}
	showProps(p, r.Unit.Show)

	p.heading(4, "Requests over time")
	base := m.images[r]
	p.para("![Requests per %s ms bin for %s, variant %s, profile %s: successes stacked by serving PID, failures by class, reloads shaded](%s/%s-timeline.svg)",
		fmt.Sprintf("%g", r.Timeline.BinMS), r.Server, r.Variant, r.Profile, ImgDir, base)
	p.para("![Latency p50, p99 and max per bin, slow in-flight requests as points](%s/%s-latency.svg)", ImgDir, base)
	summaryTable(p, r)

	p.heading(4, "What systemd reported around each reload")
	reloadTable(p, r)

	p.heading(4, "Slow in-flight requests")
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
		p.heading(4, "Failed requests (samples)")
		rows = nil
		for _, f := range r.Failures {
			rows = append(rows, []string{secs(f.ScheduledMS), f.Class, codeOrNone(f.Error)})
		}
		p.table([]string{"Scheduled (s)", "Class", "Error"}, rows)
	}

	p.heading(4, "Journal")
	if len(r.Journal) == 0 {
		p.para("The result has no journal lines for the unit.")
	} else {
		p.details(fmt.Sprintf("%s of %s", plural(len(r.Journal), "journal line", "journal lines"), r.Unit.Name), func() {
			p.fence("text", strings.Join(r.Journal, "\n"))
		})
	}

	if older := c.runs[e][1:]; len(older) > 0 {
		p.heading(4, "Other runs of this row")
		p.para("The tables above show the newest run. Older runs in the same environment:")
		for _, o := range older {
			p.f("- %s: %s, %d of %d requests failed\n", code(o.ID), verdictText(o), o.Summary.Failed, o.Summary.Sent)
		}
		p.f("\n")
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
		line := fmt.Sprintf("- Reload %d: %s at %s s, returned after %s ms with exit status %d", rl.N, code(rl.Command), secs(rl.StartMS), ms(rl.TookMS), rl.Exit)
		if o := strings.TrimSpace(rl.Output); o != "" {
			line += ", output " + code(o)
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
	add := func(what string, s result.Snapshot) {
		tracked, _ := analysis.Tracked(s)
		t := "no"
		if tracked {
			t = "yes"
		}
		pf := orNone(s.PIDFileContent)
		if pathCol {
			pf = fmt.Sprintf("%s (%s)", pf, code(s.PIDFile))
		}
		serving := pidText(s.ServingPID)
		if s.ServingPID == 0 && s.ServingError != "" {
			serving = "none: " + code(s.ServingError)
		}
		rows = append(rows, []string{what, secs(s.AtMS), pidText(s.MainPID), stateText(s), fmt.Sprint(s.NRestarts), serving, t, pf})
	}
	for _, rl := range r.Reloads {
		add(fmt.Sprintf("reload %d, before", rl.N), rl.Before)
		add(fmt.Sprintf("reload %d, after", rl.N), rl.After)
		add(fmt.Sprintf("reload %d, settled", rl.N), rl.Settled)
	}
	add("end of load", r.Final.Snapshot)
	add("after stop", r.Final.AfterStop)
	pfHeader := "PID file content"
	switch {
	case pathCol:
		pfHeader = "PID file content (PIDFile path)"
	case len(paths) == 1:
		p.para("systemd's `PIDFile` property was %s in every snapshot that recorded one.", code(paths[0]))
	default:
		p.para("No snapshot recorded a `PIDFile` property.")
	}
	p.table([]string{"When", "At (s)", "MainPID", "State", "NRestarts", "Serving PID", "MainPID serves?", pfHeader}, rows)
	p.para("*MainPID serves?* is yes when the unit is active and MainPID is the serving process or its parent chain holds it. "+
		"Stopping the unit: exit status %d; unit removed afterwards: %s.", r.Final.StopExit, yesNo(r.Final.UnitRemoved))
	if n := len(r.Final.ProcessesLeft); n > 0 {
		p.para("%s left after stopping:", plural(n, "process was", "processes were"))
		var rows [][]string
		for _, pr := range r.Final.ProcessesLeft {
			rows = append(rows, []string{fmt.Sprint(pr.PID), code(pr.Command)})
		}
		p.table([]string{"PID", "Command"}, rows)
	}
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
