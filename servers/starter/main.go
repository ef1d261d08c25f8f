// Command starter is a worker for lestrrat-go/server-starter: start_server
// owns the listening socket and passes it in SERVER_STARTER_PORT; on SIGHUP
// it starts a new worker and sends the old one SIGTERM.
package main

import "github.com/gracelab/gracelab/servers/sample"

func main() {
	ln := sample.StarterWorker("starter")
	if err := sample.ServeUntilSignal(sample.Server(""), ln); err != nil {
		sample.Fatal("starter: %v", err)
	}
}
