package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/gracelab/gracelab/servers/sample"
)

// target is the one request a load sends, prepared once: the bytes of a
// GET request and where to send them.
type target struct {
	url     string
	addr    string // host:port to dial
	req     []byte // the whole request, written as is
	keep    bool
	timeout time.Duration
	err     error // a URL this client cannot send to
}

func newTarget(cfg Config) *target {
	t := &target{url: cfg.URL, keep: cfg.KeepAlive, timeout: cfg.Timeout}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		t.err = err
		return t
	case u.Scheme != "http":
		t.err = fmt.Errorf("unsupported scheme %q (only http)", u.Scheme)
		return t
	case u.Host == "":
		t.err = errors.New("no host in URL")
		return t
	}
	t.addr = u.Host
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gracelab\r\n", u.RequestURI(), u.Host)
	if !cfg.KeepAlive {
		// What net/http sends with DisableKeepAlives.
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	t.req = b.Bytes()
	return t
}

// client is one worker's HTTP/1.1 client: at most one connection, used for
// one request at a time, no goroutines of its own, nothing allocated per
// request on success.
type client struct {
	t    *target
	conn net.Conn
	br   *bufio.Reader
	uses int // requests completed on conn
}

func newClient(t *target) *client {
	return &client{t: t, br: bufio.NewReaderSize(nil, 4096)}
}

// result is what one request saw.
type result struct {
	code  int
	pid   int32
	flags Flags
	err   error  // transport or protocol error
	fail  string // text of an HTTP status that counts as a failure
}

// do sends the request and reads the whole response, on the kept
// connection if there is one. deadline bounds all of it, retry included.
func (c *client) do(deadline time.Time) (res result) {
	if c.t.err != nil {
		res.err = c.t.err
		return res
	}
	for attempt := 0; ; attempt++ {
		if c.conn == nil {
			if res.err = c.dial(deadline); res.err != nil {
				return res
			}
			res.flags |= Dialed
		} else if c.t.timeout > 0 {
			c.conn.SetDeadline(deadline)
		}
		reused := c.uses > 0
		var keep, gotByte bool
		res.code, res.pid, res.fail, keep, gotByte, res.err = c.roundTrip()
		if res.err == nil {
			c.uses++
			if !keep || !c.t.keep {
				c.close()
			}
			return res
		}
		c.close()
		// net/http's rule for idempotent requests: a reused connection
		// that failed before the first response byte was most likely
		// closed by the server while idle; send again on a new one.
		if reused && !gotByte && attempt == 0 && !errors.Is(res.err, os.ErrDeadlineExceeded) {
			res.flags |= Retried
			res.code, res.pid = 0, 0
			continue
		}
		return res
	}
}

func (c *client) dial(deadline time.Time) error {
	d := net.Dialer{KeepAlive: -1}
	if c.t.timeout > 0 {
		d.Deadline = deadline
	}
	conn, err := d.Dial("tcp", c.t.addr)
	if err != nil {
		return err
	}
	if c.t.timeout > 0 {
		conn.SetDeadline(deadline)
	}
	c.conn, c.uses = conn, 0
	c.br.Reset(conn)
	return nil
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
		c.br.Reset(nil)
	}
}

var (
	errHeaderTooLong = errors.New("malformed HTTP response: header line too long")
	errMalformed     = errors.New("malformed HTTP response")
)

// roundTrip writes the request and reads one response, discarding its
// body. status is the status line's "NNN reason" when the code counts as
// a failure (as net/http's Response.Status), keep says whether the
// connection may carry another request, gotByte whether any byte of a
// response arrived.
func (c *client) roundTrip() (code int, pid int32, status string, keep, gotByte bool, err error) {
	if _, err = c.conn.Write(c.t.req); err != nil {
		return 0, 0, "", false, false, err
	}
	if _, err = c.br.Peek(1); err != nil {
		return 0, 0, "", false, false, err
	}
	code, pid, status, keep, err = c.readResponse()
	return code, pid, status, keep, true, err
}

func (c *client) readResponse() (code int, pid int32, status string, keep bool, err error) {
	for {
		var line []byte
		if line, err = c.readLine(); err != nil {
			return 0, 0, "", false, err
		}
		// "HTTP/1.x NNN reason"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
			return 0, 0, "", false, errMalformed
		}
		code = 0
		for _, d := range line[9:12] {
			if d < '0' || d > '9' {
				return 0, 0, "", false, errMalformed
			}
			code = code*10 + int(d-'0')
		}
		if code < 200 || code >= 400 {
			status = string(line[9:])
		}
		keep = line[7] == '1' // HTTP/1.1 keeps alive unless told; 1.0 closes unless told
		length, chunked := int64(-1), false
		for {
			if line, err = c.readLine(); err != nil {
				return 0, 0, "", false, err
			}
			if len(line) == 0 {
				break
			}
			i := bytes.IndexByte(line, ':')
			if i <= 0 {
				continue
			}
			name, val := line[:i], bytes.TrimSpace(line[i+1:])
			switch {
			case len(name) == len(sample.HeaderPID) && bytes.EqualFold(name, []byte(sample.HeaderPID)):
				if n, ok := atoi(val); ok {
					pid = int32(n)
				}
			case bytes.EqualFold(name, []byte("Content-Length")):
				n, ok := atoi(val)
				if !ok {
					return 0, 0, "", false, errMalformed
				}
				length = n
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				chunked = bytes.EqualFold(val, []byte("chunked"))
			case bytes.EqualFold(name, []byte("Connection")):
				if bytes.EqualFold(val, []byte("close")) {
					keep = false
				} else if bytes.EqualFold(val, []byte("keep-alive")) {
					keep = true
				}
			}
		}
		if code >= 100 && code < 200 && code != 101 {
			continue // an interim response; the real one follows
		}
		switch {
		case code == 204 || code == 304 || code == 101:
		case chunked:
			err = c.discardChunked()
		case length >= 0:
			_, err = c.br.Discard(int(length))
		default:
			// No length: the body ends when the server closes.
			_, err = io.Copy(io.Discard, c.br)
			keep = false
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return code, pid, status, keep, err
	}
}

// readLine returns one line without its line end; the slice is valid until
// the next read.
func (c *client) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errHeaderTooLong
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func (c *client) discardChunked() error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := hextoi(bytes.TrimSpace(line))
		if !ok {
			return errMalformed
		}
		if size == 0 {
			for { // trailer
				if line, err = c.readLine(); err != nil || len(line) == 0 {
					return err
				}
			}
		}
		if _, err := c.br.Discard(int(size)); err != nil {
			return err
		}
		if line, err = c.readLine(); err != nil {
			return err
		} else if len(line) != 0 {
			return errMalformed
		}
	}
}

func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

func hextoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		switch {
		case d >= '0' && d <= '9':
			d -= '0'
		case d >= 'a' && d <= 'f':
			d -= 'a' - 10
		case d >= 'A' && d <= 'F':
			d -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}
