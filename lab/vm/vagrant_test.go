package vm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/lab"
)

// Machine-readable samples. notCreatedLibvirt, noProvider and pluginsLibvirt
// are verbatim from Vagrant 2.3.4 with vagrant-libvirt 0.11.2 (Debian 12);
// the others follow the same format with the state texts of vagrant's and
// vagrant-libvirt's locales.
const (
	notCreatedLibvirt = "1795589641,default,metadata,provider,libvirt\n" +
		"1795589641,default,provider-name,libvirt\n" +
		"1795589641,default,state,not_created\n" +
		"1795589641,default,state-human-short,not created\n" +
		"1795589641,default,state-human-long,The Libvirt domain is not created. Run `vagrant up` to create it.\n" +
		"1795589641,,ui,info,Current machine states:\\n\\ndefault                   not created (libvirt)\\n\\nThe Libvirt domain is not created. Run `vagrant up` to create it.\n"
	runningLibvirt = "1795589700,default,metadata,provider,libvirt\n" +
		"1795589700,default,provider-name,libvirt\n" +
		"1795589700,default,state,running\n" +
		"1795589700,default,state-human-short,running\n" +
		"1795589700,default,state-human-long,The Libvirt domain is running. To stop this machine%!(VAGRANT_COMMA) you can run\\n`vagrant halt`. To destroy the machine%!(VAGRANT_COMMA) you can run `vagrant destroy`.\n" +
		"1795589700,,ui,info,Current machine states:\\n\\ndefault                   running (libvirt)\\n\\nThe Libvirt domain is running. To stop this machine%!(VAGRANT_COMMA) you can run\\n`vagrant halt`. To destroy the machine%!(VAGRANT_COMMA) you can run `vagrant destroy`.\n"
	poweroffVirtualbox = "1795589800,default,metadata,provider,virtualbox\n" +
		"1795589800,default,provider-name,virtualbox\n" +
		"1795589800,default,state,poweroff\n" +
		"1795589800,default,state-human-short,poweroff\n" +
		"1795589800,default,state-human-long,The VM is powered off. To restart the VM%!(VAGRANT_COMMA) simply run `vagrant up`\n" +
		"1795589800,,ui,info,Current machine states:\\n\\ndefault                   poweroff (virtualbox)\\n\\nThe VM is powered off. To restart the VM%!(VAGRANT_COMMA) simply run `vagrant up`\n"
	noProvider = "1795589633,,ui,error,No usable default provider could be found for your system.\\n\\nVagrant relies on interactions with 3rd party systems%!(VAGRANT_COMMA) known as\\n\"providers\"%!(VAGRANT_COMMA) to provide Vagrant with resources to run development\\nenvironments.\n" +
		"1795589633,,error-exit,Vagrant::Errors::NoDefaultProvider,No usable default provider could be found for your system.\\n\\nVagrant relies on interactions with 3rd party systems%!(VAGRANT_COMMA) known as\\n\"providers\"%!(VAGRANT_COMMA) to provide Vagrant with resources to run development\\nenvironments.\n"
	pluginsLibvirt = "1795589706,,ui,info,vagrant-libvirt (0.11.2%!(VAGRANT_COMMA) system)\n" +
		"1795589706,,plugin-name,vagrant-libvirt\n" +
		"1795589706,vagrant-libvirt,plugin-version,0.11.2%!(VAGRANT_COMMA) system\n"
	pluginsNone = "1795589706,,ui,info,No plugins installed.\n"
)

var errExit = errors.New("exit status 1")

// fake stands in for the vagrant CLI: it records every command and answers
// from replies, keyed by the arguments joined with spaces.
type fake struct {
	calls   [][]string
	cmds    []*exec.Cmd
	replies map[string]reply
}

type reply struct {
	out string
	err error
}

func (f *fake) run(c *exec.Cmd) error {
	args := c.Args[1:]
	f.calls = append(f.calls, args)
	f.cmds = append(f.cmds, c)
	r, ok := f.replies[strings.Join(args, " ")]
	if !ok {
		return nil
	}
	if c.Stdout != nil {
		io.WriteString(c.Stdout, r.out)
	}
	return r.err
}

