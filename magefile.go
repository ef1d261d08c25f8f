//go:build mage

// gracelab's targets; -h TARGET shows one's usage. Settings, as environment variables: LAB_PROVIDER (nspawn|vagrant),
// LAB_SUITE (bookworm|trixie|sid, or a comma list for experiments), GRACELAB_PROFILES, GRACELAB_REPEATS,
// GRACELAB_RATE, GRACELAB_DURATION (the README says more).
package main

// Each target calls a package; no logic lives here.

import (
	"context"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/gracelab/gracelab/internal/host"
)

// A target given too few arguments prints its usage, not only mage's
// "not enough arguments".
func init() { host.UsageOnMissingArgs() }

// Lab manages the lab machine with a real systemd.
type Lab mg.Namespace

// Up builds the binaries and boots the lab (LAB_PROVIDER, LAB_SUITE), reusing a running one.
func (Lab) Up(ctx context.Context) error { return host.Up(ctx) }

// Down stops the lab and leaves no process or mount behind.
func (Lab) Down(ctx context.Context) error { return host.Down(ctx) }

// Status says whether the lab runs and what of gracelab is installed in it.
func (Lab) Status(ctx context.Context) error { return host.Status(ctx) }

// Shell opens a root shell inside the lab.
func (Lab) Shell(ctx context.Context) error { return host.Shell(ctx) }

// Experiment runs experiments in the lab and stores results under results/.
type Experiment mg.Namespace

// Reload runs every unit variant of one server under load with reloads; servers: endless, fdstore, grace, gracedown, manners, overseer, plain, reuseport, socket, starter, tableflip.
func (Experiment) Reload(ctx context.Context, server string) error {
	return host.Reload(ctx, server)
}

// Kind runs one kind of experiment on every variant it applies to: experiment:kind soak.
func (Experiment) Kind(ctx context.Context, name string) error { return host.Kind(ctx, name, "") }

// Variant runs one unit variant of one server: experiment:variant grace pidfile.
func (Experiment) Variant(ctx context.Context, server, variant string) error {
	return host.Variant(ctx, server, variant)
}

// Run runs one kind of experiment on one unit variant, as each run's section in docs/ gives it: experiment:run soak grace pidfile.
func (Experiment) Run(ctx context.Context, kind, server, variant string) error {
	return host.Run(ctx, kind, server, variant)
}

// All runs the whole matrix: every server, every variant, every load profile.
func (Experiment) All(ctx context.Context) error { return host.All(ctx) }

// List lists the servers and unit variants, one line each.
func (Experiment) List() { host.List(os.Stdout) }

// Upgrade deploys a new build (upgrade) and a build that cannot start (upgrade-broken) under load, for one server.
func (Experiment) Upgrade(ctx context.Context, server string) error {
	return host.Upgrade(ctx, server)
}

// Docs renders docs/ from results/ alone, no lab needed.
func Docs() error { return host.Docs() }

// Soak reloads the soak variants 30 times in a row, one a second, under load and checks for leaks.
func (Experiment) Soak(ctx context.Context) error { return host.Kind(ctx, "soak", "") }

// Results works on the stored results alone, no lab needed.
type Results mg.Namespace

// Judge judges every stored result with today's checks: one line per run, each question's verdict.
func (Results) Judge() error { return host.Judge(os.Stdout) }

// Compare compares two batches (names in results/, or folders) cell by cell as k of N: results:compare A B.
func (Results) Compare(a, b string) error { return host.Compare(os.Stdout, a, b) }

// Check runs your own unit and binary in the lab as the matrix runs its own, and writes docs/check/UNIT.md: check app.service ./app.
// Settings: CHECK_URL (default http://127.0.0.1:8080/, loopback only), CHECK_HEALTH (a path), CHECK_SLOW (a long request's path), CHECK_ENV (EnvironmentFile= contents),
// CHECK_FILES (HOST:LAB,...), GRACELAB_REPEATS (default 5).
func Check(ctx context.Context, unit, binary string) error {
	return host.Check(ctx, os.Stdout, unit, binary)
}

// Lint warns about each way the unit file fails that the lab has measured, without a lab: lint path/to/app.service.
func Lint(ctx context.Context, unit string) error { return host.Lint(ctx, os.Stdout, unit) }

// Bench measures wrk and gracelab's load engine against the plain server and writes docs/bench.md.
func Bench(ctx context.Context) error { return host.Bench(ctx) }
