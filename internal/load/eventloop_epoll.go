//go:build linux && (amd64 || arm64)

package load

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// The event loop is the engine wrk's design suggests: one goroutine owns
// every connection, multiplexed with edge-triggered epoll, and sends each
// request of the schedule when it is due. Per request it makes one write
// and one read, and shares an epoll_wait with whatever else is ready; it
// allocates nothing, hands nothing to another goroutine, sets no timer per
// request. Its own epoll set waits in Go's netpoller (the set's descriptor
// is pollable), so no OS thread blocks in a system call.
//
// What profiling the other engines showed (go test -bench RoundTrip and a
// CPU profile of an open-loop run against servers/plain on two cores,
// where every microsecond of client CPU is taken from the server):
// vegeta's attacker hands every request to a goroutine over a channel,
// and net/http's Transport hands it on to its connection's read and write
// goroutines, allocating a request, a header map, a response and a body
// buffer on the way; it held about 10,000 requests a second. The
// goroutine engine (one goroutine and net.Conn per connection) reads once
// too early (EAGAIN), parks and wakes its goroutine twice per request and
// re-arms a timer, about a third more CPU per request than this loop.

type connState uint8

const (
	csFree       connState = iota // no socket
	csConnecting                  // connect in progress
	csWriting                     // request partly written
	csReading                     // waiting for or reading the response
	csIdle                        // kept alive, no request
)

// econn is one connection and the request it carries. Objects are reused
// for later connections (gen tells them apart), with their buffers.
type econn struct {
	fd    int
	idx   int32
	gen   int32
	state connState
	uses  int // requests completed on this connection
	buf   rbuf
	p     parser

	lastPID int32 // whose version was last noted here, kept across connections

	// The request in flight.
	busy     bool
	seq      int64
	sched    time.Duration
	sent     time.Duration
	deadline time.Duration // offset; 0 means none
	wrote    int
	got      bool // a response byte arrived
	attempt  int
	flags    Flags
}

type idleRef struct {
	c   *econn
	gen int32
}

type eventLoop struct {
	r      *Run
	t      *target
	ep     int
	epf    *os.File // ep, waited on in Go's netpoller
	epc    syscall.RawConn
	sa     syscall.Sockaddr
	family int
	raddr  *net.TCPAddr

	conns  []*econn // by index, which epoll events carry
	free   []int32  // unused indices
	idle   []idleRef
	live   int // open sockets
	busy   int // requests in flight
	events []syscall.EpollEvent

	minDeadline time.Duration // no request in flight times out before this
	lastScan    time.Duration

	blockedSince time.Duration // since when no connection came free for a due request; -1: one did
	retryAt      time.Duration // when a request held back for a connection may open one
	growSince    time.Duration // connections opened since growSince: grown
	grown        int
}

// newEventLoop prepares the loop, and for a keep-alive load opens its
// first connections; nil when it cannot run here (the caller falls back to
// the goroutine engine, which reports such errors per request).
func newEventLoop(r *Run) *eventLoop {
	t := r.t
	if t.err != nil {
		return nil
	}
	raddr, err := net.ResolveTCPAddr("tcp", t.addr)
	if err != nil || raddr.Zone != "" {
		return nil
	}
	l := &eventLoop{r: r, t: t, raddr: raddr, blockedSince: -1, events: make([]syscall.EpollEvent, 256)}
	if ip4 := raddr.IP.To4(); ip4 != nil {
		sa := &syscall.SockaddrInet4{Port: raddr.Port}
		copy(sa.Addr[:], ip4)
		l.sa, l.family = sa, syscall.AF_INET
	} else {
		sa := &syscall.SockaddrInet6{Port: raddr.Port}
		copy(sa.Addr[:], raddr.IP.To16())
		l.sa, l.family = sa, syscall.AF_INET6
	}
	if l.ep, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return nil
	}
	syscall.SetNonblock(l.ep, true)
	l.epf = os.NewFile(uintptr(l.ep), "epoll")
	if l.epc, err = l.epf.SyscallConn(); err != nil || l.epf.SetReadDeadline(time.Time{}) != nil {
		l.epf.Close() // not pollable here
		return nil
	}
	n := r.initialConns()
	if r.cfg.KeepAlive {
		l.preconnect(n)
	}
	r.Began = time.Now()
	return l
}

// preconnect opens n connections before the clock starts, within a
// second, as a keep-alive client has them open when the load begins.
func (l *eventLoop) preconnect(n int) {
	start := time.Now()
	pending := 0
	for range n {
		c, err := l.open()
		if err != nil {
			break
		}
		if c.state == csConnecting {
			pending++
		} else {
			l.toIdle(c)
		}
	}
	for pending > 0 && time.Since(start) < time.Second {
		k := l.wait(10 * time.Millisecond)
		for _, ev := range l.events[:k] {
			c := l.lookup(ev)
			if c == nil || c.state != csConnecting {
				continue
			}
			pending--
			if l.connectErr(c) != nil {
				l.closeConn(c)
				continue
			}
			l.toIdle(c)
		}
	}
	for _, c := range l.conns {
		if c.state == csConnecting {
			l.closeConn(c)
		}
	}
}

