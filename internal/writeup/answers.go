package writeup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// The blog post this project answers, and the variants that stand for
// its unit and its PIDFile=${PIDFILE} attempt.
const (
	blogURL     = "https://hnakamur.github.io/blog/2017/04/13/tried-graceful-restart-with-facebookgo-grace/"
	blogServer  = "grace"
	blogVariant = "varrun"  // the post's unit: PID file under /var/run
	blogRun     = "pidfile" // the same under /run
	blogEnvfile = "envfile" // PIDFile=${PIDFILE}
	blogCheck   = "carbonapi"
)

// runsOf is every run of a variant in one experiment (all experiments when
// x is ""), in every environment, every repeat and profile.
func (m *model) runsOf(server, variant, x string) []*result.Result {
	var out []*result.Result
	for _, c := range m.cellsWhere(func(k key) bool {
		return k.Server == server && k.Variant == variant && (x == "" || k.Experiment == x)
	}) {
		for _, e := range c.envs(m.envs) {
			out = append(out, c.runs[e]...)
		}
	}
	return out
}

func sent(rs []*result.Result) int {
	n := 0
	for _, r := range rs {
		n += r.Summary.Sent
	}
	return n
}

// systemds names the environments' systemd versions: "252 and 257".
func (m *model) systemds(l lang) string {
	var xs []string
	for _, e := range m.envs {
		xs = addUniq(xs, e.systemdMajor())
	}
	if l.ja {
		return strings.Join(xs, "・")
	}
	return joinAnd(xs)
}

// stopOf sums a variant's stops under load over the environments.
func (m *model) stopOf(server, variant string) (s stopRow) {
	for _, r := range m.stopRows() {
		if r.server == server && r.name == variant {
			s.runs += r.runs
			s.killed += r.killed
			s.alien += r.alien
			s.slowCut += r.slowCut
			s.slowAll += r.slowAll
		}
	}
	return s
}

func readme(m *model) []byte { return readmeIn(m, english) }

// readmeIn is docs/README.md: the blog post's two questions answered
// first, then what else the runs found, then where to read more.
func readmeIn(m *model, l lang) []byte {
	p := &lpage{l: l}
	p.para("%s", Marker)
	p.head(1, "Does a graceful restart lose requests under `systemctl reload`?",
		"グレースフルリスタートは `systemctl reload` でリクエストを落とすか")
	p.counterpart("README.md")
	p.say("In 2017 [a Japanese blog post](%s) ran carbonapi, a Go server that restarts itself with "+
		"[facebookgo/grace](https://github.com/facebookgo/grace), under systemd, and left two questions open. "+
		"This lab answers them with a real systemd, the post's unit file and continuous load, then goes on to the other "+
		"libraries people use.",
		"2017年の[ブログ記事](%s)は、facebookgo/grace でグレースフルリスタートする Go のサーバ carbonapi を systemd で動かし、"+
			"二つの疑問を残しました。このラボは本物の systemd、記事の unit ファイル、途切れない負荷でその答えを出し、"+
			"ほかのよく使われるライブラリも同じように調べます。", blogURL)
	if len(m.results) == 0 {
		p.say("There are no results in `results/` yet. Run `go run mage.go experiment:all` and render again.",
			"`results/` にまだ結果がありません。`go run mage.go experiment:all` を実行してから作り直してください。")
		return p.Bytes()
	}
	p.say("Every number here is computed from the %d result files in `results/` (batch %s), on systemd %s.",
		"数字はすべて `results/` にある %d 個の結果ファイル（バッチ %s）から計算したもので、systemd は %s です。",
		len(m.results), code(m.results[0].Batch), m.systemds(l))
	controlSay(p, m)
	answerReload(p, m)
	answerEnvfile(p, m)
	newFindings(p, m)
	unitsSection(p, m)
	morePages(p, m)
	return p.Bytes()
}

