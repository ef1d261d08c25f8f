package check

import (
	"fmt"
	"strings"

	"github.com/gracelab/gracelab/internal/result"
)

// The checks of runs whose client was ab (experiment hup-2015), judged
// from ab's report alone; appended to the registry, after the others.
func init() { Registry = append(Registry, abChecks...) }

var abChecks = []Check{
	{
		Name: "ab_report_read", Question: Run,
		Says: "ab ran to its end and its report (Complete requests, Failed requests) was read; otherwise the run is unknown.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			a := r.AB
			switch {
			case a == nil:
				return "", ""
			case !a.Parsed:
				return unknown("ab printed no report (exit %d)%s", a.Exit, abAborted(a))
			case a.Complete == 0:
				return unknown("ab completed no request (exit %d)", a.Exit)
			}
			return pass("ab completed %d requests in %.1f s", a.Complete, a.TimeTakenS)
		},
	},
	{
		Name: "ab_no_failed_requests", Question: Requests,
		Says: "ab counted no failed request (Connect, Receive, Length or Exceptions) and no non-2xx response. " +
			"ab compares each body's length with the first one's, so a connection closed before a full response " +
			"(EOF, nothing read) counts as Length; the body of `/` has a fixed length, so Length is never another PID's body.",
		Eval: func(r *result.Result) (result.Outcome, string) {
			a := r.AB
			switch {
			case a == nil:
				return "", ""
			case !a.Parsed && strings.Contains(a.Aborted, "Test aborted after"):
				// ab gives up after more than 10 failed connects.
				return fail("ab gave up before its report: %s", a.Aborted)
			case !a.Parsed:
				return unknown("ab's report was not read (exit %d)%s", a.Exit, abAborted(a))
			case a.Failed == 0 && a.Non2xx == 0:
				return pass("ab: 0 of %d requests failed, no non-2xx response", a.Complete)
			}
			return fail("ab: %d of %d requests failed (%s), %d non-2xx responses", a.Failed, a.Complete, ABBreakdown(a), a.Non2xx)
		},
	},
}

// ABBreakdown is ab's failure breakdown in words.
func ABBreakdown(a *result.AB) string {
	return fmt.Sprintf("connect %d, receive %d, length %d, exceptions %d", a.Connect, a.Receive, a.Length, a.Exceptions)
}

func abAborted(a *result.AB) string {
	if a.Aborted == "" {
		return ""
	}
	return ": " + a.Aborted
}
