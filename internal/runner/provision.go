package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

// Provision prepares any systemd machine for runs: the service user and
// our directories. Every provider calls this one function, so the nspawn
// container and the Vagrant VM are set up alike. Safe to repeat.
func Provision(ctx context.Context, w io.Writer) error {
	if _, err := user.Lookup(protocol.User); err != nil {
		out, code, err := command(ctx, 30*time.Second, "useradd", "--system", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", protocol.User)
		if err != nil || code != 0 {
			return fmt.Errorf("useradd %s: exit %d %v: %s", protocol.User, code, err, strings.TrimSpace(out))
		}
		fmt.Fprintf(w, "created system user %s\n", protocol.User)
	}
	if err := os.MkdirAll(protocol.ConfDir, 0o755); err != nil {
		return err
	}
	u, err := user.Lookup(protocol.User)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "provisioned: user %s (uid %s), /etc/gracelab\n", protocol.User, u.Uid)
	return nil
}

// Status prints what of ours is installed and running.
func Status(ctx context.Context, w io.Writer, binDir string) {
	ents, _ := os.ReadDir(binDir)
	var bins []string
	for _, e := range ents {
		bins = append(bins, e.Name())
	}
	fmt.Fprintf(w, "binaries in %s: %s\n", binDir, orNone(strings.Join(bins, " ")))
	out, _, _ := command(ctx, 10*time.Second, "systemctl", "list-units", "--all", "--no-legend", "--plain", "gracelab-*")
	fmt.Fprintf(w, "units of ours loaded: %s\n", orNone(strings.TrimSpace(out)))
	for _, p := range OurProcesses(binDir) {
		fmt.Fprintf(w, "process of ours: %d %s\n", p.PID, p.Command)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Cleanup removes every unit of ours and kills stray processes of ours,
// saying what it cleaned: what an interrupted or killed run leaves.
func Cleanup(ctx context.Context, w io.Writer, binDir string) int {
	n := 0
	for _, v := range catalog.Variants() {
		_, errU := os.Stat(v.UnitPath())
		st := show(ctx, osEnv, v.UnitName(), "LoadState", "ActiveState")
		if errU == nil || (st["LoadState"] != "" && st["LoadState"] != "not-found") {
			Remove(ctx, v)
			fmt.Fprintf(w, "cleaned: unit %s (was %s)\n", v.UnitName(), st["ActiveState"])
			n++
		}
	}
	// Units whose files are gone but which systemd still lists (failed).
	out, _, _ := command(ctx, 10*time.Second, "systemctl", "list-units", "--all", "--no-legend", "--plain", "gracelab-*")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			stopAndReset(ctx, osEnv, f[0])
			fmt.Fprintf(w, "cleaned: unit %s (was %s)\n", f[0], strings.Join(f[1:min(4, len(f))], " "))
			n++
		}
	}
	for _, p := range OurProcesses(binDir) {
		if proc, err := os.FindProcess(p.PID); err == nil && proc.Kill() == nil {
			fmt.Fprintf(w, "cleaned: stray process %d %s\n", p.PID, p.Command)
			n++
		}
	}
	return n
}

// VerifyResult is what systemd-analyze verify said about one variant.
type VerifyResult struct {
	Variant string `json:"variant"`
	Exit    int    `json:"exit"`
	Output  string `json:"output"`
	Skipped bool   `json:"skipped,omitempty"`
}

// VerifyAll installs each variant without starting it, asks
// systemd-analyze verify about it, and removes it again.
func VerifyAll(ctx context.Context, binDir string) ([]VerifyResult, error) {
	var out []VerifyResult
	major := systemdMajor(Environment("", "").SystemdVersion)
	for _, v := range catalog.Variants() {
		if v.MinSystemd > major {
			out = append(out, VerifyResult{Variant: v.ID(), Skipped: true,
				Output: fmt.Sprintf("needs systemd %d, this lab has %d", v.MinSystemd, major)})
			continue
		}
		files, err := catalog.Render(v, catalog.Params{Bin: binDir, Listen: protocol.Listen, User: protocol.User})
		if err != nil {
			return nil, err
		}
		if err := install(ctx, osEnv, files); err != nil {
			return nil, err
		}
		text, code, err := command(ctx, 60*time.Second, "systemd-analyze", "verify", v.UnitPath())
		Remove(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, VerifyResult{Variant: v.ID(), Exit: code, Output: strings.TrimSpace(text)})
	}
	return out, nil
}
