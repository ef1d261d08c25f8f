package runner

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/history"
	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/kstat"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab/catalog"
)

// fake is a machine for the run sequence: it records every effect and
// plays a server whose PID changes at each reload.
type fake struct {
	mu       sync.Mutex
	calls    []string
	files    map[string]string
	serving  int
	healthy  error
	left     []result.Process
	killed   []int
	loadDone func() // called when the load starts, for interrupts
	// rsts plays the kernel's Tcp.OutRsts: each reload and stop sends 10.
	rsts int64
}

func newFake() *fake { return &fake{files: map[string]string{}, serving: 100} }

func (f *fake) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fake) env() env {
	return env{
		command: func(_ context.Context, _ time.Duration, name string, args ...string) (string, int, error) {
			line := name + " " + strings.Join(args, " ")
			f.log(line)
			f.mu.Lock()
			defer f.mu.Unlock()
			switch {
			case name == "systemctl" && len(args) > 0 && (args[0] == "reload" || args[0] == "restart"):
				f.serving++
				f.rsts += 10
			case name == "systemctl" && len(args) > 0 && args[0] == "stop":
				f.rsts += 10
			case name == "systemctl" && len(args) > 0 && args[0] == "show":
				if _, ok := f.files["/etc/systemd/system/gracelab-grace-pidfile.service"]; !ok {
					return "LoadState=not-found\n", 0, nil
				}
				return "LoadState=loaded\nType=simple\n", 0, nil
			}
			return "", 0, nil
		},
		writeFile: func(path string, data []byte) error {
			f.log("write " + path)
			f.mu.Lock()
			defer f.mu.Unlock()
			f.files[path] = string(data)
			return nil
		},
		readFile: func(path string) ([]byte, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			text, ok := f.files[path]
			if !ok {
				return nil, fs.ErrNotExist
			}
			return []byte(text), nil
		},
		removeFile: func(path string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, ok := f.files[path]; !ok {
				return errors.New("no such file")
			}
			delete(f.files, path)
			f.calls = append(f.calls, "remove "+path)
			return nil
		},
		exists: func(path string) bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			_, ok := f.files[path]
			return ok
		},
		replaceFile: func(src, dst string) error { f.log("replace " + src + " " + dst); return nil },
		stage:       func(string) error { f.log("stage"); return nil },
		portFree:    func(string) error { return nil },
		connect:     func(context.Context, string) (observer, error) { return fakeObserver{f}, nil },
		waitHealthy: func(context.Context, string, string, time.Duration) error { f.log("wait healthy"); return f.healthy },
		startLoad: func(ctx context.Context, cfg load.Config) loadRun {
			f.log("load")
			if f.loadDone != nil {
				f.loadDone()
			}
			return newFakeLoad(ctx, cfg, f)
		},
		slow: func(_ context.Context, _ Spec, n int, since func() time.Duration) result.SlowRequest {
			return result.SlowRequest{Reload: n, Outcome: "completed", StartMS: float64(since().Milliseconds())}
		},
		processes: func(...string) []result.Process { return f.left },
		kill:      func(pid int) { f.killed = append(f.killed, pid) },
		environment: func(p, s string, _ ...string) result.Env {
			return result.Env{Provider: p, Suite: s, SystemdVersion: "252 (252.39)"}
		},
		kernel: func() (kstat.Counters, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return kstat.Counters{"Tcp.OutRsts": f.rsts, "Tcp.AttemptFails": 7}, nil
		},
	}
}

type fakeObserver struct{ f *fake }

func (o fakeObserver) Snapshot(_ context.Context, _, _ string, at time.Duration) result.Snapshot {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	return result.Snapshot{AtMS: float64(at.Milliseconds()), MainPID: o.f.serving, ServingPID: o.f.serving, ActiveState: "active"}
}

func (o fakeObserver) Unit(context.Context, string) (result.Snapshot, error) {
	return result.Snapshot{ActiveState: "inactive", SubState: "dead", Result: "success"}, nil
}

func (fakeObserver) Close() {}

// fakeLoad sends on schedule to a server that always answers, served by
// whoever serves at the time, until the duration or ctx ends.
type fakeLoad struct {
	began time.Time
	done  chan struct{}
	recs  []load.Record
}

