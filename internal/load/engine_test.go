package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/servers/sample"
)

// engines are the engines every behaviour test runs against.
func engines() []Client {
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		return []Client{EventLoop, Goroutines}
	}
	return []Client{Goroutines}
}

// forEach runs f for every engine, in parallel, and returns when all are
// done.
func forEach(t *testing.T, f func(t *testing.T, c Client)) {
	t.Run("engines", func(t *testing.T) {
		for _, c := range engines() {
			t.Run(c.String(), func(t *testing.T) {
				t.Parallel()
				f(t, c)
			})
		}
	})
}

// counting wraps a server's handler and counts its TCP connections.
func counting(h http.Handler) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	return srv, &n
}

func run(t *testing.T, cfg Config) (*Run, []Record) {
	t.Helper()
	r := Start(context.Background(), cfg)
	if cfg.Client != Auto && cfg.Client != r.Client() {
		t.Fatalf("asked for engine %v, got %v", cfg.Client, r.Client())
	}
	return r, r.Wait()
}

func TestSchedulePIDAndKeepAlive(t *testing.T) {
	forEach(t, func(t *testing.T, c Client) {
		srv, conns := counting(sample.Handler())
		defer srv.Close()
		r, recs := run(t, Config{URL: srv.URL + "/", Rate: 400, Duration: time.Second, KeepAlive: true, Timeout: 5 * time.Second, Client: c})
		if len(recs) != 400 {
			t.Fatalf("%d records, want 400", len(recs))
		}
		for i, rec := range recs {
			if want := time.Duration(i) * 2500 * time.Microsecond; rec.Scheduled != want {
				t.Fatalf("record %d scheduled at %v, want %v", i, rec.Scheduled, want)
			}
			if rec.Class != OK || rec.Code != 200 || rec.Err != "" {
				t.Fatalf("record %d: %+v", i, rec)
			}
			if rec.PID != int32(os.Getpid()) {
				t.Fatalf("record %d: PID %d, want %d (from %s)", i, rec.PID, os.Getpid(), protocol.HeaderPID)
			}
			if rec.Sent < rec.Scheduled || rec.Latency < rec.Sent-rec.Scheduled || rec.Latency <= 0 {
				t.Fatalf("record %d: times out of order: %+v", i, rec)
			}
		}
		if n := conns.Load(); n > 20 {
			t.Errorf("keep-alive load of 400 requests opened %d connections", n)
		}
		if p := r.Progress(); p.Done != 400 || p.Failed != 0 {
			t.Errorf("progress %+v", p)
		}
	})
}

func TestNoKeepAliveOpensAConnectionPerRequest(t *testing.T) {
	forEach(t, func(t *testing.T, c Client) {
		srv, conns := counting(sample.Handler())
		defer srv.Close()
		_, recs := run(t, Config{URL: srv.URL + "/", Rate: 200, Duration: time.Second, KeepAlive: false, Timeout: 5 * time.Second, Client: c})
		if len(recs) != 200 {
			t.Fatalf("%d records, want 200", len(recs))
		}
		for i, rec := range recs {
			if rec.Class != OK || !rec.Flags.Has(Dialed) {
				t.Fatalf("record %d: %+v", i, rec)
			}
		}
		if n := conns.Load(); n != 200 {
			t.Fatalf("%d connections for 200 requests without keep-alive", n)
		}
	})
}

