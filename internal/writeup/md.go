package writeup

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// page is one markdown file being written.
type page struct {
	bytes.Buffer
	root string // link prefix to the docs dir ("" or "../")
}

func (p *page) f(format string, a ...any) { fmt.Fprintf(&p.Buffer, format, a...) }

// para writes a paragraph followed by a blank line.
func (p *page) para(format string, a ...any) {
	p.f(format, a...)
	p.WriteString("\n\n")
}

// lines writes lines (list items, already formatted) as one block.
func (p *page) lines(items []string) { p.f("%s\n\n", strings.Join(items, "\n")) }

func (p *page) heading(level int, text string) {
	p.f("%s %s\n\n", strings.Repeat("#", level), text)
}

// table writes a GitHub table; cells are escaped here so callers pass
// plain text or inline markdown.
func (p *page) table(header []string, rows [][]string) {
	row := func(cells []string) {
		p.WriteString("|")
		for _, c := range cells {
			p.WriteString(" " + escapeCell(c) + " |")
		}
		p.WriteString("\n")
	}
	row(header)
	p.WriteString("|")
	for range header {
		p.WriteString(" --- |")
	}
	p.WriteString("\n")
	for _, r := range rows {
		row(r)
	}
	p.WriteString("\n")
}

// fence writes text as a fenced block whose fence is longer than any run
// of backticks in it, so unit files and journals cannot break out.
func (p *page) fence(lang, text string) {
	f := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	text = strings.TrimRight(text, "\n")
	p.f("%s%s\n%s\n%s\n\n", f, lang, text, f)
}

// details wraps body in a collapsed block: long material stays out of
// the way of the story.
func (p *page) details(summary string, body func()) {
	p.f("<details><summary>%s</summary>\n\n", htmlEscape(summary))
	body()
	p.WriteString("</details>\n\n")
}

func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return "–"
	}
	return s
}

// code is s as inline code, safe for any content.
func code(s string) string {
	if s == "" {
		return "(empty)"
	}
	s = strings.ReplaceAll(s, "\n", " ")
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return ticks + " " + s + " " + ticks
	}
	return ticks + s + ticks
}

func longestRun(s string, r rune) int {
	best, n := 0, 0
	for _, c := range s {
		if c == r {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slug is the anchor GitHub gives a heading: lower case, letters, digits,
// '-' and '_' kept, spaces turned into '-', the rest dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// fileSafe keeps a name usable in a file name and a relative link.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func ms(v float64) string { return fmt.Sprintf("%.0f", v) }

func secs(msv float64) string { return fmt.Sprintf("%.2f", msv/1000) }

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
