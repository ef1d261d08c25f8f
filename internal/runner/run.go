// Package runner is the work done inside the lab: install a unit variant,
// start it, put it under load, reload it on schedule, watch what systemd
// and the clients see, remove it, and return one result.
package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/observe"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab/catalog"
)

// Spec is one run.
type Spec struct {
	Kind          kind.Kind
	Variant       catalog.Variant
	Profile       string
	Rate          int
	Duration      time.Duration
	Timeout       time.Duration
	ReloadAt      []time.Duration
	SlowPerReload int
	Slow          time.Duration
	Listen        string
	BinDir        string
	Provider      string
	Suite         string
	Batch         string
	Repeat        int
	// ClientPriority is how the runner, and so the load, was scheduled.
	ClientPriority string
	// StopUnderLoad stops the unit while the load still runs, when the
	// last reload has settled (see stopAt).
	StopUnderLoad bool
	// For a unit of the user's own (check): its files, as installed, instead
	// of the catalog's; its binary; the path loaded and the health check.
	Files        []result.File
	Bin          string
	Tools        []string
	Path, Health string
	// SlowPath is the user's own long request (check); the sample servers
	// take /slow?ms=N.
	SlowPath string
}

// bin is the server's binary.
func (s Spec) bin() string { return cmp.Or(s.Bin, filepath.Join(s.BinDir, s.Variant.Server)) }

// DefaultSpec is a run of kind k: about 1000 req/s for 7 s (or the
// kind's own duration), reloads on the kind's schedule.
func DefaultSpec(k kind.Kind, v catalog.Variant) Spec {
	d := k.LoadDuration(7 * time.Second)
	return Spec{
		Kind: k, Variant: v, Profile: protocol.KeepAlive,
		Rate: 1000, Duration: d, Timeout: 5 * time.Second,
		ReloadAt: k.Schedule(d), SlowPerReload: k.SlowPerReload, Slow: cmp.Or(k.Slow, time.Second),
		Listen: protocol.Listen, BinDir: protocol.BinDir, StopUnderLoad: k.StopUnderLoad,
		Path: "/", Health: protocol.HealthPath,
	}
}

// afterLast is when the last reload's hand-over is over: at least 1.7 s
// after its slow requests start, as after the others (a hand-over that
// waits for 1 s slow requests, or start_server's 1 s --interval, is not
// over 1 s after the reload), and not before the load window ends.
func (s Spec) afterLast() time.Duration {
	if len(s.ReloadAt) == 0 {
		return s.Duration
	}
	return max(s.Duration, s.ReloadAt[len(s.ReloadAt)-1]+slowLead+1700*time.Millisecond)
}

// stopTail is how long the load goes on after a stop under load begins:
// the stop's slow requests (1 s, begun slowLead before) end in it, and
// what clients meet after the server is gone shows.
const stopTail = 1500 * time.Millisecond

// loadDuration is how long the load runs: through the stop, for a stop
// under load.
func (s Spec) loadDuration() time.Duration {
	if !s.StopUnderLoad {
		return s.Duration
	}
	d := s.afterLast() + stopTail
	if s.Variant.DaemonReload {
		d += daemonReloadRoom
	}
	return d
}

// daemonReloadRoom is how much later a stop may come after a
// daemon-reload that ran after the last reload.
const daemonReloadRoom = 1500 * time.Millisecond

// Validate rejects specs that cannot make a meaningful run.
func (s Spec) Validate() error {
	switch {
	case s.Rate < 1 || s.Rate > 100000:
		return fmt.Errorf("rate %d req/s is out of range (1..100000)", s.Rate)
	case s.Duration < time.Second || s.Duration > time.Hour:
		return fmt.Errorf("duration %s is out of range (1s..1h)", s.Duration)
	case !protocol.Known(s.Profile):
		return fmt.Errorf("profile %q is not one of %s", s.Profile, strings.Join(append(protocol.AllProfiles(), protocol.AB), ", "))
	}
	for _, at := range s.ReloadAt {
		if at <= 0 || at >= s.Duration {
			return fmt.Errorf("reload at %s is outside the load's %s", at, s.Duration)
		}
	}
	return nil
}

// slowLead is how long before a reload the slow requests start, so they
// are in flight when it happens.
const slowLead = 300 * time.Millisecond

