package vm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab"
)

const vagrantfile = "../../vagrant/Vagrantfile"

// TestVagrantfileMatchesLab checks, without vagrant, that the Vagrantfile
// puts the build output and the provisioning where the lab package says.
func TestVagrantfileMatchesLab(t *testing.T) {
	b, err := os.ReadFile(vagrantfile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	p := New(lab.Config{Repo: "/repo"})
	rel, err := filepath.Rel(p.Dir(), p.cfg.HostBinDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`config.vm.synced_folder "` + rel + `", "` + protocol.BinDir + `",`,
		`type: "rsync", create: true`,
		`config.vm.synced_folder ".", "/vagrant", disabled: true`,
		`config.vm.box = "fedora/`,
		`config.vm.box_check_update = false`,
		`config.vm.provision "` + Provisioner + `", type: "shell", privileged: true`,
		"exec " + protocol.Runner + " provision\n",
		`config.vm.provider "libvirt"`,
		`config.vm.provider "virtualbox"`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("Vagrantfile lacks %s", want)
		}
	}
	for _, want := range []string{".cpus = 2\n", ".memory = 2048\n"} {
		if n := strings.Count(src, want); n != 2 {
			t.Errorf("Vagrantfile sets %s %d times, want once per provider", strings.TrimSpace(want), n)
		}
	}
}

// vagrantOrSkip finds vagrant. Without it the test is skipped, except on CI
// (CI=true), which installs vagrant: there its absence is a failure.
func vagrantOrSkip(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("vagrant")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", ErrNotInstalled)
		}
		t.Skip(ErrNotInstalled)
	}
	return bin
}

// validate runs `vagrant validate args...` on a copy of the Vagrantfile in
// a fresh directory: nothing is written into the checkout (vagrant makes a
// .vagrant folder next to the Vagrantfile), and ../.lab/bin does not exist
// there, as in a fresh clone. The environment keeps vagrant offline: no
// version check, no box update check, a fresh VAGRANT_HOME with no boxes and
// only the system's plugins, no VAGRANT_* settings of the user.
func validate(t *testing.T, bin, src string, env []string, args ...string) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vagrant")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Vagrantfile"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"validate"}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAGRANT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"VAGRANT_CWD="+dir,
		"VAGRANT_HOME="+filepath.Join(t.TempDir(), "vagrant.d"),
		"VAGRANT_CHECKPOINT_DISABLE=1",
		"VAGRANT_BOX_UPDATE_CHECK_DISABLE=1",
		"VAGRANT_NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestVagrantValidate runs `vagrant validate --ignore-provider` on the
// Vagrantfile: Vagrant's own checks of everything but the provider blocks,
// with no provider, box or network needed.
func TestVagrantValidate(t *testing.T) {
	bin := vagrantOrSkip(t)
	b, err := os.ReadFile(vagrantfile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := validate(t, bin, string(b), nil, "--ignore-provider")
	if err != nil || !strings.Contains(out, "Vagrantfile validated successfully") {
		t.Fatalf("vagrant validate --ignore-provider: %v\n%s", err, out)
	}
	// The check can fail: a misspelt setting is rejected.
	broken := strings.Replace(string(b), "box_check_update", "box_check_updat", 1)
	if out, err := validate(t, bin, broken, nil, "--ignore-provider"); err == nil || !strings.Contains(out, "box_check_updat") {
		t.Errorf("a misspelt setting passed validate: %v\n%s", err, out)
	}
}

// TestVagrantValidateLibvirt also checks the libvirt provider block, where
// the vagrant-libvirt plugin is installed system-wide (Debian's and Fedora's
// packages).
func TestVagrantValidateLibvirt(t *testing.T) {
	bin := vagrantOrSkip(t)
	b, err := os.ReadFile(vagrantfile)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"VAGRANT_DEFAULT_PROVIDER=libvirt"}
	out, err := validate(t, bin, string(b), env)
	switch {
	case strings.Contains(out, "isn't usable") || strings.Contains(out, "provider 'libvirt' could not be found"):
		t.Skipf("no usable vagrant-libvirt:\n%s", out)
	case err != nil || !strings.Contains(out, "Vagrantfile validated successfully"):
		t.Fatalf("VAGRANT_DEFAULT_PROVIDER=libvirt vagrant validate: %v\n%s", err, out)
	}
	broken := strings.Replace(string(b), "lv.cpus", "lv.cpuz", 1)
	if out, err := validate(t, bin, broken, env); err == nil || !strings.Contains(out, "cpuz") {
		t.Errorf("a misspelt libvirt setting passed validate: %v\n%s", err, out)
	}
}
