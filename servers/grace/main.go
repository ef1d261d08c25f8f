// Command grace is the sample server on facebookgo/grace: SIGUSR2 starts a
// new process on the inherited listener, which then stops the old one.
package main

import (
	"syscall"

	"github.com/facebookgo/grace/gracehttp"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("grace: write pid file: %v", err)
	}
	// The signals gracehttp itself handles.
	sample.LogSignals(syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	if err := gracehttp.Serve(sample.Server(f.Listen)); err != nil {
		sample.Fatal("grace: %v", err)
	}
}