// Run does one run. It always cleans up the unit; an interrupted context
// gives a partial result marked interrupted. The error is for runs that
// produced no result at all.
func Run(ctx context.Context, spec Spec, progress io.Writer) (*result.Result, error) {
	return run(ctx, osEnv, spec, progress)
}

func run(ctx context.Context, e env, spec Spec, progress io.Writer) (*result.Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	v := spec.Variant
	unit := v.UnitName()
	files := spec.Files
	if files == nil {
		var err error
		if files, err = catalog.Render(v, catalog.Params{Bin: protocol.WorkBin, Listen: spec.Listen, User: protocol.User}); err != nil {
			return nil, err
		}
	}
	machine := e.environment(spec.Provider, spec.Suite, spec.bin(), filepath.Join(spec.BinDir, "start_server"))
	if v.MinSystemd > 0 && systemdMajor(machine.SystemdVersion) < v.MinSystemd {
		return nil, &SkipError{fmt.Sprintf("%s needs systemd %d or newer; this lab has %s", v.ID(), v.MinSystemd, machine.SystemdVersion)}
	}
	// Not cancelled with ctx: after an interrupt the run still reads the
	// unit's final state.
	sd, err := e.connect(context.WithoutCancel(ctx), spec.Health)
	if err != nil {
		return nil, err
	}
	defer sd.Close()
	// A leftover of an earlier run would hold the port: remove it first.
	remove(context.WithoutCancel(ctx), e, v)
	if err := e.portFree(spec.Listen); err != nil {
		return nil, err
	}
	if err := e.stage(spec.BinDir); err != nil {
		return nil, fmt.Errorf("stage binaries: %w", err)
	}

	migrate, restoreSysctl, err := migrateReq(e, v)
	if err != nil {
		return nil, err
	}
	defer restoreSysctl()
	machine.TCPMigrateReq = migrate

	started := time.Now().UTC()
	r := &result.Result{
		Schema: result.SchemaVersion, Experiment: spec.Kind.Name, Server: v.Server, Variant: v.Name, Profile: spec.Profile,
		Started: started,
		Env:     machine,
		Unit:    result.Unit{Name: unit, Summary: v.Summary, Control: v.Control, Files: files},
		Load: result.LoadProfile{Rate: spec.Rate, DurationMS: analysis.MS(spec.Duration), KeepAlive: protocol.KeepsAlive(spec.Profile),
			TimeoutMS: analysis.MS(spec.Timeout), Path: spec.Path, Action: v.Action, SlowPerReload: spec.SlowPerReload, SlowMS: int(spec.Slow / time.Millisecond)},
	}
	r.Load.Upgrade, r.Load.ClientPriority, r.Load.Listen = spec.Kind.Deploy, spec.ClientPriority, spec.Listen
	r.Batch, r.Repeat = spec.Batch, spec.Repeat
	r.ID = fmt.Sprintf("%s-%s-%s-%s-%s-%s", started.Format("20060102T150405Z"), spec.Kind.Name, v.Server, v.Name, spec.Profile, r.Env.Suite)
	if spec.Repeat > 0 {
		r.ID += fmt.Sprintf("-r%d", spec.Repeat)
	}
	for _, at := range spec.ReloadAt {
		r.Load.ReloadAtMS = append(r.Load.ReloadAtMS, analysis.MS(at))
	}
	// Cleanup must run even when ctx is cancelled by an interrupt.
	bg := context.WithoutCancel(ctx)
	defer func() {
		r.Finished = time.Now().UTC()
		r.WallMS = analysis.MS(r.Finished.Sub(r.Started))
	}()

	if err := install(bg, e, files); err != nil {
		remove(bg, e, v)
		return nil, err
	}
	// verify loads the unit in a manager of its own, so it runs beside the
	// start instead of before it.
	verified := make(chan struct{})
	go func() {
		defer close(verified)
		r.Unit.Verify, r.Unit.VerifyExit, _ = e.command(bg, 60*time.Second, "systemd-analyze", "verify", v.UnitPath())
	}()
	r.Unit.Show = show(bg, e, unit, "Type", "PIDFile", "ExecStart", "ExecReload", "Restart", "User", "Group", "EnvironmentFiles", "RuntimeDirectory", "KillMode", "GuessMainPID", "TimeoutStopUSec")

	fmt.Fprintf(progress, "%s: starting %s\n", v.ID(), unit)
	if err := systemctl(ctx, e, "start", unit); err != nil {
		r.Errors = append(r.Errors, err.Error())
	} else if err := e.waitHealthy(ctx, spec.Listen, spec.Health, 15*time.Second); err != nil {
		r.Errors = append(r.Errors, "server did not become healthy: "+err.Error())
	}
	<-verified
	var recs []load.Record
	var window time.Duration
	if len(r.Errors) == 0 {
		recs, window = runLoad(ctx, e, spec, sd, r, progress)
	}
	r.Interrupted = ctx.Err() != nil

	finish(bg, e, spec, sd, r)
	// After finish: the stop's figures read the journal.
	r.Summary, r.Final.Stop = analysis.Figures(r, recs, window)
	analysis.HandOvers(recs, r.Reloads, analysis.HandOverEnd(r, window))
	return r, nil
}

