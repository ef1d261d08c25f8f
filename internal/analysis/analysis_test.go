package analysis

import (
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/load/loadtest"
)

const msd = time.Millisecond

// The records of these tests: steady ones, some made failures.
var (
	steady = loadtest.Steady
	fail   = loadtest.Fail
)

func TestLongestGap(t *testing.T) {
	recs := steady(100, 10*msd, 1*msd, 7) // 1 s of load
	fail(recs, 40, 60, load.Refused)      // 200 ms with no success
	gap, start := LongestGap(recs, time.Second)
	// last success before: #39 ends at 391 ms; first after: #60 ends at 601 ms.
	if gap != 210*msd || start != 391*msd {
		t.Fatalf("gap %v at %v, want 210ms at 391ms", gap, start)
	}
}

func TestLongestGapCountsTheEdges(t *testing.T) {
	recs := steady(100, 10*msd, 1*msd, 7)
	fail(recs, 70, 100, load.Reset) // server died and never came back
	gap, start := LongestGap(recs, time.Second)
	if gap != 309*msd || start != 691*msd {
		t.Fatalf("gap %v at %v, want 309ms at 691ms (to the end of the load)", gap, start)
	}
	gap, _ = LongestGap(nil, time.Second)
	if gap != time.Second {
		t.Fatalf("no success at all: gap %v, want the whole run", gap)
	}
}

func TestSummarizeCountsAndClasses(t *testing.T) {
	recs := steady(1000, time.Millisecond, 2*msd, 100)
	for i := 500; i < 1000; i++ {
		recs[i].PID = 200
	}
	fail(recs, 300, 303, load.Refused)
	fail(recs, 600, 601, load.EOF)
	recs[700].Class, recs[700].Code = load.HTTP5xx, 502
	s := Summarize(recs, 1000, time.Second)
	if s.Sent != 1000 || s.OK != 995 || s.Failed != 5 || s.OK+s.Failed != s.Sent {
		t.Fatalf("sent/ok/failed = %d/%d/%d", s.Sent, s.OK, s.Failed)
	}
	if s.ByClass["refused"] != 3 || s.ByClass["eof"] != 1 || s.ByClass["http_5xx"] != 1 {
		t.Fatalf("by class %v", s.ByClass)
	}
	if len(s.PIDs) != 2 || s.PIDs[0] != 100 || s.PIDs[1] != 200 {
		t.Fatalf("pids %v, want [100 200] in order of appearance", s.PIDs)
	}
	if s.FellBehind {
		t.Fatalf("a load on schedule reported as fallen behind: %+v", s)
	}
	if got := ClassList(s.ByClass); got != "refused 3, eof 1, http_5xx 1" {
		t.Fatalf("ClassList = %q", got)
	}
}

func TestSummarizeFellBehind(t *testing.T) {
	// Half the requests the schedule called for.
	if s := Summarize(steady(500, 2*msd, msd, 1), 1000, time.Second); !s.FellBehind {
		t.Fatal("sent half the schedule but not reported as fallen behind")
	}
	// All sent, but late.
	recs := steady(1000, msd, msd, 1)
	for i := range recs {
		recs[i].Sent += 100 * msd
	}
	if s := Summarize(recs, 1000, time.Second); !s.FellBehind || s.SendLagP99MS != 100 {
		t.Fatalf("sends 100 ms late not reported: %+v", s)
	}
}

func TestBins(t *testing.T) {
	recs := steady(1000, time.Millisecond, 3*msd, 5)
	fail(recs, 150, 160, load.Timeout)
	recs[999].PID = 6
	bins := Bins(recs, 100*msd, time.Second)
	if len(bins) != 10 {
		t.Fatalf("%d bins", len(bins))
	}
	b := bins[1]
	if b.Sent != 100 || b.OK != 90 || b.Failed["timeout"] != 10 || b.PIDs[5] != 90 {
		t.Fatalf("bin 1 = %+v", b)
	}
	if bins[9].PIDs[6] != 1 || bins[9].PIDs[5] != 99 {
		t.Fatalf("bin 9 pids %v", bins[9].PIDs)
	}
	if b.P50MS != 3 || b.MaxMS != 3 {
		t.Fatalf("latency %v/%v", b.P50MS, b.MaxMS)
	}
}

// The sustained-load limits are bounds: at the bound is on schedule.
func TestFellBehindBounds(t *testing.T) {
	if s := Summarize(steady(990, msd, msd, 1), 1000, time.Second); s.FellBehind {
		t.Errorf("99%% of the schedule sent, reported as fallen behind")
	}
	if s := Summarize(steady(989, msd, msd, 1), 1000, time.Second); !s.FellBehind {
		t.Errorf("98.9%% of the schedule sent, not reported as fallen behind")
	}
	for lag, want := range map[time.Duration]bool{MaxLagP99: false, MaxLagP99 + time.Microsecond: true} {
		recs := steady(1000, msd, msd, 1)
		for i := range recs {
			recs[i].Sent += lag
		}
		if s := Summarize(recs, 1000, time.Second); s.FellBehind != want {
			t.Errorf("send lag %v: fell behind %v, want %v", lag, s.FellBehind, want)
		}
	}
}

// Mutants LG1, LG3 of .ci/mutants.txt survived without this test.
func TestLongestGapTiesGoToTheFirst(t *testing.T) {
	recs := steady(100, 10*msd, 1*msd, 7)
	fail(recs, 20, 30, load.Refused) // 191 -> 301 ms: 110 ms
	fail(recs, 60, 70, load.Refused) // 591 -> 701 ms: 110 ms
	if gap, start := LongestGap(recs, time.Second); gap != 110*msd || start != 191*msd {
		t.Errorf("two equal gaps: %v at %v, want 110ms at 191ms (the first)", gap, start)
	}
	recs = steady(80, 10*msd, 1*msd, 7)
	fail(recs, 20, 30, load.Refused) // 191 -> 301 ms: 110 ms; tail 791 -> 901 ms: 110 ms
	if gap, start := LongestGap(recs, 901*msd); gap != 110*msd || start != 191*msd {
		t.Errorf("tail equal to a gap: %v at %v, want 110ms at 191ms (the first)", gap, start)
	}
}

// Mutants PC1 of .ci/mutants.txt survived without this test.
func TestPercentileNearestRank(t *testing.T) {
	sorted := []time.Duration{1 * msd, 2 * msd, 3 * msd, 4 * msd}
	for p, want := range map[float64]time.Duration{0.25: 1 * msd, 0.5: 2 * msd, 0.75: 3 * msd, 1: 4 * msd} {
		if got := Percentile(sorted, p); got != want {
			t.Errorf("Percentile(1..4 ms, %v) = %v, want %v", p, got, want)
		}
	}
}

// Mutants BN1 of .ci/mutants.txt survived without this test.
func TestBinsIgnoreRecordsAtTheEnd(t *testing.T) {
	recs := steady(11, 100*msd, msd, 1) // the last one is scheduled at 1 s, outside [0, 1s)
	n := 0
	for _, b := range Bins(recs, 100*msd, time.Second) {
		n += b.Sent
	}
	if n != 10 {
		t.Errorf("bins hold %d records, want 10", n)
	}
}
