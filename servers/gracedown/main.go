// Command gracedown is a start_server worker that serves through
// shogo82148/go-gracedown, as the 2015 comparison of graceful-shutdown
// libraries under start_server did: SIGTERM calls Close, and Serve returns
// once the connections are done. Built with Go 1.8 or later, the library
// is a wrapper of net/http's Server.Shutdown (see lab/catalog/gracedown).
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/lestrrat-go/server-starter/listener"
	"github.com/shogo82148/go-gracedown"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	ls, err := listener.ListenAll()
	if err != nil || len(ls) == 0 {
		sample.Fatal("gracedown: no listener from start_server (run me under start_server): %v", err)
	}
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("gracedown: write pid file: %v", err)
	}
	sample.LogSignals(syscall.SIGTERM, syscall.SIGINT)
	s := gracedown.NewWithServer(sample.Server(""))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		s.Close()
	}()
	if err := s.Serve(ls[0]); err != nil {
		sample.Fatal("gracedown: %v", err)
	}
}