// TestLatencyCountsFromTheSchedule is the coordinated-omission check. The
// server blocks every request from 300 ms to 800 ms into the load. A
// request scheduled 100 ms into the stall must show about 400 ms, measured
// from its scheduled time. With one connection only (MaxConns 1) the
// requests of the stall cannot even go out until it ends: they are sent
// late, and the delay must still count.
func TestLatencyCountsFromTheSchedule(t *testing.T) {
	const (
		stallFrom = 300 * time.Millisecond
		stallTo   = 800 * time.Millisecond
	)
	for _, maxConns := range []int{0, 1} {
		forEach(t, func(t *testing.T, c Client) {
			var began atomic.Pointer[time.Time]
			h := sample.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if b := began.Load(); b != nil {
					if since := time.Since(*b); since >= stallFrom && since < stallTo {
						time.Sleep(stallTo - since)
					}
				}
				h.ServeHTTP(w, req)
			}))
			defer srv.Close()
			r := Start(context.Background(), Config{URL: srv.URL + "/", Rate: 200, Duration: 1200 * time.Millisecond,
				KeepAlive: true, Timeout: 5 * time.Second, Conns: 1, MaxConns: maxConns, Client: c})
			b := r.Began
			began.Store(&b)
			recs := r.Wait()
			if len(recs) != 240 {
				t.Fatalf("max conns %d: %d records, want 240", maxConns, len(recs))
			}
			for _, rec := range recs {
				if rec.Class != OK {
					t.Fatalf("max conns %d: %+v", maxConns, rec)
				}
				// Requests scheduled 50..450 ms into the stall (the
				// first few ms of it may race the handler's clock).
				if rec.Scheduled < stallFrom+50*time.Millisecond || rec.Scheduled >= stallTo-50*time.Millisecond {
					continue
				}
				stallLeft := stallTo - rec.Scheduled
				if rec.Latency < stallLeft-5*time.Millisecond {
					t.Fatalf("max conns %d: request scheduled at %v during the stall shows latency %v, want at least %v (from its scheduled time); sent at %v",
						maxConns, rec.Scheduled, rec.Latency, stallLeft, rec.Sent)
				}
				lag := rec.Sent - rec.Scheduled
				if maxConns == 1 && lag < stallLeft-20*time.Millisecond {
					t.Fatalf("one connection: request scheduled at %v went out at %v, during the stall", rec.Scheduled, rec.Sent)
				}
				if maxConns == 0 && lag > slack+40*time.Millisecond {
					t.Errorf("open loop: request scheduled at %v went out %v late; a stall must delay sending by no more than the %v it waits for a free connection", rec.Scheduled, lag, slack)
				}
			}
			if maxConns == 0 {
				if p := r.Progress(); p.Peak < 50 {
					t.Errorf("open loop through a 500 ms stall at 200/s needs about 100 connections; peak %d", p.Peak)
				}
			}
		})
	}
}

func TestFailureClasses(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + ln.Addr().String() + "/"
	ln.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	})
	hijack := func(f func(c net.Conn)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			f(c)
		}
	}
	mux.HandleFunc("/reset", hijack(func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}))
	mux.HandleFunc("/eof", hijack(func(c net.Conn) { c.Close() }))
	mux.HandleFunc("/cut", hijack(func(c net.Conn) {
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
		c.Close()
	}))
	mux.HandleFunc("/garbage", hijack(func(c net.Conn) {
		c.Write([]byte("SSH-2.0-OpenSSH\r\n\r\n"))
		c.Close()
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cases := []struct {
		url  string
		want Class
		err  string
		// what the request got to: written, and answered in part
		flags Flags
	}{
		{refusedURL, Refused, "connection refused", 0},
		{srv.URL + "/503", HTTP5xx, "503 Service Unavailable", Written | Responded},
		{srv.URL + "/404", HTTPOther, "404 Not Found", Written | Responded},
		{srv.URL + "/slow", Timeout, "timeout", Written},
		{srv.URL + "/reset", Reset, "connection reset", Written},
		{srv.URL + "/eof", EOF, "EOF", Written},
		{srv.URL + "/cut", EOF, "unexpected EOF", Written | Responded},
		{srv.URL + "/garbage", Other, "malformed HTTP response", Written | Responded},
	}
	forEach(t, func(t *testing.T, c Client) {
		for _, tc := range cases {
			for _, keep := range []bool{true, false} {
				r, recs := run(t, Config{URL: tc.url, Rate: 20, Duration: 250 * time.Millisecond, KeepAlive: keep, Timeout: 200 * time.Millisecond, Client: c})
				if len(recs) != 5 {
					t.Fatalf("%s: %d records, want 5", tc.url, len(recs))
				}
				for _, rec := range recs {
					if rec.Class != tc.want || !strings.Contains(rec.Err, tc.err) {
						t.Errorf("%s keep-alive %v: class %v err %q, want %v with %q", tc.url, keep, rec.Class, rec.Err, tc.want, tc.err)
						break
					}
					if got := rec.Flags & (Written | Responded); got != tc.flags || !keep && !rec.Flags.Has(Dialed) {
						t.Errorf("%s keep-alive %v: flags %b, want %b (and Dialed without keep-alive)", tc.url, keep, rec.Flags, tc.flags)
						break
					}
				}
				if p := r.Progress(); p.Failed != 5 {
					t.Errorf("%s: progress counts %d failed, want 5", tc.url, p.Failed)
				}
				if tc.want == Timeout {
					for _, rec := range recs {
						if rec.Latency < 200*time.Millisecond || rec.Latency > 400*time.Millisecond {
							t.Errorf("timeout after %v, want about 200ms", rec.Latency)
						}
					}
				}
			}
		}
	})
}

// TestRetryOnClosedIdleConnection: a server that closes every kept
// connection right after its response (without saying so) makes the next
// request on it fail before any byte arrives; as net/http does, the engine
// sends it again on a new connection, and says so.
func TestRetryOnClosedIdleConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Gracelab-Pid: 42\r\n\r\nok")
		buf.Flush()
		time.Sleep(time.Millisecond)
		c.Close()
	}))
	defer srv.Close()
	forEach(t, func(t *testing.T, c Client) {
		_, recs := run(t, Config{URL: srv.URL + "/", Rate: 50, Duration: time.Second, KeepAlive: true, Timeout: time.Second, Conns: 1, MaxConns: 1, Client: c})
		if len(recs) != 50 {
			t.Fatalf("%d records", len(recs))
		}
		retried, dialed := 0, 0
		for _, rec := range recs {
			if rec.Class != OK || rec.PID != 42 {
				t.Fatalf("a request on a connection the server closed while idle failed: %+v", rec)
			}
			if rec.Flags.Has(Retried) {
				retried++
			}
			if rec.Flags.Has(Dialed) {
				dialed++
			}
		}
		// The event loop mostly sees the close while the connection is
		// idle and drops it (as net/http's idle pool does); the goroutine
		// engine only finds out when it sends, and retries.
		t.Logf("%d retried, %d on a new connection", retried, dialed)
		if dialed < 45 {
			t.Errorf("only %d of 50 requests went on a new connection", dialed)
		}
	})
}