// setup returns a provider for a fake repository holding a Vagrantfile and
// a built runner, with vagrant at /usr/bin/vagrant, VBoxManage present if
// vbox, and VAGRANT_DEFAULT_PROVIDER set to defaultProvider.
func setup(t *testing.T, vbox bool, defaultProvider string, replies map[string]reply) (*Provider, *fake) {
	t.Helper()
	repo := t.TempDir()
	for _, f := range []string{"vagrant/Vagrantfile", ".lab/bin/gracelab-runner"} {
		path := filepath.Join(repo, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fake{replies: replies}
	p := New(lab.Config{Provider: "vagrant", Repo: repo})
	p.run = f.run
	p.lookPath = func(name string) (string, error) {
		switch {
		case name == "vagrant":
			return "/usr/bin/vagrant", nil
		case name == "VBoxManage" && vbox:
			return "/usr/bin/VBoxManage", nil
		}
		return "", exec.ErrNotFound
	}
	p.getenv = func(k string) string {
		if k == "VAGRANT_DEFAULT_PROVIDER" {
			return defaultProvider
		}
		return ""
	}
	return p, f
}

func wantCalls(t *testing.T, f *fake, want ...string) {
	t.Helper()
	var got []string
	for _, c := range f.calls {
		got = append(got, strings.Join(c, " "))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("vagrant commands:\n got %q\nwant %q", got, want)
	}
}

const waitCmd = "ssh -c sudo -n -- 'systemctl' 'is-system-running' '--wait' -- -T"

func TestUpStopped(t *testing.T) {
	p, f := setup(t, true, "", map[string]reply{
		"status --machine-readable": {out: poweroffVirtualbox},
		waitCmd:                     {out: "running\n"},
	})
	var log bytes.Buffer
	if err := p.Up(context.Background(), &log); err != nil {
		t.Fatalf("Up: %v\nlog:\n%s", err, log.String())
	}
	wantCalls(t, f,
		"status --machine-readable",
		"up --no-provision",
		waitCmd,
		"provision --provision-with gracelab",
	)
	for _, c := range f.cmds {
		if c.Path != "/usr/bin/vagrant" {
			t.Errorf("ran %s, want /usr/bin/vagrant", c.Path)
		}
		if !contains(c.Env, "VAGRANT_CWD="+filepath.Join(p.cfg.Repo, "vagrant")) {
			t.Errorf("%q: env has no VAGRANT_CWD=<repo>/vagrant", c.Args)
		}
		if c.SysProcAttr == nil || !c.SysProcAttr.Setpgid || c.Cancel == nil {
			t.Errorf("%q: not in its own process group with a Cancel", c.Args)
		}
	}
	if !strings.Contains(log.String(), "vagrant VM is poweroff") {
		t.Errorf("log does not say the VM was off:\n%s", log.String())
	}
}

func TestUpNotCreatedLibvirt(t *testing.T) {
	p, f := setup(t, false, "libvirt", map[string]reply{
		"plugin list --machine-readable": {out: pluginsLibvirt},
		"status --machine-readable":      {out: notCreatedLibvirt},
		waitCmd:                          {out: "running\n"},
	})
	if err := p.Up(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f,
		"plugin list --machine-readable",
		"status --machine-readable",
		"up --no-provision",
		waitCmd,
		"provision --provision-with gracelab",
	)
}

func TestUpRunningReusesVM(t *testing.T) {
	p, f := setup(t, true, "", map[string]reply{
		"status --machine-readable": {out: runningLibvirt},
		waitCmd:                     {out: "running\n"},
	})
	var log bytes.Buffer
	if err := p.Up(context.Background(), &log); err != nil {
		t.Fatal(err)
	}
	// No `vagrant up`: the running VM gets the new build and is provisioned
	// again.
	wantCalls(t, f,
		"status --machine-readable",
		"rsync",
		waitCmd,
		"provision --provision-with gracelab",
	)
	if !strings.Contains(log.String(), "already running") {
		t.Errorf("log does not say the VM is reused:\n%s", log.String())
	}
}

func TestUpDegradedGoesOn(t *testing.T) {
	failed := "ssh -c sudo -n -- 'systemctl' '--failed' '--no-legend' '--plain' -- -T"
	p, f := setup(t, true, "", map[string]reply{
		"status --machine-readable": {out: runningLibvirt},
		waitCmd:                     {out: "degraded\n", err: errExit},
		failed:                      {out: "dnf-makecache.service loaded failed failed dnf makecache\n"},
	})
	var log bytes.Buffer
	if err := p.Up(context.Background(), &log); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, "status --machine-readable", "rsync", waitCmd, failed, "provision --provision-with gracelab")
	if !strings.Contains(log.String(), "dnf-makecache.service") {
		t.Errorf("log does not list the failed unit:\n%s", log.String())
	}
}

func TestUpSystemdNotBooted(t *testing.T) {
	p, f := setup(t, true, "", map[string]reply{
		"status --machine-readable": {out: runningLibvirt},
		waitCmd:                     {out: "maintenance\n", err: errExit},
	})
	err := p.Up(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"maintenance"`) {
		t.Fatalf("Up: %v, want an error naming the state", err)
	}
	wantCalls(t, f, "status --machine-readable", "rsync", waitCmd) // no provisioning
}

func TestUpFailedCommand(t *testing.T) {
	p, _ := setup(t, true, "", map[string]reply{
		"status --machine-readable": {out: notCreatedLibvirt},
		"up --no-provision":         {err: errExit},
	})
	err := p.Up(context.Background(), io.Discard)
	if !errors.Is(err, errExit) || !strings.Contains(err.Error(), "vagrant up --no-provision") {
		t.Fatalf("Up: %v, want the failed command and its error", err)
	}
}

func TestUpWithoutBuild(t *testing.T) {
	p, f := setup(t, true, "", nil)
	os.Remove(filepath.Join(p.cfg.HostBinDir(), "gracelab-runner"))
	err := p.Up(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "build first") {
		t.Fatalf("Up: %v, want a hint to build first", err)
	}
	wantCalls(t, f)
}

func TestDown(t *testing.T) {
	p, f := setup(t, true, "", nil)
	if err := p.Down(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, "halt")
}

func TestSync(t *testing.T) {
	p, f := setup(t, true, "", map[string]reply{"rsync": {out: "rsync: connection unexpectedly closed\n", err: errExit}})
	err := p.Sync(context.Background())
	wantCalls(t, f, "rsync")
	if !errors.Is(err, errExit) || !strings.Contains(err.Error(), "connection unexpectedly closed") {
		t.Fatalf("Sync: %v, want the error with rsync's output", err)
	}
}

func TestShell(t *testing.T) {
	p, f := setup(t, true, "", nil)
	if err := p.Shell(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, "ssh")
	c := f.cmds[0]
	if c.Stdin != os.Stdin || c.Stdout != os.Stdout || c.Stderr != os.Stderr {
		t.Error("shell is not attached to the terminal")
	}
	if c.SysProcAttr != nil && c.SysProcAttr.Setpgid {
		t.Error("an interactive shell must stay in the terminal's process group")
	}
}

func TestExecQuoting(t *testing.T) {
	args := []string{"sh", "-c", `echo "it's $HOME" \ ; exit 3`, "two words", "", "a'b\"c"}
	want := `sudo -n -- 'sh' '-c' 'echo "it'\''s $HOME" \ ; exit 3' 'two words' '' 'a'\''b"c'`
	if got := RemoteCommand(args...); got != want {
		t.Fatalf("RemoteCommand:\n got %s\nwant %s", got, want)
	}
	p, f := setup(t, true, "", map[string]reply{
		"ssh -c " + want + " -- -T": {out: "out\n", err: errExit},
	})
	stdin := strings.NewReader("in")
	var stdout, stderr bytes.Buffer
	err := p.Exec(context.Background(), stdin, &stdout, &stderr, args...)
	if !errors.Is(err, errExit) {
		t.Errorf("Exec: %v, want the command's exit error", err)
	}
	if len(f.cmds) != 1 {
		t.Fatalf("ran %d commands, want 1", len(f.cmds))
	}
	c := f.cmds[0]
	if want := []string{"/usr/bin/vagrant", "ssh", "-c", want, "--", "-T"}; !reflect.DeepEqual(c.Args, want) {
		t.Errorf("argv %q, want %q", c.Args, want)
	}
	if c.Stdin != stdin || c.Stdout != &stdout || c.Stderr != &stderr {
		t.Error("stdin, stdout, stderr are not passed through")
	}
	if stdout.String() != "out\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	if err := p.Exec(context.Background(), nil, nil, nil); err == nil {
		t.Error("Exec without a command did not fail")
	}
}

// TestQuoteRoundTrip runs the quoted arguments through the two shells they
// meet in the VM: the ssh user's login shell, and the `bash -l -c '...'`
// that vagrant wraps around the command after escaping its single quotes
// (Vagrant::Util::ShellQuote.escape). printf stands in for sudo.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	args := []string{"plain", "two words", "", "it's", `"double"`, `back\slash`, "$HOME `id` $(id)", "*", "new\nline", "'", "''", "-n", "--", ";|&<>"}
	command := "printf '%s\\0' " + Quote(args...)
	wrapped := "sh -c '" + strings.ReplaceAll(command, "'", `'\''`) + "'"
	out, err := exec.Command(sh, "-c", wrapped).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !reflect.DeepEqual(got, args) {
		t.Errorf("round trip:\n got %q\nwant %q", got, args)
	}
}

