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
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/priority"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/lab/catalog"
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
		runner.Status(ctx, os.Stdout, protocol.BinDir)
	case "cleanup":
		if runner.Cleanup(ctx, os.Stdout, protocol.BinDir) == 0 {
			fmt.Println("nothing to clean")
		}
	case "verify":
		var vs []runner.VerifyResult
		if vs, err = runner.VerifyAll(ctx, protocol.BinDir); err == nil {
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
		os.Exit(protocol.ExitSkipped)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gracelab-runner:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	server := fs.String("server", "", "sample server")
	variant := fs.String("variant", "", "unit variant")
	experiment := fs.String("experiment", "reload", "experiment kind: "+strings.Join(kind.Names(), ", "))
	profile := fs.String("profile", protocol.KeepAlive, strings.Join(protocol.AllProfiles(), ", "))
	rate := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 0, "load duration (default: the kind's, else 7s)")
	reloadAt := fs.String("reload-at", "", "comma-separated offsets of the reloads (default: the kind's schedule)")
	slow := fs.Int("slow", -1, "slow requests started before each reload (default: the kind's)")
	slowDuration := fs.Duration("slow-duration", 0, "how long each slow request takes (default: the kind's, else 1s)")
	listen := fs.String("listen", protocol.Listen, "address the server listens on")
	provider := fs.String("provider", "", "lab provider, recorded in the result")
	suite := fs.String("suite", "", "distribution suite, recorded in the result")
	batch := fs.String("batch", "", "batch the run belongs to, recorded in the result")
	repeat := fs.Int("repeat", 0, "repeat of the cell in its batch, from 1")
	ownUnit := fs.Bool("own", false, "run the user's own unit and binary (check): a runner.Own as JSON on stdin")
	path := fs.String("path", "/", "path the load requests")
	health := fs.String("health", protocol.HealthPath, "path whose answer says the server serves")
	slowPath := fs.String("slow-path", "", "path of a long request (default: the sample servers' /slow?ms=N)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	k, err := kind.Find(*experiment)
	if err != nil {
		return err
	}
	var own runner.Own
	var v catalog.Variant
	if *ownUnit {
		if err := json.NewDecoder(os.Stdin).Decode(&own); err != nil {
			return fmt.Errorf("read the unit to check from stdin: %w", err)
		}
		name := filepath.Base(own.Unit.Path)
		v = catalog.Variant{Server: "check", Name: strings.TrimSuffix(name, ".service"), Action: "reload", Unit: name, Summary: "the user's own unit"}
	} else if v, err = catalog.Find(*server, *variant); err != nil {
		return err
	}
	d := runner.DefaultSpec(k, v)
	d.Profile, d.Rate, d.Listen, d.Provider, d.Suite = *profile, *rate, *listen, *provider, *suite
	d.Path, d.Health, d.SlowPath = *path, *health, *slowPath
	if *slowDuration > 0 {
		d.Slow = *slowDuration
	}
	d.Batch, d.Repeat = *batch, *repeat
	if *duration > 0 {
		d.Duration = *duration
		d.ReloadAt = k.Schedule(d.Duration)
	}
	if *slow >= 0 {
		d.SlowPerReload = *slow
	}
	if *reloadAt != "" {
		if d.ReloadAt, err = reloadOffsets(*reloadAt); err != nil {
			return err
		}
	}
	// The client must keep its schedule for the server to be what is
	// measured; with several labs on few cores it would be the first to
	// fall behind. The servers, started by systemd, keep nice 0.
	_, d.ClientPriority = priority.Raise(loadNice)
	d.ClientPriority += ", " + priority.Alone(loadNice)
	run := runner.Run
	if *ownUnit {
		run = func(ctx context.Context, d runner.Spec, w io.Writer) (*result.Result, error) {
			return runner.RunOwn(ctx, d, own, w)
		}
	}
	res, err := run(ctx, d, os.Stderr)
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

// loadNice is the runner's (and so the load's) nice value in a run.
const loadNice = -10

// reloadOffsets parses "4s,8s,12s".
func reloadOffsets(s string) ([]time.Duration, error) {
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
