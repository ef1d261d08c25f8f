// Command starter is a worker for lestrrat-go/server-starter: start_server
// owns the listening socket and passes it in SERVER_STARTER_PORT; on SIGHUP
// it starts a new worker and sends the old one SIGTERM.
package main

import (
	"github.com/lestrrat-go/server-starter/listener"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	ls, err := listener.ListenAll()
	if err != nil || len(ls) == 0 {
		sample.Fatal("starter: no listener from start_server (run me under start_server): %v", err)
	}
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("starter: write pid file: %v", err)
	}
	if err := sample.ServeUntilSignal(sample.Server(""), ls[0]); err != nil {
		sample.Fatal("starter: %v", err)
	}
}
