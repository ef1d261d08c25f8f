package history

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/gracelab/gracelab/internal/load"
)

// realistic is 15 s of load at 1000 req/s through three upgrades: one
// request a millisecond, sent 0-200 µs late, answered in 300-3000 µs
// (log-normal) with 1% up to 50 ms; the serving PID changes at 4, 8 and
// 12 s, old and new alternating for 50 ms; five requests refused and five
// reset, with one text each.
func realistic() ([]load.Record, map[int32]string) {
	rng := rand.New(rand.NewPCG(1, 2))
	pids := []int32{4242, 4711, 5003}
	versions := map[int32]string{4242: "v1.4.2", 4711: "v1.5.0", 5003: "v1.5.1-3-gdeadbee"}
	recs := make([]load.Record, 15000)
	for i := range recs {
		sched := load.At(1000, i)
		lag := time.Duration(rng.Int64N(int64(200 * time.Microsecond)))
		lat := time.Duration(math.Exp(math.Log(700e3) + 0.5*rng.NormFloat64()))
		lat = min(max(lat, 300*time.Microsecond), 3*time.Millisecond)
		if rng.IntN(100) == 0 {
			lat = 3*time.Millisecond + time.Duration(rng.Int64N(int64(47*time.Millisecond)))
		}
		k := int(sched / (4 * time.Second))
		if k > 0 && sched%(4*time.Second) < 50*time.Millisecond && rng.IntN(2) == 0 {
			k--
		}
		recs[i] = load.Record{Scheduled: sched, Sent: sched + lag, Latency: lat, PID: pids[k%3], Code: 200}
		if i < 4 || rng.IntN(1000) == 0 {
			recs[i].Flags = load.Dialed
		}
	}
	for j := range 5 {
		recs[8000+j] = load.Record{Scheduled: recs[8000+j].Scheduled, Sent: recs[8000+j].Sent, Latency: 150 * time.Microsecond,
			Class: load.Refused, Flags: load.Dialed, Err: `Get "http://127.0.0.1:18080/": dial tcp 127.0.0.1:18080: connect: connection refused`}
		recs[12000+j] = load.Record{Scheduled: recs[12000+j].Scheduled, Sent: recs[12000+j].Sent, Latency: 900 * time.Microsecond,
			Class: load.Reset, Flags: load.Retried | load.Dialed, Err: `Get "http://127.0.0.1:18080/": read tcp 127.0.0.1:41234->127.0.0.1:18080: read: connection reset by peer`}
	}
	return recs, versions
}

// truncated is what Decode gives back for recs: durations to the µs.
func truncated(recs []load.Record) []load.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Scheduled = out[i].Scheduled.Truncate(time.Microsecond)
		out[i].Sent = out[i].Sent.Truncate(time.Microsecond)
		out[i].Latency = out[i].Latency.Truncate(time.Microsecond)
	}
	return out
}

