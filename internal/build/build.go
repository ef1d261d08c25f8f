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
)

// Packages maps each binary the lab needs to its Go package.
var Packages = map[string]string{
	"grace":           "./servers/grace",
	"plain":           "./servers/plain",
	"starter":         "./servers/starter",
	"start_server":    "github.com/lestrrat-go/server-starter/cmd/start_server",
	"gracelab-runner": "./lab/runner",
}

// VersionVar is the variable that names a build in every response.
const VersionVar = "github.com/gracelab/gracelab/servers/sample.Version"

// All builds every binary into dir, stamped with version. It builds into a
// temporary directory and renames each file into place, so a binary that a
// lab process is running is replaced, never rewritten under it.
func All(ctx context.Context, repo, dir, version string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for name, pkg := range Packages {
		args := []string{"build", "-trimpath", "-ldflags", "-X " + VersionVar + "=" + version, "-o", filepath.Join(tmp, name), pkg}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(out)))
		}
	}
	for name := range Packages {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
