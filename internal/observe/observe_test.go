package observe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// Listener reads a socket's flags from /proc. It also shows what grace's
// hand-over does to the parent: File() duplicates the listener, and Fd()
// on the duplicate (os.StartProcess calls it) makes the shared open file
// blocking, for the original descriptor too.
func TestListenerShowsBlockingAfterFd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if got := Listener(os.Getpid(), port); !strings.Contains(got, "(non-blocking)") {
		t.Fatalf("fresh listener: %q, want non-blocking", got)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd()
	got := Listener(os.Getpid(), port)
	if strings.Count(got, "(blocking)") != 2 || strings.Contains(got, "non-blocking") {
		t.Fatalf("after File().Fd(): %q, want both descriptors blocking", got)
	}
}

func TestWaitsListsThreads(t *testing.T) {
	if w := Waits(os.Getpid()); !strings.Contains(w, "×") {
		t.Fatalf("waits of this process: %q", w)
	}
	if w := Waits(1 << 30); w != "" {
		t.Fatalf("waits of no process: %q", w)
	}
}

// A server that names no PID is found by who holds the probe's other end:
// this process here, and no one among processes that do not hold it.
func TestServingFindsTheAccepterWithoutAHeader(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	pid, _, err := Serving(ctx, addr, "/ready", []int{os.Getppid(), os.Getpid()})
	if err != nil || pid != os.Getpid() {
		t.Fatalf("Serving = %d, %v; want this process, %d", pid, err, os.Getpid())
	}
	if pid, _, err := Serving(ctx, addr, "/ready", []int{os.Getppid()}); err != nil || pid != 0 {
		t.Fatalf("among processes that do not hold it: %d, %v; want 0", pid, err)
	}
	if _, _, err := Serving(ctx, addr, "/missing", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a 404 health check: %v", err)
	}
}
