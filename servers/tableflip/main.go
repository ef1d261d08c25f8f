// Command tableflip is the sample server on cloudflare/tableflip: SIGHUP
// starts a new process that inherits the listener; once it is ready the old
// one drains and exits. With -notify it also tells systemd (Type=notify or
// notify-reload) about readiness, reloading and its new main PID.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudflare/tableflip"
	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"github.com/gracelab/gracelab/servers/sample"
)

var notify = flag.Bool("notify", false, "send sd_notify messages (READY=1, RELOADING=1, MAINPID=)")

func main() {
	f := sample.ParseFlags()
	// tableflip writes the PID file itself, atomically, once Ready: the
	// way its documentation pairs it with PIDFile=.
	upg, err := tableflip.New(tableflip.Options{PIDFile: f.PIDFile})
	if err != nil {
		sample.Fatal("tableflip: %v", err)
	}
	defer upg.Stop()
	sample.LogSignals(syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)

	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGHUP)
		for range sig {
			sdNotify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
			if err := upg.Upgrade(); err != nil {
				fmt.Fprintf(os.Stderr, "tableflip: upgrade failed, old process keeps serving: %v\n", err)
				// End the reload for systemd; we are still the main process.
				sdNotify(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
			}
		}
	}()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		upg.Stop()
	}()

	ln, err := upg.Listen("tcp", f.Listen)
	if err != nil {
		sample.Fatal("tableflip: listen: %v", err)
	}
	srv := sample.Server("")
	go srv.Serve(ln)

	// Tell systemd first, then the parent: systemd must know the new main
	// PID before the old one exits, or it takes the exit for the service's.
	sdNotify(fmt.Sprintf("MAINPID=%d\nREADY=1", os.Getpid()))
	if err := upg.Ready(); err != nil {
		sample.Fatal("tableflip: ready: %v", err)
	}
	<-upg.Exit()

	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if f.Drain > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.Drain)
	}
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && err != http.ErrServerClosed {
		sample.Fatal("tableflip: shutdown: %v", err)
	}
}

func sdNotify(state string) {
	if !*notify {
		return
	}
	if _, err := daemon.SdNotify(false, state); err != nil {
		fmt.Fprintf(os.Stderr, "tableflip: sd_notify: %v\n", err)
	}
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Sec*1e6 + ts.Nsec/1e3
}
