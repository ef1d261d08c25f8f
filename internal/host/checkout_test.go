package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCheckoutRecordsCommitAndDirt(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if Checkout(dir) != nil {
		t.Fatal("a folder that is no checkout has a commit")
	}
	git("init", "-q")
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", "package main\n")
	git("add", ".")
	git("commit", "-qm", "one")
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	c := Checkout(dir)
	if c == nil || c.Commit+"\n" != string(head) || c.Dirty {
		t.Fatalf("clean checkout: %+v, want commit %s", c, head)
	}
	// What runs write is not a change of the code.
	write("results/r.json", "{}")
	write("docs/README.md", "x")
	if c := Checkout(dir); c.Dirty {
		t.Fatal("results/ and docs/ made the tree dirty")
	}
	write("main.go", "package main // changed\n")
	if c := Checkout(dir); !c.Dirty {
		t.Fatal("an edited file did not make the tree dirty")
	}
}
