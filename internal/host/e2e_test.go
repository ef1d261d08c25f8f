package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/catalog"
	"github.com/gracelab/gracelab/lab/nspawn"
)

// The end-to-end tests bring up the real lab (nspawn, systemd as PID 1)
// and do short real runs. They need root; on CI (CI=true, root) they must
// run, so there a missing root is a failure, not a skip.

// TestMain keeps every result the tests make (also recovered ones) out of
// the repository's results/, and runs every lab on an instance of this
// test process alone (GRACELAB_INSTANCE, inherited by the targets it
// starts): it never touches a lab it did not start, and stops its own.
func TestMain(m *testing.M) {
	tmp := ""
	if os.Getenv("GRACELAB_RESULTS") == "" {
		dir, err := os.MkdirTemp("", "gracelab-test-results-")
		if err != nil {
			panic(err)
		}
		os.Setenv("GRACELAB_RESULTS", dir)
		tmp = dir
	}
	if os.Getenv("GRACELAB_INSTANCE") == "" {
		os.Setenv("GRACELAB_INSTANCE", fmt.Sprintf("t%d", os.Getpid()))
	}
	code := m.Run()
	if labProv != nil {
		repo, _ := filepath.Abs("../..")
		if err := nspawn.DownAll(context.Background(), repo, os.Getenv("GRACELAB_INSTANCE"), os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test's labs:", err)
			code = 1
		}
	}
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

var (
	labOnce sync.Once
	labCfg  lab.Config
	labProv lab.Provider
	labErr  error
)

func needLab(t *testing.T) (lab.Config, lab.Provider) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("end-to-end tests must run on CI, and they need root")
		}
		t.Skip("end-to-end tests need root (they boot a systemd-nspawn lab)")
	}
	labOnce.Do(func() {
		repo, err := filepath.Abs("../..")
		if err != nil {
			labErr = err
			return
		}
		labCfg, labErr = lab.ConfigFromEnv(repo)
		if labErr != nil {
			return
		}
		if labCfg.Provider != "nspawn" {
			labErr = nil
			return
		}
		labProv, labErr = Provider(labCfg)
		if labErr == nil {
			labErr = LabUp(context.Background(), labCfg, labProv, os.Stderr)
		}
	})
	if labErr != nil {
		t.Fatalf("lab up: %v", labErr)
	}
	if labProv == nil {
		t.Skipf("end-to-end tests run on the nspawn lab, not LAB_PROVIDER=%s", labCfg.Provider)
	}
	return labCfg, labProv
}

func shortRun(t *testing.T, server, variant string) *result.Result {
	t.Helper()
	cfg, p := needLab(t)
	v, err := catalog.Find(server, variant)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := Options{Rate: 400, Duration: 9 * time.Second, ResultsDir: dir, Out: t.Output()}
	r, path, err := RunOne(context.Background(), cfg, p, Job{Kind: kind.Base(), Variant: v, Profile: protocol.KeepAlive}, o)
	if err != nil {
		t.Fatalf("run %s: %v", v.ID(), err)
	}
	back, err := result.Read(path)
	if err != nil {
		t.Fatalf("stored result does not read back: %v", err)
	}
	if back.ID != r.ID || back.Summary.Sent != r.Summary.Sent {
		t.Fatalf("stored result differs from the run's")
	}
	checkConsistent(t, r)
	return r
}

