package writeup

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
)

// questionWords says in each language what failing a question means.
var questionWords = map[check.Question][2]string{
	check.Requests: {"lost requests", "リクエストを落とした"},
	check.Tracking: {"systemd lost the server or a reload started nothing", "systemd がサーバを見失った、またはリロードで何も起動しなかった"},
	check.Stopping: {"did not stop cleanly", "きれいに止まらなかった"},
	check.Deploys:  {"a deploy went wrong", "デプロイがうまくいかなかった"},
}

func (l lang) question(q check.Question) string {
	w := questionWords[q]
	return l.t(w[0], w[1])
}

// unitScore is one variant over every run it has, every experiment and
// environment: each question as k of N.
type unitScore struct {
	server, variant string
	rates           map[check.Question]rate.Rate
	failing         []check.Question
	newest          *result.Result // newest reload run, for its unit file
	reloadHarm      float64        // share of reload runs that lost requests, plus of those that lost the server
}

func (m *model) score(vr *variantRuns) *unitScore {
	s := &unitScore{server: vr.server, variant: vr.variant, rates: map[check.Question]rate.Rate{}}
	rs := m.runsOf(vr.server, vr.variant, "")
	for _, q := range check.Questions {
		r := rate.Of(rs, q)
		s.rates[q] = r
		if r.K > 0 {
			s.failing = append(s.failing, q)
		}
	}
	s.newest = latest(vr.allReload)
	for _, q := range []check.Question{check.Requests, check.Tracking} {
		if r := rate.Of(vr.allReload, q); r.N > 0 {
			s.reloadHarm += float64(r.K) / float64(r.N)
		}
	}
	return s
}

// passesAll: every question decided in some run and failed in none.
func (s *unitScore) passesAll() bool {
	return len(s.failing) == 0 && s.rates[check.Requests].N > 0 && s.rates[check.Stopping].N > 0
}

// worse orders scores: what its reloads do to requests and to systemd's
// tracking first (a broken deploy or a stop costs less than every
// reload), then more failing questions, then a larger share of failed runs.
func (s *unitScore) worse(o *unitScore) bool {
	if s.reloadHarm != o.reloadHarm {
		return s.reloadHarm > o.reloadHarm
	}
	if len(s.failing) != len(o.failing) {
		return len(s.failing) > len(o.failing)
	}
	share := func(x *unitScore) float64 {
		t := 0.0
		for _, q := range x.failing {
			t += float64(x.rates[q].K) / float64(x.rates[q].N)
		}
		return t
	}
	return share(s) > share(o)
}

// best is, per server in catalog order, its best variant (the first of
// those that pass everything, else the least bad), and the variants
// whose reloads lose requests or the server.
func (m *model) best() (best []*unitScore, avoid []*unitScore) {
	for _, s := range m.servers() {
		var top *unitScore
		for _, vr := range m.byVariant() {
			if vr.server != s || vr.control || len(vr.allReload) == 0 {
				continue
			}
			sc := m.score(vr)
			if top == nil || top.worse(sc) {
				top = sc
			}
			if sc.rates[check.Requests].K > 0 || sc.rates[check.Tracking].K > 0 {
				avoid = append(avoid, sc)
			}
		}
		if top != nil {
			best = append(best, top)
		}
	}
	return best, avoid
}

// failText says what a variant fails, with k of N, in the page's language.
func (s *unitScore) failText(l lang) string {
	var parts []string
	for _, q := range s.failing {
		r := s.rates[q]
		t := fmt.Sprintf(l.t("%[3]s in %[1]d of %[2]d runs", "%[3]s：%[2]d 回中 %[1]d 回"), r.K, r.N, l.question(q))
		if q == check.Requests {
			t += fmt.Sprintf(l.t(" (%d requests)", "（%d 件）"), r.Lost)
		}
		parts = append(parts, t)
	}
	return l.listJoin(parts)
}

// variantCommand runs a variant as the batch did: every environment, 5 repeats.
func variantCommand(server, variant string, m *model) string {
	var suites []string
	for _, e := range m.envs {
		suites = addUniq(suites, e.suiteName())
	}
	return fmt.Sprintf("LAB_SUITE=%s GRACELAB_REPEATS=5 go run mage.go experiment:variant %s %s", strings.Join(suites, ","), server, variant)
}