// answerReload is the post's first question.
func answerReload(p *lpage, m *model) {
	p.head(2, "1. Are requests lost when you keep hitting the server during `systemctl reload`?",
		"1. リロード中にリクエストを打ち続けると取りこぼすか")
	blog := m.runsOf(blogServer, blogVariant, "reload")
	if len(blog) == 0 {
		p.say("No run of the post's unit (%s) is in these results.", "この結果には記事の unit（%s）の実行がありません。",
			code(blogServer+"/"+blogVariant))
		return
	}
	req := rate.Of(blog, check.Requests)
	word := p.l.t("**No.**", "**取りこぼしません。**")
	if req.K > 0 {
		word = p.l.t("**Yes, sometimes.**", "**ときどき取りこぼします。**")
	}
	p.say("%s The post's unit, as the lab runs it (%s), lost requests in %d of %d runs: %d requests lost of %d sent, "+
		"with %d reloads under load at 1000 requests a second.",
		"%s 記事の unit をこのラボで動かしたもの（%s）でリクエストを落とした実行は、%[4]d 回中 %[3]d 回でした。"+
			"送った %[6]d 件のうち落ちたのは %[5]d 件、毎秒 1000 リクエストの負荷の下で %[7]d 回リロードしています。",
		word, variantLink(p, blogServer, blogVariant), req.K, req.N, req.Lost, sent(blog), req.Reloads)
	if run := m.runsOf(blogServer, blogRun, "reload"); len(run) > 0 {
		r := rate.Of(run, check.Requests)
		p.say("The same unit with its PID file under `/run` instead of `/var/run` (%s): requests lost in %d of %d runs, %d requests.",
			"PID ファイルを `/var/run` ではなく `/run` に置いた同じ unit（%s）では、リクエストを落とした実行は %[3]d 回中 %[2]d 回、落ちたリクエストは計 %[4]d 件でした。",
			variantLink(p, blogServer, blogRun), r.K, r.N, r.Lost)
	}
	if s := m.stopOf(blogServer, blogVariant); s.runs > 0 && s.killed > 0 {
		p.say("**But stopping it under load does lose requests.** In %d of %d runs, `systemctl stop` sent SIGKILL right after "+
			"SIGTERM and cut %d of %d slow requests in flight: after the reloads, systemd's main PID was not its own child "+
			"(%d of %d runs), and systemd does not wait for such a process. See [stopping under load](%sfindings.md#stopping-under-load).",
			"**ただし、負荷の下で止めると落とします。** %[2]d 回中 %[1]d 回、`systemctl stop` は SIGTERM の直後に SIGKILL を送り、"+
				"処理中の遅いリクエスト %[4]d 件のうち %[3]d 件を切りました。リロードの後、systemd の main PID が自分の子プロセスでなくなり"+
				"（%[6]d 回中 %[5]d 回）、systemd はそういうプロセスの終了を待たないからです。詳しくは[負荷の下での停止](%[7]sfindings.md#stopping-under-load)。",
			s.killed, s.runs, s.slowCut, s.slowAll, s.alien, s.runs, p.up())
	}
	p.say("How the lab's unit differs from the post's: our grace sample server (the same `gracehttp.Serve` call as carbonapi) "+
		"instead of carbonapi, so only `-listen` and `-pid` on its command line and no `EnvironmentFile=` for carbonapi's other flags; "+
		"user `gracelab`; `RuntimeDirectory=` so that `/var/run/<name>` exists. `PIDFile=`, `Type=simple` and "+
		"`ExecReload=/bin/pkill -USR2 --pidfile …` are the post's.",
		"ラボの unit と記事の unit の違い：carbonapi の代わりに同じ `gracehttp.Serve` を呼ぶ grace のサンプルサーバを使うので、"+
			"コマンドラインは `-listen` と `-pid` だけで、carbonapi のほかのフラグのための `EnvironmentFile=` はありません。"+
			"ユーザは `gracelab`、`/var/run/<name>` ができるように `RuntimeDirectory=` を足しています。"+
			"`PIDFile=`、`Type=simple`、`ExecReload=/bin/pkill -USR2 --pidfile …` は記事のままです。")
	if slices.Contains(m.checked, blogCheck) {
		p.say("The post's unit file exactly as written, `EnvironmentFile=` included, ran with `go run mage.go check`: [check/%s.md](%s%s/%s.md).",
			"`EnvironmentFile=` も含めて記事の unit ファイルをそのまま `go run mage.go check` で動かした結果：[check/%s.md](%s%s/%s.md)。",
			blogCheck, p.up(), CheckDir, blogCheck)
	}
}

