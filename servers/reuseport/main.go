// Command reuseport is the sample server deployed "start the new one, then
// stop the old one" with SO_REUSEPORT: every process binds a listener of
// its own to the same port (kavu/go_reuseport). On SIGHUP it starts a
// fresh copy of itself, waits until the copy listens and has told systemd
// it is the main PID (MAINPID= and READY=1, so the unit needs Type=notify
// and NotifyAccess=all), then shuts down. Closing its listener resets the
// connections still in that listener's accept queue, unless the kernel
// migrates them to the copy's (net.ipv4.tcp_migrate_req=1, Linux 5.14+).
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	reuseport "github.com/kavu/go_reuseport"

	"github.com/gracelab/gracelab/servers/sample"
)

// readyEnv names the fd on which a copy says it is ready: a pipe from the
// process that started it.
const readyEnv = "GRACELAB_REUSEPORT_READY_FD"

// copyTimeout bounds the wait for a copy; a copy that is not ready by then
// is killed and the old process keeps serving.
const copyTimeout = 30 * time.Second

func main() {
	f := sample.ParseFlags()
	sample.LogSignals(syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, os.Interrupt)

	ln, err := reuseport.Listen("tcp", f.Listen)
	if err != nil {
		sample.Fatal("reuseport: listen %s: %v", f.Listen, err)
	}
	srv := sample.Server("")
	go srv.Serve(ln)

	// systemd first, then the parent: systemd must know the new main PID
	// before the old one exits, or it takes that exit for the service's.
	notify(fmt.Sprintf("MAINPID=%d\nREADY=1", os.Getpid()))
	if err := tellParent(); err != nil {
		sample.Fatal("reuseport: tell the old process we are ready: %v", err)
	}

	for handedOver := false; !handedOver; {
		select {
		case <-term:
			handedOver = true
		case <-hup:
			if err := startCopy(); err != nil {
				fmt.Fprintf(os.Stderr, "reuseport: new process failed, old process %d keeps serving: %v\n", os.Getpid(), err)
				// Still the main process: say so again, in case the copy
				// sent MAINPID= before it failed.
				notify(fmt.Sprintf("MAINPID=%d\nREADY=1", os.Getpid()))
				continue
			}
			handedOver = true
		}
	}

	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if f.Drain > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.Drain)
	}
	defer cancel()
	// Shutdown closes the listener first: what sits in its accept queue is
	// reset, or migrated if tcp_migrate_req allows.
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		sample.Fatal("reuseport: shutdown: %v", err)
	}
}

// startCopy starts this binary again with the same arguments and no
// inherited listener, and returns once it says it is ready.
func startCopy() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the copy
	cmd.Env = append(os.Environ(), readyEnv+"=3")
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	// One byte once it is ready; EOF if it exits before.
	got := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := r.Read(b[:])
		got <- err
	}()
	select {
	case err := <-got:
		if err == nil {
			go cmd.Wait() // reap it if it exits before we do
			return nil
		}
		cmd.Wait()
		return fmt.Errorf("new process %d exited before it was ready (%v)", cmd.Process.Pid, cmd.ProcessState)
	case <-time.After(copyTimeout):
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("new process %d was not ready in %s; killed it", cmd.Process.Pid, copyTimeout)
	}
}

// tellParent writes the ready byte if a parent started this process.
func tellParent() error {
	v, ok := os.LookupEnv(readyEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(readyEnv)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s=%q is not an fd", readyEnv, v)
	}
	p := os.NewFile(uintptr(fd), "ready")
	defer p.Close()
	_, err = p.Write([]byte{1})
	return err
}

func notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		fmt.Fprintf(os.Stderr, "reuseport: sd_notify: %v\n", err)
	}
}
