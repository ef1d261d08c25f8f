package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
)

// target is the one request a load sends, prepared once: the bytes of a
// GET (or POST) request and where to send them.
type target struct {
	url     string
	addr    string // host:port to dial
	req     []byte // the whole request, written as is
	keep    bool
	post    bool // POST with PostBody: not idempotent (see retryable)
	timeout time.Duration
	err     error // a URL this client cannot send to
}

func newTarget(cfg Config) *target {
	t := &target{url: cfg.URL, keep: cfg.KeepAlive, timeout: cfg.Timeout}
	switch cfg.Method {
	case "", "GET":
	case "POST":
		t.post = true
	default:
		t.err = fmt.Errorf("method %q: the engines send GET or POST", cfg.Method)
		return t
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		t.err = err
		return t
	case u.Scheme != "http":
		t.err = fmt.Errorf("unsupported protocol scheme %q (only http)", u.Scheme)
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
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gracelab\r\n", t.method(), u.RequestURI(), u.Host)
	if t.post {
		// As net/http writes a body of known length (bytes.Reader).
		fmt.Fprintf(&b, "Content-Length: %d\r\nContent-Type: application/x-www-form-urlencoded\r\n", len(PostBody))
	}
	if !cfg.KeepAlive {
		// What net/http sends with DisableKeepAlives.
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	if t.post {
		b.WriteString(PostBody)
	}
	t.req = b.Bytes()
	return t
}

// PostBody is what a POST load sends: a small form, as a client posting
// an event or a login would.
const PostBody = "event=reload&source=gracelab"

func (t *target) method() string {
	if t.post {
		return "POST"
	}
	return "GET"
}

// Limits of what a response may be.
const (
	maxHeaderBytes = 64 << 10
	readBufSize    = 4 << 10
)

var (
	errMalformed     = errors.New("malformed HTTP response")
	errHeaderTooLong = fmt.Errorf("server response headers exceeded %d bytes; aborted", maxHeaderBytes)
)

type parseState uint8

const (
	stStatus parseState = iota
	stHeaders
	stBody      // length bytes left
	stChunkSize // a chunk-size line
	stChunkData // chunk bytes left
	stChunkEnd  // the CRLF after a chunk
	stTrailer
	stUntilEOF // no length: the body ends when the server closes
	stDone
)

// parser reads one HTTP/1.x response incrementally from whatever bytes
// have arrived, keeping only the status, the serving PID and version and
// whether the connection stays open; the body is counted and dropped. It
// allocates nothing for a successful response.
type parser struct {
	state   parseState
	code    int
	pid     int32
	keep    bool
	chunked bool
	left    int64  // body or chunk bytes still to come
	status  string // "NNN reason" when the code counts as a failure
	// ver is the version header's value, copied out of the read buffer
	// (which the next read may overwrite) into a buffer kept across
	// responses.
	ver []byte
}

func (p *parser) reset() { *p = parser{ver: p.ver[:0]} }

// feed consumes what it can of b and returns how many bytes it used. It
// needs a whole line for the status line, headers and chunk sizes: when b
// holds no line end it uses nothing, and the caller reads more.
func (p *parser) feed(b []byte) (int, error) {
	used := 0
	for p.state != stDone {
		rest := b[used:]
		switch p.state {
		case stBody, stChunkData:
			n := int(min(int64(len(rest)), p.left))
			p.left -= int64(n)
			used += n
			if p.left > 0 {
				return used, nil
			}
			if p.state == stBody {
				p.state = stDone
			} else {
				p.state = stChunkEnd
			}
			continue
		case stUntilEOF:
			return len(b), nil
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return used, nil
		}
		line := rest[:i]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		used += i + 1
		if err := p.line(line); err != nil {
			return used, err
		}
	}
	return used, nil
}

func (p *parser) line(line []byte) error {
	switch p.state {
	case stStatus:
		// "HTTP/1.x NNN reason"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
			return errMalformed
		}
		code := 0
		for _, d := range line[9:12] {
			if d < '0' || d > '9' {
				return errMalformed
			}
			code = code*10 + int(d-'0')
		}
		*p = parser{state: stHeaders, code: code, left: -1, ver: p.ver[:0]}
		p.keep = line[7] == '1' // HTTP/1.1 keeps alive unless told; 1.0 closes unless told
		if code < 200 || code >= 400 {
			p.status = string(line[9:])
		}
	case stHeaders:
		if len(line) > 0 {
			return p.header(line)
		}
		switch {
		case p.code >= 100 && p.code < 200 && p.code != 101:
			p.state = stStatus // an interim response; the real one follows
		case p.code == 204 || p.code == 304 || p.code == 101:
			p.state = stDone
		case p.chunked:
			p.state = stChunkSize
		case p.left >= 0:
			p.state = stBody
			if p.left == 0 {
				p.state = stDone
			}
		default:
			p.state, p.keep = stUntilEOF, false
		}
	case stChunkSize:
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, ok := hextoi(bytes.TrimSpace(line))
		if !ok {
			return errMalformed
		}
		p.left, p.state = n, stChunkData
		if n == 0 {
			p.state = stTrailer
		}
	case stChunkEnd:
		if len(line) != 0 {
			return errMalformed
		}
		p.state = stChunkSize
	case stTrailer:
		if len(line) == 0 {
			p.state = stDone
		}
	}
	return nil
}

func (p *parser) header(line []byte) error {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil
	}
	name, val := line[:i], bytes.TrimSpace(line[i+1:])
	switch {
	case headerIs(name, protocol.HeaderPID):
		if n, ok := atoi(val); ok && n <= 1<<31-1 {
			p.pid = int32(n)
		}
	case headerIs(name, protocol.HeaderVersion):
		p.ver = append(p.ver[:0], val...)
	case headerIs(name, "Content-Length"):
		n, ok := atoi(val)
		if !ok {
			return errMalformed
		}
		p.left = n
	case headerIs(name, "Transfer-Encoding"):
		p.chunked = bytes.EqualFold(val, []byte("chunked"))
	case headerIs(name, "Connection"):
		if bytes.EqualFold(val, []byte("close")) {
			p.keep = false
		} else if bytes.EqualFold(val, []byte("keep-alive")) {
			p.keep = true
		}
	}
	return nil
}