func (l *eventLoop) run() {
	defer l.shutdown()
	r := l.r
	rate := r.cfg.Rate
	next := int64(0)
	for {
		now := time.Since(r.Began)
		stopped := r.stopped()
		if !stopped {
			for next < r.total && At(rate, int(next)) <= now {
				if !l.dispatch(next, now) {
					break // every connection is busy and no more may open
				}
				next++
				r.next.Store(next)
			}
		}
		if l.busy > 0 && l.t.timeout > 0 && now >= l.minDeadline && now-l.lastScan >= time.Millisecond {
			l.expire(now)
		}
		if l.busy == 0 && (stopped || next >= r.total) {
			return
		}
		// Sleep until the next request is due, a deadline passes or a
		// connection has news; wake at least every 20 ms to notice Stop.
		timeout := 20 * time.Millisecond
		if !stopped && next < r.total {
			if d := At(rate, int(next)) - now; d > 0 {
				timeout = min(timeout, d)
			} else if d := l.retryAt - now; d > 0 {
				timeout = min(timeout, d)
			}
		}
		if l.busy > 0 && l.minDeadline > 0 {
			timeout = min(timeout, max(l.minDeadline-now, time.Millisecond))
		}
		k := l.wait(timeout)
		now = time.Since(r.Began)
		for _, ev := range l.events[:k] {
			if c := l.lookup(ev); c != nil {
				l.handle(c, ev.Events, now)
			}
		}
	}
}

// dispatch sends request i on an idle connection or a new one; false when
// none is free and no more may open yet.
func (l *eventLoop) dispatch(i int64, now time.Duration) bool {
	c := l.popIdle()
	if c != nil {
		l.blockedSince = -1
		c.flags = 0
	} else {
		if !l.mayOpen(now) {
			return false
		}
		var err error
		if c, err = l.open(); err != nil {
			l.refund()
			l.r.record(i, At(l.r.cfg.Rate, int(i)), now, now, &result{err: err, flags: Dialed})
			return true
		}
		c.flags = Dialed
	}
	c.busy, c.seq, c.sched, c.sent, c.attempt = true, i, At(l.r.cfg.Rate, int(i)), now, 0
	c.deadline = 0
	if l.t.timeout > 0 {
		c.deadline = now + l.t.timeout
		if l.busy == 0 || c.deadline < l.minDeadline {
			l.minDeadline = c.deadline
		}
	}
	l.busy++
	l.start(c, now)
	return true
}

// mayOpen says whether the next request may open a new connection now.
// Without keep-alive every request does. With it, one opens only when no
// connection has come free for slack, counted from when the loop first
// found a due request and none free: a stall of this process, after which
// the answers are already waiting, opens none; a server that answers,
// however slowly, keeps its connections (requests then queue here, and
// their lag shows it); a stalled one gets a connection for every request
// the schedule sends into the stall, no more than growth per slack. (Also
// opening connections while a slow server still answers was tried: near
// its capacity the new connections cost it more CPU, it answered more
// slowly still, and the load ran away to MaxConns.)
func (l *eventLoop) mayOpen(now time.Duration) bool {
	if l.live >= l.r.max {
		return false
	}
	if !l.t.keep {
		return true
	}
	if l.blockedSince < 0 {
		l.blockedSince = now
	}
	if now-l.blockedSince < slack {
		l.retryAt = l.blockedSince + slack
		return false
	}
	if now-l.growSince >= slack {
		l.growSince, l.grown = now, 0
	}
	if l.grown >= growth(l.r.cfg.Rate) {
		l.retryAt = l.growSince + slack
		return false
	}
	l.grown++
	return true
}

// refund gives back the growth a connection took when it failed to
// connect: a refused dial holds nothing, so while a server is down every
// request still goes out on schedule (and fails), instead of waiting for
// growth budget and showing the client as fallen behind.
func (l *eventLoop) refund() {
	if l.t.keep && l.grown > 0 {
		l.grown--
	}
}

// start begins the request on c: write it now if connected.
func (l *eventLoop) start(c *econn, now time.Duration) {
	c.wrote, c.got = 0, false
	c.p.reset()
	c.buf.reset()
	if c.state == csConnecting {
		return // written when the connection is up
	}
	c.state = csWriting
	l.write(c, now)
}