func TestRunning(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      bool
		line      string
	}{
		{"running", runningLibvirt, true, "vagrant VM default (libvirt, REPO/vagrant): running"},
		{"not created", notCreatedLibvirt, false, "vagrant VM default (libvirt, REPO/vagrant): not created"},
		{"poweroff", poweroffVirtualbox, false, "vagrant VM default (virtualbox, REPO/vagrant): poweroff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, f := setup(t, true, "", map[string]reply{"status --machine-readable": {out: tc.out}})
			up, line, err := p.Running(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantCalls(t, f, "status --machine-readable")
			if want := strings.ReplaceAll(tc.line, "REPO", p.cfg.Repo); up != tc.want || line != want {
				t.Errorf("Running = %v, %q; want %v, %q", up, line, tc.want, want)
			}
		})
	}
}

func TestRunningNoProvider(t *testing.T) {
	// Vagrant's own error when the provider check passes: its first line.
	p, _ := setup(t, true, "", map[string]reply{"status --machine-readable": {out: noProvider, err: errExit}})
	_, _, err := p.Running(context.Background())
	if err == nil || err.Error() != "vagrant status: No usable default provider could be found for your system." {
		t.Errorf("Running: %v", err)
	}
	// Check's advice when no provider is installed.
	p, f := setup(t, false, "", map[string]reply{
		"status --machine-readable":      {out: noProvider, err: errExit},
		"plugin list --machine-readable": {out: pluginsNone},
	})
	_, _, err = p.Running(context.Background())
	if err == nil || !strings.Contains(err.Error(), "install one: apt-get install vagrant-libvirt") {
		t.Errorf("Running: %v, want what to install", err)
	}
	wantCalls(t, f, "status --machine-readable", "plugin list --machine-readable")
}

