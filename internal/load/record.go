// Package load runs open-loop HTTP load and records every request: when it
// was scheduled, when it went out, how long it took from its scheduled time,
// how it ended and which process served it.
package load

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// Class is how a request ended.
type Class uint8

// Request outcomes; everything but OK is a failure.
const (
	OK Class = iota
	Refused
	Reset
	EOF
	Timeout
	HTTP5xx
	HTTPOther
	Other
)

var classNames = [...]string{"ok", "refused", "reset", "eof", "timeout", "http_5xx", "http_other", "other"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "invalid"
}

// FailureClasses lists the failure classes in report order.
func FailureClasses() []Class {
	return []Class{Refused, Reset, EOF, Timeout, HTTP5xx, HTTPOther, Other}
}

// Record is one request. Offsets are from the start of the load, so a
// record needs no absolute time and stays small: 48 bytes on 64-bit
// platforms (Flags fills what was padding). Err is empty for successes, and
// failure texts are interned, so a million records of an outage share a
// handful of strings.
type Record struct {
	Scheduled time.Duration // when the schedule said to send it
	Sent      time.Duration // when it actually went out
	Latency   time.Duration // from Scheduled to the end of the response
	PID       int32         // serving process, from the response header
	Code      uint16
	Class     Class
	Flags     Flags
	Err       string // only for failures
}

// Flags say how a request used its connection.
type Flags uint8

// Connection events of one request.
const (
	// Dialed: the request opened a new TCP connection (always so without
	// keep-alive).
	Dialed Flags = 1 << iota
	// Retried: the first attempt on a reused keep-alive connection failed
	// before any response byte arrived (the server had closed it), and the
	// request was sent again on a new connection, as net/http's Transport
	// does for idempotent requests. Latency covers both attempts.
	Retried
	// Written: the last attempt's request was fully written to the socket.
	Written
	// Responded: some byte of a response arrived on the last attempt. With
	// Written and Dialed it tells, for a failure, whether the server had
	// the request and started answering (package analysis attributes
	// losses by them).
	Responded
)

// Has reports whether all of f2 are set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// End is when the request ended, as an offset from the start.
func (r *Record) End() time.Duration { return r.Scheduled + r.Latency }

// Classify turns an HTTP status and a client error into a class. Errors
// arrive as strings from some clients, so both forms are understood.
func Classify(code int, err error, errText string) Class {
	if err == nil && errText == "" {
		switch {
		case code >= 200 && code < 400:
			return OK
		case code >= 500:
			return HTTP5xx
		default:
			return HTTPOther
		}
	}
	if err != nil {
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return EOF
		case errors.Is(err, syscall.ECONNREFUSED):
			return Refused
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
			return Reset
		case errors.Is(err, os.ErrDeadlineExceeded):
			return Timeout
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return Timeout
		}
		errText = err.Error()
	}
	return classifyText(code, errText)
}

func classifyText(code int, s string) Class {
	switch {
	case strings.Contains(s, "connection refused"):
		return Refused
	case strings.Contains(s, "connection reset"), strings.Contains(s, "broken pipe"):
		return Reset
	case strings.Contains(s, "Timeout"), strings.Contains(s, "timeout"), strings.Contains(s, "deadline exceeded"):
		return Timeout
	case strings.HasSuffix(s, "EOF"), strings.Contains(s, "server closed idle connection"):
		return EOF
	case code >= 500:
		return HTTP5xx
	case code >= 400:
		return HTTPOther
	}
	return Other
}
