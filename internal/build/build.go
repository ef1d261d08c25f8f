// Package build compiles what the lab runs: static binaries (no cgo), so
// they run on any distribution's systemd without its libraries.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

// The catalog's servers are each built three times: the release under
// test (v1), the next release (v2/) and a broken next release that exits
// at start (broken/), for the deploy experiments. Tools are built once.
var tools = []string{"github.com/lestrrat-go/server-starter/cmd/start_server", "./lab/" + protocol.RunnerName}

const pkgSample = "github.com/gracelab/gracelab/servers/sample"

// BrokenMessage is what the broken build says as it exits.
const BrokenMessage = "config error: unknown setting listen_adress (a release with a bad config)"

type flavour struct {
	sub, version, broken string
	pkgs                 []string
}

func flavours() []flavour {
	var servers []string
	for _, s := range catalog.ServerNames() {
		servers = append(servers, "./servers/"+s)
	}
	return []flavour{
		{sub: "", version: "v1", pkgs: append(append([]string{}, servers...), tools...)},
		{sub: "v2", version: "v2", pkgs: servers},
		{sub: "broken", version: "v2-broken", broken: BrokenMessage, pkgs: servers},
	}
}

// All builds every binary into dir (and dir/v2, dir/broken), unless the
// inputs are those of the last build and every binary is there; it says
// whether it built. It builds into a temporary directory and renames each
// file into place, so a binary that a lab process runs is replaced, never
// rewritten under it.
func All(ctx context.Context, repo, dir string) (bool, error) {
	stamp := filepath.Join(dir, ".inputs")
	key, err := inputs(repo)
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(stamp); err == nil && string(old) == key && complete(dir) {
		return false, nil
	}
	os.Remove(stamp)
	for _, f := range flavours() {
		if err := buildInto(ctx, repo, filepath.Join(dir, f.sub), f); err != nil {
			return false, err
		}
	}
	return true, os.WriteFile(stamp, []byte(key), 0o644)
}

// complete says every binary of every flavour is in dir.
func complete(dir string) bool {
	for _, f := range flavours() {
		for _, p := range f.pkgs {
			if _, err := os.Stat(filepath.Join(dir, f.sub, path.Base(p))); err != nil {
				return false
			}
		}
	}
	return true
}

// inputs is a hash of what the binaries are made from: the toolchain and
// every file of the module but tests, results and the writeup.
func inputs(repo string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", runtime.Version())
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != repo && (strings.HasPrefix(name, ".") || name == "testdata" || p == filepath.Join(repo, "results") || p == filepath.Join(repo, "docs")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, "_test.go") || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func buildInto(ctx context.Context, repo, dir string, f flavour) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ldflags := fmt.Sprintf("-X %s.Version=%s -X '%s.BrokenStart=%s'", pkgSample, f.version, pkgSample, f.broken)
	args := append([]string{"build", "-trimpath", "-ldflags", ldflags, "-o", tmp + "/"}, f.pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (%s): %v\n%s", f.version, err, strings.TrimSpace(string(out)))
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
