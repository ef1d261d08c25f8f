// Package lab is a machine with a real systemd as PID 1 where the runner
// does its work. Providers (nspawn by default, Vagrant) hide how the machine
// is made; everything inside it is the same.
package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Provider makes and runs a lab machine.
type Provider interface {
	// Name is the provider's name as results record it ("nspawn", "vagrant").
	Name() string
	// Up boots the machine (or reuses a running one), waits until systemd
	// inside is running and provisions it. It reports progress to log.
	Up(ctx context.Context, log io.Writer) error
	// Down stops the machine and leaves nothing running or mounted.
	Down(ctx context.Context, log io.Writer) error
	// Running says whether the machine is up, with a line about it.
	Running(ctx context.Context) (bool, string, error)
	// Exec runs a command inside as root.
	Exec(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error
	// Shell opens an interactive shell inside.
	Shell(ctx context.Context) error
	// Sync makes the host's build output visible at BinDir inside.
	Sync(ctx context.Context) error
}

// Config chooses the provider and the distribution, and names the lab.
type Config struct {
	Provider string // nspawn (default) or vagrant
	Suite    string // Debian suite for nspawn: bookworm (default), trixie, sid
	Repo     string // repository root on the host
	// Instance tells apart labs of one checkout that must not share a
	// machine: "lab" for the targets, a per-process name for tests.
	Instance string
	// Slot numbers the labs of a parallel batch, from 0.
	Slot int
	// Ephemeral labs stop when the process that booted them ends (a
	// batch's labs); the others outlive it, for the next command.
	Ephemeral bool
}

// Machine is the lab's machine name: its suite, its checkout, its
// instance and slot, so two checkouts, or a test run and an experiment,
// never share (or block) a lab.
func (c Config) Machine() string {
	inst := c.Instance
	if inst == "" {
		inst = "lab"
	}
	return fmt.Sprintf("%s%s-%s-%s-%d", MachinePrefix, c.Suite, CheckoutID(c.Repo), inst, c.Slot)
}

// MachinePrefix starts every lab machine's name.
const MachinePrefix = "gl-"

// CheckoutID is a short stable name for a checkout: a hash of its path.
func CheckoutID(repo string) string {
	h := sha256.Sum256([]byte(filepath.Clean(repo)))
	return hex.EncodeToString(h[:3])
}

// Suites the nspawn provider knows how to build.
var Suites = []string{"bookworm", "trixie", "sid"}

// Providers that exist.
var Providers = []string{"nspawn", "vagrant"}

// ConfigFromEnv reads LAB_PROVIDER and LAB_SUITE.
func ConfigFromEnv(repo string) (Config, error) {
	c := Config{Provider: os.Getenv("LAB_PROVIDER"), Suite: os.Getenv("LAB_SUITE"), Repo: repo, Instance: os.Getenv("GRACELAB_INSTANCE")}
	if c.Instance == "" {
		c.Instance = "lab"
	}
	if !validInstance(c.Instance) {
		return c, fmt.Errorf("GRACELAB_INSTANCE=%q: use lower-case letters and digits, starting with a letter", c.Instance)
	}
	if c.Provider == "" {
		c.Provider = "nspawn"
	}
	if c.Suite == "" {
		c.Suite = "bookworm"
	}
	if !slices.Contains(Providers, c.Provider) {
		return c, fmt.Errorf("LAB_PROVIDER=%q is not a provider; use one of: %s", c.Provider, strings.Join(Providers, ", "))
	}
	if c.Provider == "nspawn" {
		// A list is for experiment batches; a single lab is its first suite.
		suites, err := SuitesFromEnv()
		if err != nil {
			return c, err
		}
		c.Suite = suites[0]
	}
	return c, nil
}

// SuitesFromEnv reads LAB_SUITE as a comma-separated list (experiment:all
// runs the matrix on each); empty means bookworm. Each is checked.
func SuitesFromEnv() ([]string, error) {
	v := os.Getenv("LAB_SUITE")
	if v == "" {
		return []string{"bookworm"}, nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s) // "bookworm, trixie"
		if !slices.Contains(Suites, s) {
			return nil, fmt.Errorf("LAB_SUITE: %q is not a suite the nspawn lab builds; use one of: %s (comma-separated for several)", s, strings.Join(Suites, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// HostBinDir is where the host puts the build output that the lab sees.
func (c Config) HostBinDir() string { return filepath.Join(c.Repo, ".lab", "bin") }

// HostPendingDir is where a lab keeps results the host has not stored
// yet, on the host, so they outlive the lab.
func (c Config) HostPendingDir() string { return filepath.Join(c.Repo, ".lab", "pending", c.Machine()) }

func validInstance(s string) bool {
	if s == "" || len(s) > 16 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
