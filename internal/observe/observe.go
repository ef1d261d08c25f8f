// Package observe asks systemd (over D-Bus, with go-systemd) and the
// kernel what they believe about a unit, and asks the server who serves.
package observe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"golang.org/x/sys/unix"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

// Systemd is a connection to the lab's systemd.
type Systemd struct {
	conn *sdbus.Conn
	// Health is the path whose answer says the server serves (default
	// protocol.HealthPath).
	Health string
}

// Connect uses systemd's private socket, so the lab needs no dbus-daemon.
func Connect(ctx context.Context) (*Systemd, error) {
	c, err := sdbus.NewSystemdConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd (is this a systemd machine, and are we root?): %w", err)
	}
	return &Systemd{conn: c}, nil
}

// Close closes the connection.
func (s *Systemd) Close() { s.conn.Close() }

// Unit reads the unit's state as a snapshot (without the serving process).
func (s *Systemd) Unit(ctx context.Context, unit string) (result.Snapshot, error) {
	var snap result.Snapshot
	up, err := s.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return snap, err
	}
	snap.ActiveState, _ = up["ActiveState"].(string)
	snap.SubState, _ = up["SubState"].(string)
	sp, err := s.conn.GetUnitTypePropertiesContext(ctx, unit, "Service")
	if err != nil {
		return snap, err
	}
	if v, ok := sp["MainPID"].(uint32); ok {
		snap.MainPID = int(v)
	}
	if v, ok := sp["NRestarts"].(uint32); ok {
		snap.NRestarts = int(v)
	}
	snap.Result, _ = sp["Result"].(string)
	snap.PIDFile, _ = sp["PIDFile"].(string)
	if snap.PIDFile != "" {
		if b, err := os.ReadFile(snap.PIDFile); err == nil {
			snap.PIDFileContent = strings.TrimSpace(string(b))
		}
	}
	if cg, _ := sp["ControlGroup"].(string); cg != "" {
		snap.CgroupPIDs = CgroupPIDs(cg)
	}
	return snap, nil
}

// CgroupPIDs lists the processes in a control group as systemd names it,
// recursively. Where systemd mounts it depends on the host: the unified
// hierarchy at /sys/fs/cgroup, or a hybrid one (as on this CI's kernel).
func CgroupPIDs(cg string) []int {
	for _, base := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(base, cg, "cgroup.procs")); err == nil {
			return walkProcs(filepath.Join(base, cg))
		}
	}
	return nil
}

func walkProcs(root string) []int {
	var pids []int
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return nil
	})
	return pids
}

// Ancestors returns pid's parent chain, nearest first, ending at PID 1.
func Ancestors(pid int) []int {
	var out []int
	for i := 0; i < 64 && pid > 1; i++ {
		ppid, err := parentOf(pid)
		if err != nil || ppid == 0 {
			break
		}
		out = append(out, ppid)
		pid = ppid
	}
	return out
}

func parentOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses; fields follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	return strconv.Atoi(f[1])
}

// Serving asks the server at addr which process, of which build, answers
// a GET of path on a fresh connection (who accepts new connections now,
// not who held an old keep-alive one). The sample servers name their PID
// in a header; for a server that does not, the answer is the process
// among pids that holds the connection's other end. pid is 0 when it
// answered but could not be told.
func Serving(ctx context.Context, addr, path string, pids []int) (pid int, version string, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	if err := req.Write(conn); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return 0, "", fmt.Errorf("health check %s: %s", path, resp.Status)
	}
	if h := resp.Header.Get(protocol.HeaderPID); h != "" {
		pid, err = strconv.Atoi(h)
		return pid, resp.Header.Get(protocol.HeaderVersion), err
	}
	// Still open: the server holds its end.
	return Accepter(conn.LocalAddr().(*net.TCPAddr), pids), "", nil
}

// Accepter is the process among pids that holds the server's end of a
// connection whose client end is local, or 0.
func Accepter(local *net.TCPAddr, pids []int) int {
	for _, pid := range pids {
		pfd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		found := eachSocket(pid, func(n int) bool { return peerIs(pfd, n, local) })
		unix.Close(pfd)
		if found {
			return pid
		}
	}
	return 0
}

// eachSocket calls f with each socket descriptor of pid until it returns true.
func eachSocket(pid int, f func(fd int) bool) bool {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		n, errN := strconv.Atoi(e.Name())
		if err == nil && errN == nil && strings.HasPrefix(link, "socket:") && f(n) {
			return true
		}
	}
	return false
}