func install(ctx context.Context, e env, files []result.File) error {
	for _, f := range files {
		if err := e.writeFile(f.Path, []byte(f.Text)); err != nil {
			return err
		}
	}
	return systemctl(ctx, e, "daemon-reload")
}

// Remove stops a variant's unit and deletes its files; safe to repeat.
func Remove(ctx context.Context, v catalog.Variant) { remove(ctx, osEnv, v) }

func remove(ctx context.Context, e env, v catalog.Variant) { removeUnit(ctx, e, v, true) }

// removeUnit stops a variant's units and deletes their files. reload
// makes systemd forget them at once; after a run it is left to the next
// run's install, which reloads anyway (a reload takes about 170 ms).
func removeUnit(ctx context.Context, e env, v catalog.Variant, reload bool) {
	names := []string{v.UnitName()}
	if v.Socket {
		names = append(names, strings.TrimSuffix(v.UnitName(), ".service")+".socket")
	}
	for _, n := range names {
		stopAndReset(ctx, e, n)
	}
	removed := false
	for _, p := range []string{v.UnitPath(), v.EnvPath(), v.SocketPath()} {
		if e.removeFile(p) == nil {
			removed = true
		}
	}
	if removed && reload {
		e.command(ctx, 30*time.Second, "systemctl", "daemon-reload")
	}
}

// stopAndReset stops a unit and clears a failed state, so systemd no
// longer lists it once its file is gone.
func stopAndReset(ctx context.Context, e env, name string) {
	e.command(ctx, 60*time.Second, "systemctl", "stop", name)
	e.command(ctx, 10*time.Second, "systemctl", "reset-failed", name)
}

func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s is in use (another server or an earlier run still listens there; `go run mage.go lab:status` shows ours): %w", addr, err)
	}
	return ln.Close()
}

