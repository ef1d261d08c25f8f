package writeup

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

// go test ./internal/writeup -update rewrites testdata/golden from the
// current renderer; review the diff before committing it.
var update = flag.Bool("update", false, "rewrite testdata/golden from the renderer's output")

// goldenPages are the pages compared byte for byte. The SVGs are covered
// by the determinism test and by internal/plots.
var goldenPages = []string{"README.md", "findings.md", "units.md", "ja/README.md", "ja/units.md", "ja/envfile.md", "ja/grace.md", "grace.md", "plain.md", "tableflip.md", "socket.md", "envfile.md"}

func TestMain(m *testing.M) {
	flag.Parse()
	variants = fixtureCatalog
	os.Exit(m.Run())
}

func render(t *testing.T, resultsDir string) string {
	t.Helper()
	out := t.TempDir()
	if err := Render(resultsDir, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGolden(t *testing.T) {
	out := render(t, fixtureDir)
	for _, name := range goldenPages {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/writeup -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run go test ./internal/writeup -update and review the diff\n%s", name, golden, firstDiff(string(want), string(got)))
		}
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want: %s\n  got: %s", i+1, a, b)
		}
	}
	return ""
}

func TestDeterministic(t *testing.T) {
	a, b := render(t, fixtureDir), render(t, fixtureDir)
	files := map[string]bool{}
	for _, dir := range []string{a, b} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				files[rel] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var svgs int
	for rel := range files {
		x, errA := os.ReadFile(filepath.Join(a, rel))
		y, errB := os.ReadFile(filepath.Join(b, rel))
		if errA != nil || errB != nil {
			t.Errorf("%s is in only one render", rel)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two renders of the same results", rel)
		}
		if strings.HasSuffix(rel, ".svg") {
			svgs++
		}
	}
	// Two plots per newest run of each row and environment.
	rows := map[string]bool{}
	for _, r := range fixtures() {
		rows[fmt.Sprint(r.Experiment, r.Server, r.Variant, r.Profile, envOf(r))] = true
	}
	if svgs != 2*len(rows) {
		t.Errorf("rendered %d SVGs, want %d", svgs, 2*len(rows))
	}
}

func TestCorruptResultNamed(t *testing.T) {
	dir := copyFixtures(t)
	bad := filepath.Join(dir, "20250303T000000Z-bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema": 1, "id": "x", "experim`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Render(dir, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "20250303T000000Z-bad.json") {
		t.Fatalf("Render with a corrupt result: error %v, want one naming the file", err)
	}
}

func TestUnknownIsNotPass(t *testing.T) {
	dir := t.TempDir()
	r := fixtures()[1] // a passing run
	r.ID = "20250401T000000Z-u"
	// Interrupted: the host's judge cannot decide, so it is shown as unknown.
	r.Interrupted = true
	if _, err := result.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	out := render(t, dir)
	readme, err := os.ReadFile(filepath.Join(out, "findings.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), outcomeText(result.Unknown)) || strings.Contains(string(readme), outcomeText(result.Pass)) {
		t.Errorf("findings.md does not show the run as unknown, or shows it as pass:\n%s", readme)
	}
	page := runPages(t, out, "grace")
	if want := "Verdict: **" + outcomeText(result.Unknown) + "**"; !strings.Contains(page, want) {
		t.Errorf("grace's run pages lack %q", want)
	}
	if bad := "Verdict: **" + outcomeText(result.Pass) + "**"; strings.Contains(page, bad) {
		t.Errorf("grace's run pages show an unknown run as %q", bad)
	}
	if got := outcome(result.Verdict{Overall: "weird"}); got != result.Unknown {
		t.Errorf("outcome of an unrecognised overall = %s, want unknown", got)
	}
	if got := outcome(result.Verdict{Overall: result.Pass}); got != result.Unknown {
		t.Errorf("outcome of a pass with no checks = %s, want unknown", got)
	}
}

func TestStaleFilesRemovedHandWrittenKept(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, ImgDir), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"old-server.md":   Marker + "\n# old\n",
		"notes.md":        "# hand-written\n",
		ImgDir + "/x.svg": "<svg/>",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(out, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Render(fixtureDir, out); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]bool{"old-server.md": false, "notes.md": true, ImgDir + "/x.svg": false, "grace.md": true} {
		_, err := os.Stat(filepath.Join(out, n))
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", n, got, want)
		}
	}
}

