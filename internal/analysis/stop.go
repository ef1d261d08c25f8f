package analysis

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// SplitAtStop parts a run stopped under load at stopAt: the requests
// answered (or failed) before the stop began, which the reload questions
// judge, and the rest, which the stop is judged on.
func SplitAtStop(recs []load.Record, stopAt time.Duration) (before, after []load.Record) {
	for _, r := range recs {
		if r.Scheduled < stopAt && r.End() < stopAt {
			before = append(before, r)
		} else {
			after = append(after, r)
		}
	}
	return before, after
}

// Stop computes what the clients and the journal saw of a stop under
// load: recs are the requests SplitAtStop put after it, slow the run's
// slow requests, journal the unit's journal lines, started the wall-clock
// time the stop began.
func Stop(recs []load.Record, stopAt time.Duration, slow []result.SlowRequest, journal []string, started time.Time) *result.StopSummary {
	s := &result.StopSummary{}
	for _, r := range recs {
		if r.Sent < stopAt {
			s.InFlight++
			if r.Class == load.OK {
				s.InFlightOK++
			}
		} else {
			s.After++
			if r.Class == load.Refused {
				s.Refused++
			}
		}
		if r.Class != load.OK && r.Class != load.Refused {
			s.Lost++
			if s.LostByClass == nil {
				s.LostByClass = map[string]int{}
			}
			s.LostByClass[r.Class.String()]++
		}
	}
	for _, sr := range slow {
		if sr.AtStop {
			s.SlowTotal++
			if sr.Outcome == "completed" {
				s.SlowDone++
			}
		}
	}
	s.Signals = Signals(journal, started)
	return s
}

var (
	// systemd's unit_kill_context logs each SIGKILL (and SIGABRT) it sends.
	killedLine = regexp.MustCompile(`Killing process (\d+) \(.*\) with signal (SIG[A-Z0-9]+)`)
	// The sample servers log each signal they receive (package sample).
	receivedLine = regexp.MustCompile(`gracelab: PID (\d+) received (SIG[A-Z0-9]+)`)
)

// JournalStamp reads the time at the start of a line of `journalctl -o
// short-iso-precise`, and returns the rest of the line. systemd 252 writes
// the zone as +0000, 257 as +00:00.
func JournalStamp(line string) (time.Time, string, bool) {
	stamp, rest, _ := strings.Cut(line, " ")
	for _, layout := range []string{"2006-01-02T15:04:05.999999-0700", "2006-01-02T15:04:05.999999-07:00"} {
		if t, err := time.Parse(layout, stamp); err == nil {
			return t, rest, true
		}
	}
	return time.Time{}, line, false
}

// Signals lists the journal's signal lines from started on, with their
// time after it.
func Signals(journal []string, started time.Time) []result.SignalSeen {
	var out []result.SignalSeen
	for _, line := range journal {
		at, _, ok := JournalStamp(line)
		if !ok || at.Before(started) {
			continue
		}
		by, m := "systemd sent", killedLine.FindStringSubmatch(line)
		if m == nil {
			by, m = "server received", receivedLine.FindStringSubmatch(line)
		}
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		out = append(out, result.SignalSeen{AfterMS: MS(at.Sub(started)), PID: pid, Signal: m[2], By: by})
	}
	return out
}

// FirstSIGKILL is when systemd first sent SIGKILL after the stop began,
// and whether it did.
func FirstSIGKILL(s *result.StopSummary) (float64, bool) {
	for _, sig := range s.Signals {
		if sig.By == "systemd sent" && sig.Signal == "SIGKILL" {
			return sig.AfterMS, true
		}
	}
	return 0, false
}

// Figures computes a run's summary from its requests over the load
// window, and, for a unit stopped under load, the stop's figures: then
// the summary covers only what ended before the stop began.
func Figures(r *result.Result, recs []load.Record, window time.Duration) (result.Summary, *result.StopSummary) {
	var stop *result.StopSummary
	if r.Final.StopAtMS > 0 {
		stopAt := Dur(r.Final.StopAtMS)
		var after []load.Record
		recs, after = SplitAtStop(recs, stopAt)
		window = min(window, stopAt)
		stop = Stop(after, stopAt, r.Slow, r.Journal, r.Final.StopStarted)
	}
	rate := r.Load.Rate
	if r.AB != nil {
		rate = 0 // ab keeps no schedule and no records: nothing to fall behind
	}
	s := Summarize(recs, rate, window)
	s.SlowTotal, s.SlowDone = SlowCounts(r.Slow)
	if !r.Load.Began.IsZero() {
		s.DroppedAfterTermMS, s.DroppedNoTerm = DroppedAfterSIGTERM(recs, Signals(r.Journal, r.Load.Began))
	}
	s.DroppedAfterReloadMS = DroppedAfterReload(recs, r.Reloads)
	return s, stop
}

// maxDropped bounds the dropped requests kept per run.
const maxDropped = 100

// DroppedAfterSIGTERM times each request the server accepted and then
// dropped (EOF or reset) against the last SIGTERM a server process
// received before it ended: how long after it, in ms. sigs are the
// journal's signal lines on the load's clock.
func DroppedAfterSIGTERM(recs []load.Record, sigs []result.SignalSeen) (after []float64, noTerm int) {
	for _, r := range recs {
		if r.Class != load.EOF && r.Class != load.Reset {
			continue
		}
		end := MS(r.End())
		last := -1.0
		for _, s := range sigs {
			if s.By == "server received" && s.Signal == "SIGTERM" && s.AfterMS <= end {
				last = s.AfterMS
			}
		}
		switch {
		case last < 0:
			noTerm++
		case len(after) < maxDropped:
			after = append(after, end-last)
		}
	}
	return after, noTerm
}

// AlienFromJournal says whether systemd held pid, the main PID before the
// stop, as a process that is not its child: systemd decides that when it
// takes a main PID and logs "Supervising process N which is not our
// child" when so. "" when there is no main PID to ask about. It stands in
// where systemd-analyze dump could not be read (from systemd 254 on, dumps
// are rate-limited).
//
// Lines before since are left out: a daemon-reload (at since) makes
// systemd take the main PID anew, and log the line again if it still is
// not its child.
func AlienFromJournal(journal []string, pid int, since time.Time) string {
	if pid <= 0 {
		return ""
	}
	needle := "Supervising process " + strconv.Itoa(pid) + " which is not our child"
	for _, l := range journal {
		if !strings.Contains(l, needle) {
			continue
		}
		if at, _, ok := JournalStamp(l); ok && at.Before(since) {
			continue
		}
		return "yes"
	}
	return "no"
}

// DroppedAfterReload times each request accepted and then dropped (EOF
// or reset) against the start of the last reload before it ended, in ms;
// those before the first reload are left out.
func DroppedAfterReload(recs []load.Record, reloads []result.Reload) []float64 {
	var out []float64
	for _, r := range recs {
		if r.Class != load.EOF && r.Class != load.Reset {
			continue
		}
		end, last := MS(r.End()), -1.0
		for _, rl := range reloads {
			if rl.StartMS <= end {
				last = rl.StartMS
			}
		}
		if last >= 0 && len(out) < maxDropped {
			out = append(out, end-last)
		}
	}
	return out
}
