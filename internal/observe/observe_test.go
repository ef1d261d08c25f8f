package observe

import (
	"net"
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
