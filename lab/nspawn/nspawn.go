// Package nspawn is the default lab: a Debian root filesystem booted with
// systemd-nspawn, systemd as its PID 1, in a network namespace of its own.
package nspawn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab"
)

// StateDir holds one state file per running lab.
var StateDir = "/run/gracelab"

// State is what a running lab needs to be found again by a later command.
type State struct {
	Machine   string `json:"machine"`
	NspawnPID int    `json:"nspawn_pid"`
	// Leader is the container's init (systemd), the process to nsenter.
	Leader  int    `json:"leader"`
	RootFS  string `json:"rootfs"`
	BinDir  string `json:"bin_dir"`
	Log     string `json:"log"`
	Started string `json:"started"`
}

// Provider runs the lab with systemd-nspawn.
type Provider struct {
	cfg    lab.Config
	recipe Recipe
	name   string
}

// New returns the nspawn provider for cfg's suite.
func New(cfg lab.Config) *Provider {
	return &Provider{cfg: cfg, recipe: NewRecipe(cfg.Suite), name: cfg.Machine()}
}

// DownAll stops every running lab of a checkout whose instance starts with
// instance ("" for all of them), and cleans what stale ones left. It
// touches no other checkout's labs.
func DownAll(ctx context.Context, repo, instance string, log io.Writer) error {
	pattern := fmt.Sprintf("%s*-%s-*.json", lab.MachinePrefix, lab.CheckoutID(repo))
	if instance != "" {
		pattern = fmt.Sprintf("%s*-%s-%s-*.json", lab.MachinePrefix, lab.CheckoutID(repo), instance)
	}
	states, err := filepath.Glob(filepath.Join(StateDir, pattern))
	if err != nil {
		return err
	}
	var errs []error
	for _, st := range states {
		p := &Provider{cfg: lab.Config{Repo: repo}, name: strings.TrimSuffix(filepath.Base(st), ".json")}
		if err := p.Down(ctx, log); err != nil {
			errs = append(errs, err)
		}
	}
	if len(states) == 0 {
		fmt.Fprintf(log, "lab: no lab of this checkout is running\n")
	}
	return errors.Join(errs...)
}

// Name implements lab.Provider.
func (p *Provider) Name() string { return "nspawn" }

func (p *Provider) machine() string   { return p.name }
func (p *Provider) statePath() string { return filepath.Join(StateDir, p.machine()+".json") }

// NeedRoot explains, in one line, why the lab needs root.
func NeedRoot() error { return needRoot(os.Geteuid()) }

func needRoot(euid int) error {
	if euid == 0 {
		return nil
	}
	return errors.New("the nspawn lab needs root: debootstrap and systemd-nspawn create a root filesystem, namespaces and mounts; run as root (for example `sudo -E go run mage.go lab:up`) or use LAB_PROVIDER=vagrant")
}

// EnsureTools installs debootstrap and systemd-nspawn with apt when missing.
func EnsureTools(ctx context.Context, log io.Writer) error {
	var missing []string
	for tool, pkg := range map[string]string{"debootstrap": "debootstrap", "systemd-nspawn": "systemd-container", "nsenter": "util-linux"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("missing packages %s and no apt-get to install them: install them with your package manager", strings.Join(missing, " "))
	}
	fmt.Fprintf(log, "installing %s with apt-get\n", strings.Join(missing, " "))
	for _, args := range [][]string{{"update", "-q"}, append([]string{"install", "-y", "-q"}, missing...)} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 10))
		}
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *Provider) readState() (*State, error) {
	b, err := os.ReadFile(p.statePath())
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("corrupt lab state %s: %w", p.statePath(), err)
	}
	return &s, nil
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// live returns the state of a lab whose processes still run, or nil.
func (p *Provider) live() *State {
	s, err := p.readState()
	if err != nil || !alive(s.NspawnPID) || !alive(s.Leader) {
		return nil
	}
	if !isNspawnOf(s.NspawnPID, s.Machine) {
		return nil
	}
	return s
}

// Running implements lab.Provider.
func (p *Provider) Running(ctx context.Context) (bool, string, error) {
	s := p.live()
	if s == nil {
		return false, fmt.Sprintf("nspawn lab %s is not running", p.machine()), nil
	}
	return true, fmt.Sprintf("nspawn lab %s is running (nspawn PID %d, systemd PID %d, root %s, since %s)", s.Machine, s.NspawnPID, s.Leader, s.RootFS, s.Started), nil
}

// Up implements lab.Provider.
func (p *Provider) Up(ctx context.Context, log io.Writer) error {
	if err := NeedRoot(); err != nil {
		return err
	}
	if s := p.live(); s != nil {
		if s.BinDir != p.cfg.HostBinDir() {
			return fmt.Errorf("lab %s runs with binaries from %s, not this checkout's %s; run `go run mage.go lab:down` first", s.Machine, s.BinDir, p.cfg.HostBinDir())
		}
		fmt.Fprintf(log, "lab: %s already running, reusing it\n", s.Machine)
		return nil
	}
	if err := p.cleanStale(log); err != nil {
		return err
	}
	t0 := time.Now()
	if err := EnsureTools(ctx, log); err != nil {
		return err
	}
	root, err := Ensure(ctx, p.recipe, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "rootfs: ready in %.1fs\n", time.Since(t0).Seconds())
	t1 := time.Now()
	if err := p.boot(ctx, root); err != nil {
		return err
	}
	if err := p.waitRunning(ctx, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "boot: systemd running in %.1fs\n", time.Since(t1).Seconds())
	return nil
}

