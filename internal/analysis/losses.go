package analysis

import (
	"strconv"
	"strings"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// Loss is where a lost request went: the mechanism that lost it, as far
// as the client's record tells it (package writeup cites the sources).
type Loss uint8

// The loss classes. Unattributed is a failure that fits none (an HTTP
// error status, a malformed response): shown, never dropped.
const (
	Unattributed Loss = iota
	// LostRefused: the connect was refused; nothing listened on the port.
	LostRefused
	// LostAcceptQueue: a new connection was reset before any response
	// byte: the server never read the request. The kernel resets the
	// connections still in a listener's accept queue when it closes
	// (inet_csk_listen_stop), and a process that closes an accepted
	// connection with the request unread resets it too (tcp_close,
	// TCPAbortOnClose); the counters of the window tell the two apart.
	LostAcceptQueue
	// LostAfterRead: the server read the request, then closed the
	// connection without an answer (EOF on a new connection: net/http's
	// serve loop returns when it finds the server shutting down after
	// reading a request), or cut its answer (some bytes, then EOF or RST).
	LostAfterRead
	// LostIdleClose: a connection opened before this request (kept
	// alive, or opened ahead) was closed under it before any answer and
	// the request was not sent again: Shutdown closing an idle
	// connection as the request arrived.
	LostIdleClose
	// LostTimeout: no answer within the timeout.
	LostTimeout
)

var lossNames = [...]string{"unattributed", "refused", "accept-queue reset", "closed after read", "idle keep-alive closed", "timeout"}

func (l Loss) String() string {
	if int(l) < len(lossNames) {
		return lossNames[l]
	}
	return "invalid"
}

// Losses lists the classes in report order, unattributed last.
func Losses() []Loss {
	return []Loss{LostRefused, LostAcceptQueue, LostAfterRead, LostIdleClose, LostTimeout, Unattributed}
}

// Attribute is the loss class of a failed record. flagsKnown says the
// records carry load.Written and load.Responded (FlagsKnown); without
// them a cut answer is known only from its error text.
func Attribute(rc load.Record, flagsKnown bool) Loss {
	switch rc.Class {
	case load.Refused:
		return LostRefused
	case load.Timeout:
		return LostTimeout
	case load.Reset, load.EOF:
		responded := rc.Flags.Has(load.Responded)
		if !flagsKnown {
			// Only the parser's unexpected EOF says bytes had come.
			responded = strings.Contains(rc.Err, "unexpected EOF")
		}
		switch {
		case responded:
			return LostAfterRead
		case !rc.Flags.Has(load.Dialed):
			return LostIdleClose
		case rc.Class == load.Reset:
			return LostAcceptQueue
		default:
			return LostAfterRead
		}
	}
	return Unattributed
}

// FlagsKnown says whether the records were made by an engine that sets
// load.Written (every answered request has it).
func FlagsKnown(recs []load.Record) bool {
	for i := range recs {
		if recs[i].Flags.Has(load.Written) {
			return true
		}
	}
	return false
}

// StopWindow names the stretch from the stop on.
const StopWindow = "stop"

// LossWindow is one stretch of a run: before the first reload, from a
// reload to when it settled (or to the next reload, without kernel
// readings), from then to the next, or from the stop on; its lost requests by class
// and the kernel's counters over its hand-over (or the stop).
type LossWindow struct {
	Name    string // "steady", "reload N", "stop"
	FromMS  float64
	ByClass map[Loss]int
	Kernel  *result.KernelDelta
}

// LossWindows attributes every failed record of r to one class and one
// window. A failure belongs where it was seen (its end); a timeout where
// it was sent, as it is seen only the timeout later.
func LossWindows(r *result.Result, recs []load.Record) []LossWindow {
	ws := []LossWindow{{Name: "steady", ByClass: map[Loss]int{}}}
	for _, rl := range r.Reloads {
		ws = append(ws, LossWindow{Name: "reload " + strconv.Itoa(rl.N), FromMS: rl.StartMS, ByClass: map[Loss]int{}, Kernel: rl.Kernel})
		if rl.Kernel != nil {
			// The counters end when the reload settled: what follows
			// until the next reload is a stretch without readings, so
			// a stretch's losses and its counters cover the same time.
			ws = append(ws, LossWindow{Name: "after reload " + strconv.Itoa(rl.N), FromMS: rl.Kernel.ToMS, ByClass: map[Loss]int{}})
		}
	}
	if r.Final.StopAtMS > 0 {
		ws = append(ws, LossWindow{Name: StopWindow, FromMS: r.Final.StopAtMS, ByClass: map[Loss]int{}, Kernel: r.Final.StopKernel})
	}
	known := FlagsKnown(recs)
	for i := range recs {
		rc := &recs[i]
		if rc.Class == load.OK {
			continue
		}
		at := rc.End()
		if rc.Class == load.Timeout {
			at = rc.Scheduled
		}
		w := 0
		for j := range ws {
			if Dur(ws[j].FromMS) <= at {
				w = j
			}
		}
		ws[w].ByClass[Attribute(*rc, known)]++
	}
	return ws
}