// runLoad drives the load, the reloads and the slow requests, and fills in
// the timeline, reloads and summary.
func runLoad(ctx context.Context, e env, spec Spec, sd observer, r *result.Result, progress io.Writer) ([]load.Record, time.Duration) {
	v := spec.Variant
	unit := v.UnitName()
	var lr loadRun
	if spec.Profile == protocol.AB {
		ab := e.startAB(ctx, "http://"+spec.Listen+spec.Path, spec.loadDuration())
		defer func() { r.AB = ab.Report() }()
		lr = ab
	} else {
		lr = e.startLoad(ctx, loadConfig(spec))
	}
	began := lr.Began()
	r.Load.Began = began.UTC()
	since := func() time.Duration { return time.Since(began) }

	var wg sync.WaitGroup
	var slowMu sync.Mutex
	var reloads []result.Reload
	wg.Go(func() {
		for i, at := range spec.ReloadAt {
			// A slow reload before may have pushed this one late (its start
			// is recorded) or past the load, where nobody would measure it.
			if since() >= spec.Duration-slowLead || !sleepUntil(ctx, began.Add(at-slowLead)) {
				break // the stop under load still ends the run
			}
			before := sd.Snapshot(ctx, unit, spec.Listen, since())
			for range spec.SlowPerReload {
				wg.Go(func() {
					s := e.slow(ctx, spec, i+1, since)
					slowMu.Lock()
					r.Slow = append(r.Slow, s)
					slowMu.Unlock()
				})
			}
			if !sleepUntil(ctx, began.Add(at)) {
				return
			}
			if i == 0 && spec.Kind.Deploy != "" {
				// The deploy: the new build replaces the binary on disk.
				if err := e.replaceFile(filepath.Join(spec.BinDir, spec.Kind.Deploy, v.Server), filepath.Join(protocol.WorkBin, v.Server)); err != nil {
					r.Errors = append(r.Errors, "upgrade: "+err.Error())
					return
				}
			}
			k0 := markKernel(e, since())
			rl := reload(ctx, e, spec, i+1, since)
			rl.Before = before
			rl.After = sd.Snapshot(ctx, unit, spec.Listen, since())
			// Settle before the next reload's slow requests start (after
			// the last one, before the stop's).
			next := spec.afterLast()
			if i+1 < len(spec.ReloadAt) {
				next = spec.ReloadAt[i+1]
			}
			settle := began.Add(min(at+2500*time.Millisecond, next-slowLead-200*time.Millisecond))
			sleepUntil(ctx, settle)
			rl.Settled = sd.Snapshot(ctx, unit, spec.Listen, since())
			rl.Kernel = k0.to(e, since())
			if v.DaemonReload && i == len(spec.ReloadAt)-1 {
				// After the last reload only: on 257 with four labs busy a
				// daemon-reload took up to 1.2 s, and after every reload it
				// pushed the next ones late (the stop's state is what the
				// mitigation is measured by).
				rl.DaemonReloadMS = analysis.MS(since())
				_, rl.DaemonReloadExit, _ = e.command(ctx, 60*time.Second, "systemctl", "daemon-reload")
			}
			reloads = append(reloads, rl)
			fmt.Fprintf(progress, "  reload %d at %.1fs: exit %d, serving PID %d -> %d, systemd MainPID %d (%s/%s)\n",
				rl.N, rl.StartMS/1000, rl.Exit, rl.Before.ServingPID, rl.Settled.ServingPID, rl.Settled.MainPID, rl.Settled.ActiveState, rl.Settled.SubState)
		}
		if spec.StopUnderLoad {
			stopUnderLoad(ctx, e, spec, sd, r, began, &wg, func(s result.SlowRequest) {
				slowMu.Lock()
				r.Slow = append(r.Slow, s)
				slowMu.Unlock()
			}, progress)
		}
	})

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-lr.Done():
			break loop
		case <-tick.C:
			p := lr.Progress()
			fmt.Fprintf(progress, "  [%5.1fs/%.0fs] requests %d, failed %d\n", p.Elapsed.Seconds(), spec.loadDuration().Seconds(), p.Done, p.Failed)
		}
	}
	recs := lr.Wait()
	wg.Wait()
	r.Reloads = reloads
	total := spec.loadDuration()
	if ctx.Err() != nil {
		total = min(total, since())
	}
	if data, err := history.Encode(recs, lr.Versions()); err != nil {
		r.Errors = append(r.Errors, "history: "+err.Error())
	} else {
		r.History = &result.History{WindowMS: analysis.MS(total), Requests: len(recs), Data: data}
	}
	r.Load.NoPIDHeader = slices.ContainsFunc(recs, func(rc load.Record) bool { return rc.Class == load.OK }) &&
		!slices.ContainsFunc(recs, func(rc load.Record) bool { return rc.PID != 0 })
	r.Timeline = result.Timeline{BinMS: 100, Bins: analysis.Bins(recs, 100*time.Millisecond, total)}
	r.Failures = failureSamples(recs, 30)
	sortSlow(r.Slow)
	return recs, total
}

// SkipError says a run does not apply to this lab (no result is made).
type SkipError struct{ Why string }

func (e *SkipError) Error() string { return "skipped: " + e.Why }

func sleepUntil(ctx context.Context, t time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(t)):
		return true
	}
}

func reload(ctx context.Context, e env, spec Spec, n int, since func() time.Duration) result.Reload {
	args := []string{spec.Variant.Action, spec.Variant.UnitName()}
	rl := result.Reload{N: n, Command: "systemctl " + strings.Join(args, " "), StartMS: analysis.MS(since())}
	t0 := time.Now()
	out, code, err := e.command(ctx, 90*time.Second, "systemctl", args...)
	rl.TookMS = analysis.MS(time.Since(t0))
	rl.Exit, rl.Output = code, strings.TrimSpace(out)
	if err != nil {
		rl.Output = err.Error()
	}
	return rl
}

