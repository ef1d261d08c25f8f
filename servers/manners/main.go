// Command manners is a start_server worker that serves through
// braintree/manners, as the 2015 comparison of graceful-shutdown libraries
// under start_server did: SIGTERM (start_server's signal to an old worker)
// calls Close, which closes this worker's copy of the listener, turns
// keep-alives off and waits for the requests in flight.
package main

import (
	"github.com/braintree/manners"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	ln := sample.StarterWorker("manners")
	s := manners.NewWithServer(sample.Server(""))
	sample.OnTerm(func() { s.Close() })
	// Serve returns once Close has closed the listener and every
	// connection it counted has finished.
	if err := s.Serve(ln); err != nil {
		sample.Fatal("manners: %v", err)
	}
}