// headerIs compares lengths first: most header names then cost no call.
func headerIs(name []byte, h string) bool {
	return len(name) == len(h) && bytes.EqualFold(name, []byte(h))
}

// eof is the server closing the connection: the end of a body without a
// length, otherwise a response cut short.
func (p *parser) eof() error {
	if p.state == stUntilEOF {
		p.state = stDone
		return nil
	}
	return io.ErrUnexpectedEOF
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

// rbuf is a connection's read buffer: bytes [r, w) arrived and are not
// parsed yet. It grows for long headers, up to maxHeaderBytes.
type rbuf struct {
	b    []byte
	r, w int
}

// space makes room to read into and returns it.
func (b *rbuf) space() ([]byte, error) {
	if b.b == nil {
		b.b = make([]byte, readBufSize)
	}
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
	if b.w == len(b.b) {
		if b.r > 0 {
			b.w = copy(b.b, b.b[b.r:b.w])
			b.r = 0
		} else if len(b.b) < maxHeaderBytes {
			nb := make([]byte, 2*len(b.b))
			copy(nb, b.b)
			b.b = nb
		} else {
			return nil, errHeaderTooLong
		}
	}
	return b.b[b.w:], nil
}

// parse feeds what arrived to p. When the response is done, bytes left
// over (which a server must not send) make the connection unfit for the
// next request.
func (b *rbuf) parse(p *parser) error {
	n, err := p.feed(b.b[b.r:b.w])
	b.r += n
	if p.state == stDone && b.r != b.w {
		p.keep = false
	}
	return err
}

func (b *rbuf) reset() { b.r, b.w = 0, 0 }