func roundTrip(t *testing.T, recs []load.Record, versions map[int32]string) []byte {
	t.Helper()
	b, err := Encode(recs, versions)
	if err != nil {
		t.Fatal(err)
	}
	got, gotVersions, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := truncated(recs)
	if len(got) != len(want) {
		t.Fatalf("%d records back, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if !maps.Equal(gotVersions, versions) {
		t.Fatalf("versions %v, want %v", gotVersions, versions)
	}
	return b
}

func TestSize(t *testing.T) {
	recs, versions := realistic()
	b := roundTrip(t, recs, versions)
	n64 := base64.StdEncoding.EncodedLen(len(b))
	t.Logf("%d records: %d bytes, %d in base64 (%.2f bytes a record)", len(recs), len(b), n64, float64(n64)/float64(len(recs)))
	if n64 > 64<<10 {
		t.Fatalf("%d bytes in base64 for %d records, want at most %d", n64, len(recs), 64<<10)
	}
}

func TestInterned(t *testing.T) {
	recs, versions := realistic()
	b := roundTrip(t, recs, versions)
	got, _, _ := Decode(b)
	if unsafe.StringData(got[8000].Err) != unsafe.StringData(got[8004].Err) {
		t.Error("equal error texts decode to separate strings")
	}
}

func TestEdgeCases(t *testing.T) {
	roundTrip(t, nil, map[int32]string{})
	roundTrip(t, []load.Record{{}}, map[int32]string{0: ""})
	roundTrip(t, []load.Record{
		{Scheduled: math.MaxInt64, Sent: math.MinInt64, Latency: -1, PID: math.MinInt32, Code: math.MaxUint16, Class: 0xff, Flags: 0xff, Err: "\xff\x00ünï"},
		{Scheduled: math.MinInt64, Sent: math.MaxInt64, Latency: math.MaxInt64, PID: math.MaxInt32},
		{Scheduled: 1500, Sent: 999, Latency: 2999}, // below a µs: 0, 0, 2 µs
	}, map[int32]string{math.MaxInt32: "a", math.MinInt32: "b", 7: ""})
}

func TestDecodeRejects(t *testing.T) {
	recs, versions := realistic()
	b, err := Encode(recs[:300], versions)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, {}, {0}, {2}, {format}, {format, 0x1f, 0x8b}, append(slices.Clone(b), 0)} {
		if _, _, err := Decode(bad); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
	for n := range len(b) {
		if _, _, err := Decode(b[:n]); err == nil {
			t.Fatalf("cut to %d of %d bytes, decoded", n, len(b))
		} else if n == len(b)-1 {
			t.Logf("cut short: %v", err)
		}
	}
	// A flipped bit is an error, or changes nothing (a bit gzip and
	// deflate ignore, as the header's time): never other records.
	want := truncated(recs[:300])
	for i := range len(b) * 8 {
		c := slices.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		got, gotVersions, err := Decode(c)
		if err == nil && (!slices.Equal(got, want) || !maps.Equal(gotVersions, versions)) {
			t.Fatalf("bit %d flipped: decoded to other records", i)
		}
	}
}

// randomRecords are n records of anything a Record may hold, wild or
// realistic.
func randomRecords(seed uint64, n int, wild bool) ([]load.Record, map[int32]string) {
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	texts := []string{"", "", "", "EOF", "503 Service Unavailable", "\xff\xfe not UTF-8", string(make([]byte, 300))}
	pids := []int32{0, 1, 4242, math.MaxInt32, math.MinInt32, int32(rng.Uint32())}
	recs := make([]load.Record, n)
	for i := range recs {
		r := &recs[i]
		if wild {
			r.Scheduled, r.Sent, r.Latency = time.Duration(rng.Uint64()), time.Duration(rng.Uint64()), time.Duration(rng.Uint64())
		} else {
			r.Scheduled = load.At(1+int(seed%5000), i) + time.Duration(rng.Int64N(3e6)-1e6)
			r.Sent = r.Scheduled + time.Duration(rng.Int64N(5e6))
			r.Latency = time.Duration(rng.Int64N(1e10))
		}
		r.PID = pids[rng.IntN(len(pids))]
		r.Code = uint16(rng.Uint32())
		r.Class = load.Class(rng.Uint32())
		r.Flags = load.Flags(rng.Uint32())
		r.Err = texts[rng.IntN(len(texts))]
	}
	versions := map[int32]string{}
	for _, p := range pids[:rng.IntN(len(pids)+1)] {
		versions[p] = texts[rng.IntN(len(texts))]
	}
	return recs, versions
}

func TestRoundTrip(t *testing.T) {
	for seed := range uint64(50) {
		recs, versions := randomRecords(seed, int(seed*37%1000), seed%2 == 0)
		roundTrip(t, recs, versions)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint16(100), false)
	f.Add(uint64(2), uint16(100), true)
	f.Add(uint64(3), uint16(0), true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, wild bool) {
		recs, versions := randomRecords(seed, int(n%4000), wild)
		roundTrip(t, recs, versions)
	})
}

// FuzzDecode: any input decodes or is an error, never a panic; what
// decodes encodes back to the same records. Each input is also tried as
// the inflated data, which gzip's checksum would otherwise keep the
// fuzzer from reaching.
func FuzzDecode(f *testing.F) {
	recs, versions := realistic()
	for _, n := range []int{0, 1, 50} {
		b, err := Encode(recs[:n], versions)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{format, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		decode(t, b)
		var z bytes.Buffer
		z.WriteByte(format)
		w := gzip.NewWriter(&z)
		w.Write(b)
		w.Close()
		decode(t, z.Bytes())
	})
}

func decode(t *testing.T, b []byte) {
	got, gotVersions, err := Decode(b)
	if err != nil {
		return
	}
	again, err := Encode(got, gotVersions)
	if err != nil {
		t.Fatal(err)
	}
	got2, gotVersions2, err := Decode(again)
	if err != nil || !slices.Equal(got, got2) || !maps.Equal(gotVersions, gotVersions2) {
		t.Fatalf("decoded records do not round-trip: %v", err)
	}
}

func BenchmarkEncode(b *testing.B) {
	recs, versions := realistic()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(recs, versions); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func BenchmarkDecode(b *testing.B) {
	recs, versions := realistic()
	enc, err := Encode(recs, versions)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