// answerEnvfile is the post's second question.
func answerEnvfile(p *lpage, m *model) {
	p.head(2, "2. Can the PID file path come from `EnvironmentFile=`?",
		"2. PID ファイルのパスを `EnvironmentFile=` の環境変数で設定できるか")
	env := m.runsOf(blogServer, blogEnvfile, "reload")
	if len(env) == 0 {
		p.say("No run of %s is in these results.", "この結果には %s の実行がありません。", code(blogServer+"/"+blogEnvfile))
		return
	}
	shown := ""
	if v, ok := env[0].Unit.Show["PIDFile"]; ok {
		shown = v
	}
	req, track := rate.Of(env, check.Requests), rate.Of(env, check.Tracking)
	p.say("**No, not in `PIDFile=`.** systemd does not expand `$VAR` there: with `PIDFile=${PIDFILE}` (%s) systemd's `PIDFile` "+
		"property read %s, a path that does not exist. It lost track of the server in %d of %d runs and requests were lost in %d of %d "+
		"(%d requests): when the old process exits at a reload, systemd counts the service as dead and stops the new one too.",
		"**`PIDFile=` ではできません。** systemd はそこで `$VAR` を展開しません。`PIDFile=${PIDFILE}`（%s）と書くと、"+
			"systemd の `PIDFile` プロパティは %s という存在しないパスになりました。サーバを見失った実行は %[4]d 回中 %[3]d 回、"+
			"リクエストを落とした実行は %[6]d 回中 %[5]d 回（%[7]d 件）でした。リロードで古いプロセスが終わると、systemd はサービスが死んだとみなして新しいプロセスも止めるからです。",
		variantLink(p, blogServer, blogEnvfile), code(shown), track.K, track.N, req.K, req.N, req.Lost)
	var alts []string
	for _, v := range []struct{ name, en, ja string }{
		{"specifier", "write the path once with systemd's specifiers, `PIDFile=%t/%N/grace.pid`", "systemd の指定子でパスを一度だけ書く：`PIDFile=%t/%N/grace.pid`"},
		{"pidfile-env", "write `PIDFile=` once and use the `$PIDFILE` systemd exports (since v242) in `ExecStart=` and `ExecReload=`", "`PIDFile=` を一度だけ書き、systemd（v242 以降）が渡す `$PIDFILE` を `ExecStart=` と `ExecReload=` で使う"},
	} {
		rs := m.runsOf(blogServer, v.name, "reload")
		if len(rs) == 0 {
			continue
		}
		r, t := rate.Of(rs, check.Requests), rate.Of(rs, check.Tracking)
		alts = append(alts, fmt.Sprintf(p.l.t("- %s (%s): requests lost in %d of %d runs, systemd lost the server in %d of %d.",
			"- %s（%s）：リクエストを落としたのは %[4]d 回中 %[3]d 回、systemd がサーバを見失ったのは %[6]d 回中 %[5]d 回。"),
			p.l.t(v.en, v.ja), variantLink(p, blogServer, v.name), r.K, r.N, t.K, t.N))
	}
	if len(alts) > 0 {
		p.say("What to write instead:", "代わりにこう書きます：")
		p.lines(alts)
	}
	p.say("The evidence, unit by unit: [envfile.md](%senvfile.md).", "unit ごとの根拠：[envfile.md](%senvfile.md)。", "")
}

// variantLink links a variant's part of its server page.
func variantLink(p *lpage, server, variant string) string {
	return fmt.Sprintf("[%s](%s.md#%s)", code(server+"/"+variant), fileSafe(server), slug(variantHeading(variant)))
}