func (l *eventLoop) write(c *econn, now time.Duration) {
	for c.wrote < len(l.t.req) {
		n, err := rawWrite(c.fd, l.t.req[c.wrote:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return // EPOLLOUT will say when
		}
		if err != nil {
			l.fail(c, l.opErr("write", c, err), now)
			return
		}
		c.wrote += n
	}
	c.flags |= Written
	// The response comes as an EPOLLIN event; reading now would only
	// find nothing yet.
	c.state = csReading
}

func (l *eventLoop) handle(c *econn, ev uint32, now time.Duration) {
	const errs = syscall.EPOLLERR | syscall.EPOLLHUP
	switch c.state {
	case csConnecting:
		if ev&(syscall.EPOLLOUT|errs) == 0 {
			return
		}
		if err := l.connectErr(c); err != nil {
			l.refund()
			l.fail(c, err, now)
			return
		}
		c.state = csWriting
		l.write(c, now)
	case csWriting:
		if ev&(syscall.EPOLLOUT|errs) != 0 {
			l.write(c, now)
		}
	case csReading:
		if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|errs) != 0 {
			l.read(c, now)
		}
	case csIdle:
		if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|errs) != 0 {
			l.probeIdle(c)
		}
	}
}

func (l *eventLoop) read(c *econn, now time.Duration) {
	for {
		space, err := c.buf.space()
		if err != nil {
			l.fail(c, err, now)
			return
		}
		n, err := rawRead(c.fd, space)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		case err != nil:
			l.fail(c, l.opErr("read", c, err), now)
			return
		case n == 0:
			if !c.got {
				l.fail(c, io.EOF, now)
			} else if err := c.p.eof(); err != nil {
				l.fail(c, err, now)
			} else {
				l.complete(c, now)
			}
			return
		}
		c.buf.w += n
		c.got = true
		if err := c.buf.parse(&c.p); err != nil {
			l.fail(c, err, now)
			return
		}
		if c.p.state == stDone {
			l.complete(c, now)
			return
		}
	}
}

// probeIdle reads an idle connection that has news: the server closed it
// (or sent what it must not), so it is dropped, as net/http's idle pool
// does.
func (l *eventLoop) probeIdle(c *econn) {
	var b [64]byte
	for {
		n, err := rawRead(c.fd, b[:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return
		}
		_ = n // EOF, an error or bytes nobody asked for
		l.closeConn(c)
		return
	}
}

func (l *eventLoop) complete(c *econn, now time.Duration) {
	c.uses++
	c.flags |= Responded
	res := result{code: c.p.code, pid: c.p.pid, fail: c.p.status, flags: c.flags}
	l.done(c, &res, now)
	l.r.noteVersion(&c.lastPID, &l.r.recs[c.seq], c.p.ver)
	if l.t.keep && c.p.keep {
		l.toIdle(c)
	} else {
		l.closeConn(c)
	}
}

// fail ends the request on c with err, or sends it again on a new
// connection where net/http would.
func (l *eventLoop) fail(c *econn, err error, now time.Duration) {
	reused := c.uses > 0
	if !c.busy {
		l.closeConn(c)
		return
	}
	if l.t.retryable(reused, c.wrote > 0, c.got, c.attempt, err) {
		n, oerr := l.open()
		if oerr == nil {
			n.busy, n.seq, n.sched, n.sent, n.deadline = true, c.seq, c.sched, c.sent, c.deadline
			n.attempt, n.flags = c.attempt+1, (c.flags|Retried|Dialed)&^(Written|Responded)
			c.busy = false
			l.closeConn(c)
			l.start(n, now)
			return
		}
		err = oerr
		c.flags = (c.flags | Retried | Dialed) &^ (Written | Responded)
	}
	if c.got {
		c.flags |= Responded
	}
	res := result{err: err, flags: c.flags}
	l.done(c, &res, now)
	l.closeConn(c)
}

// done records the request on c.
func (l *eventLoop) done(c *econn, res *result, now time.Duration) {
	c.busy = false
	l.busy--
	l.r.record(c.seq, c.sched, c.sent, now, res)
}

// expire ends the requests whose deadline passed.
func (l *eventLoop) expire(now time.Duration) {
	l.lastScan = now
	next := time.Duration(0)
	for _, c := range l.conns {
		if !c.busy || c.deadline == 0 {
			continue
		}
		if c.deadline <= now {
			op := "read"
			switch c.state {
			case csConnecting:
				op = "dial"
			case csWriting:
				op = "write"
			}
			l.fail(c, l.opErr(op, c, os.ErrDeadlineExceeded), now)
			continue
		}
		if next == 0 || c.deadline < next {
			next = c.deadline
		}
	}
	l.minDeadline = next
}

// open creates a socket and starts connecting it.
func (l *eventLoop) open() (*econn, error) {
	fd, err := syscall.Socket(l.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("socket", err)}
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	c := l.slot()
	c.fd, c.gen, c.uses = fd, c.gen+1, 0
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET, Fd: c.idx, Pad: c.gen}
	if err := syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		l.free = append(l.free, c.idx)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("epoll_ctl", err)}
	}
	l.live++
	l.r.addConns(1)
	c.state = csConnecting
	for {
		err = syscall.Connect(fd, l.sa)
		if err != syscall.EINTR {
			break
		}
	}
	switch err {
	case nil:
		c.state = csIdle
	case syscall.EINPROGRESS, syscall.EALREADY:
	default:
		l.closeConn(c)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("connect", err)}
	}
	return c, nil
}

