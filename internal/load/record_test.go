package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	opErr := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", e)}
	}
	cases := []struct {
		name string
		code int
		err  error
		text string
		want Class
	}{
		{"200", 200, nil, "", OK},
		{"302", 302, nil, "", OK},
		{"503", 503, nil, "", HTTP5xx},
		{"404", 404, nil, "", HTTPOther},
		{"refused errno", 0, opErr(syscall.ECONNREFUSED), "", Refused},
		{"reset errno", 0, opErr(syscall.ECONNRESET), "", Reset},
		{"deadline", 0, fmt.Errorf("read: %w", os.ErrDeadlineExceeded), "", Timeout},
		{"refused text", 0, nil, `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`, Refused},
		{"reset text", 0, nil, "read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer", Reset},
		{"eof text", 0, nil, `Get "http://x/": EOF`, EOF},
		{"eof wrapped", 0, fmt.Errorf("get: %w", io.ErrUnexpectedEOF), "", EOF},
		{"client timeout", 0, nil, `Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, Timeout},
		{"5xx with status text", 502, nil, "502 Bad Gateway", HTTP5xx},
		{"unknown", 0, errors.New("something odd"), "", Other},
	}
	for _, c := range cases {
		if got := Classify(c.code, c.err, c.text); got != c.want {
			t.Errorf("%s: Classify = %v, want %v", c.name, got, c.want)
		}
	}
}
