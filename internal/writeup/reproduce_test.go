package writeup

import (
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

func TestRerunSection(t *testing.T) {
	r := &result.Result{Experiment: "soak", Server: "grace", Variant: "pidfile", Profile: "keepalive",
		Env: result.Env{Provider: "nspawn", Suite: "trixie"}, Load: result.LoadProfile{Rate: 1000, DurationMS: 33000}}
	cmd := "LAB_SUITE=trixie GRACELAB_PROFILES=keepalive GRACELAB_REPEATS=1 go run mage.go experiment:run soak grace pidfile"
	for _, c := range []struct {
		name     string
		g        *result.Gracelab
		want     []string
		wantNone []string
	}{
		{"not recorded", nil, []string{"not recorded", "```sh\n" + cmd + "\n```"}, []string{"git checkout"}},
		{"clean", &result.Gracelab{Commit: "85485e2f"}, []string{"gracelab commit `85485e2f`", "```sh\ngit checkout 85485e2f\n" + cmd + "\n```"},
			[]string{"not recorded", "uncommitted"}},
		{"dirty", &result.Gracelab{Commit: "85485e2f", Dirty: true}, []string{"git checkout 85485e2f\n", "uncommitted changes"}, nil},
	} {
		r.Gracelab = c.g
		var p page
		rerunSection(&p, r)
		got := p.String()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, got)
			}
		}
		for _, w := range c.wantNone {
			if strings.Contains(got, w) {
				t.Errorf("%s: has %q:\n%s", c.name, w, got)
			}
		}
	}
}