// checkConsistent asserts what any result must satisfy, whatever it found.
func checkConsistent(t *testing.T, r *result.Result) {
	t.Helper()
	s := r.Summary
	if s.Sent == 0 || s.OK+s.Failed != s.Sent {
		t.Errorf("sent %d != ok %d + failed %d", s.Sent, s.OK, s.Failed)
	}
	if min := int(0.9 * float64(r.Load.Rate) * r.Load.DurationMS / 1000); s.Sent < min {
		t.Errorf("sent %d, the schedule called for about %d", s.Sent, min*10/9)
	}
	byClass := 0
	for _, n := range s.ByClass {
		byClass += n
	}
	if byClass != s.Failed {
		t.Errorf("failures by class add up to %d, not %d", byClass, s.Failed)
	}
	binSent, binOK := 0, 0
	for _, b := range r.Timeline.Bins {
		binSent += b.Sent
		binOK += b.OK
	}
	wantSent, wantOK := s.Sent, s.OK
	if st := r.Final.Stop; st != nil {
		// The summary ends where the stop began; the timeline goes on.
		wantSent += st.InFlight + st.After
		wantOK += st.InFlight + st.After - st.Refused - st.Lost
	}
	if binSent != wantSent || binOK != wantOK {
		t.Errorf("timeline holds %d sent / %d ok, summary and stop %d / %d", binSent, binOK, wantSent, wantOK)
	}
	if len(r.Reloads) != 3 {
		t.Fatalf("%d reloads recorded, want 3", len(r.Reloads))
	}
	if b := r.Reloads[0].Before; b.ServingPID == 0 || b.MainPID == 0 {
		t.Errorf("no PIDs recorded before the first reload: %+v", b)
	}
	if r.Experiment == "reload" {
		// Stopped under load after the last reload, and the journal placed
		// at least one signal: the server's receipt of SIGTERM, or
		// systemd's SIGKILL.
		if st := r.Final.Stop; st == nil || r.Final.StopAtMS <= r.Reloads[2].StartMS || st.SlowTotal != 3 || len(st.Signals) == 0 {
			t.Errorf("no stop under load after the last reload: at %.0f ms, figures %+v", r.Final.StopAtMS, st)
		}
	}
	for _, rl := range r.Reloads {
		if rl.StartMS <= 0 || rl.StartMS > r.Load.DurationMS {
			t.Errorf("reload %d at %.0f ms, outside the load", rl.N, rl.StartMS)
		}
	}
	if s.OK > 0 && len(s.PIDs) == 0 {
		t.Error("successful responses but no serving PID recorded")
	}
	if !r.Final.UnitRemoved {
		t.Error("the unit was not removed after the run")
	}
	if len(r.Final.ProcessesLeft) != 0 {
		t.Errorf("processes left after the run: %+v", r.Final.ProcessesLeft)
	}
	if len(r.Unit.Files) == 0 || !strings.Contains(r.Unit.Files[0].Text, "ExecStart=") {
		t.Error("the rendered unit file is not in the result")
	}
	if r.Env.SystemdVersion == "" || r.Env.Distro == "" || r.Env.Provider != "nspawn" || r.Env.Modules["github.com/tsenart/vegeta/v12"] == "" && r.Env.Modules["github.com/facebookgo/grace"] == "" && r.Server == "grace" {
		t.Errorf("environment incomplete: %+v", r.Env)
	}
	if len(r.Journal) == 0 {
		t.Error("no journal lines recorded")
	}
	switch overall(t, r) {
	case result.Pass, result.Fail, result.Unknown:
	default:
		t.Errorf("verdict %q", overall(t, r))
	}
}

func TestE2EGraceReload(t *testing.T) {
	r := shortRun(t, "grace", "pidfile")
	if r.Env.Modules["github.com/facebookgo/grace"] == "" {
		t.Errorf("grace's module version not recorded: %v", r.Env.Modules)
	}
	if r.Unit.Show["PIDFile"] == "" {
		t.Error("systemd's PIDFile property not recorded")
	}
	t.Logf("grace/pidfile: sent %d failed %d gap %.0f ms verdict %s", r.Summary.Sent, r.Summary.Failed, r.Summary.LongestGapMS, overall(t, r))
}

// The control: a plain server restarted must lose requests. If the engine
// reported none here, it could not be trusted to report any.
func TestE2EControlLosesRequests(t *testing.T) {
	r := shortRun(t, "plain", "restart")
	if r.Summary.Failed == 0 {
		t.Fatalf("plain/restart lost no request: the engine cannot see loss")
	}
	if overall(t, r) == result.Pass {
		t.Fatalf("a run that lost %d requests was judged pass", r.Summary.Failed)
	}
	if r.Summary.ByClass["refused"] == 0 {
		t.Errorf("a restart should show refused connections, got %v", r.Summary.ByClass)
	}
}

func TestE2EEveryVariantVerifies(t *testing.T) {
	_, p := needLab(t)
	var out bytes.Buffer
	if err := p.Exec(context.Background(), nil, &out, t.Output(), protocol.Runner, "verify"); err != nil {
		t.Fatal(err)
	}
	var vs []runner.VerifyResult
	if err := json.Unmarshal(out.Bytes(), &vs); err != nil {
		t.Fatalf("verify output: %v: %s", err, out.String())
	}
	if len(vs) != len(catalog.Variants()) {
		t.Fatalf("%d variants verified, catalog has %d", len(vs), len(catalog.Variants()))
	}
	for i, v := range catalog.Variants() {
		got := vs[i]
		if got.Skipped {
			if v.MinSystemd == 0 {
				t.Errorf("%s: skipped, but it runs on any systemd", v.ID())
			}
			t.Logf("%s: %s", v.ID(), got.Output)
			continue
		}
		// grace/varrun is there for the warning: systemd must give it.
		if v.ID() == "grace/varrun" {
			if got.Exit != 0 || !strings.Contains(got.Output, "references a path below legacy directory /var/run/") {
				t.Errorf("%s: verify exit %d without the /var/run warning: %s", v.ID(), got.Exit, got.Output)
			}
			continue
		}
		if got.Exit != 0 || got.Output != "" {
			t.Errorf("%s: systemd-analyze verify exit %d: %s", v.ID(), got.Exit, got.Output)
		}
	}
}

// overall is the host's verdict on a result the lab recorded.
func overall(t *testing.T, r *result.Result) result.Outcome {
	t.Helper()
	j, err := check.Judge(r)
	if err != nil {
		t.Fatal(err)
	}
	return j.Verdict.Overall
}
