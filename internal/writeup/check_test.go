package writeup

import (
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// A checked unit gets a page of its own from its newest check batch: the
// verdicts as k of N, what failed in words, lint's lines and the catalog
// variants it resembles; the catalog's pages never list it.
func TestCheckPage(t *testing.T) {
	unit := "[Service]\nType=simple\nPIDFile=/run/app/app.pid\nExecStart=/usr/local/bin/app -pid /run/app/app.pid\nExecReload=/bin/kill -USR2 $MAINPID\n"
	var stored []*result.Result
	for i, sc := range []scenario{{}, {lossMS: 200, untracked: true}} {
		r := fixture("20250303T10000"+string(rune('0'+i))+"Z-check", "reload", "check", "app", bookworm, sc)
		r.Batch = "20250303T100000Z-check-app"
		r.Unit.Name = "app.service"
		r.Unit.Files = []result.File{{Path: "/etc/systemd/system/app.service", Text: unit}}
		r.Env.Modules = map[string]string{"github.com/facebookgo/grace": "v0"}
		stored = append(stored, r)
	}
	old := fixture("20250202T100000Z-check", "reload", "check", "app", bookworm, scenario{})
	old.Batch, old.Unit.Name = "20250202T100000Z-check-app", "app.service"
	stored = append(stored, old)
	pub, err := check.JudgeAll(fixtures()[:5])
	if err != nil {
		t.Fatal(err)
	}
	files, err := checkPages(stored, pub)
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["app.md"])
	for _, want := range []string{
		"# Check of `app.service`", "| nspawn · bookworm · systemd 252 | 2 | ❌ 1 of 2 (9–91%) |",
		"What failed, in words", "- **Not met in 1 of 2 runs**: every request of the steady load got a successful response. One of them: 80 of",
		"**Line 3**, `PIDFile=/run/app/app.pid`", "This binary uses facebookgo/grace",
		"[grace/pidfile](../grace.md#variant-pidfile)", "![Requests over time",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("page lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "20250202T100000Z-check") {
		t.Error("an older check batch of the same unit is on the page")
	}
	newest, _ := fullBatches(stored)
	if len(newest) != 0 {
		t.Errorf("check runs count as the catalog's: %d", len(newest))
	}
}