func TestBodies(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderPID, "7")
		w.Write([]byte(big))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderPID, "7")
		for range 5 {
			w.Write([]byte(big[:3000]))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderPID, "7")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/http10", func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Write([]byte("HTTP/1.0 200 OK\r\nX-Gracelab-Pid: 7\r\n\r\nbody until close"))
		c.Close()
	})
	mux.HandleFunc("/continue", func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /\r\nX-Gracelab-Pid: 7\r\nContent-Length: 0\r\n\r\n"))
		c.Close()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	forEach(t, func(t *testing.T, c Client) {
		for _, path := range []string{"/big", "/chunked", "/204", "/http10", "/continue"} {
			_, recs := run(t, Config{URL: srv.URL + path, Rate: 50, Duration: 200 * time.Millisecond, KeepAlive: true, Timeout: time.Second, Client: c})
			if len(recs) != 10 {
				t.Fatalf("%s: %d records", path, len(recs))
			}
			for _, rec := range recs {
				if rec.Class != OK || rec.PID != 7 {
					t.Fatalf("%s: %+v", path, rec)
				}
			}
		}
	})
}

func TestStopEndsTheLoad(t *testing.T) {
	forEach(t, func(t *testing.T, c Client) {
		srv := httptest.NewServer(sample.Handler())
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		r := Start(ctx, Config{URL: srv.URL + "/", Rate: 1000, Duration: time.Minute, KeepAlive: true, Timeout: time.Second, Client: c})
		time.Sleep(300 * time.Millisecond)
		cancel()
		select {
		case <-r.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("load did not end after its context was cancelled")
		}
		recs := r.Wait()
		if len(recs) < 100 || len(recs) > 2000 {
			t.Fatalf("%d records after 300 ms at 1000/s", len(recs))
		}
		for i, rec := range recs {
			k := int(rec.Scheduled / time.Millisecond)
			if rec.Class != OK || rec.Scheduled != At(1000, k) || i > 0 && rec.Scheduled <= recs[i-1].Scheduled {
				t.Fatalf("record %d after stop: %+v", i, rec)
			}
		}
	})
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1:1/", "http://", "::"} {
		_, recs := run(t, Config{URL: u, Rate: 10, Duration: 200 * time.Millisecond, Timeout: time.Second})
		if len(recs) != 2 {
			t.Fatalf("%s: %d records", u, len(recs))
		}
		for _, rec := range recs {
			if rec.Class == OK || rec.Err == "" {
				t.Fatalf("%s: %+v", u, rec)
			}
		}
	}
}

func TestVegetaStillWorks(t *testing.T) {
	srv := httptest.NewServer(sample.Handler())
	defer srv.Close()
	_, recs := run(t, Config{URL: srv.URL + "/", Rate: 100, Duration: 500 * time.Millisecond, KeepAlive: true, Timeout: time.Second, Client: Vegeta})
	// vegeta stops at the end of the duration, sent or not: on a busy
	// machine a few requests may be missing.
	if len(recs) < 40 || len(recs) > 50 {
		t.Fatalf("%d records", len(recs))
	}
	for _, rec := range recs {
		if rec.Class != OK || rec.PID != int32(os.Getpid()) {
			t.Fatalf("%+v", rec)
		}
	}
}