func TestNoResults(t *testing.T) {
	out := render(t, t.TempDir())
	data, err := os.ReadFile(filepath.Join(out, "envfile.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "no answer yet") {
		t.Errorf("envfile.md without results does not say so:\n%s", data)
	}
}

func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s (%v)", fixtureDir, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readOut(t *testing.T, out, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestControlThatLostNothingIsLoud(t *testing.T) {
	dir := t.TempDir()
	for _, r := range fixtures() {
		if r.Unit.Control && r.Experiment == "reload" && r.Profile == "new-conn" {
			// A control run that lost nothing: the lab could not see loss.
			r.ID = "20250305T000000Z-quiet"
			r.Summary.Failed, r.Summary.ByClass = 0, map[string]int{}
		}
		if _, err := result.Write(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	readme := readOut(t, render(t, dir), "README.md")
	if !strings.Contains(readme, "🚨 **A control run lost no request: `20250305T000000Z-quiet`") {
		t.Errorf("README.md does not flag the control run that lost nothing:\n%s", readme)
	}
	if strings.Contains(readme, "so the lab can see loss") {
		t.Error("README.md claims the lab can see loss although a control lost nothing")
	}

	good := readOut(t, render(t, fixtureDir), "README.md")
	if !strings.Contains(good, "it did in every one of its 3 runs: 100 of 3546 requests lost") {
		t.Errorf("README.md does not say that every control run lost requests")
	}
}

func TestNoControlIsLoud(t *testing.T) {
	dir := t.TempDir()
	if _, err := result.Write(dir, fixtures()[1]); err != nil {
		t.Fatal(err)
	}
	if readme := readOut(t, render(t, dir), "README.md"); !strings.Contains(readme, "No control run in these results") {
		t.Errorf("README.md without a control run does not say so")
	}
}

func TestImageNamesShortAndUnique(t *testing.T) {
	m := newModel(fixtures())
	seen := map[string]bool{}
	for r, name := range m.images {
		if seen[name] {
			t.Errorf("image name %s used twice", name)
		}
		seen[name] = true
		if len(name) > 60 || strings.Contains(name, "--") {
			t.Errorf("image name %q of %s is long or ugly", name, r.ID)
		}
	}
	for _, want := range []string{"grace-pidfile-keepalive-bookworm-sd252", "grace-pidfile-keepalive-trixie-sd257",
		"grace-pidfile-keepalive-upgrade-broken-bookworm-sd252"} {
		if !seen[want] {
			t.Errorf("no image named %s; have %v", want, sortedKeys(seen))
		}
	}
	// Two labs that share suite and systemd major get the provider too.
	a := env{"nspawn", "debian", "bookworm", "252 (252.39-1~deb12u2)"}
	b := env{"vagrant", "debian", "bookworm", "252 (252.30-1)"}
	c := env{"vagrant", "fedora", "", "256"}
	got := imgSlugs([]env{a, b, c})
	want := map[env]string{a: "nspawn-bookworm-sd252", b: "vagrant-bookworm-sd252", c: "fedora-sd256"}
	for e, w := range want {
		if got[e] != w {
			t.Errorf("imgSlugs[%v] = %q, want %q", e, got[e], w)
		}
	}
}

func TestSystemdSaid(t *testing.T) {
	r := &result.Result{Unit: result.Unit{Name: "x.service"}, Journal: []string{
		"2026-11-25T07:15:50.111835+0000 vm systemd[1]: Reloading x.service...",
		"2026-11-25T07:15:50.126202+0000 vm systemd[1]: x.service: Can't open PID file /run/${PIDFILE} (yet?) after reload: No such file or directory",
		"2026-11-25T07:15:50.126202+0000 vm grace[123]: PID file written",
		"2026-11-25T07:15:54.087616+0000 vm systemd[1]: x.service: Unit cannot be reloaded because it is inactive.",
		"2026-11-25T07:15:58.087360+0000 vm systemd[1]: x.service: Unit cannot be reloaded because it is inactive.",
		"Mar 01 10:00:02 lab systemd[1]: x.service: Supervising process 4137 which is not our child. We'll most likely not notice when it exits.",
		"Mar 01 10:00:04 lab systemd[1]: x.service: Supervising process 4174 which is not our child. We'll most likely not notice when it exits.",
	}}
	got := systemdSaid(r)
	want := []saidLine{
		{"07:15:50.126", "Can't open PID file /run/${PIDFILE} (yet?) after reload: No such file or directory", 1},
		{"07:15:54.087", "Unit cannot be reloaded because it is inactive.", 2},
		{"10:00:02", "Supervising process 4137 which is not our child. We'll most likely not notice when it exits.", 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("systemdSaid:\n got %v\nwant %v", got, want)
	}
}

func TestUpgradeFindings(t *testing.T) {
	out := render(t, fixtureDir)
	readme := readOut(t, out, "findings.md")
	for _, want := range []string{
		"### Upgrades: a new build, and a broken one",
		"On nspawn · bookworm · systemd 252, every run sent 1200 requests:",
		"| Server | Variant | Experiment | Verdict | Failed | Longest gap (ms) | New version serves | Old process keeps serving | Final state | Stop |",
		"| `upgrade-broken` | ❌ did not stop cleanly | 0 | 6 | – | ✅ yes | active/running | ⚠️ 90.03 s, then failed (timeout) |",
		"| `upgrade` | ✅ pass | 0 | 6 | ✅ yes, after 20 ms | – | active/running | clean, 0.03 s |",
		"(control) | `upgrade` | ❌ lost requests | 20 (refused 18, reset 2) |",
		"`upgrade-broken`: a bad deploy",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("findings.md lacks %q", want)
		}
	}
	page := runPages(t, out, "grace")
	for _, want := range []string{
		"# grace `pidfile` · upgrade-broken · `keepalive`",
		"systemd's result is `timeout`",
		"| reload 1, settled | 2.50 | 4137 | active/running | 0 | 4137 (v2) | yes |",
		"first success from a process that had not served before: 20 ms after the reload",
		"no process that had not served before answered afterwards",
		"**What systemd said**",
		"1 line stamped before this run started (10:00:00.000) belongs to an earlier run",
		"- 10:00:02.002 `Main process exited, code=exited, status=0/SUCCESS`",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("grace's run pages lack %q", want)
		}
	}
}

func TestNotRunVariants(t *testing.T) {
	dir := t.TempDir()
	for _, r := range fixtures() {
		if r.Env.Suite == "bookworm" {
			if _, err := result.Write(dir, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	readme := readOut(t, render(t, dir), "findings.md")
	want := "- tableflip `notify-reload` (Type=notify-reload (systemd 253+)): needs systemd 253 or newer; the results come from systemd 252"
	if !strings.Contains(readme, want) {
		t.Errorf("findings.md lacks %q", want)
	}
}

func TestSystemdSaidIgnoresNamesAndDescriptions(t *testing.T) {
	r := &result.Result{Unit: result.Unit{Name: "gracelab-grace-pidfile.service"}, Journal: []string{
		"2026-11-25T07:15:46.005372+0000 vm systemd[1]: Started gracelab-grace-pidfile.service - gracelab grace/pidfile: PID file path from EnvironmentFile=.",
		"2026-11-25T07:15:50.111835+0000 vm systemd[1]: Reloading gracelab-grace-pidfile.service - gracelab grace/pidfile: PIDFile=...",
	}}
	if got := systemdSaid(r); len(got) != 0 {
		t.Errorf("systemdSaid picked routine lines because of the unit's name or description: %v", got)
	}
}

// runPages is every run page of a server, one after the other.
func runPages(t *testing.T, out, server string) string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(out, RunDir, server+"-*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no run pages of %s (%v)", server, err)
	}
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(readOut(t, out, RunDir+"/"+filepath.Base(p)))
	}
	return b.String()
}
