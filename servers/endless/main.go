// Command endless is the sample server on fvbock/endless: SIGHUP starts the
// binary on disk again as a child that inherits the listener; the child
// then sends its parent SIGTERM, and the parent drains and exits. The PID
// changes with every reload.
package main

import (
	"errors"
	"net"
	"syscall"

	"github.com/fvbock/endless"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	// The child runs with the same arguments, so it writes its own PID
	// here, before it tells the parent to stop (endless.go:223-225 at
	// 447134032cb6): the file never names an exited process.
	if err := sample.WritePIDFile(f.PIDFile); err != nil {
		sample.Fatal("endless: write pid file: %v", err)
	}
	// The signals endless itself handles (endless.go:62-69).
	sample.LogSignals(syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	// The hammer cuts requests still running this long after a shutdown
	// began (endless.go:376-378); -1 never does, as -drain 0 means.
	endless.DefaultHammerTime = f.Drain
	if f.Drain == 0 {
		endless.DefaultHammerTime = -1
	}
	base := sample.Server("")
	srv := endless.NewServer(f.Listen, base.Handler)
	srv.ReadHeaderTimeout = base.ReadHeaderTimeout
	srv.IdleTimeout = base.IdleTimeout
	// endless stops by closing the listener under http.Server
	// (endless.go:381), so Serve returns the closed-listener error; its
	// examples log it and exit 0, and so does this one.
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, net.ErrClosed) {
		sample.Fatal("endless: %v", err)
	}
}
