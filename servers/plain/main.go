// Command plain is the baseline: net/http with a graceful Shutdown on
// SIGTERM and no way to hand its socket over, so a restart must lose requests.
package main

import (
	"net"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("plain: write pid file: %v", err)
	}
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		sample.Fatal("plain: %v", err)
	}
	if err := sample.ServeUntilSignal(sample.Server(f.Listen), ln); err != nil {
		sample.Fatal("plain: %v", err)
	}
}
