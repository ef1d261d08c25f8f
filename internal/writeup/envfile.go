package writeup

import (
	"fmt"
	"github.com/gracelab/gracelab/internal/analysis"
	"slices"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/rate"
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

func envfilePage(m *model) []byte { return envfilePageIn(m, english) }

// envfilePageIn answers the blog post's second question in full: per
// variant that puts the PID file path in a variable or a specifier, what
// systemd made of PIDFile=, what it said, and k of N per environment.
func envfilePageIn(m *model, l lang) []byte {
	p := &lpage{l: l}
	p.para("%s", Marker)
	p.head(1, "Can the PID file path come from `EnvironmentFile=`?", "PID ファイルのパスを `EnvironmentFile=` で設定できるか")
	p.counterpart("envfile.md")
	p.say("[← back to the writeup](README.md)", "[← 記事に戻る](README.md)")
	p.say("Some services keep their settings, the PID file path among them, in a file read with "+
		"`EnvironmentFile=` and write the unit as `PIDFile=${PIDFILE}`. systemd must know the PID file to "+
		"follow a server that replaces its own process. This page shows what systemd did with that line, "+
		"next to units that write the path once in other ways, and what happened to the service and its requests.",
		"PID ファイルのパスを含む設定を `EnvironmentFile=` で読み込むファイルに置き、unit に `PIDFile=${PIDFILE}` と書くサービスがあります。"+
			"自分のプロセスを入れ替えるサーバを追いかけるには、systemd は PID ファイルを知っている必要があります。"+
			"このページでは、systemd がその行をどう扱ったかを、パスを別の方法で一度だけ書いた unit と並べて示し、"+
			"サービスとリクエストがどうなったかを示します。")
	var vs []string
	for _, v := range envfileVariants() {
		if len(m.cellsWhere(func(k key) bool { return isBase(k.Experiment) && k.Variant == v })) > 0 {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		p.say("No result in `results/` has one of the variants %s, so this page has no answer yet. "+
			"Run `go run mage.go experiment:reload grace` and render again.",
			"`results/` には変種 %s の結果がないので、このページにはまだ答えがありません。"+
				"`go run mage.go experiment:reload grace` を実行してから作り直してください。", strings.Join(envfileVariants(), ", "))
		return p.Bytes()
	}
	p.head(2, "Which form works", "どの書き方なら動くか")
	for _, e := range m.envs {
		var rows [][]string
		for _, v := range vs {
			for _, c := range m.cellsWhere(func(k key) bool { return isBase(k.Experiment) && k.Variant == v }) {
				rs := c.runs[e]
				if len(rs) == 0 {
					continue
				}
				written, _ := writtenPIDFile(rs[0].Unit)
				rows = append(rows, []string{fmt.Sprintf("%s %s", variantLink(p, c.key.Server, v), code(c.key.Profile)),
					code("PIDFile=" + written), showPIDFile(rs[0].Unit.Show, l),
					rateText(l, rate.Of(rs, check.Requests)), rateText(l, rate.Of(rs, check.Tracking))})
			}
		}
		if len(rows) == 0 {
			continue
		}
		p.say("On %s:", "%s では：", e.label())
		p.table([]string{l.t("Variant, profile", "変種、プロファイル"), l.t("Unit file says", "unit ファイルの記述"), l.t("systemd's PIDFile", "systemd の PIDFile"),
			l.t("Runs that lost requests", "リクエストを落とした実行"), l.t("Runs where systemd lost the server", "systemd がサーバを見失った実行")}, rows)
	}
	for _, v := range vs {
		envfileSection(p, m, v)
	}
	return p.Bytes()
}

// envfileSection is one variant: its unit, what systemd made of its
// PIDFile= and said about it, and the newest run's outage, if any.
func envfileSection(p *lpage, m *model, variant string) {
	cells := m.cellsWhere(func(k key) bool { return isBase(k.Experiment) && k.Variant == variant })
	var r *result.Result
	for _, c := range cells {
		for _, e := range c.envs(m.envs) {
			if x := c.newest(e); r == nil || x.ID > r.ID {
				r = x
			}
		}
	}
	l := p.l
	p.heading(2, variantHeading(variant))
	if sum := m.summaryOf(r.Server, variant); sum != "" {
		p.para("*%s*", sum)
	}
	p.say("From the newest run, %s on %s ([its page](%s%s)).", "いちばん新しい実行 %s（%s、[その実行のページ](%s%s)（英語））から。",
		code(r.ID), envOf(r).label(), p.up(), runPageName(m, r))
	written, ok := writtenPIDFile(r.Unit)
	shown, recorded := r.Unit.Show["PIDFile"]
	switch {
	case !ok:
		p.say("The unit file sets no `PIDFile=`.", "unit ファイルに `PIDFile=` はありません。")
	case !recorded:
		p.say("The unit file says %s; the result does not record systemd's `PIDFile` property.",
			"unit ファイルには %s とありますが、結果には systemd の `PIDFile` プロパティが記録されていません。", code("PIDFile="+written))
	case shown == "":
		p.say("The unit file says %s, and systemd reports an empty `PIDFile`: the line did not take effect.",
			"unit ファイルには %s とありますが、systemd の `PIDFile` は空でした。この行は効いていません。", code("PIDFile="+written))
	case shown == written:
		p.say("The unit file says %s, and systemd's `PIDFile` is %s: the text as written, nothing expanded.",
			"unit ファイルには %s とあり、systemd の `PIDFile` は %s でした。書いたままで、何も展開されていません。", code("PIDFile="+written), code(shown))
	default:
		p.say("The unit file says %s, and systemd turned it into %s.", "unit ファイルには %s とあり、systemd はそれを %s にしました。",
			code("PIDFile="+written), code(shown))
	}
	p.details(l.t("The unit files", "unit ファイル"), func() {
		for _, f := range r.Unit.Files {
			p.para("%s:", code(f.Path))
			p.fence(langOf(f.Path), f.Text)
		}
	})
	var lines []string
	for _, sl := range systemdSaid(r) {
		if low := strings.ToLower(sl.msg); strings.Contains(low, "pidfile") || strings.Contains(low, "pid file") {
			line := "- " + sl.at + " " + code(sl.msg)
			if sl.n > 1 {
				line += fmt.Sprintf(l.t(" (%d times)", "（%d 回）"), sl.n)
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		p.say("systemd logged nothing about the PID file for this unit.", "systemd はこの unit の PID ファイルについて何も記録しませんでした。")
	} else {
		p.say("What systemd said about the PID file:", "PID ファイルについて systemd が記録したこと：")
		p.lines(lines)
	}
	outageSequence(p, r)
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

func showPIDFile(show map[string]string, l lang) string {
	v, ok := show["PIDFile"]
	switch {
	case !ok:
		return l.t("not recorded", "記録なし")
	case v == "":
		return "(empty)"
	}
	return code(v)
}

// outageSequence is the journal from the first reload until the unit was
// deactivated (systemd's lines and the servers' own), each with its time
// after the reload, and what became of Restart=.
func outageSequence(p *lpage, r *result.Result) {
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
	p.say("The outage, from the journal (times after the first `systemctl reload` began; lines from `gracelab:` are the servers' own):",
		"停止に至るまで（ジャーナルより。時刻は最初の `systemctl reload` の開始から。`gracelab:` の行はサーバ自身のもの）：")
	p.lines(lines)
	f := r.Final.Snapshot
	p.say("The unit ended %s with `Result=%s` and %d restarts, under `Restart=%s`: the main process had exited on its own, "+
		"so systemd stopped the rest of the unit's cgroup, and `on-failure` does not restart a unit whose result is success.",
		"unit は最後に %s になり、`Result=%s`、再起動 %d 回でした（`Restart=%s`）。main プロセスが自分で終了したので systemd は "+
			"unit の cgroup の残りを止め、`on-failure` は結果が success の unit を再起動しません。",
		stateText(f), f.Result, f.NRestarts, orNone(r.Unit.Show["Restart"]))
}
