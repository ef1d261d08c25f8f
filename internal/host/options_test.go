package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/lab"
)

func TestBadSettingsAreOneClearLine(t *testing.T) {
	cases := map[string][2]string{
		"rate word":       {"GRACELAB_RATE", "fast"},
		"rate zero":       {"GRACELAB_RATE", "0"},
		"duration word":   {"GRACELAB_DURATION", "long"},
		"duration tiny":   {"GRACELAB_DURATION", "10ms"},
		"unknown profile": {"GRACELAB_PROFILES", "keepalive,http3"},
	}
	for name, kv := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			_, err := OptionsFromEnv("/repo")
			if err == nil || !strings.Contains(err.Error(), kv[0]) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s=%s: %v", kv[0], kv[1], err)
			}
		})
	}
	t.Setenv("LAB_PROVIDER", "docker")
	if _, err := lab.ConfigFromEnv("/repo"); err == nil || !strings.Contains(err.Error(), "nspawn, vagrant") {
		t.Fatalf("bad provider: %v", err)
	}
	t.Setenv("LAB_PROVIDER", "")
	t.Setenv("LAB_SUITE", "potato")
	if _, err := lab.ConfigFromEnv("/repo"); err == nil || !strings.Contains(err.Error(), "bookworm, trixie, sid") {
		t.Fatalf("bad suite: %v", err)
	}
}

// The targets, as a user types them: a bad name is one line naming the
// valid ones, and a non-zero exit, before any lab work.
func TestTargetsRejectUnknownNames(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the magefile")
	}
	repo, _ := filepath.Abs("../..")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"experiment:reload", "nginx"}, "unknown server \"nginx\"; servers: endless, fdstore, grace, gracedown, manners, overseer, plain, reuseport, socket, starter, tableflip"},
		{[]string{"experiment:variant", "grace", "nope"}, "unknown variant \"nope\" of grace; variants: envfile, long, long-30, mainpid, pidfile, pidfile-daemon-reload, pidfile-env, pidfile-wait, specifier, varrun"},
		{[]string{"experiment:upgrade", "nginx"}, "unknown server \"nginx\""},
		{[]string{"experiment:run", "soak", "grace", "envfile"}, "experiment soak does not apply to grace/envfile"},
		{[]string{"experiment:variant", "grace"}, "mage experiment:variant <server> <variant>\nexperiment:variant needs 2 argument(s), got 1."},
		{[]string{"-v", "results:compare"}, "mage results:compare <a> <b>"},
		{[]string{"lint", "/nonexistent/app.service"}, "unit file /nonexistent/app.service does not exist"},
		{[]string{"check", "/nonexistent/app.service", "/bin/true"}, "check: unit file /nonexistent/app.service does not exist"},
		{[]string{"check", "internal/host/testdata/units/carbonapi.service", "/nonexistent/carbonapi"}, "check: binary /nonexistent/carbonapi does not exist"},
	}
	for _, c := range cases {
		cmd := exec.Command("go", append([]string{"run", "mage.go"}, c.args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GRACELAB_RESULTS="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%v: exit 0", c.args)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%v: output lacks %q:\n%s", c.args, c.want, out)
		}
		if strings.Contains(string(out), "build:") {
			t.Errorf("%v: did lab work before checking its arguments:\n%s", c.args, out)
		}
	}
}
