package writeup

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab/catalog"
)

var number = regexp.MustCompile(`\d+(?:\.\d+)?`)

func numbers(s string) []string {
	out := number.FindAllString(s, -1)
	slices.Sort(out)
	return out
}

// sameNumbers asserts every Japanese page under dir/ja holds exactly the
// numbers of its English page, however the sentences are ordered.
func sameNumbers(t *testing.T, dir string) {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(dir, JaDir, "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no Japanese pages in %s (%v)", dir, err)
	}
	for _, ja := range pages {
		jaText, err := os.ReadFile(ja)
		if err != nil {
			t.Fatal(err)
		}
		enText, err := os.ReadFile(filepath.Join(dir, filepath.Base(ja)))
		if err != nil {
			t.Fatalf("%s has no English page: %v", ja, err)
		}
		if !strings.Contains(string(jaText), "。") {
			t.Errorf("%s is not in Japanese", ja)
		}
		if en, jn := numbers(string(enText)), numbers(string(jaText)); !slices.Equal(en, jn) {
			t.Errorf("%s: numbers differ from the English page\nen: %v\nja: %v", filepath.Base(ja), en, jn)
		}
	}
}

func TestJapaneseNumbersEqualEnglish(t *testing.T) {
	sameNumbers(t, render(t, fixtureDir))
}

// The published docs too: a translation that drops or adds a number fails
// here, not only on the fixtures.
func TestPublishedJapaneseNumbersEqualEnglish(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	if _, err := os.Stat(filepath.Join(docs, JaDir)); err != nil {
		t.Skip("no docs/ja rendered in this tree")
	}
	sameNumbers(t, docs)
}

func TestCounterpartLinks(t *testing.T) {
	out := render(t, fixtureDir)
	for _, name := range []string{"README.md", "units.md"} {
		if en := readOut(t, out, name); !strings.Contains(en, "](ja/"+name+")") {
			t.Errorf("%s does not link its Japanese page", name)
		}
		if ja := readOut(t, out, JaDir+"/"+name); !strings.Contains(ja, "](../"+name+")") {
			t.Errorf("ja/%s does not link its English page", name)
		}
	}
}

// The stop section says the journal ends before the stop only when the
// journal holds none of systemd's lines of the stop.
func TestJournalSentenceMatchesJournal(t *testing.T) {
	const sentence = "ends before the stop"
	stopLine := "2026-11-25T07:15:50.126202+0000 lab systemd[1]: Stopped gracelab-x.service - x."
	startLine := "2026-11-25T07:15:40.126202+0000 lab systemd[1]: Started gracelab-x.service - x."
	for _, tc := range []struct {
		journal []string
		says    bool
	}{
		{[]string{startLine}, true},
		{[]string{startLine, stopLine}, false},
	} {
		r := &result.Result{Journal: tc.journal, Final: result.Final{AfterStop: result.Snapshot{ActiveState: "inactive", Result: "success"}}}
		var p page
		stopSection(&p, r)
		if got := strings.Contains(p.String(), sentence); got != tc.says {
			t.Errorf("journal %q: says %q = %v, want %v", tc.journal, sentence, got, tc.says)
		}
	}
	// And on every fixture run page.
	out := render(t, fixtureDir)
	pages, _ := filepath.Glob(filepath.Join(out, RunDir, "*.md"))
	if len(pages) == 0 {
		t.Fatal("no run pages")
	}
	for _, pg := range pages {
		text, _ := os.ReadFile(pg)
		hasStop := strings.Contains(string(text), "systemd[1]: Stopped") || strings.Contains(string(text), "systemd[1]: Stopping")
		if hasStop && strings.Contains(string(text), sentence) {
			t.Errorf("%s says the journal ends before the stop above a journal that shows it", filepath.Base(pg))
		}
	}
}

// The pages people read stay short: README at most 250 lines, a server
// page at most 800, in both languages (the raw material lives on the run
// pages and findings.md).
func TestPublishedPagesShort(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	if _, err := os.Stat(filepath.Join(docs, "README.md")); err != nil {
		t.Skip("no docs rendered in this tree")
	}
	limits := map[string]int{"README.md": 250}
	for _, s := range catalog.ServerNames() {
		limits[fileSafe(s)+".md"] = 800
	}
	for _, dir := range []string{docs, filepath.Join(docs, JaDir)} {
		for name, limit := range limits {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue // a server with no result has no page
			}
			if n := strings.Count(string(data), "\n"); n > limit {
				t.Errorf("%s: %d lines, more than %d", filepath.Join(dir, name), n, limit)
			}
		}
	}
}
