package writeup

import (
	"strings"
	"testing"
)

func TestMitigationSetsEachAgainstTheBlogUnit(t *testing.T) {
	e := env{Systemd: "252"}
	rows := []*stopRow{
		{server: "grace", name: "pidfile", variant: "grace/pidfile", env: e, runs: 10, alien: 6, notAlien: 4, killed: 6},
		{server: "grace", name: "pidfile-daemon-reload", variant: "grace/pidfile-daemon-reload", env: e, runs: 20, notAlien: 20},
		{server: "plain", name: "simple", variant: "plain/simple", env: e, runs: 10, killed: 0},
	}
	got := mitigation(rows)
	for _, want := range []string{
		"grace/pidfile on systemd 252 (the blog post's unit, for comparison): main PID not its child in 6 of 10 runs, SIGKILL at the stop in ❌ 6 of 10 (31–83%)",
		"grace/pidfile-daemon-reload on systemd 252", "`systemctl daemon-reload`", "main PID not its child in 0 of 20 runs, SIGKILL at the stop in ✅ 0 of 20 (0–16%)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("mitigation lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "plain/simple") {
		t.Errorf("a variant that is no mitigation is listed:\n%s", got)
	}
	if mitigation(rows[:1]) != "" {
		t.Error("the blog's unit alone, with no mitigation measured, still made a paragraph")
	}
}
