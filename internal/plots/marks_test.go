package plots

import (
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

func TestTitleNamesTheEnvironment(t *testing.T) {
	r := sample()
	r.Env = result.Env{Provider: "nspawn", Suite: "trixie", SystemdVersion: "257 (257.13-1~deb13u1)"}
	for _, f := range []struct {
		name string
		svg  []byte
	}{{"timeline", render(t, Timeline, r)}, {"latency", render(t, Latency, r)}} {
		if got := texts(t, f.svg); !containsPart(got, "nspawn · trixie · systemd 257:") {
			t.Errorf("%s: no environment in the title; texts: %q", f.name, got)
		}
	}
	if got := texts(t, render(t, Timeline, sample())); !containsPart(got, "unknown · unknown · systemd unknown:") {
		t.Errorf("a result without env does not say so; texts: %q", got)
	}
}

func TestSmallLossesCarryTheirCount(t *testing.T) {
	r := sample()
	// One eof and two resets a bin apart: too low to see as lines.
	r.Timeline.Bins[20].Failed = map[string]int{"eof": 1}
	r.Timeline.Bins[21].Failed = map[string]int{"reset": 1}
	r.Timeline.Bins[22].Failed = map[string]int{"reset": 1}
	got := texts(t, render(t, Timeline, r))
	if !contains(got, "2 reset, 1 eof") {
		t.Errorf("no count over the small loss; texts: %q", got)
	}
	// The 8 refused per bin at 1 s are a tenth of the axis and more:
	// visible without a count.
	if containsPart(got, "refused,") || containsPart(got, "24 refused") {
		t.Errorf("a large loss got a count; texts: %q", got)
	}
}

func TestStopAndStateChangesAreMarked(t *testing.T) {
	r := sample()
	r.Reloads[0].Before = result.Snapshot{AtMS: 990, ActiveState: "active", SubState: "running"}
	r.Reloads[0].After = result.Snapshot{AtMS: 1020, ActiveState: "reloading", SubState: "reload"}
	r.Reloads[0].Settled = result.Snapshot{AtMS: 1500, ActiveState: "active", SubState: "running"}
	r.Final.StopAtMS, r.Final.StopTookMS = 2500, 90200
	r.Final.AfterStop = result.Snapshot{ActiveState: "failed", SubState: "failed", Result: "timeout"}
	for _, f := range []struct {
		name string
		svg  []byte
	}{{"timeline", render(t, Timeline, r)}, {"latency", render(t, Latency, r)}} {
		got := texts(t, f.svg)
		for _, w := range []string{LabelStop, "unit reloading (reload)", "unit active (running)", "stop took 90.2 s: unit failed (timeout)"} {
			if !contains(got, w) {
				t.Errorf("%s: no text %q; texts: %q", f.name, w, got)
			}
		}
	}
	// No stop under load, no state change: nothing marked.
	got := texts(t, render(t, Timeline, sample()))
	if contains(got, LabelStop) || containsPart(got, "unit ") {
		t.Errorf("marks without data; texts: %q", got)
	}
}

func TestManyProcessesShareOneLegendEntry(t *testing.T) {
	r := sample()
	// A soak: a new process every 100 ms.
	for i := range r.Timeline.Bins {
		b := &r.Timeline.Bins[i]
		b.Failed, b.OK, b.PIDs = nil, 10, map[int]int{100 + i: 10}
	}
	got := texts(t, render(t, Timeline, r))
	if !contains(got, PIDsLabel(30, nil)) {
		t.Errorf("no shared entry for 30 processes; texts: %q", got)
	}
	if containsPart(got, "served by PID") {
		t.Errorf("a PID still has an entry of its own; texts: %q", got)
	}
	few := texts(t, render(t, Timeline, sample()))
	if !contains(few, PIDLabel(10)) || containsPart(few, "processes in turn") {
		t.Errorf("two processes are not named each; texts: %q", few)
	}
}

func containsPart(xs []string, part string) bool {
	for _, x := range xs {
		if strings.Contains(x, part) {
			return true
		}
	}
	return false
}
