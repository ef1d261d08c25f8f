package nspawn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CacheDir holds the root filesystems, outside any checkout so that every
// clone and every CI run on the machine reuses them. GRACELAB_CACHE moves it.
var CacheDir = cacheDir()

func cacheDir() string {
	if d := os.Getenv("GRACELAB_CACHE"); d != "" {
		return d
	}
	return "/var/cache/gracelab/rootfs"
}

// recipeVersion changes when the build steps change in a way the
// debootstrap arguments do not show.
const recipeVersion = "1"

// minFreeBytes is what a root filesystem needs (about 250 MB measured) with
// room to spare.
const minFreeBytes = 1 << 30

// Recipe is how a root filesystem is made; its hash names the cache entry,
// so a changed recipe builds a new one.
type Recipe struct {
	Suite   string
	Mirror  string
	Include []string
}

// NewRecipe is the recipe for a Debian suite. LAB_MIRROR overrides the
// mirror; the mirror does not change the hash (same packages).
// apache2-utils brings ab, the client the hup-2015 experiment runs.
func NewRecipe(suite string) Recipe {
	m := os.Getenv("LAB_MIRROR")
	if m == "" {
		m = "http://deb.debian.org/debian"
	}
	return Recipe{Suite: suite, Mirror: m, Include: []string{"systemd", "systemd-sysv", "dbus", "procps", "apache2-utils"}}
}

// Args are debootstrap's arguments to build into dir.
func (r Recipe) Args(dir string) []string {
	return []string{"--variant=minbase", "--include=" + strings.Join(r.Include, ","), r.Suite, dir, r.Mirror}
}

// Key names the cache entry: suite plus a hash of what makes it.
func (r Recipe) Key() string {
	h := sha256.Sum256([]byte(recipeVersion + "\n" + strings.Join(r.Args("DIR")[:3], "\n")))
	return r.Suite + "-" + hex.EncodeToString(h[:])[:12]
}

// Dir is where the recipe's root filesystem is cached.
func (r Recipe) Dir() string { return filepath.Join(CacheDir, r.Key()) }

// Ensure returns the cached root filesystem, building it if missing. It
// says which and how long it took.
func Ensure(ctx context.Context, r Recipe, log io.Writer) (string, error) {
	dir := r.Dir()
	if built(dir) {
		fmt.Fprintf(log, "rootfs: cached %s\n", dir)
		return dir, nil
	}
	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		return "", err
	}
	// One build per cache entry at a time, across processes: another lab
	// (or checkout) may be building the same suite right now.
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if built(dir) {
		fmt.Fprintf(log, "rootfs: cached %s (built by another lab meanwhile)\n", dir)
		return dir, nil
	}
	if err := checkDisk(CacheDir, minFreeBytes); err != nil {
		return "", err
	}
	if err := checkMirror(ctx, r); err != nil {
		return "", err
	}
	removeStale(r, log)
	tmp := dir + ".partial"
	os.RemoveAll(tmp)
	fmt.Fprintf(log, "rootfs: building Debian %s with debootstrap into %s (about a minute, once)\n", r.Suite, dir)
	cmd := exec.CommandContext(ctx, "debootstrap", r.Args(tmp)...)
	logf, err := os.Create(dir + ".log")
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	stop := ticker(log, "rootfs: debootstrap")
	err = cmd.Run()
	stop()
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("debootstrap %s failed (%v); its log is %s", r.Suite, err, logf.Name())
	}
	// Only a finished build gets the entry's name: an interrupted one is
	// left as .partial, which no boot uses and the next build removes.
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

func built(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "usr/lib/systemd/systemd"))
	return err == nil
}

// removeStale deletes cached root filesystems of the same suite made by an
// older recipe, unless another checkout is building one (its lock is held)
// or a lab runs on it: two checkouts with different recipes must not
// break each other.
func removeStale(r Recipe, log io.Writer) {
	old, _ := filepath.Glob(filepath.Join(CacheDir, r.Suite+"-*"))
	for _, o := range old {
		if filepath.Base(o) == r.Key() || strings.HasSuffix(o, ".log") || strings.HasSuffix(o, ".lock") {
			continue
		}
		entry := strings.TrimSuffix(o, ".partial")
		if filepath.Base(entry) == r.Key() {
			continue
		}
		if busy(entry) {
			fmt.Fprintf(log, "rootfs: keeping %s (older recipe, in use by another checkout)\n", o)
			continue
		}
		fmt.Fprintf(log, "rootfs: removing %s (older recipe)\n", o)
		os.RemoveAll(o)
	}
}

// busy says a cache entry is being built (its lock is held) or booted
// (a process names it on its command line).
func busy(entry string) bool {
	if f, err := os.Open(entry + ".lock"); err == nil {
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return true
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		if data, err := os.ReadFile(c); err == nil && strings.Contains(string(data), entry) {
			return true
		}
	}
	return false
}

func checkDisk(dir string, need uint64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	if free := st.Bavail * uint64(st.Bsize); free < need {
		return fmt.Errorf("too little disk for the lab's root filesystem: %d MB free in %s, need %d MB; free some space or set GRACELAB_CACHE to another disk",
			free>>20, dir, need>>20)
	}
	return nil
}

func checkMirror(ctx context.Context, r Recipe) error {
	url := strings.TrimSuffix(r.Mirror, "/") + "/dists/" + r.Suite + "/Release"
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "HEAD", url, nil)
	if err != nil {
		return fmt.Errorf("bad mirror %q: %w", r.Mirror, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no debootstrap mirror reachable: %s: %v; set LAB_MIRROR to a Debian mirror you can reach", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("debootstrap mirror has no %s: %s answered %s; check the suite or set LAB_MIRROR", r.Suite, url, resp.Status)
	}
	return nil
}

// ticker prints a progress line every 10 s until stopped.
func ticker(w io.Writer, what string) func() {
	start := time.Now()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "%s: %.0fs …\n", what, time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(done) }
}
