// Package loadtest makes load records for the tests of code that reads
// them, as net/http/httptest serves the tests of HTTP code.
package loadtest

import (
	"time"

	"github.com/gracelab/gracelab/internal/load"
)

// Steady makes n records scheduled every step, sent on time, all ok,
// served by pid, each taking lat.
func Steady(n int, step, lat time.Duration, pid int32) []load.Record {
	recs := make([]load.Record, n)
	for i := range recs {
		s := time.Duration(i) * step
		recs[i] = load.Record{Scheduled: s, Sent: s, Latency: lat, PID: pid, Code: 200, Class: load.OK}
	}
	return recs
}

// Fail makes records from..to-1 failures of class c, served by nobody.
func Fail(recs []load.Record, from, to int, c load.Class) {
	for i := from; i < to; i++ {
		recs[i].Class, recs[i].Code, recs[i].PID = c, 0, 0
	}
}
