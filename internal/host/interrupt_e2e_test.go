package host

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab"
	"github.com/gracelab/gracelab/lab/catalog"
)

// target starts a mage target the way a user does, in its own process
// group (so a test can signal it as a terminal's Ctrl-C does), and returns
// once the load is running.
func target(t *testing.T, results string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	return targetEnv(t, results, nil, "requests", args...)
}

// targetEnv is target with more settings (later ones win), returning once
// a line containing ready appeared.
func targetEnv(t *testing.T, results string, env []string, ready string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	cmd := exec.Command("go", append([]string{"run", "mage.go"}, args...)...)
	cmd.Dir = repo
	cmd.Env = append(append(os.Environ(), "GRACELAB_RESULTS="+results, "GRACELAB_DURATION=30s", "GRACELAB_PROFILES=keepalive", "GRACELAB_RATE=300"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	loading := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			out.WriteString(line + "\n")
			if !once && strings.Contains(line, ready) && (ready != "requests" || strings.Contains(line, "failed")) {
				once = true
				close(loading)
			}
		}
	}()
	go func() { done <- cmd.Wait(); pw.Close() }()
	select {
	case <-loading:
	case err := <-done:
		t.Fatalf("target ended before the load began: %v\n%s", err, out.String())
	case <-time.After(3 * time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("the load did not begin in 3 minutes:\n%s", out.String())
	}
	return cmd, &out, done
}

func onlyResult(t *testing.T, dir string) *result.Result {
	t.Helper()
	rs, err := result.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results in %s, want 1", len(rs), dir)
	}
	return rs[0]
}

func labClean(t *testing.T, p lab.Provider) {
	t.Helper()
	if up, line, _ := p.Running(context.Background()); !up {
		t.Fatalf("the lab is not usable afterwards: %s", line)
	}
	var out bytes.Buffer
	p.Exec(context.Background(), nil, &out, io.Discard, "systemctl", "list-units", "--all", "--no-legend", "--plain", "gracelab-*")
	if strings.TrimSpace(out.String()) != "" {
		t.Errorf("units of ours left in the lab: %s", out.String())
	}
	out.Reset()
	p.Exec(context.Background(), nil, &out, io.Discard, protocol.Runner, "status")
	if strings.Contains(out.String(), "process of ours") {
		t.Errorf("processes of ours left in the lab:\n%s", out.String())
	}
}

// Ctrl-C during an experiment: the load stops, the unit is stopped and
// removed, a partial result marked interrupted is stored, the exit is
// non-zero, and the lab stays usable.
func TestE2EInterruptedExperiment(t *testing.T) {
	_, p := needLab(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, out, done := target(t, dir, "experiment:variant", "grace", "pidfile")
			time.Sleep(2 * time.Second)
			syscall.Kill(-cmd.Process.Pid, sig)
			var err error
			select {
			case err = <-done:
			case <-time.After(90 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("still running 90 s after %v:\n%s", sig, out.String())
			}
			if err == nil {
				t.Errorf("exit 0 after %v:\n%s", sig, out.String())
			}
			// `go run` may exit before its child has written the result.
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if rs, _ := result.ReadDir(dir); len(rs) > 0 {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			r := onlyResult(t, dir)
			if !r.Interrupted || overall(t, r) != result.Unknown {
				t.Errorf("interrupted %v, verdict %s: want interrupted and unknown", r.Interrupted, overall(t, r))
			}
			if r.Summary.Sent == 0 || r.Summary.Sent >= 300*30 {
				t.Errorf("sent %d: the load did not stop early", r.Summary.Sent)
			}
			if !r.Final.UnitRemoved || len(r.Final.ProcessesLeft) != 0 {
				t.Errorf("unit removed %v, processes left %v", r.Final.UnitRemoved, r.Final.ProcessesLeft)
			}
			time.Sleep(time.Second)
			labClean(t, p)
		})
	}
}

// The host side killed outright (SIGKILL) with the runner inside: the next
// lab:up finds the unit left running, cleans it and says so.
func TestE2EKilledHostLeavesNothingForLong(t *testing.T) {
	_, p := needLab(t)
	dir := t.TempDir()
	cmd, _, done := target(t, dir, "experiment:variant", "grace", "pidfile")
	// Kill the runner first, so nothing in the lab gets to clean up.
	p.Exec(context.Background(), nil, io.Discard, io.Discard, "pkill", "-KILL", "-x", "gracelab-runner")
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	v, _ := catalog.Find("grace", "pidfile")
	var st bytes.Buffer
	p.Exec(context.Background(), nil, &st, io.Discard, "systemctl", "is-active", v.UnitName())
	if strings.TrimSpace(st.String()) != "active" {
		t.Fatalf("setup: the unit should be left running, it is %q", st.String())
	}
	out := labUp(t, dir)
	if !strings.Contains(out, "cleaned: unit "+v.UnitName()) {
		t.Errorf("lab:up did not say it cleaned the unit:\n%s", out)
	}
	labClean(t, p)
}