func TestParserAtEveryBoundary(t *testing.T) {
	responses := []struct {
		raw  string
		code int
		pid  int32
		keep bool
	}{
		{"HTTP/1.1 200 OK\r\nX-Gracelab-Pid: 123\r\nContent-Length: 5\r\n\r\nhello", 200, 123, true},
		{"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nx-gracelab-pid: 9\r\ncontent-length: 0\r\n\r\n", 503, 9, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n", 200, 0, true},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, 0, false},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, 0, true},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\n\n", 204, 0, true},
	}
	for _, resp := range responses {
		for split := 0; split <= len(resp.raw); split++ {
			var p parser
			var b rbuf
			for _, part := range []string{resp.raw[:split], resp.raw[split:]} {
				space, err := b.space()
				if err != nil {
					t.Fatal(err)
				}
				b.w += copy(space, part)
				if err := b.parse(&p); err != nil {
					t.Fatalf("%q split at %d: %v", resp.raw, split, err)
				}
			}
			if p.state != stDone || p.code != resp.code || p.pid != resp.pid || p.keep != resp.keep {
				t.Fatalf("%q split at %d: state %d code %d pid %d keep %v", resp.raw, split, p.state, p.code, p.pid, p.keep)
			}
		}
	}
	for _, bad := range []string{"HTTP/2 200\r\n", "HTTP/1.1 2x0 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"} {
		var p parser
		if _, err := p.feed([]byte(bad)); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}

func TestRecordIsCompact(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("sizes are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Record{}); got != 48 {
		t.Fatalf("Record is %d bytes, want 48", got)
	}
}

// TestMemoryOfAMillionRecords records 1e6 requests through the engine's
// recording path, one in a hundred a failure with one of a few error
// texts, and bounds the heap they hold: 48 bytes a record, nothing per
// failure but the interned texts.
func TestMemoryOfAMillionRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 48 MB")
	}
	const n = 1_000_000
	perRecord := recordMillion(t, n)
	t.Logf("1e6 records hold %.1f MB: %.1f bytes a record", perRecord*n/1e6, perRecord)
	if perRecord > 50 {
		t.Fatalf("%.1f bytes a record, want at most 50", perRecord)
	}
}

func recordMillion(t testing.TB, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := &Run{cfg: Config{URL: "http://127.0.0.1:18080/", Rate: 100000}, total: int64(n)}
	r.recs = make([]Record, n)
	errs := []error{
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", fmt.Errorf("connection refused"))},
		fmt.Errorf("EOF"),
	}
	for i := range n {
		res := result{code: 200, pid: 4242}
		if i%100 == 0 {
			res = result{err: errs[i/100%len(errs)]}
		}
		sched := At(r.cfg.Rate, i)
		r.record(int64(i), sched, sched+time.Microsecond, sched+300*time.Microsecond, &res)
	}
	r.next.Store(int64(n))
	recs := r.finish()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(recs) != n || recs[0].Class != Refused || recs[100].Class != EOF || recs[100].Err == "" || recs[1].Class != OK {
		t.Fatalf("recorded wrong: %d records, %+v, %+v, %+v", len(recs), recs[0], recs[100], recs[1])
	}
	runtime.KeepAlive(recs)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// A server that goes away (connections closed, then refused) must not
// hold the schedule up: with keep-alive every request then needs a new
// connection, and each one still goes out on time and fails.
func TestServerGoneKeepsTheSchedule(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sample.Handler()}
	go srv.Serve(ln)
	time.AfterFunc(300*time.Millisecond, func() { srv.Close() })
	r := Start(context.Background(), Config{URL: "http://" + ln.Addr().String() + "/", Rate: 1000, Duration: 3 * time.Second, KeepAlive: true, Timeout: time.Second})
	recs := r.Wait()
	if len(recs) != 3000 {
		t.Fatalf("%d requests recorded, want 3000", len(recs))
	}
	var lags []time.Duration
	refused := 0
	for _, rc := range recs {
		if rc.Class == Refused {
			refused++
		}
		lags = append(lags, rc.Sent-rc.Scheduled)
	}
	if refused < 2000 {
		t.Fatalf("only %d of 3000 requests refused after the server went away", refused)
	}
	slices.Sort(lags)
	// Generous: before refused dials gave their growth back, this was
	// hundreds of milliseconds.
	if p99 := lags[len(lags)*99/100]; p99 > 100*time.Millisecond {
		t.Fatalf("send lag p99 %v after the server went away: the schedule was held up", p99)
	}
}
