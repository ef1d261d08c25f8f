package sample

import (
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/lestrrat-go/server-starter/listener"
)

// StarterWorker is what every start_server worker does first: parse the
// flags, take the listener start_server passes, write the PID file. name
// starts its error lines.
func StarterWorker(name string) net.Listener {
	f := ParseFlags()
	ls, err := listener.ListenAll()
	if err != nil || len(ls) == 0 {
		Fatal("%s: no listener from start_server (run me under start_server): %v", name, err)
	}
	if err := WritePIDFile(f.PIDFile); err != nil {
		Fatal("%s: write pid file: %v", name, err)
	}
	return ls[0]
}

// OnTerm logs SIGTERM and SIGINT and calls stop at the first of them, for
// servers whose library shuts down through a Close of its own.
func OnTerm(stop func()) {
	LogSignals(syscall.SIGTERM, syscall.SIGINT)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		stop()
	}()
}
