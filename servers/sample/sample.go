// Package sample holds what every sample server shares: the flags, the
// handler and the PID file, so that servers differ only in how they restart.
package sample

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
)

// Version is set at build time (-ldflags -X) so that a response tells which
// build served it, which the upgrade experiments need.
var Version = "dev"

// BrokenStart, set at build time, makes the server exit at once at start
// with this message, as a release with a bad config or flag would: the
// upgrade-broken experiment installs such a build.
var BrokenStart = ""

// Flags are the command-line settings every sample server takes.
type Flags struct {
	Listen  string
	PIDFile string
	// Drain bounds a shutdown's wait for requests in flight; 0 waits for
	// them however long they take.
	Drain time.Duration
}

// ParseFlags parses the shared flags from os.Args.
func ParseFlags() Flags {
	var f Flags
	flag.StringVar(&f.Listen, "listen", protocol.Listen, "address to listen on (servers that inherit a listener ignore it)")
	flag.StringVar(&f.PIDFile, "pid", "", "write this process's PID to this file at start, as carbonapi does")
	flag.DurationVar(&f.Drain, "drain", 30*time.Second, "how long a shutdown waits for requests in flight (0: no limit)")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if BrokenStart != "" {
		Fatal("%s: %s", os.Args[0], BrokenStart)
	}
	if *version {
		fmt.Println(Version)
		os.Exit(0)
	}
	return f
}

// WritePIDFile writes the PID the way many servers do: a plain write at
// start, no lock, no removal at exit. The lab measures what systemd makes of
// exactly that.
func WritePIDFile(path string) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// MaxSlow bounds /slow so a bad query cannot hold a connection for long.
const MaxSlow = 120 * time.Second

// Handler serves / (fast), /slow?ms=N and /health; every response names the
// PID and version that served it.
func Handler() http.Handler {
	pid := strconv.Itoa(os.Getpid())
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 {
			http.Error(w, "ms must be a non-negative integer", http.StatusBadRequest)
			return
		}
		d := min(time.Duration(ms)*time.Millisecond, MaxSlow)
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "pid=%s version=%s slept=%s\n", pid, Version, d)
	})
	mux.HandleFunc(protocol.HealthPath, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok pid=%s version=%s\n", pid, Version)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A POST's body is read whole before the answer, as an
		// application does; a body that does not arrive fails the request.
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		// The PID is padded to Linux's widest (7 digits), so the body's
		// length does not change with the worker: ab counts a response
		// whose length differs from the first one's as a failure.
		fmt.Fprintf(w, "pid=%-7s version=%s\n", pid, Version)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderPID, pid)
		w.Header().Set(protocol.HeaderVersion, Version)
		mux.ServeHTTP(w, r)
	})
}

// Server returns an http.Server with the shared handler and timeouts that
// keep a stuck client from holding a process open forever.
func Server(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
}

// Fatal prints one line and exits non-zero.
func Fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// LogSignals writes a line to stderr for each of sigs this process
// receives, so the journal places every signal in time (the lab reads
// these lines). Pass only signals the server already handles: catching
// one of those changes nothing, catching another would cancel its
// default action.
func LogSignals(sigs ...syscall.Signal) {
	c := make(chan os.Signal, 8)
	for _, s := range sigs {
		signal.Notify(c, s)
	}
	names := map[os.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP", syscall.SIGUSR2: "SIGUSR2"}
	go func() {
		for s := range c {
			name := names[s]
			if name == "" {
				name = s.String()
			}
			fmt.Fprintf(os.Stderr, "gracelab: PID %d received %s\n", os.Getpid(), name)
		}
	}()
}

// ServeUntilSignal serves on ln until SIGTERM or SIGINT, then shuts down
// gracefully: in-flight requests finish, new connections are refused.
func ServeUntilSignal(srv *http.Server, ln net.Listener) error {
	LogSignals(syscall.SIGTERM, syscall.SIGINT)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
