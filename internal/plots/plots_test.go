package plots

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/internal/result"
)

// sample is a 3 s run at 100 req/s with one reload at 1 s: PID 10 serves,
// then 300 ms of refused and reset requests, then PID 20.
func sample() *result.Result {
	r := &result.Result{Server: "grace", Variant: "pidfile", Profile: "keepalive",
		Load:     result.LoadProfile{DurationMS: 3000, Action: "reload"},
		Reloads:  []result.Reload{{N: 1, StartMS: 1000, TookMS: 15}},
		Timeline: result.Timeline{BinMS: 100},
		Slow: []result.SlowRequest{
			{Reload: 1, StartMS: 900, LatencyMS: 1500, Outcome: "completed"},
			{Reload: 1, StartMS: 950, LatencyMS: 60, Outcome: "cut"},
		},
	}
	for i := range 30 {
		b := result.Bin{StartMS: float64(i) * 100, Sent: 10, P50MS: 0.5, P99MS: 2, MaxMS: 3}
		switch {
		case i < 10:
			b.OK, b.PIDs = 10, map[int]int{10: 10}
		case i < 13:
			b.Failed = map[string]int{"refused": 8, "reset": 2}
		case i == 13:
			b.OK, b.PIDs = 10, map[int]int{10: 3, 20: 7}
		default:
			b.OK, b.PIDs = 10, map[int]int{20: 10}
		}
		r.Timeline.Bins = append(r.Timeline.Bins, b)
	}
	return r
}

// texts parses the SVG strictly and returns its text elements.
func texts(t *testing.T, svg []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var out []string
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				out = append(out, strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return out
}

func render(t *testing.T, f func(io.Writer, *result.Result) error, r *result.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlots(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(io.Writer, *result.Result) error
		want []string
	}{
		{"timeline", Timeline, []string{PIDLabel(10), PIDLabel(20), FailedLabel("refused"), FailedLabel("reset"),
			"systemctl reload running", "time since load start (s)", "requests per 100 ms"}},
		{"latency", Latency, []string{LabelP50, LabelP99, LabelMax, LabelSlowDone, LabelSlowCut,
			"systemctl reload running", "time since load start (s)", "latency (ms, log scale)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := render(t, tc.f, sample())
			got := texts(t, svg)
			for _, w := range tc.want {
				if !contains(got, w) {
					t.Errorf("no text %q in the SVG; texts: %q", w, got)
				}
			}
			if again := render(t, tc.f, sample()); !bytes.Equal(svg, again) {
				t.Error("two renders of the same result differ")
			}
		})
	}
}

func TestTimelineSeriesOrder(t *testing.T) {
	got := texts(t, render(t, Timeline, sample()))
	// Legend order: reload, then PIDs by first appearance, then failures
	// in report order.
	want := []string{"systemctl reload running", PIDLabel(10), PIDLabel(20), FailedLabel("refused"), FailedLabel("reset")}
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("legend order: found %d of %q in order in %q", i, want, got)
	}
}

func TestEmptyResult(t *testing.T) {
	r := &result.Result{Server: "s", Variant: "v", Profile: "p"}
	for _, f := range []func(io.Writer, *result.Result) error{Timeline, Latency} {
		texts(t, render(t, f, r))
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestVersionsAndExperimentShown(t *testing.T) {
	r := sample()
	r.Experiment = "upgrade"
	r.Load.Upgrade = "v2"
	r.Reloads[0].Before = result.Snapshot{ServingPID: 10, ServingVersion: "v1"}
	r.Reloads[0].Settled = result.Snapshot{ServingPID: 20, ServingVersion: "v2"}
	got := texts(t, render(t, Timeline, r))
	for _, w := range []string{PIDVersionLabel(10, "v1"), PIDVersionLabel(20, "v2"), "systemctl reload running",
		"grace · pidfile · keepalive · upgrade"} {
		if !contains(got, w) {
			t.Errorf("no text %q in the SVG; texts: %q", w, got)
		}
	}
	if PIDVersionLabel(10, "") != PIDLabel(10) {
		t.Error("a PID without a version is not labelled as PIDLabel")
	}
}
