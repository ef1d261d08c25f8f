// Command socket is plain net/http that takes its listener from a systemd
// .socket unit: while the service restarts, the kernel keeps the socket
// and queues new connections instead of refusing them.
package main

import (
	"github.com/coreos/go-systemd/v22/activation"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	ls, err := activation.Listeners()
	if err != nil || len(ls) == 0 {
		sample.Fatal("socket: no listener from systemd (run me from a .socket unit): %v", err)
	}
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("socket: write pid file: %v", err)
	}
	if err := sample.ServeUntilSignal(sample.Server(""), ls[0]); err != nil {
		sample.Fatal("socket: %v", err)
	}
}
