package writeup

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// keyProps are systemd properties worth reading before the full list.
var keyProps = []string{"Type", "PIDFile", "ExecStart", "ExecReload", "EnvironmentFiles", "KillMode", "NotifyAccess", "GuessMainPID", "Restart"}

// variantHeading is the heading of a variant's part of its server page.
func variantHeading(variant string) string { return "Variant " + code(variant) }

// RunDir is the folder of the per-run pages under the docs dir.
const RunDir = "runs"

// runPageName is the page of the newest run of a cell in an environment.
func runPageName(m *model, r *result.Result) string { return RunDir + "/" + m.images[r] + ".md" }

func serverPage(m *model, server string) []byte { return serverPageIn(m, server, english) }

// serverPageIn is a server's page: per variant its unit files and each
// question as k of N per cell, linking the newest run's own page.
func serverPageIn(m *model, server string, l lang) []byte {
	p := &lpage{l: l}
	p.para("%s", Marker)
	p.head(1, fmt.Sprintf("Server %s under systemd", code(server)), fmt.Sprintf("systemd の下のサーバ %s", code(server)))
	name := fileSafe(server) + ".md"
	p.counterpart(name)
	p.say("[← back to the writeup](README.md)", "[← 記事に戻る](README.md)")
	if st := describe(server); st != "" {
		if ja := describeJa(server); l.ja && ja != "" {
			p.para("再起動のしかた：%s", ja)
		} else {
			p.say("How it restarts: %s", "再起動のしかた（英語）：%s", st)
		}
	}
	p.say("Every variant this server ran: its unit files, and per experiment and load profile each question as *k of N* runs "+
		"that failed it (95%% interval). The newest run of each row has a page of its own: what systemd made of the unit and said, "+
		"the requests over time, each reload, the stop and the journal.",
		"このサーバで動かしたすべての変種です。unit ファイルと、実験と負荷のプロファイルごとに、各問いに落ちた実行の数"+
			"（*N 回中 k 回*、95%% 区間）を示します。各行のいちばん新しい実行には専用のページ（英語）があり、systemd が unit をどう解釈し何を記録したか、"+
			"時間ごとのリクエスト、各リロード、停止、ジャーナルが載っています。")
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
			p.say("**This variant is the control:** it must lose requests. A run of it that loses none would mean the lab cannot see loss.",
				"**この変種は対照実験です：** 必ずリクエストを落とすはずです。落とさない実行があれば、ラボが損失を見られていないことになります。")
		}
		p.say("Settings that decide how a reload goes: %s.", "リロードの結果を決める設定：%s。", traitsText(newest[0].Unit))
		if sameFiles(newest) {
			p.details(l.t("The unit files, the same in every run", "unit ファイル（すべての実行で同じ）"), func() { unitFiles(&p.page, newest[0].Unit) })
		} else {
			p.say("The unit files differ between runs: each run's page shows its own.", "unit ファイルは実行ごとに違います。各実行のページを見てください。")
		}
		for _, e := range envsOf(cells, m.envs) {
			var rows [][]string
			for _, c := range cells {
				rs := c.runs[e]
				if len(rs) == 0 {
					continue
				}
				row := []string{c.key.Experiment + " · " + code(c.key.Profile)}
				for _, q := range check.Questions {
					row = append(row, rateText(l, rate.Of(rs, q)))
				}
				r := rs[0]
				rows = append(rows, append(row, fmt.Sprintf("[%s](%s%s)", verdictWords(r, l), p.up(), runPageName(m, r))))
			}
			header := []string{l.t("Experiment · profile", "実験 · プロファイル")}
			for _, q := range check.Questions {
				header = append(header, l.t(questionHeaders[q], "落ちた実行："+l.question(q)))
			}
			p.say("On %s:", "%s では：", e.label())
			p.table(append(header, l.t("Newest run", "いちばん新しい実行")), rows)
		}
	}
	return p.Bytes()
}

// verdictWords is a run's verdict, and what failed in words.
func verdictWords(r *result.Result, l lang) string {
	o := outcome(r.Verdict)
	if o == result.Pass {
		return l.outcome(o)
	}
	var what []string
	for _, q := range check.Questions {
		if x, ok := check.ByQuestion(r.Verdict)[q]; ok && x == result.Fail {
			what = append(what, l.question(q))
		}
	}
	if len(what) == 0 {
		return l.outcome(o)
	}
	return strings.Fields(outcomeText(o))[0] + " " + strings.Join(what, l.t("; ", "、"))
}

// runPage is the newest run of a cell in one environment, in full.
func runPage(m *model, c *cell, e env) []byte {
	var p page
	p.root = "../"
	p.para("%s", Marker)
	p.heading(1, fmt.Sprintf("%s %s · %s · %s", c.key.Server, code(c.key.Variant), c.key.Experiment, code(c.key.Profile)))
	p.para("[← %s](../%s.md#%s) · [the writeup](../README.md)", c.key.Server, fileSafe(c.key.Server), slug(variantHeading(c.key.Variant)))
	runSection(&p, m, c, e, true)
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
	sub := 2
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
		fmt.Sprintf("%g", r.Timeline.BinMS), r.Server, r.Variant, r.Profile, p.root+ImgDir, base)
	p.para("![Latency p50, p99 and max per bin, slow in-flight requests as points](%s/%s-latency.svg)", p.root+ImgDir, base)
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
		p.details(fmt.Sprintf("Journal: %s of %s", plural(len(r.Journal), "line", "lines"), r.Unit.Name), func() {
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
	if len(r.Journal) > 0 && !journalShowsStop(r) {
		p.para("The journal in this result ends before the stop, so it does not show what systemd did while stopping.")
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

// journalShowsStop says the journal has systemd's lines of the stop.
func journalShowsStop(r *result.Result) bool {
	for _, l := range r.Journal {
		if _, msg, ok := splitJournal(l); ok {
			for _, w := range []string{"Stopping ", "Stopped ", "Deactivated successfully", "Killing process", "Failed with result"} {
				if strings.Contains(msg, w) {
					return true
				}
			}
		}
	}
	return false
}
