package main

import (
	"net"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStoreMessage(t *testing.T) {
	msg, oob := storeMessage("http", 7)
	if string(msg) != "FDSTORE=1\nFDNAME=http" {
		t.Errorf("text %q", msg)
	}
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(cms) != 1 {
		t.Fatalf("control messages %v, %v", cms, err)
	}
	fds, err := unix.ParseUnixRights(&cms[0])
	if err != nil || len(fds) != 1 || fds[0] != 7 {
		t.Errorf("rights %v, %v; want [7]", fds, err)
	}
}

// TestStoreListener receives what storeListener sends, as systemd would,
// and checks the fd that arrives is the listening socket.
func TestStoreListener(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	recv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ok, err := storeListener(ln, "http"); !ok || err != nil {
		t.Fatalf("storeListener: %v, %v", ok, err)
	}
	buf, oob := make([]byte, 256), make([]byte, 64)
	n, oobn, _, _, err := recv.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "FDSTORE=1\nFDNAME=http" {
		t.Errorf("received %q", got)
	}
	cms, _ := unix.ParseSocketControlMessage(oob[:oobn])
	if len(cms) != 1 {
		t.Fatalf("%d control messages, want 1", len(cms))
	}
	fds, err := unix.ParseUnixRights(&cms[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v, %v", fds, err)
	}
	defer unix.Close(fds[0])
	sa, err := unix.Getsockname(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	if port := sa.(*unix.SockaddrInet4).Port; port != ln.Addr().(*net.TCPAddr).Port {
		t.Errorf("received a socket on port %d, the listener is on %d", port, ln.Addr().(*net.TCPAddr).Port)
	}
}

func TestStoreListenerNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ok, err := storeListener(ln, "http"); ok || err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v, %v; want false, nil", ok, err)
	}
}
