package host

import (
	"fmt"
	"io"
	"strings"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// PrintSummary writes what one run showed, in the words of issue 2: counts,
// failures by class, longest gap, latency, PIDs and systemd's view.
func PrintSummary(w io.Writer, r *result.Result) {
	s := r.Summary
	j, err := check.Judge(r)
	if err != nil {
		fmt.Fprintf(w, "%s: cannot judge: %v\n", r.ID, err)
	}
	fmt.Fprintf(w, "%s/%s (%s) on %s, systemd %s: %s\n", r.Server, r.Variant, r.Profile, r.Env.Distro, r.Env.SystemdVersion, questionsText(j))
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  run error: %s\n", e)
	}
	fmt.Fprintf(w, "  requests: sent %d, ok %d, failed %d (%s)\n", s.Sent, s.OK, s.Failed, analysis.ClassList(s.ByClass))
	fmt.Fprintf(w, "  longest gap without a success: %.0f ms (from %.2f s)\n", s.LongestGapMS, s.GapStartMS/1000)
	fmt.Fprintf(w, "  latency from scheduled send: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", s.P50MS, s.P99MS, s.MaxMS)
	fmt.Fprintf(w, "  load: %.0f/s of %.0f/s, send lag p99 %.1f ms, fell behind: %v\n", s.AchievedRate, s.TargetRate, s.SendLagP99MS, s.FellBehind)
	if s.SlowTotal > 0 {
		fmt.Fprintf(w, "  slow in-flight requests: %d of %d completed\n", s.SlowDone, s.SlowTotal)
	}
	for _, rl := range r.Reloads {
		tracked, why := check.Tracked(rl.Settled)
		fmt.Fprintf(w, "  reload %d at %.1fs (%s, exit %d, %.0f ms): serving PID %d -> %d; systemd MainPID %d %s/%s; tracks: %v (%s)\n",
			rl.N, rl.StartMS/1000, rl.Command, rl.Exit, rl.TookMS, rl.Before.ServingPID, rl.Settled.ServingPID,
			rl.Settled.MainPID, rl.Settled.ActiveState, rl.Settled.SubState, yesNo(tracked), why)
	}
	f := r.Final
	fmt.Fprintf(w, "  final: unit %s/%s (result %s, MainPID %d, restarts %d); after stop: %d processes left, unit removed: %v\n",
		f.Snapshot.ActiveState, f.Snapshot.SubState, f.Snapshot.Result, f.Snapshot.MainPID, f.Snapshot.NRestarts, len(f.ProcessesLeft), yesNo(f.UnitRemoved))
	for _, c := range j.Verdict.Checks {
		fmt.Fprintf(w, "  %-7s %s: %s\n", c.Outcome, c.Name, c.Reason)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// questionsText is each question's verdict, "requests pass, tracking fail, ...".
func questionsText(j check.Judgement) string {
	var parts []string
	for _, q := range check.Questions {
		if o, ok := j.Questions[q]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", q, strings.ToUpper(string(o))))
		}
	}
	if len(parts) == 0 {
		return "no verdict"
	}
	return strings.Join(parts, ", ")
}

// judgementLine is a stored run judged now, in one line.
func judgementLine(r *result.Result) string {
	j, err := check.Judge(r)
	if err != nil {
		return "cannot judge: " + err.Error()
	}
	return questionsText(j)
}
