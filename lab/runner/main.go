// Command gracelab-runner runs inside a lab machine (any systemd host):
// provision, run one experiment and print its result as JSON on stdout,
// show status, or clean up what an interrupted run left.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/units"
)

const usage = `usage: gracelab-runner <command> [flags]
commands:
  provision   create the service user and directories (idempotent)
  run         run one experiment; result JSON on stdout, progress on stderr
  status      show our binaries, units and processes
  cleanup     remove units and processes of ours left by an interrupted run
  verify      systemd-analyze verify every unit variant; JSON on stdout
  forget ID   drop the lab's copy of a result the host has stored
  collect     print results the host never received (JSON array) and forget them`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "provision":
		err = runner.Provision(ctx, os.Stdout)
	case "status":
		runner.Status(ctx, os.Stdout, lab.BinDir)
	case "cleanup":
		if runner.Cleanup(ctx, os.Stdout, lab.BinDir) == 0 {
			fmt.Println("nothing to clean")
		}
	case "verify":
		var vs []runner.VerifyResult
		if vs, err = runner.VerifyAll(ctx, lab.BinDir); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(vs)
		}
	case "forget":
		// The host has stored this result; drop the lab's copy.
		if len(os.Args) != 3 {
			err = errors.New("usage: gracelab-runner forget <result-id>")
		} else {
			err = runner.ForgetPending(os.Args[2])
		}
	case "collect":
		rs, errs := runner.CollectPending()
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "gracelab-runner: dropped unreadable pending result:", e)
		}
		if rs == nil {
			rs = []json.RawMessage{}
		}
		err = json.NewEncoder(os.Stdout).Encode(rs)
	case "run":
		// If the host side dies (nsenter or ssh gone), stop as on Ctrl-C:
		// clean up and keep the partial result for the next command.
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
		err = run(ctx, os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s\n", os.Args[1], usage)
		os.Exit(2)
	}
	var skip *runner.SkipError
	if errors.As(err, &skip) {
		fmt.Fprintln(os.Stderr, "gracelab-runner:", err)
		os.Exit(ExitSkipped)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gracelab-runner:", err)
		os.Exit(1)
	}
}

// ExitSkipped tells the host that a run does not apply to this lab.
const ExitSkipped = 3

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	server := fs.String("server", "", "sample server")
	variant := fs.String("variant", "", "unit variant")
	d := runner.DefaultSpec(units.Variant{})
	fs.StringVar(&d.Experiment, "experiment", d.Experiment, "experiment name")
	fs.StringVar(&d.Profile, "profile", d.Profile, "keepalive or new-conn")
	fs.IntVar(&d.Rate, "rate", d.Rate, "requests per second")
	fs.DurationVar(&d.Duration, "duration", d.Duration, "load duration")
	reloadAt := fs.String("reload-at", "", "comma-separated offsets of the reloads (default: 4s,8s,12s scaled to the duration)")
	fs.IntVar(&d.SlowPerReload, "slow", d.SlowPerReload, "slow requests started before each reload")
	fs.DurationVar(&d.Slow, "slow-duration", d.Slow, "how long each slow request takes")
	fs.StringVar(&d.Listen, "listen", d.Listen, "address the server listens on")
	fs.StringVar(&d.Provider, "provider", "", "lab provider, recorded in the result")
	fs.StringVar(&d.Suite, "suite", "", "distribution suite, recorded in the result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, err := units.Find(*server, *variant)
	if err != nil {
		return err
	}
	d.Variant = v
	d.ReloadAt, err = reloadOffsets(*reloadAt, d.Duration)
	if err != nil {
		return err
	}
	switch d.Experiment {
	case "reload":
	case "upgrade", "upgrade-broken":
		// One deploy, then time to watch what it did.
		d.Upgrade = map[string]string{"upgrade": "v2", "upgrade-broken": "broken"}[d.Experiment]
		if *reloadAt == "" {
			d.ReloadAt = []time.Duration{d.Duration / 3}
		}
	case "soak":
		// Reloads back to back, one a second, to show leaks.
		if *reloadAt == "" {
			d.ReloadAt = nil
			for at := time.Second; at <= d.Duration-3*time.Second; at += time.Second {
				d.ReloadAt = append(d.ReloadAt, at)
			}
		}
		d.SlowPerReload = 1
	default:
		return fmt.Errorf("unknown experiment %q; experiments: reload, upgrade, upgrade-broken, soak", d.Experiment)
	}
	res, err := runner.Run(ctx, d, os.Stderr)
	if err != nil {
		return err
	}
	if err := runner.KeepPending(res); err != nil {
		fmt.Fprintln(os.Stderr, "gracelab-runner: keep pending result:", err)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(res); err != nil {
		return err
	}
	if res.Interrupted {
		return fmt.Errorf("interrupted: partial result written")
	}
	return nil
}

// reloadOffsets parses "4s,8s,12s"; empty means three reloads at 4/15,
// 8/15 and 12/15 of the duration, the schedule for 15 s.
func reloadOffsets(s string, total time.Duration) ([]time.Duration, error) {
	if s == "" {
		return []time.Duration{total * 4 / 15, total * 8 / 15, total * 12 / 15}, nil
	}
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad -reload-at %q: %w", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}
