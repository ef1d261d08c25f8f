package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is servers/plain, built for the benchmark and running on a free
// port of 127.0.0.1.
type server struct {
	url      string
	describe string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{} // the process ended
	stopped  chan struct{} // stop was called
	gone     chan struct{} // stop is done: process ended, files removed
	once     sync.Once
}

// startPlain builds servers/plain (static, as the lab runs it) into a
// temporary directory and starts it on 127.0.0.1. It stops when stop is
// called or ctx ends.
func startPlain(ctx context.Context, repo string, out io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "gracelab-bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "plain")
	fmt.Fprintln(out, "bench: building servers/plain (CGO_ENABLED=0)")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./servers/plain")
	build.Dir = repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build ./servers/plain: %v\n%s", err, strings.TrimSpace(string(b)))
	}
	addr, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{url: "http://" + addr + "/", dir: dir, exited: make(chan struct{}), stopped: make(chan struct{}), gone: make(chan struct{}),
		describe: "servers/plain (net/http), built with CGO_ENABLED=0 go build -trimpath, listening on " + addr}
	s.cmd = exec.Command(bin, "-listen", addr)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.stop()
		case <-s.stopped:
		}
	}()
	if err := waitHealthy(ctx, "http://"+addr+"/health", s.exited); err != nil {
		s.stop()
		return nil, err
	}
	fmt.Fprintf(out, "bench: server PID %d on %s\n", s.cmd.Process.Pid, addr)
	return s, nil
}

// stop ends the server (SIGTERM, then SIGKILL after 5 s) and removes its
// binary; safe to call more than once.
func (s *server) stop() {
	s.once.Do(func() {
		close(s.stopped)
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
		os.RemoveAll(s.dir)
		close(s.gone)
	})
	<-s.gone
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(ctx context.Context, url string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("servers/plain exited before it answered %s", url)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("servers/plain did not answer %s within 10 s: %v", url, err)
		}
	}
}
