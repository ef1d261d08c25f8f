//go:build mage

// gracelab's targets. Each one calls a package; no logic lives here.
// Settings: LAB_PROVIDER (nspawn|vagrant), LAB_SUITE (bookworm|trixie|sid, or a comma list for experiments),
// GRACELAB_RATE, GRACELAB_DURATION, GRACELAB_PROFILES.
package main

import (
	"context"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/gracelab/gracelab/internal/experiment"
)

// Lab manages the lab machine with a real systemd.
type Lab mg.Namespace

// Up builds the binaries and boots the lab (LAB_PROVIDER, LAB_SUITE), reusing a running one.
func (Lab) Up(ctx context.Context) error { return experiment.Up(ctx) }

// Down stops the lab and leaves no process or mount behind.
func (Lab) Down(ctx context.Context) error { return experiment.Down(ctx) }

// Status says whether the lab runs and what of gracelab is installed in it.
func (Lab) Status(ctx context.Context) error { return experiment.Status(ctx) }

// Shell opens a root shell inside the lab.
func (Lab) Shell(ctx context.Context) error { return experiment.Shell(ctx) }

// Experiment runs experiments in the lab and stores results under results/.
type Experiment mg.Namespace

// Reload runs every unit variant of one server (grace, starter, plain) under load with reloads.
func (Experiment) Reload(ctx context.Context, server string) error {
	return experiment.Server(ctx, server)
}

// Variant runs one unit variant of one server: experiment:variant grace pidfile.
func (Experiment) Variant(ctx context.Context, server, variant string) error {
	return experiment.Variant(ctx, server, variant)
}

// All runs the whole matrix: every server, every variant, every load profile.
func (Experiment) All(ctx context.Context) error { return experiment.All(ctx) }

// List lists the servers and unit variants, one line each.
func (Experiment) List() { experiment.List(os.Stdout) }

// Upgrade deploys a new build (upgrade) and a build that cannot start (upgrade-broken) under load, for one server.
func (Experiment) Upgrade(ctx context.Context, server string) error {
	return experiment.Upgrade(ctx, server)
}

// Docs renders docs/ from results/ alone (no lab needed); the same results give the same bytes.
func Docs() error { return experiment.Docs() }

// Soak reloads grace/pidfile and starter/hup 50 times in a row under load and checks for leaks.
func (Experiment) Soak(ctx context.Context) error { return experiment.Soak(ctx) }

// Bench measures wrk and gracelab's load engine against the plain server and writes docs/bench.md.
func Bench(ctx context.Context) error { return experiment.Bench(ctx) }
