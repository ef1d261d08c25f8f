// Package host is the host side of gracelab: it builds, brings the
// lab up, has the runner do each run inside it, stores the results and
// prints what they say.
package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/build"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/reproduce"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/catalog"
	"github.com/gracelab/gracelab/lab/nspawn"
	"github.com/gracelab/gracelab/lab/vm"
)

// Provider returns the lab provider cfg names.
func Provider(cfg lab.Config) (lab.Provider, error) {
	switch cfg.Provider {
	case "nspawn":
		return nspawn.New(cfg), nil
	case "vagrant":
		return vm.New(cfg), nil
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
	// Repeats is how often each cell runs (0: the target's default);
	// Parallel how many labs run at once.
	Repeats  int
	Parallel int
	// Batch and Repeat are recorded in each result, and Gracelab, the
	// checkout that ran it.
	Batch    string
	Repeat   int
	Gracelab *result.Gracelab
}

// DefaultParallel is how many labs run at once unless GRACELAB_PARALLEL
// says otherwise; chosen from measurements on a 2-core machine (see the
// README).
const DefaultParallel = 4

// DefaultDuration is the load window of a run: three reloads 2 s apart,
// each with 1 s slow requests in flight, and time to settle.
const DefaultDuration = reproduce.DefaultDuration

// OptionsFromEnv reads GRACELAB_PROFILES, GRACELAB_RATE and
// GRACELAB_DURATION; bad values are errors, not silently defaults.
func OptionsFromEnv(repo string) (Options, error) {
	o := Options{Profiles: protocol.Profiles(), Rate: reproduce.DefaultRate, Duration: DefaultDuration,
		ResultsDir: ResultsDir(repo), Out: os.Stdout, Parallel: DefaultParallel}
	for _, n := range []struct {
		env      string
		into     *int
		min, max int
	}{{"GRACELAB_REPEATS", &o.Repeats, 1, 1000}, {"GRACELAB_PARALLEL", &o.Parallel, 1, 32}} {
		if v := os.Getenv(n.env); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x < n.min || x > n.max {
				return o, fmt.Errorf("%s=%q: want a number from %d to %d", n.env, v, n.min, n.max)
			}
			*n.into = x
		}
	}
	if v := os.Getenv("GRACELAB_PROFILES"); v != "" {
		o.Profiles = strings.Split(v, ",")
		for i, p := range o.Profiles {
			p = strings.TrimSpace(p) // "keepalive, new-conn"
			o.Profiles[i] = p
			if !slices.Contains(protocol.Profiles(), p) {
				return o, fmt.Errorf("GRACELAB_PROFILES: %q is not a profile; use %s, comma-separated", p, strings.Join(protocol.Profiles(), " or "))
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
	if err := Build(ctx, cfg, log); err != nil {
		return err
	}
	return BootLab(ctx, cfg, p, log)
}

// Build builds the binaries the lab runs, unless their inputs did not change.
func Build(ctx context.Context, cfg lab.Config, log io.Writer) error {
	t0 := time.Now()
	built, err := build.All(ctx, cfg.Repo, cfg.HostBinDir())
	if err != nil {
		return err
	}
	what := "unchanged, not rebuilt"
	if built {
		what = "built"
	}
	fmt.Fprintf(log, "build: binaries in %s %s in %.1fs\n", cfg.HostBinDir(), what, time.Since(t0).Seconds())
	return nil
}

// BootLab brings one lab up (or reuses it), provisions it, cleans what an
// earlier run left and collects its results.
func BootLab(ctx context.Context, cfg lab.Config, p lab.Provider, log io.Writer) error {
	t1 := time.Now()
	if err := p.Up(ctx, log); err != nil {
		return err
	}
	if err := p.Sync(ctx); err != nil {
		return err
	}
	if err := p.Exec(ctx, nil, log, log, protocol.Runner, "provision"); err != nil {
		return fmt.Errorf("provision the lab: %w", err)
	}
	// A run whose host side was killed leaves its unit, processes and
	// result in the lab: clean up, and keep the result.
	if err := p.Exec(ctx, nil, log, log, protocol.Runner, "cleanup"); err != nil {
		return fmt.Errorf("clean up the lab: %w", err)
	}
	if err := collect(ctx, cfg, p, log); err != nil {
		return err
	}
	var info bytes.Buffer
	p.Exec(ctx, nil, &info, io.Discard, "sh", "-c", `. /etc/os-release; echo "$PRETTY_NAME"; systemctl --version | head -1`)
	lines := strings.Split(strings.TrimSpace(info.String()), "\n")
	fmt.Fprintf(log, "lab: %s up in %.1fs: %s\n", p.Name(), time.Since(t1).Seconds(), strings.Join(lines, ", "))
	return nil
}

// collect stores results the host never received (its process was killed
// mid-run); the ones it did receive are already stored and are skipped.
func collect(ctx context.Context, cfg lab.Config, p lab.Provider, log io.Writer) error {
	var out bytes.Buffer
	if err := p.Exec(ctx, nil, &out, log, protocol.Runner, "collect"); err != nil {
		return fmt.Errorf("collect pending results: %w", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &raws); err != nil {
		return fmt.Errorf("collect pending results: %w", err)
	}
	for _, raw := range raws {
		r, err := result.Decode(raw)
		if err != nil {
			return err
		}
		path, err := result.Write(ResultsDir(cfg.Repo), r)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "recovered: result of a run whose host side died: %s (interrupted: %v)\n", path, r.Interrupted)
	}
	return nil
}

// ResultsDir is where results are stored: results/ of the repository, or
// GRACELAB_RESULTS (tests use it to keep the repository's results clean).
func ResultsDir(repo string) string {
	if d := os.Getenv("GRACELAB_RESULTS"); d != "" {
		return d
	}
	return filepath.Join(repo, "results")
}

// Job is one run to do.
type Job struct {
	Kind    kind.Kind
	Variant catalog.Variant
	Profile string
	// Own is a user's unit and binary (check), for the runner to place.
	Own *OwnJob
}

// OwnJob is what check runs: the user's files and where to load.
type OwnJob struct {
	Own                  runner.Own
	Listen, Path, Health string
	Slow                 string // a long request's path; none: no slow requests
}

func (j Job) String() string {
	return fmt.Sprintf("%s %s (%s)", j.Kind.Name, j.Variant.ID(), j.Profile)
}

// Jobs are the runs of kind k for the variants it applies to, under each
// of the batch's profiles that it takes.
func Jobs(k kind.Kind, vs []catalog.Variant, profiles []string) []Job {
	var out []Job
	for _, v := range vs {
		if !k.Applies(v) {
			continue
		}
		for _, p := range k.ProfilesFrom(profiles) {
			out = append(out, Job{Kind: k, Variant: v, Profile: p})
		}
	}
	return out
}

// AllJobs is every kind on every variant it applies to.
func AllJobs(profiles []string) []Job {
	var out []Job
	for _, k := range kind.All {
		out = append(out, Jobs(k, catalog.Variants(), profiles)...)
	}
	return out
}

// ErrSkipped marks a run that does not apply to this lab (such as a unit
// type its systemd does not know).
var ErrSkipped = errors.New("skipped")

// RunOne has the runner do one run in the lab and stores its result, also
// a partial one after an interrupt.
func RunOne(ctx context.Context, cfg lab.Config, p lab.Provider, j Job, o Options) (*result.Result, string, error) {
	v := j.Variant
	args := []string{protocol.Runner, "run", "-experiment", j.Kind.Name, "-server", v.Server, "-variant", v.Name, "-profile", j.Profile,
		"-rate", strconv.Itoa(o.Rate), "-duration", j.Kind.LoadDuration(o.Duration).String(), "-provider", p.Name(), "-suite", suiteOf(cfg),
		"-batch", o.Batch, "-repeat", strconv.Itoa(o.Repeat)}
	var stdin io.Reader
	if j.Own != nil {
		data, err := json.Marshal(j.Own.Own)
		if err != nil {
			return nil, "", err
		}
		stdin = bytes.NewReader(data)
		args = append(args, "-own", "-listen", j.Own.Listen, "-path", j.Own.Path, "-health", j.Own.Health)
		if j.Own.Slow == "" {
			args = append(args, "-slow", "0") // nothing to hold a request long with
		} else {
			args = append(args, "-slow-path", j.Own.Slow)
		}
	}
	var stdout bytes.Buffer
	var last lastLine
	runErr := p.Exec(ctx, stdin, &stdout, io.MultiWriter(o.Out, &last), args...)
	if runErr != nil && last.String() != "" {
		// The runner's own last word says what went wrong.
		runErr = fmt.Errorf("%s (%w)", last.String(), runErr)
	}
	var ee *exec.ExitError
	if errors.As(runErr, &ee) && ee.ExitCode() == protocol.ExitSkipped {
		return nil, "", fmt.Errorf("%s: %w in this lab (see the line above)", j, ErrSkipped)
	}
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
	r.Gracelab = o.Gracelab
	path, err := result.Write(o.ResultsDir, r)
	if err != nil {
		return r, "", err
	}
	if err := p.Exec(context.WithoutCancel(ctx), nil, io.Discard, o.Out, protocol.Runner, "forget", r.ID); err != nil {
		fmt.Fprintf(o.Out, "warning: the lab keeps a copy of %s: %v\n", r.ID, err)
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

// lastLine keeps the last non-empty line written to it.
type lastLine struct{ buf, line []byte }

func (l *lastLine) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if t := bytes.TrimSpace(l.buf[:i]); len(t) > 0 {
			l.line = append(l.line[:0], t...)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lastLine) String() string { return string(l.line) }
