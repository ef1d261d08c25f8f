package docs

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

// go test ./internal/docs -update rewrites testdata/golden from the
// current renderer; review the diff before committing it.
var update = flag.Bool("update", false, "rewrite testdata/golden from the renderer's output")

// goldenPages are the pages compared byte for byte. The SVGs are covered
// by the determinism test and by internal/plots.
var goldenPages = []string{"README.md", "grace.md", "plain.md", "envfile.md"}

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
			t.Fatalf("%v (run go test ./internal/docs -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run go test ./internal/docs -update and review the diff\n%s", name, golden, firstDiff(string(want), string(got)))
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
	if svgs != 2*8 {
		t.Errorf("rendered %d SVGs, want 16", svgs)
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
	// Overall says pass, but a check could not decide: shown as unknown.
	r.Verdict.Checks[0].Outcome = result.Unknown
	if _, err := result.Write(dir, r); err != nil {
		t.Fatal(err)
	}
	out := render(t, dir)
	readme, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), outcomeText(result.Unknown)) || strings.Contains(string(readme), outcomeText(result.Pass)) {
		t.Errorf("README.md does not show the run as unknown, or shows it as pass:\n%s", readme)
	}
	page, err := os.ReadFile(filepath.Join(out, "grace.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Verdict: **" + outcomeText(result.Unknown) + "**"; !strings.Contains(string(page), want) {
		t.Errorf("grace.md lacks %q", want)
	}
	if bad := "Verdict: **" + outcomeText(result.Pass) + "**"; strings.Contains(string(page), bad) {
		t.Errorf("grace.md shows an unknown run as %q", bad)
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
