package load

// Benchmarks of the hot paths. CI runs them briefly so they cannot rot:
//
//	go test -run '^$' -bench . -benchtime 100x ./internal/load ./internal/analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gracelab/gracelab/servers/sample"
)

// BenchmarkRecord is the engine's per-request bookkeeping: classify, fill
// the record in its slot, count.
func BenchmarkRecord(b *testing.B) {
	r := &Run{cfg: Config{URL: "http://127.0.0.1:18080/", Rate: 100000}}
	r.recs = make([]Record, 1<<16)
	ok := result{code: 200, pid: 4242}
	fail := result{err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	b.Run("ok", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			j := int64(i & (1<<16 - 1))
			s := At(r.cfg.Rate, int(j))
			r.record(j, s, s+time.Microsecond, s+300*time.Microsecond, &ok)
		}
	})
	b.Run("failed", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			j := int64(i & (1<<16 - 1))
			s := At(r.cfg.Rate, int(j))
			r.record(j, s, s+time.Microsecond, s+300*time.Microsecond, &fail)
		}
	})
}

// BenchmarkRecordMillion records 1e6 requests once and reports what the
// records hold, in bytes a record; the timed part is recording b.N more.
func BenchmarkRecordMillion(b *testing.B) {
	per := recordMillion(b, 1_000_000)
	r := &Run{cfg: Config{URL: "http://127.0.0.1:18080/", Rate: 100000}}
	r.recs = make([]Record, b.N)
	ok := result{code: 200, pid: 4242}
	b.ResetTimer()
	for i := range b.N {
		s := At(r.cfg.Rate, i)
		r.record(int64(i), s, s, s+300*time.Microsecond, &ok)
	}
	b.ReportMetric(per, "B/record")
}

func BenchmarkClassify(b *testing.B) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		code int
		err  error
		text string
	}{
		{"ok", 200, nil, ""},
		{"5xx", 503, nil, "503 Service Unavailable"},
		{"refused", 0, refused, ""},
		{"eof", 0, io.EOF, ""},
		{"text", 0, nil, `Get "http://127.0.0.1:18080/": read tcp 127.0.0.1:5->127.0.0.1:18080: read: connection reset by peer`},
		{"other", 0, errors.New("something odd"), ""},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				Classify(c.code, c.err, c.text)
			}
		})
	}
}

// BenchmarkParse is reading one response of servers/plain.
func BenchmarkParse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nX-Gracelab-Pid: 31337\r\nX-Gracelab-Version: dev\r\nDate: Wed, 25 Nov 2026 08:00:00 GMT\r\n" +
		"Content-Length: 27\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npid=31337 version=dev\n\n\n\n\n\n")
	var p parser
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for range b.N {
		p.reset()
		if _, err := p.feed(resp); err != nil || p.state != stDone || p.pid != 31337 {
			b.Fatalf("%v %+v", err, p)
		}
	}
}

// BenchmarkRoundTrip is a request through each engine against an
// httptest server (client and server in one process): b.N requests all
// due at once, so it measures throughput, CPU per request with the
// server's share included.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(sample.Handler())
	defer srv.Close()
	for _, c := range engines() {
		b.Run(c.String(), func(b *testing.B) {
			b.ReportAllocs()
			r := Start(context.Background(), Config{URL: srv.URL + "/", Rate: 1e9, Duration: time.Duration(b.N), KeepAlive: true,
				Timeout: 5 * time.Second, Conns: 8, MaxConns: 8, Client: c})
			recs := r.Wait()
			for _, rec := range recs {
				if rec.Class != OK {
					b.Fatal(fmt.Sprint(rec))
				}
			}
			if len(recs) != b.N {
				b.Fatalf("%d records for %d requests", len(recs), b.N)
			}
		})
	}
}