func peerIs(pfd, fd int, want *net.TCPAddr) bool {
	dup, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dup)
	switch sa, _ := unix.Getpeername(dup); a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == want.Port && net.IP(a.Addr[:]).Equal(want.IP)
	case *unix.SockaddrInet6:
		return a.Port == want.Port && net.IP(a.Addr[:]).Equal(want.IP)
	}
	return false
}

// Snapshot combines systemd's view with who serves; health is the path
// the server answers (the sample servers: /health).
func (s *Systemd) Snapshot(ctx context.Context, unit, addr string, at time.Duration) result.Snapshot {
	snap, err := s.Unit(ctx, unit)
	if err != nil {
		snap.ActiveState = "unknown: " + err.Error()
	}
	snap.AtMS = float64(at.Microseconds()) / 1000
	pid, version, err := Serving(ctx, addr, s.health(), snap.CgroupPIDs)
	if err != nil {
		snap.ServingError = err.Error()
	} else {
		snap.ServingPID, snap.ServingVersion = pid, version
		if pid == 0 {
			snap.ServingError = "answered, but no process of the unit holds the connection"
		}
	}
	if snap.ServingPID > 0 {
		snap.ServingAncestors = Ancestors(pid)
		snap.ServingFDs, snap.ServingRSSKB = Usage(pid)
		if _, port, err := net.SplitHostPort(addr); err == nil {
			p, _ := strconv.Atoi(port)
			snap.ServingListener = Listener(pid, p)
		}
		snap.ServingWaits = Waits(pid)
	}
	if snap.MainPID > 0 {
		snap.MainFDs, snap.MainRSSKB = Usage(snap.MainPID)
	}
	return snap
}

func (s *Systemd) health() string {
	if s.Health == "" {
		return protocol.HealthPath
	}
	return s.Health
}

// WaitHealthy polls the health check until it answers or the timeout ends.
func WaitHealthy(ctx context.Context, addr, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		_, _, err := Serving(ctx, addr, path, nil)
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not healthy after %s: %v", timeout, last)
}

// Usage is a process's open file descriptors and resident memory (kB).
func Usage(pid int) (fds, rssKB int) {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	fds = len(ents)
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return fds, rssKB
}

// Listener describes the listening socket on port that process pid holds:
// its descriptor and the flags the kernel shows for it (octal, as in
// /proc/PID/fdinfo; 04000 is O_NONBLOCK). Empty when it holds none. Each
// socket descriptor is looked at through a duplicate (pidfd_getfd): reading
// /proc/net/tcp instead walks the kernel's whole connection table, which
// with every lab's TIME_WAIT sockets stalled the loads for 100 ms at a time.
func Listener(pid, port int) string {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(pfd)
	var out []string
	eachSocket(pid, func(n int) bool {
		if !listensOn(pfd, n, port) {
			return false
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, n))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				flags := strings.TrimSpace(v)
				mode := "blocking"
				if f, err := strconv.ParseInt(flags, 8, 64); err == nil && f&syscall.O_NONBLOCK != 0 {
					mode = "non-blocking"
				}
				out = append(out, fmt.Sprintf("fd %d flags %s (%s)", n, flags, mode))
			}
		}
		return false
	})
	return strings.Join(out, ", ")
}

// listensOn says whether descriptor fd of the process behind pfd is a
// socket listening on port.
func listensOn(pfd, fd, port int) bool {
	dup, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dup)
	if acc, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || acc == 0 {
		return false
	}
	switch sa, _ := unix.Getsockname(dup); a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == port
	case *unix.SockaddrInet6:
		return a.Port == port
	}
	return false
}

// Waits says where the threads of process pid sleep in the kernel
// (/proc/PID/task/*/wchan), as "name×count" in order of count.
func Waits(pid int) string {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	n := map[string]int{}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, t.Name()))
		w := strings.TrimSpace(string(b))
		if err != nil || w == "" || w == "0" {
			w = "running"
		}
		n[w]++
	}
	names := make([]string, 0, len(n))
	for w := range n {
		names = append(names, w)
	}
	sort.Slice(names, func(i, j int) bool {
		return n[names[i]] > n[names[j]] || n[names[i]] == n[names[j]] && names[i] < names[j]
	})
	for i, w := range names {
		names[i] = fmt.Sprintf("%s×%d", w, n[w])
	}
	return strings.Join(names, ", ")
}