// slowRequest is a long request on its own connection, in flight when the
// reload happens: completed if the full response arrived.
func slowRequest(ctx context.Context, spec Spec, n int, since func() time.Duration) result.SlowRequest {
	c := &http.Client{Timeout: spec.Slow + 10*time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	s := result.SlowRequest{Reload: n, StartMS: analysis.MS(since())}
	t0 := time.Now()
	url := fmt.Sprintf("http://%s/slow?ms=%d", spec.Listen, spec.Slow.Milliseconds())
	if spec.SlowPath != "" {
		url = "http://" + spec.Listen + spec.SlowPath
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s.PID, _ = strconv.Atoi(resp.Header.Get(protocol.HeaderPID))
		if err == nil && resp.StatusCode != 200 {
			err = errors.New(resp.Status)
		}
	}
	s.LatencyMS = analysis.MS(time.Since(t0))
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	s.Class = load.Classify(code, err, "").String()
	s.Outcome = "completed"
	if err != nil {
		s.Outcome, s.Error = "cut", err.Error()
	}
	return s
}

// failureSamples keeps up to n failures spread over the run.
func failureSamples(recs []load.Record, n int) []result.Failure {
	var idx []int
	for i := range recs {
		if recs[i].Class != load.OK {
			idx = append(idx, i)
		}
	}
	var out []result.Failure
	step := max(1, len(idx)/n)
	for j := 0; j < len(idx) && len(out) < n; j += step {
		rc := recs[idx[j]]
		out = append(out, result.Failure{ScheduledMS: analysis.MS(rc.Scheduled), Class: rc.Class.String(), Error: rc.Err})
	}
	return out
}

func sortSlow(s []result.SlowRequest) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].Reload < s[j-1].Reload || s[j].Reload == s[j-1].Reload && s[j].StartMS < s[j-1].StartMS); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// finish records the final state, the journal, stops and removes the unit
// and checks nothing of ours is left running.
func finish(ctx context.Context, e env, spec Spec, sd observer, r *result.Result) {
	v := spec.Variant
	unit := v.UnitName()
	if r.Final.StopStarted.IsZero() {
		r.Final.Snapshot = sd.Snapshot(ctx, unit, spec.Listen, 0)
		stopUnit(ctx, e, v, spec.Listen, r)
	}
	r.Final.AfterStop, _ = sd.Unit(ctx, unit)
	closeStopKernel(e, r) // the load is over too
	// After the stop, so the journal shows how the unit ended too.
	e.command(ctx, 10*time.Second, "journalctl", "--sync")
	out, _, _ := e.command(ctx, 30*time.Second, "journalctl", "-u", unit, "--no-pager", "-o", "short-iso-precise",
		"--since", r.Started.UTC().Format("2006-01-02 15:04:05.000000")+" UTC")
	r.Journal = journalLines(out, 400)
	r.Final.ProcessesLeft = e.processes(append([]string{spec.BinDir, spec.bin()}, spec.Tools...)...)
	for _, p := range r.Final.ProcessesLeft {
		// Recorded above as a finding; killed so the next run starts clean.
		e.kill(p.PID)
	}
	removeUnit(ctx, e, v, false)
	lsOut := show(ctx, e, unit, "LoadState")
	r.Final.UnitRemoved = !e.exists(v.UnitPath()) && lsOut["LoadState"] == "not-found"
}

func journalLines(out string, max int) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "-- ") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > max {
		lines = append(lines[:max], fmt.Sprintf("… %d more lines cut", len(lines)-max))
	}
	return lines
}

// stopUnit stops the unit (and its socket, which would start it again for
// the next client) and records how that went.
func stopUnit(ctx context.Context, e env, v catalog.Variant, listen string, r *result.Result) {
	units := []string{v.UnitName()}
	if v.Socket {
		units = append(units, strings.TrimSuffix(v.UnitName(), ".service")+".socket")
	}
	// Longer than systemd's own stop timeout (90 s by default), so a server
	// that ignores SIGTERM shows as systemd's kill, not as our give-up. After
	// an interrupt the user is waiting: give it a few seconds, then kill.
	stopWait := 150 * time.Second
	if r.Interrupted || ctx.Err() != nil {
		stopWait = 2 * time.Second
	}
	openStopKernel(e, r)
	t0 := time.Now()
	done := make(chan struct{})
	watched := make(chan []string, 1)
	go func() { watched <- watchStop(done, r.Final.Snapshot.CgroupPIDs, listen) }()
	_, r.Final.StopExit, _ = e.command(context.WithoutCancel(ctx), stopWait, "systemctl", append([]string{"stop"}, units...)...)
	close(done)
	r.Final.StopWaits = <-watched
	if r.Final.StopExit != 0 && (r.Interrupted || ctx.Err() != nil) {
		e.command(context.WithoutCancel(ctx), 10*time.Second, "systemctl", "kill", "--signal=SIGKILL", v.UnitName())
		_, r.Final.StopExit, _ = e.command(context.WithoutCancel(ctx), 10*time.Second, "systemctl", append([]string{"stop"}, units...)...)
	}
	r.Final.StopTookMS = analysis.MS(time.Since(t0))
}

