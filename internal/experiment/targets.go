package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gracelab/gracelab/internal/bench"
	"github.com/gracelab/gracelab/internal/docs"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/units"
)

// The functions here are what the mage targets call, one each, so the
// magefile stays a list of names and help lines.

func setup() (lab.Config, lab.Provider, error) {
	repo, err := os.Getwd()
	if err != nil {
		return lab.Config{}, nil, err
	}
	cfg, err := lab.ConfigFromEnv(repo)
	if err != nil {
		return cfg, nil, err
	}
	p, err := Provider(cfg)
	return cfg, p, err
}

// interruptible makes SIGINT and SIGTERM cancel ctx, so a run stops its
// load, cleans up and stores a partial result instead of dying.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// Up is lab:up.
func Up(ctx context.Context) error {
	cfg, p, err := setup()
	if err != nil {
		return err
	}
	return LabUp(ctx, cfg, p, os.Stdout)
}

// Down is lab:down.
func Down(ctx context.Context) error {
	_, p, err := setup()
	if err != nil {
		return err
	}
	return p.Down(ctx, os.Stdout)
}

// Status is lab:status.
func Status(ctx context.Context) error {
	_, p, err := setup()
	if err != nil {
		return err
	}
	up, line, err := p.Running(ctx)
	if err != nil {
		return err
	}
	fmt.Println(line)
	if !up {
		return nil
	}
	return p.Exec(ctx, nil, os.Stdout, os.Stderr, lab.Runner, "status")
}

// Shell is lab:shell.
func Shell(ctx context.Context) error {
	_, p, err := setup()
	if err != nil {
		return err
	}
	return p.Shell(ctx)
}

// List is experiment:list.
func List(w io.Writer) {
	fmt.Fprintln(w, "servers and their unit variants (experiment:variant <server> <variant>):")
	for _, s := range units.Servers() {
		vs, _ := units.Of(s)
		for _, v := range vs {
			mark := " "
			if v.Upgrade {
				mark = "*"
			}
			fmt.Fprintf(w, "  %-9s %-14s%s systemctl %-7s %s\n", v.Server, v.Name, mark, v.Action, v.Summary)
		}
	}
	fmt.Fprintln(w, "experiments: reload (every variant above), upgrade and upgrade-broken (experiment:upgrade <server>, on the variant marked *),")
	fmt.Fprintln(w, "             soak (experiment:soak: 50 reloads in a row of grace/pidfile and starter/hup)")
	fmt.Fprintln(w, "profiles: keepalive, new-conn (GRACELAB_PROFILES); rate GRACELAB_RATE (1000/s); duration GRACELAB_DURATION (15s)")
}

// Server is experiment:reload <server>.
func Server(ctx context.Context, server string) error {
	vs, err := units.Of(server)
	if err != nil {
		return err
	}
	return runBatch(ctx, func(o Options) []Job { return ReloadJobs(vs, o.Profiles) })
}

// Variant is experiment:variant <server> <variant>.
func Variant(ctx context.Context, server, variant string) error {
	v, err := units.Find(server, variant)
	if err != nil {
		return err
	}
	return runBatch(ctx, func(o Options) []Job { return ReloadJobs([]units.Variant{v}, o.Profiles) })
}

// Upgrade is experiment:upgrade <server>: upgrade and upgrade-broken.
func Upgrade(ctx context.Context, server string) error {
	if _, err := units.Of(server); err != nil {
		return err
	}
	return runBatch(ctx, func(Options) []Job { return UpgradeJobs([]string{server}) })
}

// Soak is experiment:soak: 50 reloads in a row for grace and starter.
func Soak(ctx context.Context) error {
	return runBatch(ctx, func(Options) []Job { return SoakJobs() })
}

// All is experiment:all: every reload variant, every upgrade, the soak.
func All(ctx context.Context) error {
	return runBatch(ctx, func(o Options) []Job {
		jobs := append(ReloadJobs(units.Catalog, o.Profiles), UpgradeJobs(units.Servers())...)
		return append(jobs, SoakJobs()...)
	})
}

func runBatch(ctx context.Context, jobs func(Options) []Job) error {
	ctx, stop := interruptible(ctx)
	defer stop()
	cfg, _, err := setup()
	if err != nil {
		return err
	}
	o, err := OptionsFromEnv(cfg.Repo)
	if err != nil {
		return err
	}
	suites := []string{cfg.Suite}
	if cfg.Provider == "nspawn" {
		if suites, err = lab.SuitesFromEnv(); err != nil {
			return err
		}
	}
	t0 := time.Now()
	var rs []*result.Result
	var errs []error
	for _, suite := range suites {
		cfg.Suite = suite
		p, err := Provider(cfg)
		if err != nil {
			return err
		}
		if len(suites) > 1 {
			fmt.Fprintf(o.Out, "\n==== lab %s %s\n", cfg.Provider, suite)
		}
		if err := LabUp(ctx, cfg, p, o.Out); err != nil {
			return err
		}
		got, err := RunJobs(ctx, cfg, p, jobs(o), o)
		rs = append(rs, got...)
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintf(o.Out, "\n%d runs in %.0fs; results in %s\n", len(rs), time.Since(t0).Seconds(), o.ResultsDir)
	PrintTable(o.Out, rs)
	if derr := Docs(); derr != nil {
		errs = append(errs, fmt.Errorf("docs: %w", derr))
	}
	return errors.Join(errs...)
}

// PrintTable is the batch in one line per run.
func PrintTable(w io.Writer, rs []*result.Result) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "%-15s %-24s %-10s %7s %7s %9s %8s %-18s %s\n", "experiment", "variant", "profile", "sent", "failed", "gap(ms)", "tracked", "final", "verdict")
	for _, r := range rs {
		tracked := "-"
		for _, c := range r.Verdict.Checks {
			if c.Name == "systemd_tracks_server" {
				tracked = map[bool]string{true: "yes", false: "no"}[c.Outcome == "pass"]
			}
		}
		fmt.Fprintf(w, "%-15s %-24s %-10s %7d %7d %9.0f %8s %-18s %s\n", r.Experiment, r.Server+"/"+r.Variant, r.Profile, r.Summary.Sent, r.Summary.Failed,
			r.Summary.LongestGapMS, tracked, r.Final.Snapshot.ActiveState+"/"+r.Final.Snapshot.SubState, strings.ToUpper(string(r.Verdict.Overall)))
	}
}

// Docs is the docs target: docs/ from results/, nothing else.
func Docs() error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := docs.Render(filepath.Join(repo, "results"), filepath.Join(repo, "docs")); err != nil {
		return err
	}
	fmt.Println("docs: rendered docs/ from results/")
	return nil
}

// Bench is the bench target: wrk against gracelab's engine, docs/bench.md.
func Bench(ctx context.Context) error {
	ctx, stop := interruptible(ctx)
	defer stop()
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	return bench.Run(ctx, repo, os.Stdout)
}