func (l *eventLoop) connectErr(c *econn) error {
	e, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err == nil && e != 0 {
		err = syscall.Errno(e)
	}
	if err != nil {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("connect", err)}
	}
	return nil
}

func (l *eventLoop) slot() *econn {
	if n := len(l.free); n > 0 {
		i := l.free[n-1]
		l.free = l.free[:n-1]
		return l.conns[i]
	}
	c := &econn{idx: int32(len(l.conns))}
	l.conns = append(l.conns, c)
	return c
}

func (l *eventLoop) lookup(ev syscall.EpollEvent) *econn {
	if ev.Fd < 0 || int(ev.Fd) >= len(l.conns) {
		return nil
	}
	c := l.conns[ev.Fd]
	if c.gen != ev.Pad || c.state == csFree {
		return nil // an event of a connection since closed
	}
	return c
}

func (l *eventLoop) toIdle(c *econn) {
	c.state = csIdle
	l.idle = append(l.idle, idleRef{c, c.gen})
	if len(l.idle) > 64 && len(l.idle) > 2*l.live {
		// Drop references to connections closed while idle.
		kept := l.idle[:0]
		for _, ref := range l.idle {
			if ref.c.gen == ref.gen && ref.c.state == csIdle {
				kept = append(kept, ref)
			}
		}
		clear(l.idle[len(kept):])
		l.idle = kept
	}
}

// popIdle takes the most recently used idle connection.
func (l *eventLoop) popIdle() *econn {
	for n := len(l.idle); n > 0; n = len(l.idle) {
		ref := l.idle[n-1]
		l.idle[n-1] = idleRef{}
		l.idle = l.idle[:n-1]
		if ref.c.gen == ref.gen && ref.c.state == csIdle && !ref.c.busy {
			return ref.c
		}
	}
	return nil
}

func (l *eventLoop) closeConn(c *econn) {
	if c.state == csFree {
		return
	}
	syscall.Close(c.fd) // also leaves the epoll set
	c.state, c.fd, c.busy = csFree, -1, false
	l.live--
	l.r.addConns(-1)
	l.free = append(l.free, c.idx)
}

func (l *eventLoop) shutdown() {
	for _, c := range l.conns {
		l.closeConn(c)
	}
	l.epf.Close()
}

// opErr describes a socket error as package net would.
func (l *eventLoop) opErr(op string, c *econn, err error) error {
	var src net.Addr
	if sa, e := syscall.Getsockname(c.fd); e == nil {
		switch sa := sa.(type) {
		case *syscall.SockaddrInet4:
			src = &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
		case *syscall.SockaddrInet6:
			src = &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = os.NewSyscallError(op, errno)
	}
	if op == "dial" {
		src = nil
	}
	return &net.OpError{Op: op, Net: "tcp", Source: src, Addr: l.raddr, Err: err}
}

// wait waits for events up to timeout and returns how many arrived. The
// loop's epoll set is itself pollable, so the wait parks the goroutine in
// Go's own netpoller, with a deadline for the timeout: no OS thread sits
// in epoll_wait (which would make the runtime hand its P to another
// thread on every sleep, a context switch and a wake-up each time).
func (l *eventLoop) wait(timeout time.Duration) int {
	n := 0
	harvest := func(fd uintptr) bool {
		for {
			k, err := epollPoll(int(fd), l.events)
			if err == syscall.EINTR {
				continue
			}
			n = max(k, 0)
			return n > 0
		}
	}
	if timeout <= 0 {
		harvest(uintptr(l.ep))
		return n
	}
	l.epf.SetReadDeadline(time.Now().Add(timeout))
	l.epc.Read(harvest) // ends with events, or at the deadline
	return n
}

const epollET = 1 << 31

// The loop's sockets never block, so their reads, writes and epoll polls
// go to the kernel directly (RawSyscall): syscall.Read and its kind tell
// the runtime they may block, which wakes its monitor thread (sysmon) on
// every call; that was a tenth of the loop's CPU time.

func rawRead(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawWrite sends without SIGPIPE when the server has closed the
// connection (the error says so instead).
func rawWrite(fd int, p []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		syscall.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// epollPoll collects ready events without waiting (timeout 0).
func epollPoll(ep int, events []syscall.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
