package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
)

const wrkOut = `Running 1s test @ http://127.0.0.1:18111/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   727.93us    1.42ms  19.52ms   91.88%
    Req/Sec    20.26k     6.87k   30.55k    50.00%
  20109 requests in 1.01s, 3.55MB read
Requests/sec:  19947.58
Transfer/sec:      3.52MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 19947.58 || r.Requests != 20109 || r.LatencyAvg != "727.93us" || r.Errors != "" {
		t.Fatalf("%+v", r)
	}
	withErrs := strings.Replace(wrkOut, "Requests/sec", "  Socket errors: connect 0, read 3, write 0, timeout 0\n  Non-2xx or 3xx responses: 12\nRequests/sec", 1)
	if r, err = parseWrk(withErrs); err != nil || !strings.Contains(r.Errors, "read 3") || !strings.Contains(r.Errors, "Non-2xx") {
		t.Fatalf("errors not seen: %+v %v", r, err)
	}
	zero := strings.Replace(wrkOut, "Requests/sec", "  Socket errors: connect 0, read 0, write 0, timeout 0\nRequests/sec", 1)
	if r, _ = parseWrk(zero); r.Errors != "" {
		t.Fatalf("zero socket errors counted as errors: %q", r.Errors)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("no figure, no error")
	}
}

func TestSearchConverges(t *testing.T) {
	o := Default()
	const capacity = 17350
	var rates []int
	try := func(rate int) Trial {
		rates = append(rates, rate)
		return Trial{Rate: rate, Client: "fake", Sustained: rate <= capacity}
	}
	rep := search(context.Background(), try, 10000, 60000, 30, time.Now().Add(time.Hour), o)
	if rep.Best > capacity || float64(rep.Best) < capacity*(1-o.Resolution) {
		t.Fatalf("best %d, want within %.0f%% below %d; tried %v", rep.Best, o.Resolution*100, capacity, rates)
	}
	if rep.Client != "fake" || len(rep.Trials) != len(rates) || !strings.HasPrefix(rep.Ended, "converged") {
		t.Fatalf("%+v", rep)
	}
	for _, r := range rates {
		if r%100 != 0 || r > 60000 {
			t.Fatalf("rate %d: not a round hundred within the limit", r)
		}
	}
}

func TestSearchIsBounded(t *testing.T) {
	o := Default()
	n := 0
	always := func(rate int) Trial { n++; return Trial{Rate: rate, Sustained: true} }
	rep := search(context.Background(), always, 1000, 5000, 30, time.Now().Add(time.Hour), o)
	if rep.Best != 5000 || rep.Ended != "reached the limit" {
		t.Fatalf("%+v", rep)
	}
	never := func(rate int) Trial { n++; return Trial{Rate: rate} }
	n = 0
	rep = search(context.Background(), never, 1000, 5000, 5, time.Now().Add(time.Hour), o)
	if rep.Best != 0 || n != 5 || len(rep.Trials) != 5 {
		t.Fatalf("%d trials, %+v", n, rep)
	}
	n = 0
	rep = search(context.Background(), always, 1000, 5000, 30, time.Now().Add(-time.Second), o)
	if n != 0 || rep.Ended != "out of time" {
		t.Fatalf("a search past its deadline ran %d trials: %+v", n, rep)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rep = search(ctx, always, 1000, 5000, 30, time.Now().Add(time.Hour), o); len(rep.Trials) != 0 || rep.Ended != "interrupted" {
		t.Fatalf("%+v", rep)
	}
}

func TestSearchRetriesAFailedRate(t *testing.T) {
	o := Default()
	seen := map[int]int{}
	flaky := func(rate int) Trial {
		seen[rate]++
		// Every rate up to 8000 passes on its second attempt only.
		return Trial{Rate: rate, Sustained: rate <= 8000 && seen[rate] == 2}
	}
	rep := search(context.Background(), flaky, 5000, 20000, 40, time.Now().Add(time.Hour), o)
	if rep.Best < 7700 || rep.Best > 8000 {
		t.Fatalf("best %d, want about 8000: %+v", rep.Best, rep.Trials)
	}
	for rate, n := range seen {
		if n > o.Attempts {
			t.Fatalf("rate %d tried %d times", rate, n)
		}
	}
}

func steady(rate int, d time.Duration, lag, lat time.Duration) []load.Record {
	n := load.Planned(rate, d)
	recs := make([]load.Record, n)
	for i := range recs {
		s := load.At(rate, i)
		recs[i] = load.Record{Scheduled: s, Sent: s + lag, Latency: lag + lat, Code: 200, Class: load.OK, PID: 1}
	}
	return recs
}

func TestJudge(t *testing.T) {
	const d = 2 * time.Second
	t.Run("on time", func(t *testing.T) {
		tr := Trial{Rate: 1000}
		judge(&tr, steady(1000, d, 100*time.Microsecond, time.Millisecond), d)
		if !tr.Sustained || tr.Sent != 2000 || tr.Planned != 2000 || tr.AchievedRate != 1000 {
			t.Fatalf("%+v", tr)
		}
	})
	t.Run("late sends", func(t *testing.T) {
		tr := Trial{Rate: 1000}
		judge(&tr, steady(1000, d, 30*time.Millisecond, time.Millisecond), d)
		if tr.Sustained || !strings.Contains(tr.Why, "fell behind") {
			t.Fatalf("%+v", tr)
		}
	})
	t.Run("too few sent", func(t *testing.T) {
		tr := Trial{Rate: 1000}
		judge(&tr, steady(1000, d, 0, time.Millisecond)[:1900], d)
		if tr.Sustained || !strings.Contains(tr.Why, "sent 1,900 of 2,000") {
			t.Fatalf("%+v", tr)
		}
	})
	t.Run("failures", func(t *testing.T) {
		tr := Trial{Rate: 1000}
		recs := steady(1000, d, 0, time.Millisecond)
		recs[5].Class = load.Timeout
		judge(&tr, recs, d)
		if tr.Sustained || !strings.Contains(tr.Why, "1 failed (timeout 1)") {
			t.Fatalf("%+v", tr)
		}
	})
	t.Run("server behind", func(t *testing.T) {
		// Sent on time, but the answers pile up: the last ends 1 s late.
		tr := Trial{Rate: 1000}
		recs := steady(1000, d, 0, time.Millisecond)
		for i := range recs {
			recs[i].Latency = time.Duration(i) * time.Second / 2000
		}
		judge(&tr, recs, d)
		if tr.Sustained || !strings.Contains(tr.Why, "completed only") {
			t.Fatalf("%+v", tr)
		}
	})
}

func TestRender(t *testing.T) {
	rep := &Report{
		Started: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), Took: 3 * time.Minute, Goal: Goal, Command: "go run mage.go bench",
		Machine: Machine{CPU: "AMD EPYC", Cores: 2, Kernel: "6.1.0", OS: "linux/amd64", Go: "go1.26.8", Wrk: "wrk 4.1.0", LoadStart: "0.50", LoadEnd: "0.70"},
		Server:  "servers/plain", URL: "http://127.0.0.1:1234/",
		Wrk: WrkReport{Threads: 1, Conns: 16, Best: 28000,
			Probes: []WrkRun{{Conns: 8, Duration: 3 * time.Second, RPS: 26000}, {Conns: 16, Duration: 3 * time.Second, RPS: 27000}},
			Runs:   []WrkRun{{Conns: 16, Duration: 10 * time.Second, RPS: 28000}, {Conns: 16, Duration: 10 * time.Second, RPS: 27500}}},
		Engine: SearchReport{Client: "event-loop", Best: 24000, Ended: "converged within 3%",
			Trials: []Trial{{Rate: 24000, Sustained: true}, {Rate: 28000, Why: "fell behind"}}},
		Vegeta: &SearchReport{Client: "vegeta", Best: 10000, Ended: "after 6 trials"},
		Trial:  5 * time.Second, Warmup: time.Second,
	}
	rep.Ratio = 24000.0 / 28000
	md := string(Render(rep))
	for _, want := range []string{
		"sustained **24,000 req/s**", "wrk's **28,000 req/s**", "ratio of **0.86**, which does not meet the goal of 0.9",
		"| wrk `-t1 -c16` | closed loop, best of 2 runs of 10 s | 28,000 | 1.00 |",
		"| vegeta's library (gracelab's earlier engine) | open loop, highest sustained rate | 10,000 | 0.36 |",
		"send lag, Sent minus Scheduled, is at most 25ms", "`analysis.MinSentRatio` (0.99)",
		"CPU: AMD EPYC, 2 cores", "Linux 6.1.0", "go1.26.8", "not sustained: fell behind", "8 connections: 26,000/s",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("bench.md lacks %q:\n%s", want, md)
		}
	}
	// bench.md is read without the project's tracker at hand.
	if m := regexp.MustCompile(`(?i)\bissues? #?\d+`).FindString(md); m != "" {
		t.Errorf("bench.md mentions %q", m)
	}
	if s := rep.Summary(); !strings.Contains(s, "wrk 28000 req/s") || !strings.Contains(s, "24000 req/s") || !strings.Contains(s, "ratio 0.86") {
		t.Errorf("summary %q", s)
	}
	rep.Ratio = 0.5
	if md := string(Render(rep)); !strings.Contains(md, "does not meet the goal") {
		t.Error("a ratio below the goal is not said to miss it")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 28792.14: "28,792", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%v) = %q, want %q", n, got, want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := cpuModel(info); got != "AMD EPYC 7B13" {
		t.Fatalf("cpuModel = %q", got)
	}
	if got := cpuModel(""); got != "unknown CPU" {
		t.Fatalf("cpuModel of nothing = %q", got)
	}
}