func newFakeLoad(ctx context.Context, cfg load.Config, f *fake) *fakeLoad {
	l := &fakeLoad{began: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		step := time.Second / time.Duration(cfg.Rate)
		t := time.NewTicker(step)
		defer t.Stop()
		for at := time.Duration(0); at < cfg.Duration; at += step {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			f.mu.Lock()
			pid := int32(f.serving)
			f.mu.Unlock()
			l.recs = append(l.recs, load.Record{Scheduled: at, Sent: at, Latency: time.Millisecond, PID: pid, Code: 200})
		}
	}()
	return l
}

func (l *fakeLoad) Began() time.Time           { return l.began }
func (l *fakeLoad) Done() <-chan struct{}      { return l.done }
func (l *fakeLoad) Progress() load.Progress    { return load.Progress{} }
func (l *fakeLoad) Wait() []load.Record        { <-l.done; return l.recs }
func (l *fakeLoad) Versions() map[int32]string { return map[int32]string{100: "v1"} }

func spec(t *testing.T) Spec {
	t.Helper()
	v, err := catalog.Find("grace", "pidfile")
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec(kind.Base(), v)
	s.Duration, s.Rate = 1500*time.Millisecond, 200
	s.ReloadAt = kind.Base().Schedule(s.Duration)
	return s
}

