// Command grace is the sample server on facebookgo/grace: SIGUSR2 starts a
// new process on the inherited listener, which then stops the old one.
package main

import (
	"github.com/facebookgo/grace/gracehttp"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("grace: write pid file: %v", err)
	}
	if err := gracehttp.Serve(sample.Server(f.Listen)); err != nil {
		sample.Fatal("grace: %v", err)
	}
}
