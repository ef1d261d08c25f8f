package reproduce

import (
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

func TestCommand(t *testing.T) {
	run := func(experiment, suite, profile string, rate int, durMS float64) *result.Result {
		return &result.Result{Experiment: experiment, Server: "grace", Variant: "pidfile", Profile: profile,
			Env: result.Env{Provider: "nspawn", Suite: suite}, Load: result.LoadProfile{Rate: rate, DurationMS: durMS}}
	}
	vagrant := run("reload", "", "new-conn", 1000, 7000)
	vagrant.Env = result.Env{Provider: "vagrant", Distro: "Fedora Linux 43"}
	for _, c := range []struct {
		name string
		r    *result.Result
		want string
	}{
		{"reload at the defaults", run("reload", "trixie", "keepalive", 1000, 7000),
			"LAB_SUITE=trixie GRACELAB_PROFILES=keepalive GRACELAB_REPEATS=1 go run mage.go experiment:variant grace pidfile"},
		{"reload with its own rate and duration", run("reload", "bookworm", "new-conn", 500, 15000),
			"LAB_SUITE=bookworm GRACELAB_PROFILES=new-conn GRACELAB_REPEATS=1 GRACELAB_RATE=500 GRACELAB_DURATION=15s go run mage.go experiment:variant grace pidfile"},
		// The soak's 33 s are its own, whatever GRACELAB_DURATION says.
		{"another kind", run("soak", "bookworm", "keepalive", 1000, 33000),
			"LAB_SUITE=bookworm GRACELAB_PROFILES=keepalive GRACELAB_REPEATS=1 go run mage.go experiment:run soak grace pidfile"},
		{"the Fedora VM", vagrant,
			"LAB_PROVIDER=vagrant GRACELAB_PROFILES=new-conn GRACELAB_REPEATS=1 go run mage.go experiment:variant grace pidfile"},
	} {
		if got := Command(c.r); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