// newFindings are the findings the post did not ask about.
func newFindings(p *lpage, m *model) {
	p.head(2, "What else the runs found", "ほかに分かったこと")
	var items []string
	alien, alienKilled, child, childKilled := 0, 0, 0, 0
	for _, r := range m.stopRows() {
		alien += r.alien
		alienKilled += r.killedAlien
		child += r.notAlien
		childKilled += r.killedNotAlien
	}
	if alien+child > 0 {
		head := p.l.t("**At a stop under load, systemd waited as it should.**", "**負荷の下での停止で、systemd は正しく待ちました。**")
		if alienKilled+childKilled > 0 {
			head = p.l.t("**A stop under load can SIGKILL at once.**", "**負荷の下での停止で、すぐに SIGKILL されることがある。**")
		}
		items = append(items, fmt.Sprintf(p.l.t(
			"- %s Where systemd's main PID was not its own child, `systemctl stop` sent SIGKILL "+
				"right after SIGTERM in %d of %d runs; where it was its child, in %d of %d. [Why, in systemd's source](%sfindings.md#stopping-under-load).",
			"- %s systemd の main PID が自分の子でないとき、`systemctl stop` は "+
				"%[3]d 回中 %[2]d 回、SIGTERM の直後に SIGKILL を送りました。子であったときは %[5]d 回中 %[4]d 回です。"+
				"[systemd のソースでの理由](%[6]sfindings.md#stopping-under-load)。"),
			head, alienKilled, alien, childKilled, child, p.up()))
	}
	if s := soakFigures(m); len(s) > 0 {
		nothing := 0
		for _, x := range s {
			nothing += x.exit0Nothing
		}
		head := p.l.t("**Every reload of the soaks handed over.**", "**連続リロードはすべて引き継ぎました。**")
		if nothing > 0 {
			head = p.l.t("**Some reloads do nothing, and say they succeeded.**", "**何もしないのに成功と返すリロードがある。**")
		}
		item := "- " + head + p.l.t(" Reloads that handed over to a new process, and those where "+
			"`systemctl reload` exited 0 and nothing new served ([the soaks](", " 新しいプロセスに引き継いだリロードと、"+
			"`systemctl reload` が 0 で終わったのに何も新しく応答しなかったリロード（[連続リロード](") + p.up() + "findings.md#reloads-that-started-nothing)" +
			p.l.t("):", "）：")
		for _, x := range s {
			item += fmt.Sprintf(p.l.t("\n  - %s, one every %s: %d of %d handed over, %d did nothing",
				"\n  - %s、%s ごと：%[4]d 回中 %[3]d 回が引き継ぎ、%[5]d 回は何もせず"),
				x.variant, x.pace, x.gens, x.reloads, x.exit0Nothing)
		}
		items = append(items, item)
	}
	if bs := brokenDeploys(m); len(bs) > 0 {
		item := p.l.t("- **A broken deploy** (a build that exits at start, put in place before the reload): whether the old process kept serving, "+
			"and whether requests were lost:", "- **壊れたビルドのデプロイ**（起動するとすぐ終了するビルドをリロードの前に置く）：古いプロセスが応答し続けたか、リクエストを落としたか：")
		for _, b := range bs {
			item += fmt.Sprintf(p.l.t("\n  - %s: kept serving in %d of %d runs, lost requests in %d of %d",
				"\n  - %s：応答し続けたのは %[3]d 回中 %[2]d 回、リクエストを落としたのは %[5]d 回中 %[4]d 回"),
				variantLink(p, b.server, b.variant), b.kept, b.runs, b.lost, b.runs)
		}
		items = append(items, item)
	}
	items = append(items, clientsFinding(p, m)...)
	items = append(items, lossesFinding(p, m)...)
	items = append(items, hup2015Finding(p, m)...)
	if len(items) == 0 {
		p.say("Nothing beyond the two answers: these results hold no stop under load, soak or deploy.",
			"二つの答えのほかにはありません。この結果には負荷の下での停止、連続リロード、デプロイの実行がありません。")
		return
	}
	p.lines(items)
}

