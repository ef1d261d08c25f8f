// Command gracedown is a start_server worker that serves through
// shogo82148/go-gracedown, as the 2015 comparison of graceful-shutdown
// libraries under start_server did: SIGTERM calls Close, and Serve returns
// once the connections are done. Built with Go 1.8 or later, the library
// is a wrapper of net/http's Server.Shutdown (see lab/catalog/gracedown).
package main

import (
	"github.com/shogo82148/go-gracedown"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	ln := sample.StarterWorker("gracedown")
	s := gracedown.NewWithServer(sample.Server(""))
	sample.OnTerm(func() { s.Close() })
	if err := s.Serve(ln); err != nil {
		sample.Fatal("gracedown: %v", err)
	}
}
