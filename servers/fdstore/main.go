// Command fdstore is plain net/http that keeps its listening socket in
// systemd's file descriptor store (FileDescriptorStoreMax=): the first
// start listens and hands the socket to systemd with FDSTORE=1; a later
// start (systemctl restart) gets it back in LISTEN_FDS, so the kernel
// queues connections while no process runs, as long as systemd keeps the
// store across the restart.
package main

import (
	"fmt"
	"net"
	"os"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/gracelab/gracelab/servers/sample"
)

// fdName names the socket in the store (FDNAME=, LISTEN_FDNAMES=).
const fdName = "http"

func main() {
	f := sample.ParseFlags()
	ln, err := listener(f.Listen)
	if err != nil {
		sample.Fatal("fdstore: %v", err)
	}
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("fdstore: write pid file: %v", err)
	}
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		fmt.Fprintf(os.Stderr, "fdstore: sd_notify: %v\n", err)
	}
	if err := sample.ServeUntilSignal(sample.Server(""), ln); err != nil {
		sample.Fatal("fdstore: %v", err)
	}
}

// listener returns the socket systemd kept, or a new one it then stores.
// Each path says which in the journal: that line is what tells whether
// the store survived the restart.
func listener(addr string) (net.Listener, error) {
	named, err := activation.ListenersWithNames()
	if err != nil {
		return nil, fmt.Errorf("listeners from systemd: %w", err)
	}
	if ls := named[fdName]; len(ls) > 0 && ls[0] != nil {
		fmt.Fprintf(os.Stderr, "fdstore: PID %d serves on the socket systemd kept in its fd store\n", os.Getpid())
		return ls[0], nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	stored, err := storeListener(ln.(*net.TCPListener), fdName)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "fdstore: PID %d could not store its socket with systemd (a restart will drop connections): %v\n", os.Getpid(), err)
	case !stored:
		fmt.Fprintf(os.Stderr, "fdstore: PID %d has no NOTIFY_SOCKET; socket not stored\n", os.Getpid())
	default:
		fmt.Fprintf(os.Stderr, "fdstore: PID %d listens on a new socket and stored it with systemd\n", os.Getpid())
	}
	return ln, nil
}
