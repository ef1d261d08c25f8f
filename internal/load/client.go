package load

import (
	"io"
	"net"
	"time"
)

// client is one sender's HTTP/1.1 client for the goroutine engine: at most
// one connection, one request at a time, no goroutines of its own, nothing
// allocated per successful request.
type client struct {
	t    *target
	conn net.Conn
	buf  rbuf
	p    parser
	uses int // requests completed on conn
	// written: the last roundTrip wrote its whole request.
	written bool
	// lastPID is the PID whose version was last noted by this client.
	lastPID int32
}

func newClient(t *target) *client { return &client{t: t} }

// result is what one request saw.
type result struct {
	code  int
	pid   int32
	flags Flags
	err   error  // transport or protocol error
	fail  string // the status ("NNN reason") of a response that counts as a failure
}

// do sends the request and reads the whole response, on the kept
// connection if there is one. deadline (if not zero) bounds all of it,
// retry included.
func (c *client) do(deadline time.Time) (res result) {
	if c.t.err != nil {
		res.err = c.t.err
		return res
	}
	for attempt := 0; ; attempt++ {
		res.flags &^= Written | Responded // they are the last attempt's
		c.written = false
		if c.conn == nil {
			// Dialed even when the dial fails, as the event loop marks it.
			res.flags |= Dialed
			if res.err = c.dial(deadline); res.err != nil {
				return res
			}
		} else if !deadline.IsZero() {
			c.conn.SetDeadline(deadline)
		}
		reused := c.uses > 0
		var wrote, gotByte bool
		wrote, gotByte, res.err = c.roundTrip()
		if c.written {
			res.flags |= Written
		}
		if gotByte {
			res.flags |= Responded
		}
		if res.err == nil {
			c.uses++
			res.code, res.pid, res.fail = c.p.code, c.p.pid, c.p.status
			if !c.p.keep || !c.t.keep {
				c.close()
			}
			return res
		}
		c.close()
		if c.t.retryable(reused, wrote, gotByte, attempt, res.err) {
			res.flags |= Retried
			continue
		}
		return res
	}
}

func (c *client) dial(deadline time.Time) error {
	d := net.Dialer{Deadline: deadline, KeepAlive: -1}
	conn, err := d.Dial("tcp", c.t.addr)
	if err != nil {
		return err
	}
	if !deadline.IsZero() {
		conn.SetDeadline(deadline)
	}
	c.conn, c.uses = conn, 0
	c.buf.reset()
	return nil
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// roundTrip writes the request and reads one response; wrote says whether
// any byte of the request went out, gotByte whether any byte of a response
// arrived.
func (c *client) roundTrip() (wrote, gotByte bool, err error) {
	if n, err := c.conn.Write(c.t.req); err != nil {
		return n > 0, false, err
	}
	c.written = true
	c.p.reset()
	c.buf.reset()
	for {
		space, err := c.buf.space()
		if err != nil {
			return true, gotByte, err
		}
		n, err := c.conn.Read(space)
		c.buf.w += n
		gotByte = gotByte || n > 0
		if n > 0 {
			if perr := c.buf.parse(&c.p); perr != nil {
				return true, true, perr
			}
			if c.p.state == stDone {
				return true, true, nil
			}
		}
		if err == io.EOF {
			if !gotByte {
				return true, false, io.EOF
			}
			return true, true, c.p.eof()
		}
		if err != nil {
			return true, gotByte, err
		}
	}
}