// Args are systemd-nspawn's arguments. --volatile=overlay keeps the cached
// root filesystem pristine: every boot starts from it, writes go to tmpfs.
// --private-network gives each lab its own network namespace with only a
// loopback: labs share no port, and no traffic leaves the lab.
func Args(machine, root, binDir, pendingDir string) []string {
	return []string{"-D", root, "--boot", "--register=no", "--keep-unit", "--console=passive",
		"--machine=" + machine, "--volatile=overlay", "--private-network", "--bind-ro=" + binDir + ":" + protocol.BinDir,
		"--bind=" + pendingDir + ":" + protocol.PendingDir}
}

func (p *Provider) boot(ctx context.Context, root string) error {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return err
	}
	bin := p.cfg.HostBinDir()
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(p.cfg.HostPendingDir(), 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(StateDir, p.machine()+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	// nspawn runs the container in the cgroup it is started in: without a
	// cgroup of its own, every lab would share one tree, and a unit of one
	// lab would share its cgroup with the same unit of another (seen: a
	// stop that could not kill "control group ...: Input/output error",
	// over a PID from another lab). The shell moves itself, then execs.
	cgs := cgroupDirs(p.machine())
	cmd := exec.Command("/bin/sh", append([]string{"-c",
		`IFS=:; for d in $GRACELAB_CGROUPS; do mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || exit 1; done; unset GRACELAB_CGROUPS; exec systemd-nspawn "$@"`,
		"sh"}, Args(p.machine(), root, bin, p.cfg.HostPendingDir())...)...)
	cmd.Env = append(os.Environ(), "GRACELAB_CGROUPS="+strings.Join(cgs, ":"))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: the lab outlives this command and a Ctrl-C here.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if p.cfg.Ephemeral {
		// nspawn powers the container off on SIGTERM.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start systemd-nspawn: %w", err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it if it dies while we wait for the leader
	var leader int
	for i := 0; i < 200 && leader == 0; i++ {
		leader = child(pid)
		if leader == 0 {
			if !alive(pid) {
				return fmt.Errorf("systemd-nspawn exited at once; its log %s says:\n%s", logPath, tailFile(logPath))
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	if leader == 0 {
		syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Errorf("systemd-nspawn started no container init in 5s; log: %s", logPath)
	}
	s := State{Machine: p.machine(), NspawnPID: pid, Leader: leader, RootFS: root, BinDir: bin, Log: logPath,
		Started: time.Now().UTC().Format(time.RFC3339)}
	b, _ := json.Marshal(s)
	return os.WriteFile(p.statePath(), b, 0o644)
}

func tailFile(path string) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), 15)
}

// child returns systemd-nspawn's container init: the child that runs
// systemd (nspawn first forks a short-lived helper, which is not it).
func child(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", n)); strings.TrimSpace(string(comm)) == "systemd" {
			return n
		}
	}
	return 0
}

