// Package lab is a machine with a real systemd as PID 1 where the runner
// does its work. Providers (nspawn by default, Vagrant) hide how the machine
// is made; everything inside it is the same.
package lab

import (
	"context"
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

// Config chooses the provider and the distribution.
type Config struct {
	Provider string // nspawn (default) or vagrant
	Suite    string // Debian suite for nspawn: bookworm (default), trixie, sid
	Repo     string // repository root on the host
}

// Suites the nspawn provider knows how to build.
var Suites = []string{"bookworm", "trixie", "sid"}

// Providers that exist.
var Providers = []string{"nspawn", "vagrant"}

// ConfigFromEnv reads LAB_PROVIDER and LAB_SUITE.
func ConfigFromEnv(repo string) (Config, error) {
	c := Config{Provider: os.Getenv("LAB_PROVIDER"), Suite: os.Getenv("LAB_SUITE"), Repo: repo}
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
		if !slices.Contains(Suites, s) {
			return nil, fmt.Errorf("LAB_SUITE: %q is not a suite the nspawn lab builds; use one of: %s (comma-separated for several)", s, strings.Join(Suites, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// HostBinDir is where the host puts the build output that the lab sees.
func (c Config) HostBinDir() string { return filepath.Join(c.Repo, ".lab", "bin") }
