package analysis

// Benchmarks of the hot paths after a load: binning the records, the
// summary, and encoding a result with its full timeline. CI runs them
// briefly so they cannot rot:
//
//	go test -run '^$' -bench . -benchtime 100x ./internal/load ./internal/analysis

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// profiles are loads the lab runs: the default reload run, and a longer
// one at a higher rate (150,000 records; small enough for CI at 100x).
var profiles = []struct {
	name string
	rate int
	d    time.Duration
}{
	{"15s@1000", 1000, 15 * time.Second},
	{"30s@5000", 5000, 30 * time.Second},
}

// records makes a load's records: two serving processes, a burst of
// refused connections at a third of the way, latencies that vary.
func records(rate int, d time.Duration) []load.Record {
	n := load.Planned(rate, d)
	recs := make([]load.Record, n)
	for i := range recs {
		s := load.At(rate, i)
		recs[i] = load.Record{Scheduled: s, Sent: s + time.Duration(i%7)*time.Microsecond,
			Latency: time.Duration(200+i*7919%5000) * time.Microsecond, PID: 100, Code: 200, Class: load.OK}
		if i > n/2 {
			recs[i].PID = 200
		}
		if i > n/3 && i < n/3+rate/10 {
			recs[i] = load.Record{Scheduled: s, Sent: s, Latency: time.Millisecond, Class: load.Refused, Err: "connection refused"}
		}
	}
	return recs
}

func BenchmarkBins(b *testing.B) {
	for _, p := range profiles {
		recs := records(p.rate, p.d)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if bins := Bins(recs, 100*time.Millisecond, p.d); len(bins) != int(p.d/(100*time.Millisecond)) {
					b.Fatalf("%d bins", len(bins))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
		})
	}
}

func BenchmarkSummarize(b *testing.B) {
	for _, p := range profiles {
		recs := records(p.rate, p.d)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if s := Summarize(recs, p.rate, p.d); s.Sent != len(recs) {
					b.Fatalf("%+v", s)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
		})
	}
}

// BenchmarkEncode is writing a result as result.Write does, with the full
// timeline of 100 ms bins.
func BenchmarkEncode(b *testing.B) {
	for _, p := range profiles {
		recs := records(p.rate, p.d)
		r := &result.Result{Schema: result.SchemaVersion, ID: "bench", Experiment: "reload", Server: "plain", Variant: "restart",
			Timeline: result.Timeline{BinMS: 100, Bins: Bins(recs, 100*time.Millisecond, p.d)},
			Summary:  Summarize(recs, p.rate, p.d)}
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for range b.N {
				data, err := json.MarshalIndent(r, "", " ")
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.SetBytes(int64(size))
		})
	}
}
