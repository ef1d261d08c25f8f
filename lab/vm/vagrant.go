// Package vagrant is the lab provider for the Fedora VM in <repo>/vagrant:
// it drives the vagrant CLI (libvirt or VirtualBox underneath). Inside the
// VM everything is as in every lab: the build output at protocol.BinDir,
// provisioned by `gracelab-runner provision` as root.
package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab"
)

// ErrNotInstalled is returned when no vagrant binary is on PATH.
var ErrNotInstalled = errors.New("vagrant is not installed: apt-get install vagrant (Debian) or see https://developer.hashicorp.com/vagrant/install; then a provider: vagrant-libvirt (apt-get install vagrant-libvirt) or VirtualBox")

// Provisioner is the name of the Vagrantfile's provisioner that runs
// `gracelab-runner provision`.
const Provisioner = "gracelab"

// SystemdTimeout bounds the wait for systemd in the VM to finish booting.
const SystemdTimeout = 5 * time.Minute

// Provider implements lab.Provider with the vagrant CLI.
type Provider struct {
	cfg lab.Config

	// Injected for tests; New sets the real ones.
	run      func(*exec.Cmd) error             // runs a prepared command
	lookPath func(string) (string, error)      // finds vagrant, VBoxManage
	getenv   func(string) string               // reads VAGRANT_DEFAULT_PROVIDER
	stat     func(string) (os.FileInfo, error) // checks Vagrantfile and runner
}

var _ lab.Provider = (*Provider)(nil)

// New returns the Vagrant provider for the repository at cfg.Repo.
func New(cfg lab.Config) *Provider {
	return &Provider{
		cfg:      cfg,
		run:      (*exec.Cmd).Run,
		lookPath: exec.LookPath,
		getenv:   os.Getenv,
		stat:     os.Stat,
	}
}

// Name implements lab.Provider.
func (p *Provider) Name() string { return "vagrant" }

// Dir is the folder with the Vagrantfile; vagrant runs with VAGRANT_CWD set
// to it, so `vagrant status` typed in that folder sees the same machine.
func (p *Provider) Dir() string { return filepath.Join(p.cfg.Repo, "vagrant") }

// command prepares `vagrant args...` in the lab's Vagrant environment.
// Non-interactive commands get their own process group: a cancelled
// context sends SIGTERM to vagrant and the ssh or rsync it started.
func (p *Provider) command(ctx context.Context, interactive bool, args ...string) (*exec.Cmd, error) {
	bin, err := p.lookPath("vagrant")
	if err != nil {
		return nil, ErrNotInstalled
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "VAGRANT_CWD="+p.Dir(), "VAGRANT_CHECKPOINT_DISABLE=1")
	if !interactive {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
		cmd.WaitDelay = 30 * time.Second
	}
	return cmd, nil
}