func (p *Provider) waitRunning(ctx context.Context, log io.Writer) error {
	deadline := time.Now().Add(90 * time.Second)
	state := ""
	for time.Now().Before(deadline) {
		var out strings.Builder
		p.Exec(ctx, nil, &out, io.Discard, "systemctl", "is-system-running")
		state = strings.TrimSpace(out.String())
		switch state {
		case "running":
			return nil
		case "degraded":
			var failed strings.Builder
			p.Exec(ctx, nil, &failed, io.Discard, "systemctl", "--failed", "--no-legend", "--plain")
			fmt.Fprintf(log, "lab: systemd is degraded; failed units:\n%s", failed.String())
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("systemd in the lab did not reach running in 90s (last state %q); see %s", state, filepath.Join(StateDir, p.machine()+".log"))
}

// Exec implements lab.Provider: nsenter into all the container's
// namespaces, with a clean environment.
func (p *Provider) Exec(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error {
	s := p.live()
	if s == nil {
		return fmt.Errorf("lab %s is not running; run `go run mage.go lab:up`", p.machine())
	}
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(s.Leader), "-a", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "TERM=" + os.Getenv("TERM")}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// A cancelled context asks the command to finish (SIGTERM to its whole
	// process group, which reaches into the container), and waits for it:
	// the runner then cleans up and writes a partial result.
	// If this process dies, nsenter gets SIGTERM, and the runner (which
	// watches its parent) stops cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 60 * time.Second
	return cmd.Run()
}

// Shell implements lab.Provider.
func (p *Provider) Shell(ctx context.Context) error {
	s := p.live()
	if s == nil {
		return fmt.Errorf("lab %s is not running; run `go run mage.go lab:up`", p.machine())
	}
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(s.Leader), "-a", "--", "/bin/bash", "-l")
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "TERM=" + os.Getenv("TERM"), "PS1=[lab " + s.Machine + "] \\w# "}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// Sync implements lab.Provider: the build output is bind-mounted, so there
// is nothing to copy; it only checks the bind is this checkout's.
func (p *Provider) Sync(ctx context.Context) error {
	s := p.live()
	if s == nil {
		return fmt.Errorf("lab %s is not running", p.machine())
	}
	if s.BinDir != p.cfg.HostBinDir() {
		return fmt.Errorf("lab %s shows binaries from %s, not %s; run `go run mage.go lab:down` and up again from this checkout", s.Machine, s.BinDir, p.cfg.HostBinDir())
	}
	return nil
}

// Down implements lab.Provider.
func (p *Provider) Down(ctx context.Context, log io.Writer) error {
	if err := NeedRoot(); err != nil {
		return err
	}
	s := p.live()
	if s == nil {
		if err := p.cleanStale(log); err != nil {
			return err
		}
		fmt.Fprintf(log, "lab: %s is not running\n", p.machine())
		return nil
	}
	t0 := time.Now()
	p.Exec(ctx, nil, io.Discard, io.Discard, "systemctl", "poweroff")
	if !waitGone(s.NspawnPID, 15*time.Second) {
		fmt.Fprintf(log, "lab: %s did not power off in 15s, terminating systemd-nspawn\n", s.Machine)
		syscall.Kill(s.NspawnPID, syscall.SIGTERM)
		if !waitGone(s.NspawnPID, 10*time.Second) {
			syscall.Kill(s.NspawnPID, syscall.SIGKILL)
			waitGone(s.NspawnPID, 5*time.Second)
		}
	}
	os.Remove(p.statePath())
	removeCgroups(p.machine())
	if m := Mounts(s.RootFS); len(m) > 0 {
		return fmt.Errorf("lab %s stopped but mounts are left: %s", s.Machine, strings.Join(m, ", "))
	}
	fmt.Fprintf(log, "lab: %s stopped in %.1fs, no process or mount left\n", s.Machine, time.Since(t0).Seconds())
	return nil
}

// cleanStale removes what a lab killed without lab:down left: a state file
// whose processes are gone, or a half-dead systemd-nspawn.
func (p *Provider) cleanStale(log io.Writer) error {
	s, err := p.readState()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		fmt.Fprintf(log, "cleaned: unreadable lab state %s (%v)\n", p.statePath(), err)
		return os.Remove(p.statePath())
	}
	if isNspawnOf(s.NspawnPID, s.Machine) {
		syscall.Kill(s.NspawnPID, syscall.SIGKILL)
		waitGone(s.NspawnPID, 5*time.Second)
		fmt.Fprintf(log, "cleaned: stale systemd-nspawn %d of %s\n", s.NspawnPID, s.Machine)
	}
	// Without its systemd-nspawn, the container's init runs on, orphaned;
	// killing it ends every process of the container.
	if isContainerInit(s.Leader) {
		syscall.Kill(s.Leader, syscall.SIGKILL)
		waitGone(s.Leader, 5*time.Second)
		fmt.Fprintf(log, "cleaned: orphaned container init %d of %s\n", s.Leader, s.Machine)
	}
	removeCgroups(p.machine())
	fmt.Fprintf(log, "cleaned: stale lab state %s\n", p.statePath())
	return os.Remove(p.statePath())
}

// isNspawnOf says pid is the systemd-nspawn of machine, not an unrelated
// process that got a recycled PID.
func isNspawnOf(pid int, machine string) bool {
	if !alive(pid) {
		return false
	}
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Contains(string(cmd), "--machine="+machine)
}

// isContainerInit tells a container's systemd from an unrelated process
// that got the same PID later.
func isContainerInit(pid int) bool {
	if !alive(pid) {
		return false
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return strings.TrimSpace(string(comm)) == "systemd" && strings.Contains(string(env), "container=systemd-nspawn")
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		// Reap it if it is our child (lab:up and lab:down in one process).
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		time.Sleep(20 * time.Millisecond)
	}
	return !alive(pid)
}

// Mounts lists host mount points under root (none should outlive the lab).
func Mounts(root string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == root || strings.HasPrefix(fields[4], root+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// cgroupDirs are the lab's own cgroups, one per hierarchy systemd uses:
// the unified one (cgroup v2), or on a v1 host the name=systemd one and
// the unified one beside it.
func cgroupDirs(machine string) []string {
	const root = "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return []string{filepath.Join(root, "gracelab", machine)}
	}
	var out []string
	for _, h := range []string{"systemd", "unified"} {
		if _, err := os.Stat(filepath.Join(root, h, "cgroup.procs")); err == nil {
			out = append(out, filepath.Join(root, h, "gracelab", machine))
		}
	}
	return out
}

// removeCgroups removes a stopped lab's cgroups, deepest first; a cgroup
// that still holds a process stays (rmdir fails), and says so in Down.
func removeCgroups(machine string) {
	for _, top := range cgroupDirs(machine) {
		var dirs []string
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}