type soakRow struct {
	variant, pace               string
	reloads, gens, exit0Nothing int
}

// soakFigures sums the soaks per variant and pace over the environments.
func soakFigures(m *model) []soakRow {
	var out []soakRow
	for _, x := range []struct{ name, pace string }{{"soak", "1 s"}, {"soak-3s", "3 s"}} {
		for _, vr := range m.byVariant() {
			rs := m.runsOf(vr.server, vr.variant, x.name)
			if len(rs) == 0 {
				continue
			}
			row := soakRow{variant: code(vr.server + "/" + vr.variant), pace: x.pace}
			for _, r := range rs {
				row.reloads += len(r.Reloads)
				row.gens += analysis.Generations(r.Reloads)
				for _, rl := range r.Reloads {
					if rl.FirstNewOKMS < 0 && rl.Exit == 0 {
						row.exit0Nothing++
					}
				}
			}
			out = append(out, row)
		}
	}
	return out
}

type brokenRow struct {
	server, variant  string
	runs, kept, lost int
}

// brokenDeploys is each variant's broken deploys, over the environments.
func brokenDeploys(m *model) []brokenRow {
	var out []brokenRow
	for _, vr := range m.byVariant() {
		var rs []*result.Result
		for _, c := range m.cellsWhere(func(k key) bool { return k.Server == vr.server && k.Variant == vr.variant && isBroken(k.Experiment) }) {
			for _, e := range c.envs(m.envs) {
				rs = append(rs, c.runs[e]...)
			}
		}
		if len(rs) == 0 || vr.control {
			continue
		}
		b := brokenRow{server: vr.server, variant: vr.variant}
		for _, r := range rs {
			b.runs++
			if o, ok := checkOutcome(r, "old_process_keeps_serving"); ok && o == result.Pass {
				b.kept++
			}
			if r.Summary.Failed > 0 {
				b.lost++
			}
		}
		out = append(out, b)
	}
	return out
}

// morePages lists the other pages.
func morePages(p *lpage, m *model) {
	p.head(2, "More", "ほかのページ")
	items := []string{
		fmt.Sprintf(p.l.t("- [Findings in full](%sfindings.md): the lab, the method, every rate with its interval, every experiment, why requests fail.",
			"- [すべての結果](%sfindings.md)（英語）：ラボ、方法、区間つきのすべての率、すべての実験、リクエストが失敗する理由。"), p.up()),
		fmt.Sprintf(p.l.t("- [Unit files](%sunits.md): the best unit per library, complete, and the ones not to write.",
			"- [unit ファイル](%sunits.md)：ライブラリごとのおすすめの unit と、書いてはいけない unit。"), ""),
		fmt.Sprintf(p.l.t("- [envfile.md](%senvfile.md): the `EnvironmentFile=` question in full.",
			"- [envfile.md](%senvfile.md)：`EnvironmentFile=` の疑問の詳細。"), ""),
	}
	for _, s := range m.servers() {
		items = append(items, fmt.Sprintf(p.l.t("- [%s](%s%s.md): every variant of the server, its unit files and runs.",
			"- [%s](%s%s.md)：このサーバのすべての変種、unit ファイル、実行。"), s, "", fileSafe(s)))
	}
	for _, u := range m.checked {
		items = append(items, fmt.Sprintf(p.l.t("- [check/%s.md](%s%s/%s.md): the unit `%s.service`, run with `go run mage.go check`.",
			"- [check/%s.md](%s%s/%s.md)（英語）：`go run mage.go check` で動かした `%s.service`。"), u, p.up(), CheckDir, u, u))
	}
	items = append(items, fmt.Sprintf(p.l.t("- [bench.md](%sbench.md): the load engine against wrk.",
		"- [bench.md](%sbench.md)（英語）：負荷エンジンと wrk の比較。"), p.up()))
	p.lines(items)
}

