package nspawn

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gracelab/gracelab/lab"
)

func TestNeedRootSaysWhyAndWhatToDo(t *testing.T) {
	if needRoot(0) != nil {
		t.Fatal("root refused")
	}
	err := needRoot(1000)
	if err == nil || !strings.Contains(err.Error(), "needs root") || !strings.Contains(err.Error(), "sudo") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("not one clear line: %v", err)
	}
}

func TestUnreachableMirror(t *testing.T) {
	r := Recipe{Suite: "bookworm", Mirror: "http://127.0.0.1:1/debian"}
	err := checkMirror(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "no debootstrap mirror reachable") || !strings.Contains(err.Error(), "LAB_MIRROR") {
		t.Fatalf("unreachable mirror: %v", err)
	}
}

func TestTooLittleDisk(t *testing.T) {
	if err := checkDisk(t.TempDir(), 1); err != nil {
		t.Fatalf("1 byte needed, refused: %v", err)
	}
	err := checkDisk(t.TempDir(), 1<<62)
	if err == nil || !strings.Contains(err.Error(), "too little disk") {
		t.Fatalf("4 EiB needed, accepted: %v", err)
	}
}

func TestRecipeKeyFollowsTheRecipe(t *testing.T) {
	a, b := NewRecipe("bookworm"), NewRecipe("trixie")
	if a.Key() == b.Key() || !strings.HasPrefix(a.Key(), "bookworm-") {
		t.Fatalf("keys %s %s", a.Key(), b.Key())
	}
	c := a
	c.Include = append([]string{"less"}, a.Include...)
	if c.Key() == a.Key() {
		t.Fatal("a changed package list keeps the same cache entry")
	}
	m := a
	m.Mirror = "http://example.invalid/debian"
	if m.Key() != a.Key() {
		t.Fatal("the mirror changed the cache key; same packages should reuse the cache")
	}
}

func TestArgsKeepTheCachePristine(t *testing.T) {
	args := strings.Join(Args("gracelab-bookworm", "/cache/root", "/repo/.lab/bin", "/repo/.lab/pending/x"), " ")
	for _, want := range []string{"--volatile=overlay", "--boot", "--bind-ro=/repo/.lab/bin:/opt/gracelab/bin", "--machine=gracelab-bookworm", "--private-network"} {
		if !strings.Contains(args, want) {
			t.Errorf("nspawn args lack %s: %s", want, args)
		}
	}
}

func TestMachineNamesNeverCollide(t *testing.T) {
	base := lab.Config{Suite: "bookworm", Repo: "/work/a"}
	seen := map[string]string{}
	for name, c := range map[string]lab.Config{
		"base":           base,
		"other checkout": {Suite: "bookworm", Repo: "/work/b"},
		"other suite":    {Suite: "trixie", Repo: "/work/a"},
		"test instance":  {Suite: "bookworm", Repo: "/work/a", Instance: "t123"},
		"slot 1":         {Suite: "bookworm", Repo: "/work/a", Slot: 1},
	} {
		m := c.Machine()
		if other, ok := seen[m]; ok {
			t.Errorf("%s and %s share machine %s", name, other, m)
		}
		seen[m] = name
		if len(m) > 64 || strings.ContainsAny(m, "/_. ") {
			t.Errorf("%s: %q is not a valid machine name", name, m)
		}
	}
	if base.Machine() != (lab.Config{Suite: "bookworm", Repo: "/work/a/"}).Machine() {
		t.Error("the same checkout named two ways gets two machines")
	}
}

func TestRecipeBringsAB(t *testing.T) {
	r := NewRecipe("bookworm")
	if !strings.Contains(strings.Join(r.Args("/x"), " "), "apache2-utils") {
		t.Fatalf("the rootfs lacks apache2-utils, so ab (experiment hup-2015) is missing: %v", r.Args("/x"))
	}
	old := r
	old.Include = slices.DeleteFunc(slices.Clone(r.Include), func(p string) bool { return p == "apache2-utils" })
	if old.Key() == r.Key() {
		t.Fatal("adding apache2-utils kept the cache key: labs would boot the old rootfs without ab")
	}
}

// An older recipe's cache is removed, unless another checkout holds its
// lock (building it) — two checkouts must not break each other.
func TestRemoveStaleSparesBusyEntries(t *testing.T) {
	saved := CacheDir
	CacheDir = t.TempDir()
	defer func() { CacheDir = saved }()
	r := NewRecipe("bookworm")
	idle, held := filepath.Join(CacheDir, "bookworm-idle"), filepath.Join(CacheDir, "bookworm-held")
	for _, d := range []string{idle, held + ".partial"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := os.Create(held + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	removeStale(r, &log)
	if _, err := os.Stat(idle); !os.IsNotExist(err) {
		t.Errorf("an idle older cache was kept: %v\n%s", err, log.String())
	}
	if _, err := os.Stat(held + ".partial"); err != nil {
		t.Errorf("a cache another checkout is building was removed: %v\n%s", err, log.String())
	}
}