func TestParseStatus(t *testing.T) {
	s, err := ParseStatus(runningLibvirt)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Target: "default", Provider: "libvirt", State: "running", Short: "running",
		Long: "The Libvirt domain is running. To stop this machine, you can run\n`vagrant halt`. To destroy the machine, you can run `vagrant destroy`."}
	if s != want {
		t.Errorf("ParseStatus:\n got %+v\nwant %+v", s, want)
	}
	if _, err := ParseStatus(""); err == nil {
		t.Error("empty output parsed")
	}
	if _, err := ParseStatus(noProvider); err == nil {
		t.Error("error-exit parsed as a state")
	}
}

func TestMissingVagrant(t *testing.T) {
	p, f := setup(t, true, "", nil)
	p.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	ctx := context.Background()
	_, _, runErr := p.Running(ctx)
	for name, err := range map[string]error{
		"Up":      p.Up(ctx, io.Discard),
		"Down":    p.Down(ctx, io.Discard),
		"Running": runErr,
		"Exec":    p.Exec(ctx, nil, io.Discard, io.Discard, "true"),
		"Shell":   p.Shell(ctx),
		"Sync":    p.Sync(ctx),
	} {
		if !errors.Is(err, ErrNotInstalled) {
			t.Errorf("%s: %v, want ErrNotInstalled", name, err)
		}
	}
	wantCalls(t, f)
	const want = "vagrant is not installed: apt-get install vagrant (Debian) or see https://developer.hashicorp.com/vagrant/install; then a provider: vagrant-libvirt (apt-get install vagrant-libvirt) or VirtualBox"
	if ErrNotInstalled.Error() != want || strings.Contains(want, "\n") {
		t.Errorf("message: %s", ErrNotInstalled)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		vbox      bool
		plugins   string
		calls     []string
		err       string // substring; "" for none
	}{
		{"virtualbox installed", "", true, "", nil, ""},
		{"libvirt plugin, no virtualbox", "", false, pluginsLibvirt, []string{"plugin list --machine-readable"}, ""},
		{"neither", "", false, pluginsNone, []string{"plugin list --machine-readable"}, "no Vagrant provider: the vagrant-libvirt plugin is not installed and VirtualBox is not either"},
		{"libvirt wanted, plugin there", "libvirt", true, pluginsLibvirt, []string{"plugin list --machine-readable"}, ""},
		{"libvirt wanted, no plugin", "libvirt", true, pluginsNone, []string{"plugin list --machine-readable"}, "VAGRANT_DEFAULT_PROVIDER=libvirt but the vagrant-libvirt plugin is not installed: apt-get install vagrant-libvirt"},
		{"virtualbox wanted, missing", "virtualbox", false, "", nil, "VAGRANT_DEFAULT_PROVIDER=virtualbox but VirtualBox is not installed"},
		{"other provider left to vagrant", "vmware_desktop", false, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, f := setup(t, tc.vbox, tc.env, map[string]reply{"plugin list --machine-readable": {out: tc.plugins}})
			err := p.Check(context.Background())
			wantCalls(t, f, tc.calls...)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("Check: %v, want %q", err, tc.err)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("Check: not one line: %v", err)
			}
		})
	}
	p, _ := setup(t, true, "", nil)
	os.Remove(filepath.Join(p.Dir(), "Vagrantfile"))
	if err := p.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "no Vagrantfile") {
		t.Errorf("Check without a Vagrantfile: %v", err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