// unitsSection is README's short table of the best unit per library.
func unitsSection(p *lpage, m *model) {
	best, avoid := m.best()
	if len(best) == 0 {
		return
	}
	p.head(2, "Unit files to copy, and units not to write", "コピーしてよい unit と、書いてはいけない unit")
	p.say("Per library, the unit that did best on systemd %s: first by how often its reloads lost requests or the server, "+
		"then by how many questions it failed over every run of every experiment. "+
		"The complete files, with the command that reproduces them, are in [units.md](units.md).",
		"ライブラリごとに、systemd %s でいちばん良かった unit です。まずリロードでリクエストやサーバを失った割合で、"+
			"次にすべての実験のすべての実行で落ちた問いの数で比べています。"+
			"ファイル全体と再現のためのコマンドは [units.md](units.md) にあります。", m.systemds(p.l))
	var rows [][]string
	for _, s := range best {
		verdict := p.l.t("✅ passed every question", "✅ すべての問いに合格")
		if !s.passesAll() {
			verdict = "⚠️ " + s.failText(p.l)
		}
		rows = append(rows, []string{s.server, variantLink(p, s.server, s.variant), verdict})
	}
	p.table([]string{p.l.t("Library", "ライブラリ"), p.l.t("Best unit", "いちばん良い unit"), p.l.t("Over every run", "すべての実行で")}, rows)
	if len(avoid) > 0 {
		p.say("Not to write: these lose requests or lose the server at a reload.",
			"書いてはいけない unit：リロードでリクエストかサーバを失います。")
		var items []string
		for _, s := range avoid {
			items = append(items, fmt.Sprintf("- %s: %s", variantLink(p, s.server, s.variant), s.failText(p.l)))
		}
		p.lines(items)
	}
}

// unitsPage is units.md: each library's best unit, complete, and the
// units not to write, with what goes wrong.
func unitsPage(m *model, l lang) []byte {
	p := &lpage{l: l}
	p.para("%s", Marker)
	p.head(1, "Unit files to copy, and units not to write", "コピーしてよい unit と、書いてはいけない unit")
	p.counterpart("units.md")
	p.say("[← back to the writeup](README.md)", "[← 記事に戻る](README.md)")
	best, avoid := m.best()
	p.say("For each library, the unit that did best over every run of every experiment on systemd %s: "+
		"it passed every question in every environment, or the questions it failed are named. "+
		"Replace the lab's paths (`/var/lib/gracelab/bin`, the `gracelab` user, `127.0.0.1:18080`) with yours.",
		"ライブラリごとに、systemd %s のすべての実験のすべての実行でいちばん良かった unit です。"+
			"すべての環境ですべての問いに合格したか、そうでなければ落ちた問いを書いています。"+
			"ラボのパス（`/var/lib/gracelab/bin`、ユーザ `gracelab`、`127.0.0.1:18080`）は自分のものに置き換えてください。", m.systemds(l))
	for _, s := range best {
		p.heading(2, s.server)
		if s.passesAll() {
			p.say("%s passed every question in every run.", "%s はすべての実行ですべての問いに合格しました。", variantLink(p, s.server, s.variant))
		} else {
			p.say("No unit of %s passed every question. The best, %s, still failed: %s.",
				"%s にはすべての問いに合格した unit がありません。いちばん良い %s でも次の問いに落ちました：%s。",
				code(s.server), variantLink(p, s.server, s.variant), s.failText(l))
		}
		if s.newest != nil && len(s.newest.Unit.Files) > 0 {
			for _, f := range s.newest.Unit.Files {
				p.para("%s:", code(f.Path))
				p.fence(langOf(f.Path), f.Text)
			}
		}
		var rows [][]string
		for _, q := range check.Questions {
			if r := s.rates[q]; r.N+r.Unknown > 0 {
				rows = append(rows, []string{l.question(q), rateText(l, r)})
			}
		}
		p.table([]string{l.t("Failed", "失敗"), l.t("Runs (95% interval)", "実行（95% 区間）")}, rows)
		p.say("Reproduce: %s", "再現：%s", code(variantCommand(s.server, s.variant, m)))
	}
	if len(avoid) > 0 {
		p.head(2, "Units not to write", "書いてはいけない unit")
		var items []string
		for _, s := range avoid {
			items = append(items, fmt.Sprintf("- %s: %s", variantLink(p, s.server, s.variant), s.failText(l)))
		}
		p.lines(items)
	}
	return p.Bytes()
}

// rateText is rate.Text in the page's language.
func rateText(l lang, r rate.Rate) string {
	if !l.ja || r.N == 0 && r.Unknown == 0 {
		return r.Text()
	}
	if r.N == 0 {
		return fmt.Sprintf("❔ 判定できず %d 回", r.Unknown)
	}
	lo, hi := r.Interval()
	s := fmt.Sprintf("%s %d 回中 %d 回（%.0f–%.0f%%）", r.Mark(), r.N, r.K, 100*lo, 100*hi)
	if r.Unknown > 0 {
		s += fmt.Sprintf("、判定できず %d 回", r.Unknown)
	}
	return s
}
