package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/own"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/rate"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/writeup"
)

// realUnits are unit files other projects publish for their users (see
// each file's header), each with a sample binary that behaves like the
// service, renamed as it.
var realUnits = []struct {
	unit, sample, binary string
	settings             own.Settings
	lint                 []string
	// differs names the questions on which the unit is expected to differ
	// from the catalog cell it resembles, and why.
	differs map[check.Question]string
}{
	{unit: "tableflip-doc.service", sample: "tableflip", binary: "tableflip-doc", lint: []string{"no-exec-reload"}, settings: own.Settings{Slow: sampleSlow},
		differs: map[check.Question]string{check.Tracking: "it has no ExecReload=: systemctl reload fails and starts nothing"}},
	{unit: "starter-app.service", sample: "starter", binary: "starter-app", settings: own.Settings{Slow: sampleSlow}},
	{unit: "carbonapi.service", sample: "grace", binary: "carbonapi", lint: []string{"main-pid-not-child", "legacy-var-run"},
		settings: own.Settings{Slow: sampleSlow, EnvFile: "testdata/units/carbonapi.env", Files: []string{"testdata/units/carbonapi.tmpfiles:/usr/lib/tmpfiles.d/carbonapi.conf"}}},
}

// sampleSlow is the sample servers' long request, as the matrix holds it
// across reloads and the stop: without it a stop has nothing to drain,
// and start_server's stop, for one, passes where the matrix's fails.
const sampleSlow = "/slow?ms=1000"

var published = sync.OnceValues(func() ([]*result.Result, error) { return writeup.Published("../../results") })

// check runs a real unit in the lab, one run, and agrees with the catalog
// cell it resembles on every question that cell answers the same way in
// all its published runs on this systemd.
func TestCheckRealUnits(t *testing.T) {
	cfg, _ := needLab(t)
	pub, err := published()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range realUnits {
		t.Run(c.unit, func(t *testing.T) {
			unitPath := filepath.Join("testdata/units", c.unit)
			bin := filepath.Join(t.TempDir(), c.binary)
			copyFile(t, filepath.Join(cfg.HostBinDir(), c.sample), bin)
			docs := t.TempDir()
			o := Options{Rate: 1000, Duration: DefaultDuration, ResultsDir: t.TempDir(), Out: t.Output(), Parallel: 1,
				Repeats: 1, Profiles: []string{protocol.KeepAlive}}
			var out bytes.Buffer
			rs, page, err := RunCheck(context.Background(), &out, CheckSetup{Cfg: cfg, Opts: o, Suites: []string{cfg.Suite}, Docs: docs},
				unitPath, bin, c.settings)
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("%d runs, want 1", len(rs))
			}
			r := rs[0]
			if r.Unit.Name != c.unit || r.Unit.Files[0].Text != read(t, unitPath) {
				t.Errorf("the unit was not installed as written: %s", r.Unit.Name)
			}
			if !r.Final.UnitRemoved || len(r.Final.ProcessesLeft) > 0 {
				t.Errorf("left in the lab: unit removed %v, processes %v", r.Final.UnitRemoved, r.Final.ProcessesLeft)
			}
			md := read(t, page)
			for _, want := range []string{"## Verdict", "## Advice", "Runs that lost requests", "What systemd reported after each reload", "The unit's journal", ".svg)"} {
				if !strings.Contains(md, want) {
					t.Errorf("page %s lacks %q", page, want)
				}
			}
			j, err := check.Judge(r)
			if err != nil {
				t.Fatal(err)
			}
			unitText := read(t, unitPath)
			near := writeup.Nearest(unitText, modulesOf(t, bin), pub)
			if len(near) == 0 {
				t.Fatal("no published catalog cell to compare with")
			}
			n := near[0]
			if !strings.Contains(md, n.Variant.ID()) {
				t.Errorf("the page does not name the nearest variant %s", n.Variant.ID())
			}
			same := slices.DeleteFunc(slices.Clone(n.Runs), func(x *result.Result) bool { return x.Env.SystemdVersion != r.Env.SystemdVersion })
			for _, q := range check.Questions[:3] {
				pr, got := rate.Of(same, q), j.Questions[q]
				t.Logf("%s: check says %s; %s published %s", q, got, n.Variant.ID(), pr.Text())
				if why, ok := c.differs[q]; ok {
					if got != result.Fail {
						t.Errorf("%s: %s, want fail: %s", q, got, why)
					}
					continue
				}
				switch {
				case pr.N == 0 || got == result.Unknown:
				case pr.K == 0 && got == result.Fail:
					t.Errorf("%s fails here, and never in %s's %d published runs", q, n.Variant.ID(), pr.N)
				case pr.K == pr.N && got == result.Pass:
					t.Errorf("%s passes here, and failed in all %d of %s's published runs", q, pr.N, n.Variant.ID())
				}
			}
		})
	}
}