// TestRunEndToEnd runs the whole benchmark, very short, where wrk is
// installed: server built and started, wrk, a search, the writeup, the
// summary last, the server stopped.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and loads it for about 15 s")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{WrkConns: []int{8}, WrkProbe: time.Second, WrkDuration: time.Second,
		Trial: time.Second, Warmup: 200 * time.Millisecond, Attempts: 1, MaxTrials: 3, Budget: time.Minute, Resolution: 0.1,
		Vegeta: true, VegetaTrials: 1, Doc: filepath.Join(t.TempDir(), "bench.md")}
	var out bytes.Buffer
	if err := RunWith(context.Background(), repo, &out, o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "bench: wrk ") || !strings.Contains(last, "ratio ") {
		t.Fatalf("last line %q is not the summary:\n%s", last, out.String())
	}
	md, err := os.ReadFile(o.Doc)
	if err != nil || !bytes.Contains(md, []byte("## Machine")) {
		t.Fatalf("bench.md: %v\n%s", err, md)
	}
	var pid string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "bench: server PID "); ok {
			pid, _, _ = strings.Cut(rest, " ")
		}
	}
	if pid == "" {
		t.Fatalf("no server PID in the output:\n%s", out.String())
	}
	if _, err := os.Stat("/proc/" + pid); err == nil {
		t.Fatalf("server PID %s still runs after the benchmark", pid)
	}
	t.Log(out.String())
}

func TestServerStopsOnCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	repo, _ := filepath.Abs("../..")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := startPlain(ctx, repo, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-s.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("server still runs after the context ended")
	}
	if _, err := os.Stat(s.dir); err == nil {
		t.Fatal("the server's temporary directory was left behind")
	}
}
