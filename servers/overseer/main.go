// Command overseer is the sample server on jpillora/overseer: the binary is
// its own master, which holds the listening socket and stays the main
// process; SIGUSR2 makes it stop the serving child and start the binary on
// disk again as a new child on the same socket.
package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"syscall"

	"github.com/jpillora/overseer"

	"github.com/gracelab/gracelab/servers/sample"
)

func main() {
	f := sample.ParseFlags()
	// overseer runs this same binary, with the same arguments, as master and
	// as child; it tells them apart by this variable (overseer.go:157 at
	// v1.1.6). Only the master, the process systemd started, writes the PID.
	child := os.Getenv("OVERSEER_IS_SLAVE") == "1"
	if child {
		// The child handles only the restart signal; logging others would
		// catch them and cancel their default action.
		sample.LogSignals(syscall.SIGUSR2)
	} else {
		if err := sample.WritePIDFile(f.PIDFile); err != nil {
			sample.Fatal("overseer: write pid file: %v", err)
		}
		// The master catches every signal (proc_master.go:109), so
		// logging these changes nothing.
		sample.LogSignals(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2)
	}
	overseer.Run(overseer.Config{
		Program:  func(state overseer.State) { serve(state, f) },
		Address:  f.Listen,
		Required: true,
	})
}

// serve runs in the child: it serves until overseer asks for a graceful
// shutdown, then drains. Like overseer's README example it does not handle
// SIGTERM: the child listens for the RestartSignal only
// (proc_slave.go:107), so the SIGTERM of a stop, sent by systemd and passed
// on by the master (proc_master.go:132-136), ends it at once. Draining on
// SIGTERM is not possible here: only overseer's release closes the
// listener (graceful.go:55-57), and Shutdown would wait in its Close for
// connections that net/http, blocked by Shutdown, never serves.
func serve(state overseer.State, f sample.Flags) {
	srv := sample.Server("")
	go srv.Serve(state.Listener)
	<-state.GracefulShutdown
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if f.Drain > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.Drain)
	}
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		sample.Fatal("overseer: shutdown: %v", err)
	}
}