// The host side killed, runner alive: the runner notices, cleans up, and
// the next command recovers its partial result.
func TestE2EKilledHostResultRecovered(t *testing.T) {
	_, p := needLab(t)
	dir := t.TempDir()
	cmd, _, done := target(t, dir, "experiment:variant", "grace", "pidfile")
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	// The runner gets SIGTERM from its parent's death and cleans up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ps bytes.Buffer
		p.Exec(context.Background(), nil, &ps, io.Discard, "pgrep", "-x", "gracelab-runner")
		if strings.TrimSpace(ps.String()) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner still runs 30 s after its host side was killed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := labUp(t, dir)
	if !strings.Contains(out, "recovered: result of a run whose host side died") {
		t.Errorf("lab:up did not recover the result:\n%s", out)
	}
	r := onlyResult(t, dir)
	if !r.Interrupted || overall(t, r) == result.Pass {
		t.Errorf("recovered result: interrupted %v, verdict %s", r.Interrupted, overall(t, r))
	}
	labClean(t, p)
}

// The lab has its own network: a listener on the host's 18080 does not
// touch a run; one inside the lab is one clear error, before anything is
// installed.
func TestE2EPortInUse(t *testing.T) {
	cfg, p := needLab(t)
	ln, err := net.Listen("tcp", protocol.Listen)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	defer ln.Close()
	v, _ := catalog.Find("plain", "restart")
	o := Options{Rate: 100, Duration: 3 * time.Second, ResultsDir: t.TempDir(), Out: t.Output()}
	job := Job{Kind: kind.Base(), Variant: v, Profile: protocol.KeepAlive}
	if r, _, err := RunOne(context.Background(), cfg, p, job, o); err != nil || r.Summary.OK == 0 {
		t.Fatalf("a run beside a host listener on %s: %v", protocol.Listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inLab := make(chan error, 1)
	go func() {
		inLab <- p.Exec(ctx, nil, io.Discard, io.Discard, protocol.BinDir+"/plain", "-listen", protocol.Listen)
	}()
	time.Sleep(500 * time.Millisecond)
	_, _, err = RunOne(context.Background(), cfg, p, job, o)
	cancel()
	<-inLab
	if err == nil || !strings.Contains(err.Error(), "port "+protocol.Listen+" is in use") {
		t.Fatalf("a run on a port taken inside the lab: %v", err)
	}
	labClean(t, p)
}

// Ctrl-C during a parallel batch: each run in flight stores a partial
// result marked interrupted, and every lab the batch booted stops.
func TestE2EInterruptedParallelBatch(t *testing.T) {
	cfg, p := needLab(t)
	dir := t.TempDir()
	env := []string{"GRACELAB_PARALLEL=2", "GRACELAB_PROFILES=keepalive,new-conn"}
	cmd, out, done := targetEnv(t, dir, env, "requests", "experiment:variant", "grace", "pidfile")
	time.Sleep(4 * time.Second) // the second lab boots and loads too
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("exit 0 after SIGINT:\n%s", out.String())
		}
	case <-time.After(90 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("still running 90 s after SIGINT:\n%s", out.String())
	}
	var rs []*result.Result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if rs, _ = result.ReadDir(dir); len(rs) == 2 {
			break
		}
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want one per run in flight:\n%s", len(rs), out.String())
	}
	for _, r := range rs {
		if !r.Interrupted || r.Summary.Sent == 0 || r.Summary.Sent >= 300*30 || !r.Final.UnitRemoved {
			t.Errorf("%s: interrupted %v, sent %d, unit removed %v", r.ID, r.Interrupted, r.Summary.Sent, r.Final.UnitRemoved)
		}
	}
	second := cfg
	second.Slot = 1
	p2, err := Provider(second)
	if err != nil {
		t.Fatal(err)
	}
	// It stops with the batch, or (when mage's 5 s for cleanup after
	// Ctrl-C run out) with the process that booted it.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		up, line, _ := p2.Running(context.Background())
		if !up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch's second lab still runs 20 s after it ended: %s", line)
		}
	}
	labClean(t, p)
}

// Ctrl-C while debootstrap builds a root filesystem: nothing under the
// cache entry's name is left for a later boot to use.
func TestE2EInterruptedRootfsBuildIsNeverUsed(t *testing.T) {
	needLab(t)
	cache := t.TempDir()
	env := []string{"GRACELAB_CACHE=" + cache, "GRACELAB_INSTANCE=" + os.Getenv("GRACELAB_INSTANCE") + "d"}
	cmd, out, done := targetEnv(t, t.TempDir(), env, "rootfs: building", "lab:up")
	time.Sleep(3 * time.Second)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("lab:up exit 0 after SIGINT:\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("lab:up still running 60 s after SIGINT:\n%s", out.String())
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.IsDir() && !strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("cache entry %s left by an interrupted build", e.Name())
		}
	}
}

// labUp runs lab:up as a user does and returns what it printed.
func labUp(t *testing.T, results string) string {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	up := exec.Command("go", "run", "mage.go", "lab:up")
	up.Dir = repo
	up.Env = append(os.Environ(), "GRACELAB_RESULTS="+results)
	out, err := up.CombinedOutput()
	if err != nil {
		t.Fatalf("lab:up after the kill: %v\n%s", err, out)
	}
	return string(out)
}