// stopUnderLoad ends a run as an operator would stop a busy server: when
// the last reload has settled, it records the unit's state and whether
// systemd holds the main PID as its own child, starts slow requests, and
// runs `systemctl stop` while the load goes on.
func stopUnderLoad(ctx context.Context, e env, spec Spec, sd observer, r *result.Result, began time.Time,
	wg *sync.WaitGroup, keep func(result.SlowRequest), progress io.Writer) {
	v := spec.Variant
	since := func() time.Duration { return time.Since(began) }
	// A late last reload (or a slow daemon-reload after it) moves the stop
	// later, so its state is read and its slow requests are in flight
	// before it, as for every other run.
	stopAt := max(spec.afterLast(), since()+slowLead+200*time.Millisecond)
	if !sleepUntil(ctx, began.Add(stopAt-slowLead-200*time.Millisecond)) {
		return
	}
	r.Final.Snapshot = sd.Snapshot(ctx, v.UnitName(), spec.Listen, since())
	r.Final.MainPIDAlien = mainPIDAlien(ctx, e, v.UnitName())
	if !sleepUntil(ctx, began.Add(stopAt-slowLead)) {
		return
	}
	for range spec.SlowPerReload {
		wg.Go(func() {
			s := e.slow(ctx, spec, 0, since)
			s.AtStop = true
			keep(s)
		})
	}
	if !sleepUntil(ctx, began.Add(stopAt)) {
		return
	}
	r.Final.StopAtMS, r.Final.StopStarted = analysis.MS(since()), time.Now().UTC()
	stopUnit(ctx, e, v, spec.Listen, r)
	fmt.Fprintf(progress, "  stop at %.1fs under load: exit %d in %.0f ms (main PID alien: %s)\n",
		r.Final.StopAtMS/1000, r.Final.StopExit, r.Final.StopTookMS, orUnknown(r.Final.MainPIDAlien))
}

// mainPIDAlien reads systemd's own view of the unit's main PID: "yes" when
// it is not systemd's child (systemd then does not wait for it at stop),
// "no", or "" when the dump does not say.
func mainPIDAlien(ctx context.Context, e env, unit string) string {
	// A pattern (systemd 253 and later) is not rate-limited as a full
	// dump is from 254 on; 252 knows only the full dump.
	out, code, _ := e.command(ctx, 10*time.Second, "systemd-analyze", "dump", unit)
	if code != 0 || !strings.Contains(out, "-> Unit "+unit+":") {
		out, _, _ = e.command(ctx, 10*time.Second, "systemd-analyze", "dump")
	}
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "-> Unit ") {
			in = strings.TrimSuffix(strings.TrimPrefix(l, "-> Unit "), ":") == unit
			continue
		}
		if k, val, ok := strings.Cut(strings.TrimSpace(l), ":"); in && ok && k == "Main PID Alien" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// stopWatch is how long a stop may take before the unit's processes are
// looked at: a drain of the 1 s slow requests is over by then.
const stopWatch = 3 * time.Second

// watchStop records, if the stop is still under way after stopWatch, each
// of the unit's processes: its listener and where its threads sleep.
func watchStop(done <-chan struct{}, pids []int, listen string) []string {
	select {
	case <-done:
		return nil
	case <-time.After(stopWatch):
	}
	_, p, _ := net.SplitHostPort(listen)
	port, _ := strconv.Atoi(p)
	var out []string
	for _, pid := range pids {
		if w := observe.Waits(pid); w != "" {
			out = append(out, fmt.Sprintf("PID %d: listener %s; threads in %s", pid, orNone(observe.Listener(pid, port)), w))
		}
	}
	return out
}
