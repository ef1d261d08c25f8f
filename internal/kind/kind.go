// Package kind defines the kinds of experiment, each one value: its name,
// the sentence the writeup prints, its schedule, its deploy and its checks.
// No other code compares kind names; it asks the kind.
package kind

import (
	"fmt"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

// Kind is one experiment kind.
type Kind struct {
	Name string
	// Says is what the writeup prints about the kind (Markdown).
	Says string
	// Readme is the experiment's folder under experiments/.
	Readme string
	// Deploy is the build put in place of the server's binary just before
	// the first reload: "" (none), "v2" (a new release) or "broken" (a
	// release that exits at start).
	Deploy string
	// Duration, when set, overrides the batch's load duration.
	Duration time.Duration
	// Schedule gives the reload offsets for a load of duration d.
	Schedule func(d time.Duration) []time.Duration
	// SlowPerReload is how many slow requests are in flight at each reload.
	SlowPerReload int
	// Profiles are the load profiles it runs with; nil means every one the
	// batch asks for.
	Profiles []string
	// Applies says which catalog variants it runs.
	Applies func(catalog.Variant) bool
	// Checks are the names of the checks that judge its runs, in order.
	Checks []string
	// StopUnderLoad ends each run with `systemctl stop` while the load and
	// slow requests still run, instead of after the load.
	StopUnderLoad bool
	// Slow is how long each slow request takes; 0 means a second.
	Slow time.Duration
	// MaxRepeats caps the batch's repeats of each cell; 0 means no cap.
	MaxRepeats int
}

// Checks every kind shares, in report order.
var (
	common = []string{"run_complete", "load_sustained", "no_failed_requests", "slow_requests_completed", "systemd_tracks_server"}
	ending = []string{"unit_active_at_end", "unit_stops_cleanly", "nothing_left_behind"}
)

func checks(middle ...string) []string {
	return append(append(append([]string{}, common...), middle...), ending...)
}

// threeReloads is 3/14, 7/14 and 11/14 of the load: for the default 7 s,
// at 1.5 s, 3.5 s and 5.5 s, so each hand-over (its 1 s slow requests
// drained, start_server's 1 s --interval passed) ends before the next.
func threeReloads(d time.Duration) []time.Duration {
	return []time.Duration{d * 3 / 14, d * 7 / 14, d * 11 / 14}
}

// oneDeploy is a single reload a third of the way in, then time to watch.
func oneDeploy(d time.Duration) []time.Duration { return []time.Duration{d / 3} }

func notLong(v catalog.Variant) bool        { return !v.Long }
func upgradeVariant(v catalog.Variant) bool { return v.Upgrade }

// All is every kind, in report order.
var All = []Kind{
	{
		Name: "reload", Readme: "reload", Schedule: threeReloads, SlowPerReload: 3, Applies: notLong, StopUnderLoad: true,
		Says: "the installed build, reloaded under load at the times in the table above; the same binary throughout. " +
			"The run ends with `systemctl stop` under load, slow requests in flight.",
		Checks: checks("new_process_serves", "stop_drains"),
	},
	{
		Name: "upgrade", Readme: "upgrade", Deploy: "v2", Schedule: oneDeploy, SlowPerReload: 3,
		Profiles: []string{protocol.KeepAlive}, Applies: upgradeVariant,
		Says: "a deploy: right before the single reload, a new build (version `v2`) replaces the binary on disk. " +
			"It passes when `v2` serves afterwards and no request failed.",
		Checks: checks("new_process_serves", "new_version_serves"),
	},
	{
		Name: "upgrade-broken", Readme: "upgrade", Deploy: "broken", Schedule: oneDeploy, SlowPerReload: 3,
		Profiles: []string{protocol.KeepAlive}, Applies: upgradeVariant,
		Says: "a bad deploy: right before the single reload, the binary on disk is replaced by a build that exits " +
			"at once with a config error. It passes when the old process keeps serving and no request failed.",
		Checks: checks("old_process_keeps_serving"),
	},
	{
		Name: "soak", Readme: "soak", Duration: 33 * time.Second, Schedule: every(time.Second), SlowPerReload: 1,
		Profiles: []string{protocol.KeepAlive}, Applies: func(v catalog.Variant) bool { return v.Soak },
		Says: "30 reloads in a row, one a second, under keep-alive load: it passes when no request failed, " +
			"every reload handed over to a new process before the next, and the unit ends with no more processes, " +
			"descriptors or memory than a leak allows.",
		Checks: checks("new_process_serves", "no_leak"),
	},
	{
		Name: "soak-3s", Readme: "soak", Duration: 39 * time.Second, Schedule: every(3 * time.Second), SlowPerReload: 1,
		Profiles: []string{protocol.KeepAlive}, Applies: func(v catalog.Variant) bool { return v.Soak },
		Says: "the soak at a slower pace, 12 reloads one every 3 s: a reload that starts nothing here is broken, " +
			"not merely too fast for the library.",
		Checks: checks("new_process_serves", "no_leak"),
	},
	longRequests,
	Clients,
	hup2015,
}

// longRequests is the experiment of issue 13's long requests: one reload
// a second in, one 100 s request in flight across it and another across
// the stop that follows 2 s later, under keep-alive load.
var longRequests = Kind{
	Name: "long", Readme: "reload", Duration: 3 * time.Second, Schedule: func(time.Duration) []time.Duration { return []time.Duration{time.Second} },
	SlowPerReload: 1, Slow: 100 * time.Second, StopUnderLoad: true, MaxRepeats: 2,
	Profiles: []string{protocol.KeepAlive}, Applies: func(v catalog.Variant) bool { return v.Long },
	Says: "one 100 s request in flight across a reload, and another across the stop 2 s later: what the client gets, " +
		"and how the stop ends, with systemd's default `TimeoutStopSec=` (90 s) and with 30 s.",
	Checks: checks("new_process_serves", "stop_drains"),
}

// every reloads once per pace, leaving 3 s at the end to settle.
func every(pace time.Duration) func(d time.Duration) []time.Duration {
	return func(d time.Duration) []time.Duration {
		var out []time.Duration
		for at := pace; at <= d-3*time.Second; at += pace {
			out = append(out, at)
		}
		return out
	}
}

// Names lists the kinds' names.
func Names() []string {
	var out []string
	for _, k := range All {
		out = append(out, k.Name)
	}
	return out
}

// Find returns the kind of that name, or an error listing the known ones.
func Find(name string) (Kind, error) {
	for _, k := range All {
		if k.Name == name {
			return k, nil
		}
	}
	return Kind{}, fmt.Errorf("unknown experiment %q; experiments: %s", name, strings.Join(Names(), ", "))
}

// Variants are the catalog variants the kind runs.
func (k Kind) Variants() []catalog.Variant {
	var out []catalog.Variant
	for _, v := range catalog.Variants() {
		if k.Applies(v) {
			out = append(out, v)
		}
	}
	return out
}

// ProfilesFrom narrows the batch's profiles to the kind's.
func (k Kind) ProfilesFrom(batch []string) []string {
	if k.Profiles == nil {
		return batch
	}
	return k.Profiles
}

// LoadDuration is the kind's duration, or the batch's.
func (k Kind) LoadDuration(batch time.Duration) time.Duration {
	if k.Duration > 0 {
		return k.Duration
	}
	return batch
}

// Base is the plain reload, the first kind: titles and file names leave
// its name out.
func Base() Kind { return All[0] }
