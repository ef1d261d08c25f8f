package host

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
	"text/tabwriter"
	"time"

	"github.com/gracelab/gracelab/internal/bench"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/reproduce"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/writeup"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/catalog"
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
	ctx, stop := interruptible(ctx)
	defer stop()
	cfg, p, err := setup()
	if err != nil {
		return err
	}
	return LabUp(ctx, cfg, p, os.Stdout)
}

// Down is lab:down.
func Down(ctx context.Context) error {
	cfg, p, err := setup()
	if err != nil {
		return err
	}
	return downAll(ctx, cfg, p, os.Stdout)
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
	return p.Exec(ctx, nil, os.Stdout, os.Stderr, protocol.Runner, "status")
}

// Shell is lab:shell.
func Shell(ctx context.Context) error {
	_, p, err := setup()
	if err != nil {
		return err
	}
	return p.Shell(ctx)
}

// List is experiment:list: aligned columns, the long summary last.
func List(w io.Writer) {
	fmt.Fprintln(w, "servers and their unit variants (experiment:variant <server> <variant>):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tVARIANT\tACTION\tEXPERIMENTS\tSUMMARY")
	for _, s := range catalog.Servers() {
		for _, v := range s.Variants {
			var kinds []string
			for _, k := range kind.All {
				if k.Applies(v) {
					kinds = append(kinds, k.Name)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\tsystemctl %s\t%s\t%s\n", v.Server, v.Name, v.Action, strings.Join(kinds, ","), v.Summary)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "experiments (experiment:kind <name> on every variant; experiment:run <name> <server> <variant> on one):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range kind.All {
		fmt.Fprintf(tw, "  %s\t%s\n", k.Name, k.Says)
	}
	tw.Flush()
	fmt.Fprintf(w, "profiles: %s (GRACELAB_PROFILES); rate GRACELAB_RATE (%d/s); duration GRACELAB_DURATION (%s)\n", strings.Join(protocol.Profiles(), ", "), reproduce.DefaultRate, DefaultDuration)
}

// Reload is experiment:reload <server>: every variant of one server.
func Reload(ctx context.Context, server string) error { return Kind(ctx, "reload", server) }

// Variant is experiment:variant <server> <variant>.
func Variant(ctx context.Context, server, variant string) error {
	v, err := catalog.Find(server, variant)
	if err != nil {
		return err
	}
	k, err := kind.Find("reload")
	if err != nil {
		return err
	}
	return runBatch(ctx, "variant-"+server+"-"+variant, 1, func(o Options) []Job { return Jobs(k, []catalog.Variant{v}, o.Profiles) })
}

// Run is experiment:run <kind> <server> <variant>: one kind on one
// variant, the command the writeup gives to repeat a run.
func Run(ctx context.Context, name, server, variant string) error {
	k, err := kind.Find(name)
	if err != nil {
		return err
	}
	v, err := catalog.Find(server, variant)
	if err != nil {
		return err
	}
	if len(Jobs(k, []catalog.Variant{v}, protocol.Profiles())) == 0 {
		return fmt.Errorf("experiment %s does not apply to %s; experiment:list names the experiments of each variant", name, v.ID())
	}
	return runBatch(ctx, "run-"+name+"-"+server+"-"+variant, 1, func(o Options) []Job { return Jobs(k, []catalog.Variant{v}, o.Profiles) })
}

// Upgrade is experiment:upgrade <server>: every kind that deploys a build.
func Upgrade(ctx context.Context, server string) error {
	vs, err := catalog.Of(server)
	if err != nil {
		return err
	}
	return runBatch(ctx, "upgrade-"+server, 1, func(o Options) []Job {
		var jobs []Job
		for _, k := range kind.All {
			if k.Deploy != "" {
				jobs = append(jobs, Jobs(k, vs, o.Profiles)...)
			}
		}
		return jobs
	})
}

// Kind is experiment:kind <name> [server]: one kind on every variant it
// applies to, of one server or (server "") of all.
func Kind(ctx context.Context, name, server string) error {
	k, err := kind.Find(name)
	if err != nil {
		return err
	}
	vs := catalog.Variants()
	if server != "" {
		if vs, err = catalog.Of(server); err != nil {
			return err
		}
	}
	if len(Jobs(k, vs, protocol.Profiles())) == 0 {
		return fmt.Errorf("experiment %s applies to no variant of %s; see experiment:list", name, server)
	}
	return runBatch(ctx, strings.Trim("kind-"+name+"-"+server, "-"), 1, func(o Options) []Job { return Jobs(k, vs, o.Profiles) })
}

// All is experiment:all: every kind on every variant it applies to.
func All(ctx context.Context) error {
	return runBatch(ctx, FullBatch, 5, func(o Options) []Job { return AllJobs(o.Profiles) })
}

// batchSetup reads the lab's settings, the batch's options (repeats
// unless GRACELAB_REPEATS says otherwise) and the suites to run on.
func batchSetup(repeats int) (lab.Config, Options, []string, error) {
	cfg, _, err := setup()
	if err != nil {
		return cfg, Options{}, nil, err
	}
	o, err := OptionsFromEnv(cfg.Repo)
	if err != nil {
		return cfg, o, nil, err
	}
	if o.Repeats == 0 {
		o.Repeats = repeats
	}
	o.Gracelab = Checkout(cfg.Repo)
	suites := []string{cfg.Suite}
	if cfg.Provider == "nspawn" {
		if suites, err = lab.SuitesFromEnv(); err != nil {
			return cfg, o, nil, err
		}
	}
	return cfg, o, suites, nil
}

// runBatch runs the jobs on every suite (LAB_SUITE), each repeated
// GRACELAB_REPEATS times (default: repeats), on GRACELAB_PARALLEL labs at
// once, then renders docs/.
func runBatch(ctx context.Context, name string, repeats int, jobs func(Options) []Job) error {
	ctx, stop := interruptible(ctx)
	defer stop()
	cfg, o, suites, err := batchSetup(repeats)
	if err != nil {
		return err
	}
	o.Batch = BatchID(time.Now()) + "-" + name
	rs, err := RunBatch(ctx, cfg, Tasks(jobs(o), suites, o.Repeats), o)
	fmt.Fprintf(o.Out, "results in %s\n", o.ResultsDir)
	if len(rs) <= 40 {
		PrintTable(o.Out, rs)
	}
	if derr := Docs(); derr != nil {
		err = errors.Join(err, fmt.Errorf("docs: %w", derr))
	}
	return err
}

// PrintTable is the batch in one line per run, as the host judges it.
func PrintTable(w io.Writer, rs []*result.Result) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "%-15s %-24s %-10s %7s %7s %9s %-18s %s\n", "experiment", "variant", "profile", "sent", "failed", "gap(ms)", "final", "verdict per question")
	for _, r := range rs {
		fmt.Fprintf(w, "%-15s %-24s %-10s %7d %7d %9.0f %-18s %s\n", r.Experiment, r.Server+"/"+r.Variant, r.Profile, r.Summary.Sent, r.Summary.Failed,
			r.Summary.LongestGapMS, r.Final.Snapshot.ActiveState+"/"+r.Final.Snapshot.SubState, judgementLine(r))
	}
}

// Docs is the docs target: docs/ from results/, nothing else.
func Docs() error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := writeup.Render(filepath.Join(repo, "results"), filepath.Join(repo, "docs")); err != nil {
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