// controlSay says whether every control run lost requests, loudly if one
// did not: without that, no pass here means anything.
func controlSay(p *lpage, m *model) {
	rs := controlRuns(m)
	if len(rs) == 0 {
		p.say("⚠️ **No control run in these results.** Nothing here shows that the lab can see a lost request; "+
			"a pass means less until a control (such as `plain/restart`) has run.",
			"⚠️ **この結果には対照実験の実行がありません。** ラボが落ちたリクエストを見られることを示すものがないので、"+
				"対照（`plain/restart` など）を動かすまでは合格の意味は薄くなります。")
		return
	}
	lost, total := 0, 0
	var clean, names []string
	for _, r := range rs {
		lost += r.Summary.Failed
		total += r.Summary.Sent
		names = addUniq(names, code(r.Server+"/"+r.Variant))
		if r.Summary.Failed == 0 {
			clean = append(clean, code(r.ID))
		}
	}
	if len(clean) > 0 {
		p.say("🚨 **A control run lost no request: %s.** The control (%s) must lose requests; when it does not, the lab may be "+
			"unable to see loss, and no pass here can be trusted until that is explained.",
			"🚨 **リクエストを落とさなかった対照実験の実行があります：%s。** 対照（%s）は必ずリクエストを落とすはずです。"+
				"落とさないならラボが損失を見られていないおそれがあり、その理由が分かるまでここの合格は信用できません。",
			strings.Join(clean, ", "), strings.Join(names, ", "))
		return
	}
	p.say("**Control:** %s must lose requests, and it did in every one of its %d runs: %d of %d requests lost, so the lab can see loss.",
		"**対照実験：** %s は必ずリクエストを落とすはずの unit で、実際に %d 回の実行すべてで落としました（%[4]d 件中 %[3]d 件）。ラボは損失を見られています。",
		strings.Join(names, ", "), len(rs), lost, total)
}

// clientsFinding sums the clients experiment over its variants: what GET,
// POST and a stock Go client lost, and what a retry hid.
func clientsFinding(p *lpage, m *model) []string {
	rows, err := m.clientsRows()
	if err != nil || len(rows) == 0 {
		return nil
	}
	var sum [3]tally
	for _, r := range rows {
		if r.control {
			continue // it must lose, whatever the client
		}
		for i, t := range r.by {
			sum[i].runs += t.runs
			sum[i].lossRuns += t.lossRuns
			sum[i].lost += t.lost
			sum[i].retried += t.retried
		}
	}
	get, post, goc := sum[0], sum[1], sum[2]
	head := p.l.t("**GET, POST and a stock Go client.**", "**GET、POST、Go の標準クライアント。**")
	if post.lost > get.lost && get.retried+goc.retried > 0 {
		head = p.l.t("**A stock Go client hides some losses; a POST shows them.**", "**Go の標準クライアントは一部の損失を隠し、POST ではそれが見える。**")
	}
	return []string{fmt.Sprintf(p.l.t(
		"- %s On the variants the `clients` experiment ran (the control left out), GET through the "+
			"engine lost requests in %d of %d runs (%d requests; %d more failed on a kept connection and were answered when sent again, "+
			"as Go's Transport does), POST in %d of %d runs (%d requests), a stock Go client in %d of %d runs (%d requests; %d sent again and answered). "+
			"[Details](%sfindings.md#get-post-and-a-stock-go-client).",
		"- %[1]s `clients` 実験の変種全体（対照実験を除く）で、エンジンの GET がリクエストを落とした実行は "+
			"%[3]d 回中 %[2]d 回（%[4]d 件。ほかに %[5]d 件が保持した接続で失敗し、Go の Transport と同じく送り直して応答を得た）、"+
			"POST は %[7]d 回中 %[6]d 回（%[8]d 件）、Go の標準クライアントは %[10]d 回中 %[9]d 回（%[11]d 件。送り直して応答を得たもの %[12]d 件）。"+
			"[詳細](%[13]sfindings.md#get-post-and-a-stock-go-client)。"),
		head, get.lossRuns, get.runs, get.lost, get.retried, post.lossRuns, post.runs, post.lost, goc.lossRuns, goc.runs, goc.lost, goc.retried, p.up())}
}

