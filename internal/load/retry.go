package load

import (
	"errors"
	"os"
)

// retryable is net/http's rule for sending a request again on a new
// connection after its attempt on a kept one failed: Transport.roundTrip's
// loop (L673-L748) asks persistConn.shouldRetryRequest (L818-L863), in
// go1.26.8, the toolchain the lab builds with:
// https://github.com/golang/go/blob/go1.26.8/src/net/http/transport.go#L818-L863
//
//   - only on a reused connection, and (here) only once: a fresh one that
//     fails says the server is gone or refuses, not that it closed an idle
//     connection;
//   - a request of which no byte was written goes again whatever its
//     method (nothingWrittenError, L842-L846): this engine's body is a
//     byte slice, which net/http rewinds with GetBody;
//   - otherwise only a replayable request (GET; a POST only with an
//     Idempotency-Key header, request.go L1534-L1548), and only when not
//     a byte of the response came (transportReadFromServerError or
//     errServerClosedIdle, L847-L861).
//
// A request that ran out of time is never sent again.
func (t *target) retryable(reused, wrote, gotByte bool, attempt int, err error) bool {
	switch {
	case !reused || attempt > 0 || errors.Is(err, os.ErrDeadlineExceeded):
		return false
	case !wrote:
		return true
	}
	return !t.post && !gotByte
}
