// Package experiment is the host side of gracelab: it builds, brings the
// lab up, has the runner do each run inside it, stores the results and
// prints what they say.
package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/build"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/nspawn"
	"github.com/gracelab/gracelab/lab/units"
	"github.com/gracelab/gracelab/lab/vagrant"
)

// Provider returns the lab provider cfg names.
func Provider(cfg lab.Config) (lab.Provider, error) {
	switch cfg.Provider {
	case "nspawn":
		return nspawn.New(cfg), nil
	case "vagrant":
		return vagrant.New(cfg), nil
	}
	return nil, fmt.Errorf("provider %q is not available; use one of: %s", cfg.Provider, strings.Join(lab.Providers, ", "))
}

// Options are the settings of a batch of runs.
type Options struct {
	Profiles   []string
	Rate       int
	Duration   time.Duration
	ResultsDir string
	Out        io.Writer
}

// OptionsFromEnv reads GRACELAB_PROFILES, GRACELAB_RATE and
// GRACELAB_DURATION; bad values are errors, not silently defaults.
func OptionsFromEnv(repo string) (Options, error) {
	o := Options{Profiles: []string{runner.KeepAlive, runner.NewConn}, Rate: 1000, Duration: 15 * time.Second,
		ResultsDir: repo + "/results", Out: os.Stdout}
	if v := os.Getenv("GRACELAB_PROFILES"); v != "" {
		o.Profiles = strings.Split(v, ",")
		for _, p := range o.Profiles {
			if p != runner.KeepAlive && p != runner.NewConn {
				return o, fmt.Errorf("GRACELAB_PROFILES: %q is not a profile; use %s, %s or both, comma-separated", p, runner.KeepAlive, runner.NewConn)
			}
		}
	}
	if v := os.Getenv("GRACELAB_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return o, fmt.Errorf("GRACELAB_RATE=%q: want requests per second, 1 to 100000", v)
		}
		o.Rate = n
	}
	if v := os.Getenv("GRACELAB_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Second || d > time.Hour {
			return o, fmt.Errorf("GRACELAB_DURATION=%q: want a duration from 2s to 1h, such as 15s", v)
		}
		o.Duration = d
	}
	return o, nil
}

// LabUp builds the binaries, brings the lab up (or reuses it), provisions
// it and says what it is and how long each step took.
func LabUp(ctx context.Context, cfg lab.Config, p lab.Provider, log io.Writer) error {
	t0 := time.Now()
	if err := build.All(ctx, cfg.Repo, cfg.HostBinDir(), "v1"); err != nil {
		return err
	}
	fmt.Fprintf(log, "build: binaries in %s in %.1fs\n", cfg.HostBinDir(), time.Since(t0).Seconds())
	t1 := time.Now()
	if err := p.Up(ctx, log); err != nil {
		return err
	}
	if err := p.Sync(ctx); err != nil {
		return err
	}
	if err := p.Exec(ctx, nil, log, log, lab.Runner, "provision"); err != nil {
		return fmt.Errorf("provision the lab: %w", err)
	}
	var info bytes.Buffer
	p.Exec(ctx, nil, &info, io.Discard, "sh", "-c", `. /etc/os-release; echo "$PRETTY_NAME"; systemctl --version | head -1`)
	lines := strings.Split(strings.TrimSpace(info.String()), "\n")
	fmt.Fprintf(log, "lab: %s up in %.1fs: %s\n", p.Name(), time.Since(t1).Seconds(), strings.Join(lines, ", "))
	return nil
}

// RunVariants runs every variant under every profile and stores each
// result. It stops at the first interrupt; a failed run does not stop the
// others.
func RunVariants(ctx context.Context, cfg lab.Config, p lab.Provider, vs []units.Variant, o Options) ([]*result.Result, error) {
	var out []*result.Result
	var errs []error
	total := len(vs) * len(o.Profiles)
	i := 0
	for _, v := range vs {
		for _, prof := range o.Profiles {
			i++
			fmt.Fprintf(o.Out, "\n== run %d/%d: %s (%s), %d req/s for %s, systemctl %s ×3\n", i, total, v.ID(), prof, o.Rate, o.Duration, v.Action)
			r, path, err := RunOne(ctx, cfg, p, v, prof, o)
			if r != nil {
				out = append(out, r)
				PrintSummary(o.Out, r)
				fmt.Fprintf(o.Out, "result: %s\n", path)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s (%s): %w", v.ID(), prof, err))
				fmt.Fprintf(o.Out, "error: %v\n", err)
			}
			if ctx.Err() != nil {
				return out, errors.Join(append(errs, errors.New("interrupted"))...)
			}
		}
	}
	return out, errors.Join(errs...)
}

// RunOne has the runner do one run in the lab and stores its result, also
// a partial one after an interrupt.
func RunOne(ctx context.Context, cfg lab.Config, p lab.Provider, v units.Variant, profile string, o Options) (*result.Result, string, error) {
	args := []string{lab.Runner, "run", "-server", v.Server, "-variant", v.Name, "-profile", profile,
		"-rate", strconv.Itoa(o.Rate), "-duration", o.Duration.String(), "-provider", p.Name(), "-suite", suiteOf(cfg)}
	var stdout bytes.Buffer
	runErr := p.Exec(ctx, nil, &stdout, o.Out, args...)
	if stdout.Len() == 0 {
		if runErr == nil {
			runErr = errors.New("the runner printed no result")
		}
		return nil, "", runErr
	}
	r, err := result.Decode(stdout.Bytes())
	if err != nil {
		return nil, "", fmt.Errorf("runner output: %w (runner: %v)", err, runErr)
	}
	path, err := result.Write(o.ResultsDir, r)
	if err != nil {
		return r, "", err
	}
	if r.Interrupted {
		return r, path, errors.New("interrupted; partial result stored, marked interrupted")
	}
	return r, path, nil
}

// suiteOf is the suite to record: the nspawn lab's, or empty for the
// runner to read from the machine.
func suiteOf(cfg lab.Config) string {
	if cfg.Provider == "nspawn" {
		return cfg.Suite
	}
	return ""
}