// lint flags in each real unit the failure modes the lab has measured,
// and with the lab up shows what systemd-analyze verify says.
func TestLintRealUnits(t *testing.T) {
	_, p := needLab(t)
	for _, c := range realUnits {
		var out bytes.Buffer
		t0 := time.Now()
		ws, err := LintIn(context.Background(), &out, p, filepath.Join("testdata/units", c.unit))
		t.Logf("%s (%s):\n%s", c.unit, time.Since(t0).Round(time.Millisecond), out.String())
		var rules []string
		for _, w := range ws {
			rules = append(rules, w.Rule)
		}
		if !slices.Equal(rules, c.lint) {
			t.Errorf("%s: lint says %v, want %v", c.unit, rules, c.lint)
		}
		if (err != nil) != (len(c.lint) > 0) {
			t.Errorf("%s: error %v with %d warnings; lint must fail exactly when it finds something", c.unit, err, len(ws))
		}
		if !strings.Contains(out.String(), "systemd-analyze verify, in the lab") {
			t.Errorf("%s: no verify output with the lab up", c.unit)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func modulesOf(t *testing.T, bin string) []string {
	t.Helper()
	return own.Modules([]byte(read(t, bin)))
}

// Bad input that only the lab can tell: each is one clear error, shows
// what systemd said where it said something, and leaves nothing behind.
func TestCheckBadInputInTheLab(t *testing.T) {
	cfg, p := needLab(t)
	dir := t.TempDir()
	sample := filepath.Join(cfg.HostBinDir(), "plain")
	for _, c := range []struct {
		name, unit, bin string
		want            []string
	}{
		{"never healthy", "[Service]\nExecStart=/usr/local/bin/deaf-app -listen 127.0.0.1:9099\n", sample,
			[]string{"server did not become healthy", "not healthy after 15s", "the unit's journal"}},
		{"refused by systemd", "[Service]\nType=oneshot\nRestart=always\nExecStart=/usr/local/bin/refused-app -listen 127.0.0.1:8080\nExecReload=/bin/kill -HUP $MAINPID\n", sample,
			[]string{"bad unit file setting", "Restart= set to either always or on-success, which isn't allowed for Type=oneshot services"}},
		{"missing libraries", "[Service]\nExecStart=/usr/local/bin/wrk-app\n", "/usr/bin/wrk",
			[]string{"dynamically linked against", "libluajit", "CGO_ENABLED=0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := strings.Fields(c.unit[strings.Index(c.unit, "/usr/local/bin/")+len("/usr/local/bin/"):])[0]
			unitPath := filepath.Join(dir, name+".service")
			os.WriteFile(unitPath, []byte(c.unit), 0o644)
			bin := filepath.Join(dir, name)
			copyFile(t, c.bin, bin)
			o := Options{Rate: 200, Duration: DefaultDuration, ResultsDir: t.TempDir(), Out: t.Output(), Parallel: 1, Repeats: 1, Profiles: []string{protocol.KeepAlive}}
			var out bytes.Buffer
			_, _, err := RunCheck(context.Background(), &out, CheckSetup{Cfg: cfg, Opts: o, Suites: []string{cfg.Suite}, Docs: t.TempDir()}, unitPath, bin, own.Settings{})
			t.Logf("error: %v\noutput:\n%s", err, out.String())
			if err == nil {
				t.Fatal("check succeeded")
			}
			all := err.Error() + "\n" + out.String()
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("does not say %q", w)
				}
			}
			if strings.Count(err.Error(), "\n") > 1 {
				t.Errorf("the error is more than one line: %q", err)
			}
			if rs, _ := result.ReadDir(o.ResultsDir); len(rs) != 0 {
				t.Errorf("%d results kept of a check that could not run", len(rs))
			}
			var left bytes.Buffer
			p.Exec(context.Background(), nil, &left, &left, "sh", "-c",
				"ls /usr/local/bin/"+name+" /etc/systemd/system/"+name+".service 2>/dev/null; systemctl list-units --all --no-legend "+name+".service")
			if s := strings.TrimSpace(left.String()); s != "" {
				t.Errorf("left in the lab: %s", s)
			}
		})
	}
}
