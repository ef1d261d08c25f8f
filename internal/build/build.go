// Package build compiles what the lab runs: static binaries (no cgo), so
// they run on any distribution's systemd without its libraries.
package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// All builds every binary into dir (and dir/v2, dir/broken). It builds
// into a temporary directory and renames each file into place, so a binary
// that a lab process runs is replaced, never rewritten under it.
func All(ctx context.Context, repo, dir string) error {
	for _, f := range flavours() {
		if err := buildInto(ctx, repo, filepath.Join(dir, f.sub), f); err != nil {
			return err
		}
	}
	return nil
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