// vagrant runs a non-interactive vagrant command with output to w.
func (p *Provider) vagrant(ctx context.Context, w io.Writer, args ...string) error {
	cmd, err := p.command(ctx, false, args...)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := p.run(cmd); err != nil {
		return fmt.Errorf("vagrant %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// Check says what is missing to run the VM: vagrant, the Vagrantfile, and a
// provider. The libvirt plugin is checked (with `vagrant plugin list`) when
// VAGRANT_DEFAULT_PROVIDER is libvirt, or when it is unset and VirtualBox is
// not installed, since libvirt is then the only provider left.
func (p *Provider) Check(ctx context.Context) error {
	if _, err := p.lookPath("vagrant"); err != nil {
		return ErrNotInstalled
	}
	if _, err := p.stat(filepath.Join(p.Dir(), "Vagrantfile")); err != nil {
		return fmt.Errorf("no Vagrantfile in %s: is %s the gracelab repository?", p.Dir(), p.cfg.Repo)
	}
	const (
		libvirtHow = "apt-get install vagrant-libvirt (Debian), dnf install vagrant-libvirt (Fedora) or vagrant plugin install vagrant-libvirt"
		vboxHow    = "VirtualBox from https://www.virtualbox.org/wiki/Downloads (VBoxManage must be on PATH)"
	)
	_, vboxErr := p.lookPath("VBoxManage")
	switch want := p.getenv("VAGRANT_DEFAULT_PROVIDER"); {
	case want == "virtualbox":
		if vboxErr != nil {
			return errors.New("VAGRANT_DEFAULT_PROVIDER=virtualbox but VirtualBox is not installed: install " + vboxHow)
		}
	case want == "libvirt" || (want == "" && vboxErr != nil):
		has, err := p.hasPlugin(ctx, "vagrant-libvirt")
		if err != nil {
			return err
		}
		if has {
			return nil
		}
		if want == "libvirt" {
			return errors.New("VAGRANT_DEFAULT_PROVIDER=libvirt but the vagrant-libvirt plugin is not installed: " + libvirtHow)
		}
		return errors.New("no Vagrant provider: the vagrant-libvirt plugin is not installed and VirtualBox is not either; install one: " + libvirtHow + "; or " + vboxHow)
	}
	return nil
}

// hasPlugin reads `vagrant plugin list --machine-readable`.
func (p *Provider) hasPlugin(ctx context.Context, name string) (bool, error) {
	var out bytes.Buffer
	if err := p.vagrant(ctx, &out, "plugin", "list", "--machine-readable"); err != nil {
		return false, fmt.Errorf("%w\n%s", err, out.String())
	}
	for _, r := range parseMachineReadable(out.String()) {
		if r.Type == "plugin-name" && len(r.Data) > 0 && r.Data[0] == name {
			return true, nil
		}
	}
	return false, nil
}

// Status is what `vagrant status --machine-readable` says about the VM.
type Status struct {
	Target   string // machine name: default
	Provider string // libvirt, virtualbox
	State    string // running, not_created, shutoff, poweroff, saved, ...
	Short    string // "not created"
	Long     string // vagrant's explanation
}

// ParseStatus reads `vagrant status --machine-readable` output. An
// error-exit record becomes the error.
func ParseStatus(out string) (Status, error) {
	var s Status
	for _, r := range parseMachineReadable(out) {
		if len(r.Data) == 0 {
			continue
		}
		switch r.Type {
		case "error-exit":
			msg := r.Data[len(r.Data)-1]
			if i := strings.IndexByte(msg, '\n'); i > 0 {
				msg = msg[:i] // the first line says it; the rest is advice
			}
			return s, errors.New(msg)
		case "provider-name":
			s.Target, s.Provider = r.Target, r.Data[0]
		case "state":
			s.Target, s.State = r.Target, r.Data[0]
		case "state-human-short":
			s.Short = r.Data[0]
		case "state-human-long":
			s.Long = r.Data[0]
		}
	}
	if s.State == "" {
		return s, fmt.Errorf("no state in vagrant status output: %q", out)
	}
	return s, nil
}

// Status runs `vagrant status --machine-readable`.
func (p *Provider) Status(ctx context.Context) (Status, error) {
	var out bytes.Buffer
	err := p.vagrant(ctx, &out, "status", "--machine-readable")
	if errors.Is(err, ErrNotInstalled) {
		return Status{}, err
	}
	s, perr := ParseStatus(out.String())
	if err == nil && perr == nil {
		return s, nil
	}
	// A missing provider makes status fail with a generic message; Check
	// says what to install.
	if cerr := p.Check(ctx); cerr != nil {
		return s, cerr
	}
	if perr != nil {
		return s, fmt.Errorf("vagrant status: %w", perr)
	}
	return s, err
}

// Running implements lab.Provider.
func (p *Provider) Running(ctx context.Context) (bool, string, error) {
	s, err := p.Status(ctx)
	if err != nil {
		return false, "", err
	}
	short := s.Short
	if short == "" {
		short = s.State
	}
	return s.State == "running", fmt.Sprintf("vagrant VM %s (%s, %s): %s", s.Target, s.Provider, p.Dir(), short), nil
}

// Up implements lab.Provider. Every path ends the same way: the VM runs
// with the current build output synced, systemd has finished booting, and
// the Vagrantfile's provisioner has run `gracelab-runner provision` (which
// is idempotent). A running VM is reused: synced and provisioned again.
func (p *Provider) Up(ctx context.Context, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if err := p.Check(ctx); err != nil {
		return err
	}
	runner := filepath.Join(p.cfg.HostBinDir(), filepath.Base(protocol.Runner))
	if _, err := p.stat(runner); err != nil {
		return fmt.Errorf("no runner at %s to sync into the VM: build first", runner)
	}
	s, err := p.Status(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if s.State == "running" {
		fmt.Fprintf(log, "lab: vagrant VM already running (%s), reusing it\n", s.Provider)
		if err := p.vagrant(ctx, log, "rsync"); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(log, "lab: vagrant VM is %s; vagrant up (the first one downloads the Fedora box)\n", s.State)
		// Provisioning waits until systemd has booted, below.
		if err := p.vagrant(ctx, log, "up", "--no-provision"); err != nil {
			return err
		}
	}
	if err := p.waitSystemd(ctx, log); err != nil {
		return err
	}
	if err := p.vagrant(ctx, log, "provision", "--provision-with", Provisioner); err != nil {
		return err
	}
	fmt.Fprintf(log, "lab: vagrant VM up and provisioned in %.1fs\n", time.Since(t0).Seconds())
	return nil
}

// waitSystemd waits until systemd in the VM has finished booting. A
// degraded system is usable for experiments; its failed units are logged.
func (p *Provider) waitSystemd(ctx context.Context, log io.Writer) error {
	wctx, cancel := context.WithTimeout(ctx, SystemdTimeout)
	defer cancel()
	var out bytes.Buffer
	// Exits non-zero unless running; the printed state is what counts.
	_ = p.Exec(wctx, nil, &out, log, "systemctl", "is-system-running", "--wait")
	switch state := strings.TrimSpace(out.String()); state {
	case "running":
		return nil
	case "degraded":
		var failed bytes.Buffer
		_ = p.Exec(ctx, nil, &failed, log, "systemctl", "--failed", "--no-legend", "--plain")
		fmt.Fprintf(log, "lab: systemd in the VM is degraded; failed units:\n%s", failed.String())
		return nil
	default:
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("systemd in the vagrant VM did not finish booting in %v (state %q); look with `vagrant ssh` in %s", SystemdTimeout, state, p.Dir())
	}
}

// Down implements lab.Provider with `vagrant halt`: the VM shuts down, so
// nothing runs and nothing is mounted, but its disk stays. The next Up is
// a boot of half a minute rather than a new import of the box and a fresh
// provisioning; `vagrant destroy` in Dir() removes the VM when wanted.
func (p *Provider) Down(ctx context.Context, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	return p.vagrant(ctx, log, "halt")
}

// Exec implements lab.Provider: `vagrant ssh -c 'sudo -n -- ARGS'`, each
// argument quoted for the remote shell. `-- -T` asks ssh for no terminal,
// so stdout and stderr stay apart and bytes pass unchanged (vagrant's own
// --no-tty is a global flag that does not reach `ssh -c`). A non-zero exit
// of the command comes back as an error wrapping *exec.ExitError.
//
// A cancelled context stops vagrant and ssh here; the command in the VM is
// not signalled and runs on until it ends or writes to the closed pipe.
func (p *Provider) Exec(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error {
	if len(args) == 0 {
		return errors.New("vagrant exec: no command")
	}
	cmd, err := p.command(ctx, false, "ssh", "-c", RemoteCommand(args...), "--", "-T")
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := p.run(cmd); err != nil {
		return fmt.Errorf("in vagrant VM: %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// RemoteCommand is the shell command line Exec runs in the VM.
func RemoteCommand(args ...string) string {
	return "sudo -n -- " + Quote(args...)
}

// Quote quotes each argument for a POSIX shell, all of them, and joins them
// with spaces. A quote inside an argument closes the quoting, adds an
// escaped quote and reopens it:
//
//	Quote("it's", "a b") == `'it'\''s' 'a b'`
func Quote(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Shell implements lab.Provider with an interactive `vagrant ssh`, as the
// vagrant user (sudo -i gives root, without a password).
func (p *Provider) Shell(ctx context.Context) error {
	cmd, err := p.command(ctx, true, "ssh")
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return p.run(cmd)
}

// Sync implements lab.Provider with `vagrant rsync`: it copies the host's
// build output to protocol.BinDir in the VM (and deletes what is gone).
func (p *Provider) Sync(ctx context.Context) error {
	var out bytes.Buffer
	if err := p.vagrant(ctx, &out, "rsync"); err != nil {
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// record is one line of vagrant's machine-readable output:
// timestamp,target,type,data... with commas in data written as
// %!(VAGRANT_COMMA) and newlines as \n.
type record struct {
	Target, Type string
	Data         []string
}

func parseMachineReadable(out string) []record {
	var rs []record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		f := strings.Split(strings.TrimRight(sc.Text(), "\r"), ",")
		if len(f) < 3 {
			continue
		}
		r := record{Target: f[1], Type: f[2]}
		for _, d := range f[3:] {
			d = strings.ReplaceAll(d, "%!(VAGRANT_COMMA)", ",")
			d = strings.ReplaceAll(d, `\n`, "\n")
			d = strings.ReplaceAll(d, `\r`, "\r")
			r.Data = append(r.Data, d)
		}
		rs = append(rs, r)
	}
	return rs
}
