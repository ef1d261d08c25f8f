package writeup

import (
	"strings"

	"github.com/gracelab/gracelab/internal/result"
)

// lang is the language a page is written in. Pages in both languages are
// made by the same code from the same facts: each sentence is written
// twice, side by side, with the same arguments, so a number cannot
// differ between them.
type lang struct{ ja bool }

var (
	english  = lang{}
	japanese = lang{ja: true}
)

// t picks the sentence of the page's language.
func (l lang) t(en, ja string) string {
	if l.ja {
		return ja
	}
	return en
}

// JaDir is the folder of the Japanese pages under the docs dir.
const JaDir = "ja"

// lpage is a page in one language.
type lpage struct {
	page
	l lang
}

// say writes a paragraph in the page's language.
func (p *lpage) say(en, ja string, a ...any) { p.para(p.l.t(en, ja), a...) }

// head writes a heading in the page's language.
func (p *lpage) head(level int, en, ja string) { p.heading(level, p.l.t(en, ja)) }

// up is the link prefix from the page to the English pages: the Japanese
// pages live one folder down.
func (p *lpage) up() string {
	if p.l.ja {
		return "../"
	}
	return ""
}

// counterpart links a page to the same page in the other language.
func (p *lpage) counterpart(name string) {
	if p.l.ja {
		p.para("[English](../%s)", name)
		return
	}
	p.para("[日本語](%s/%s)", JaDir, name)
}

// listJoin joins items the way each language lists them.
func (l lang) listJoin(xs []string) string {
	if l.ja {
		return strings.Join(xs, "、")
	}
	return strings.Join(xs, ", ")
}

// outcome is outcomeText in the language.
func (l lang) outcome(o result.Outcome) string {
	if !l.ja {
		return outcomeText(o)
	}
	switch o {
	case result.Pass:
		return "✅ 合格"
	case result.Fail:
		return "❌ 不合格"
	}
	return "❔ 判定できず"
}
