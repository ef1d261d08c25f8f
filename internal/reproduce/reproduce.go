// Package reproduce is the command line that runs a stored result's cell
// again: the mage target, its arguments, and the settings (environment
// variables) that made the run what it was.
package reproduce

import (
	"fmt"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/result"
)

// Defaults of GRACELAB_RATE and GRACELAB_DURATION: a setting at its
// default is left out of the command.
const (
	DefaultRate     = 1000
	DefaultDuration = 7 * time.Second
)

// Command is the shell line that runs r's cell once more, on the lab it
// ran on, with the same profile and load: the plain reload through
// experiment:variant, any other kind through experiment:run.
func Command(r *result.Result) string {
	var env []string
	if r.Env.Provider == "vagrant" {
		env = append(env, "LAB_PROVIDER=vagrant")
	} else if r.Env.Suite != "" {
		env = append(env, "LAB_SUITE="+r.Env.Suite)
	}
	if r.Profile != "" {
		env = append(env, "GRACELAB_PROFILES="+r.Profile)
	}
	env = append(env, "GRACELAB_REPEATS=1")
	if r.Load.Rate > 0 && r.Load.Rate != DefaultRate {
		env = append(env, fmt.Sprintf("GRACELAB_RATE=%d", r.Load.Rate))
	}
	k, err := kind.Find(r.Experiment)
	// A kind of its own length ignores GRACELAB_DURATION.
	if d := time.Duration(r.Load.DurationMS * float64(time.Millisecond)).Round(time.Millisecond); err == nil && k.Duration == 0 && d > 0 && d != DefaultDuration {
		env = append(env, "GRACELAB_DURATION="+d.String())
	}
	target := []string{"experiment:run", r.Experiment, r.Server, r.Variant}
	if r.Experiment == kind.Base().Name {
		target = []string{"experiment:variant", r.Server, r.Variant}
	}
	return strings.Join(env, " ") + " go run mage.go " + strings.Join(target, " ")
}
