package load

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
)

func TestRequestBytes(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"get keep-alive", Config{URL: "http://127.0.0.1:18080/a?b=1", KeepAlive: true},
			"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: gracelab\r\n\r\n"},
		{"get new-conn", Config{URL: "http://127.0.0.1:18080/"},
			"GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: gracelab\r\nConnection: close\r\n\r\n"},
		{"post", Config{URL: "http://127.0.0.1:18080/", KeepAlive: true, Method: "POST"},
			"POST / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: gracelab\r\nContent-Length: 28\r\n" +
				"Content-Type: application/x-www-form-urlencoded\r\n\r\nevent=reload&source=gracelab"},
	}
	for _, c := range cases {
		tg := newTarget(c.cfg)
		if tg.err != nil || string(tg.req) != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, tg.req, tg.err, c.want)
		}
	}
	if len(PostBody) != 28 {
		t.Errorf("PostBody is %d bytes; the case above says 28", len(PostBody))
	}
	if tg := newTarget(Config{URL: "http://127.0.0.1:1/", Method: "PUT"}); tg.err == nil {
		t.Error("PUT was accepted; the engines send GET or POST only")
	}
}

// TestRetryRule is net/http's rule, case by case (see retryable).
func TestRetryRule(t *testing.T) {
	eof, reset := io.EOF, error(syscall.ECONNRESET)
	get, post := &target{}, &target{post: true}
	cases := []struct {
		name                   string
		t                      *target
		reused, wrote, gotByte bool
		attempt                int
		err                    error
		want                   bool
	}{
		{"get on a reused connection, closed before a response byte", get, true, true, false, 0, eof, true},
		{"get reset before a response byte", get, true, true, false, 0, reset, true},
		{"get cut after a response byte", get, true, true, true, 0, eof, false},
		{"get on a fresh connection", get, false, true, false, 0, eof, false},
		{"get a second time", get, true, true, false, 1, eof, false},
		{"get out of time", get, true, true, false, 0, os.ErrDeadlineExceeded, false},
		{"post written, closed before a response byte", post, true, true, false, 0, eof, false},
		{"post written, reset before a response byte", post, true, true, false, 0, reset, false},
		{"post of which nothing was written", post, true, false, false, 0, syscall.EPIPE, true},
		{"post of which nothing was written, fresh connection", post, false, false, false, 0, syscall.EPIPE, false},
	}
	for _, c := range cases {
		if got := c.t.retryable(c.reused, c.wrote, c.gotByte, c.attempt, c.err); got != c.want {
			t.Errorf("%s: retryable %v, want %v", c.name, got, c.want)
		}
	}
}

// secondCloses is a server that answers the first request on each
// connection (a POST only when its whole body arrived) and closes the
// connection, without a byte of answer, when a second request comes on it:
// the request after a keep-alive close the client could not see coming.
func secondCloses(t *testing.T) *httptest.Server {
	type key struct{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(key{}).(*atomic.Int32).Add(1) > 1 {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		if r.Method == "POST" {
			b, err := io.ReadAll(r.Body)
			if err != nil || string(b) != PostBody {
				http.Error(w, "body "+string(b), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set(protocol.HeaderPID, "42")
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, key{}, new(atomic.Int32))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestPostIsNotSentAgain: on a connection the server closes after reading
// the request, a GET goes again on a new connection and succeeds, a POST
// fails, as with net/http.
func TestPostIsNotSentAgain(t *testing.T) {
	srv := secondCloses(t)
	forEach(t, func(t *testing.T, c Client) {
		for _, method := range []string{"GET", "POST"} {
			_, recs := run(t, Config{URL: srv.URL + "/", Method: method, Rate: 50, Duration: time.Second, KeepAlive: true,
				Timeout: time.Second, Conns: 1, MaxConns: 1, Client: c})
			ok, failed, retried := 0, 0, 0
			for _, rec := range recs {
				switch {
				case rec.Class == OK && rec.PID == 42:
					ok++
				case rec.Class == EOF || rec.Class == Reset:
					failed++
				default:
					t.Fatalf("%s: %+v", method, rec)
				}
				if rec.Flags.Has(Retried) {
					retried++
				}
			}
			t.Logf("%s: %d ok, %d failed, %d retried", method, ok, failed, retried)
			switch {
			case len(recs) != 50:
				t.Errorf("%s: %d records", method, len(recs))
			case method == "GET" && (failed > 0 || retried < 40):
				t.Errorf("GET: %d failed, %d retried; want every second request on a connection retried, none failed", failed, retried)
			case method == "POST" && (retried > 0 || failed < 20):
				t.Errorf("POST: %d failed, %d retried; want every second request on a connection failed, none retried", failed, retried)
			}
		}
	})
}

// TestGoClientRetriesAndSaysSo: net/http's Transport sends a GET again
// when its kept connection is closed on it; GotConn counts the attempts.
func TestGoClientRetriesAndSaysSo(t *testing.T) {
	srv := secondCloses(t)
	_, recs := run(t, Config{URL: srv.URL + "/", Rate: 50, Duration: time.Second, KeepAlive: true, Timeout: time.Second, Client: NetHTTP})
	if len(recs) != 50 {
		t.Fatalf("%d records", len(recs))
	}
	retried, dialed := 0, 0
	for i, rec := range recs {
		if rec.Class != OK || rec.PID != 42 || rec.Code != 200 {
			t.Fatalf("request %d: %+v", i, rec)
		}
		if rec.Flags.Has(Retried) {
			retried++
		}
		if rec.Flags.Has(Dialed) {
			dialed++
		}
		if rec.Scheduled != At(50, i) || rec.Sent < rec.Scheduled || rec.Latency <= 0 {
			t.Fatalf("request %d off its schedule: %+v", i, rec)
		}
	}
	t.Logf("%d retried, %d dialed", retried, dialed)
	if retried < 40 || dialed < retried {
		t.Errorf("%d of 50 retried, %d dialed; want nearly every request after the first retried on a new connection", retried, dialed)
	}
}

// TestGoClientSeesFailures: what the Transport does not retry reaches the
// record as load.Classify names it, with net/http's error text.
func TestGoClientSeesFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: refused
	_, recs := run(t, Config{URL: "http://" + addr + "/", Rate: 100, Duration: 100 * time.Millisecond, KeepAlive: true, Timeout: time.Second, Client: NetHTTP})
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	for _, rec := range recs {
		if rec.Class != Refused || !rec.Flags.Has(Dialed) || rec.Flags.Has(Retried) {
			t.Fatalf("%+v", rec)
		}
		var want = `Get "http://` + addr + `/": dial tcp ` + addr + `: connect: connection refused`
		if rec.Err != want {
			t.Fatalf("error %q, want %q", rec.Err, want)
		}
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer slow.Close()
	_, recs = run(t, Config{URL: slow.URL + "/", Rate: 10, Duration: 200 * time.Millisecond, KeepAlive: true, Timeout: 100 * time.Millisecond, Client: NetHTTP})
	for _, rec := range recs {
		if rec.Class != Timeout {
			t.Fatalf("%+v", rec)
		}
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
}

// TestGoClientStops: Stop ends the schedule; requests in flight end.
func TestGoClientStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := Start(context.Background(), Config{URL: srv.URL + "/", Rate: 100, Duration: time.Hour, KeepAlive: true, Timeout: time.Second, Client: NetHTTP})
	time.Sleep(200 * time.Millisecond)
	r.Stop()
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the load did not end after Stop")
	}
	if n := len(r.Wait()); n < 5 || n > 40 {
		t.Errorf("%d records after 200 ms at 100/s", n)
	}
}