// lossNamesJa are the loss classes in Japanese, as analysis names them.
var lossNamesJa = map[analysis.Loss]string{
	analysis.LostRefused:     "接続拒否",
	analysis.LostAcceptQueue: "accept キューでのリセット",
	analysis.LostAfterRead:   "リクエストを読んだ後の切断",
	analysis.LostIdleClose:   "待機中の keep-alive 接続の切断",
	analysis.LostTimeout:     "タイムアウト",
	analysis.Unattributed:    "分類できず",
}

// lossesFinding is every lost request by class, at the reloads and at the
// stop.
func lossesFinding(p *lpage, m *model) []string {
	t, err := tallyLosses(m.results)
	if err != nil || t.runs == 0 {
		return nil
	}
	phase := func(ph int) string {
		var parts []string
		for _, c := range analysis.Losses() {
			if n := t.byClass[ph][c].requests; n > 0 {
				name := c.String()
				if p.l.ja {
					name = lossNamesJa[c]
				}
				parts = append(parts, fmt.Sprintf(p.l.t("%s %d", "%s %d 件"), name, n))
			}
		}
		if len(parts) == 0 {
			return p.l.t("none", "なし")
		}
		return p.l.listJoin(parts)
	}
	return []string{fmt.Sprintf(p.l.t(
		"- **Where the lost requests went**, over %d runs with raw history: at the reloads %s; at the stop %s. "+
			"[Each class, its mechanism and the kernel's counters](%sfindings.md#where-the-lost-requests-went).",
		"- **落ちたリクエストの行き先**（生の記録がある %d 回の実行）：リロードでは %s、停止では %s。"+
			"[分類ごとの仕組みとカーネルのカウンタ](%sfindings.md#where-the-lost-requests-went)。"),
		t.runs, phase(atReloads), phase(atStop), p.up())}
}

// hup2015Finding says in one line whether the 2015 start_server result
// (manners lost requests, go-gracedown none) holds, with ab's figures.
func hup2015Finding(p *lpage, m *model) []string {
	var mr, gr [3]int // runs, failing runs, lost
	for _, x := range hup2015Rows(m.hup2015) {
		if x.profile != protocol.AB {
			continue
		}
		t := &mr
		switch x.server {
		case "manners":
		case "gracedown":
			t = &gr
		default:
			continue
		}
		t[0] += x.runs - x.unknown
		t[1] += x.failing
		t[2] += x.lost
	}
	if mr[0] == 0 || gr[0] == 0 {
		return nil
	}
	holds := mr[1] > 0 && gr[1] == 0
	word := p.l.t("**The 2015 start_server comparison does not reproduce.**", "**2015年の start_server の比較は再現しません。**")
	if holds {
		word = p.l.t("**The 2015 start_server comparison reproduces.**", "**2015年の start_server の比較は再現します。**")
	}
	return []string{fmt.Sprintf(p.l.t(
		"- %s With a HUP every second under `ab -r -c 10`, braintree/manners failed requests in %d of %d runs (%d requests; 2015: 122), "+
			"shogo82148/go-gracedown in %d of %d runs (%d requests; 2015: 0). [The comparison](%sfindings.md#the-2015-start_server-comparison-again-experiment-hup-2015).",
		"- %s 毎秒 HUP を送りながら `ab -r -c 10` で負荷をかけると、braintree/manners がリクエストを落とした実行は %[3]d 回中 %[2]d 回"+
			"（%[4]d 件。2015年は 122 件）、shogo82148/go-gracedown は %[6]d 回中 %[5]d 回（%[7]d 件。2015年は 0 件）でした。"+
			"[比較の詳細](%[8]sfindings.md#the-2015-start_server-comparison-again-experiment-hup-2015)。"),
		word, mr[1], mr[0], mr[2], gr[1], gr[0], gr[2], p.up())}
}