// index is where the first call starting with prefix is, -1 if none.
func index(calls []string, prefix string) int {
	return slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func TestRunSequence(t *testing.T) {
	f := newFake()
	r, err := run(context.Background(), f.env(), spec(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"stage", "write /etc/systemd/system/gracelab-grace-pidfile.service", "systemctl daemon-reload",
		"systemctl start gracelab-grace-pidfile.service", "wait healthy", "load",
		"systemctl reload gracelab-grace-pidfile.service", "systemd-analyze dump", "systemctl stop gracelab-grace-pidfile.service", "journalctl -u",
		"remove /etc/systemd/system/gracelab-grace-pidfile.service"}
	last := -1
	for _, step := range order {
		i := slices.IndexFunc(f.calls[last+1:], func(c string) bool { return strings.HasPrefix(c, step) })
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", step, strings.Join(f.calls, "\n"))
		}
		last += i + 1
	}
	// verify runs beside the start, and is done before the load.
	if v := index(f.calls, "systemd-analyze verify"); v < 0 || v > index(f.calls, "load") {
		t.Errorf("systemd-analyze verify missing or after the load start in:\n%s", strings.Join(f.calls, "\n"))
	}
	if n := strings.Count(strings.Join(f.calls, "\n"), "systemctl reload "); n != 3 {
		t.Errorf("%d reloads, want 3", n)
	}
	if len(r.Reloads) != 3 || r.Reloads[2].Settled.ServingPID != 103 || r.Reloads[0].Before.ServingPID != 100 {
		t.Errorf("reloads %+v", r.Reloads)
	}
	// A reload run stops under load: 3 slow requests per reload, 3 at the
	// stop, which the stop's figures count apart.
	if len(r.Slow) != 12 || r.Summary.SlowTotal != 9 || r.Summary.SlowDone != 9 {
		t.Errorf("%d slow requests, %d of %d done at reloads; want 12, 9 of 9", len(r.Slow), r.Summary.SlowDone, r.Summary.SlowTotal)
	}
	if r.History == nil {
		t.Fatal("no history stored")
	}
	recs, versions, err := history.Decode(r.History.Data)
	if err != nil || len(recs) != r.History.Requests || versions[100] != "v1" {
		t.Fatalf("history: %d records (%v), versions %v", len(recs), err, versions)
	}
	st := r.Final.Stop
	if r.Final.StopAtMS <= r.Reloads[2].StartMS || st == nil || st.SlowTotal != 3 {
		t.Fatalf("stop at %.0f ms (last reload at %.0f ms), figures %+v; want a stop under load after the last reload",
			r.Final.StopAtMS, r.Reloads[2].StartMS, st)
	}
	if r.Summary.Sent+st.InFlight+st.After != len(recs) || st.After == 0 {
		t.Errorf("summary %d + in flight at the stop %d + after it %d != %d requests", r.Summary.Sent, st.InFlight, st.After, len(recs))
	}
	if !r.Final.UnitRemoved || r.Interrupted || len(r.Errors) > 0 || r.Final.AfterStop.Result != "success" {
		t.Errorf("final %+v, interrupted %v, errors %v", r.Final, r.Interrupted, r.Errors)
	}
	if len(f.files) != 0 {
		t.Errorf("files left: %v", f.files)
	}
	// The kernel's counters are read around each reload and the stop.
	for _, rl := range r.Reloads {
		if k := rl.Kernel; k == nil || k.Counters["Tcp.OutRsts"] != 10 || len(k.Counters) != 1 || k.FromMS > rl.StartMS || k.ToMS < rl.Settled.AtMS-1 {
			t.Errorf("reload %d at %.0f ms (settled %.0f): kernel %+v, want OutRsts 10 over the hand-over", rl.N, rl.StartMS, rl.Settled.AtMS, k)
		}
	}
	if k := r.Final.StopKernel; k == nil || k.Counters["Tcp.OutRsts"] != 10 || k.FromMS != r.Final.StopAtMS || k.ToMS < k.FromMS {
		t.Errorf("stop at %.0f ms: kernel %+v, want OutRsts 10 from the stop on", r.Final.StopAtMS, k)
	}
}

func TestRunUnhealthyStillCleansUp(t *testing.T) {
	f := newFake()
	f.healthy = errors.New("connection refused")
	r, err := run(context.Background(), f.env(), spec(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "connection refused") {
		t.Errorf("errors %v", r.Errors)
	}
	if index(f.calls, "load") >= 0 || index(f.calls, "systemctl reload") >= 0 {
		t.Errorf("load or reload after a failed start: %v", f.calls)
	}
	if index(f.calls, "systemctl stop") < 0 || !r.Final.UnitRemoved {
		t.Errorf("unit not stopped and removed: %v", f.calls)
	}
}

func TestRunInterruptedStopsAndKeepsPartial(t *testing.T) {
	f := newFake()
	f.left = []result.Process{{PID: 4242, Command: "grace"}}
	ctx, cancel := context.WithCancel(context.Background())
	f.loadDone = func() { time.AfterFunc(200*time.Millisecond, cancel) }
	r, err := run(ctx, f.env(), spec(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted {
		t.Error("not marked interrupted")
	}
	if r.Summary.Sent == 0 || r.Summary.Sent > 100 || r.History == nil || r.History.WindowMS >= 1500 {
		t.Errorf("partial load: sent %d, history %+v", r.Summary.Sent, r.History)
	}
	if index(f.calls, "systemctl stop") < 0 || !r.Final.UnitRemoved {
		t.Errorf("interrupted run not stopped and removed: %v", f.calls)
	}
	if !slices.Equal(f.killed, []int{4242}) {
		t.Errorf("stray process not killed: %v", f.killed)
	}
}

func TestRunSkipsWhatSystemdCannotRun(t *testing.T) {
	f := newFake()
	s := spec(t)
	s.Variant.MinSystemd = 253
	_, err := run(context.Background(), f.env(), s, io.Discard)
	var skip *SkipError
	if !errors.As(err, &skip) {
		t.Fatalf("err %v, want a skip", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("a skipped run touched the machine: %v", f.calls)
	}
}

func TestRunDeploysBeforeTheFirstReload(t *testing.T) {
	f := newFake()
	s := spec(t)
	k, err := kind.Find("upgrade")
	if err != nil {
		t.Fatal(err)
	}
	s.Kind, s.ReloadAt = k, k.Schedule(s.Duration)
	r, err := run(context.Background(), f.env(), s, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep, rel := index(f.calls, "replace /opt/gracelab/bin/v2/grace /var/lib/gracelab/bin/grace"), index(f.calls, "systemctl reload")
	if rep < 0 || rel < rep || r.Load.Upgrade != "v2" || len(r.Reloads) != 1 {
		t.Errorf("deploy at %d, reload at %d, upgrade %q, %d reloads: %v", rep, rel, r.Load.Upgrade, len(r.Reloads), f.calls)
	}
}
