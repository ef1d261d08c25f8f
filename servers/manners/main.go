// Command manners is a start_server worker that serves through
// braintree/manners, as the 2015 comparison of graceful-shutdown libraries
// under start_server did: SIGTERM (start_server's signal to an old worker)
// calls Close, which closes this worker's copy of the listener, turns
// keep-alives off and waits for the requests in flight.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/braintree/manners"
	"github.com/lestrrat-go/server-starter/listener"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	ls, err := listener.ListenAll()
	if err != nil || len(ls) == 0 {
		sample.Fatal("manners: no listener from start_server (run me under start_server): %v", err)
	}
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("manners: write pid file: %v", err)
	}
	sample.LogSignals(syscall.SIGTERM, syscall.SIGINT)
	s := manners.NewWithServer(sample.Server(""))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		s.Close()
	}()
	// Serve returns once Close has closed the listener and every
	// connection it counted has finished.
	if err := s.Serve(ls[0]); err != nil {
		sample.Fatal("manners: %v", err)
	}
}
