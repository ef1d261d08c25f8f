package check

import (
	"fmt"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/result"
)

// Judgement is the host's verdict on one stored run.
type Judgement struct {
	ID string
	// Questions holds the outcome of each question the run's checks answer.
	Questions map[Question]result.Outcome
	Verdict   result.Verdict
}

// Judge judges a stored result with today's checks: the ones its kind
// lists, on what the result holds (its raw history, when it has one, is
// what the summary is computed from). It never changes r.
func Judge(r *result.Result) (Judgement, error) {
	j, _, err := judge(r)
	return j, err
}

// judge returns the judgement and the derived result it was made on.
func judge(r *result.Result) (Judgement, *result.Result, error) {
	k, err := kind.Find(r.Experiment)
	if err != nil {
		return Judgement{}, nil, fmt.Errorf("%s: %w", r.ID, err)
	}
	view, err := Derive(r)
	if err != nil {
		return Judgement{}, nil, fmt.Errorf("%s: %w", r.ID, err)
	}
	j := Judgement{ID: r.ID}
	for _, name := range k.Checks {
		c, ok := Find(name)
		if !ok {
			return Judgement{}, nil, fmt.Errorf("kind %s lists check %q, which is not registered", k.Name, name)
		}
		o, why := c.Eval(view)
		if o == "" {
			continue
		}
		j.Verdict.Checks = append(j.Verdict.Checks, result.Check{Name: c.Name, Outcome: o, Reason: why})
	}
	j.Verdict.Overall = Fold(j.Verdict.Checks)
	j.Questions = ByQuestion(j.Verdict)
	return j, view, nil
}

func (j Judgement) of(q Question) []result.Check {
	var out []result.Check
	for _, c := range j.Verdict.Checks {
		if cc, _ := Find(c.Name); cc.Question == q {
			out = append(out, c)
		}
	}
	return out
}

// Fold folds checks: any fail fails the whole (a failure seen is
// certain, whatever another check could not decide); otherwise any
// unknown makes it unknown (it must not pass on partial data). No checks
// is unknown.
func Fold(checks []result.Check) result.Outcome {
	if len(checks) == 0 {
		return result.Unknown
	}
	out := result.Pass
	for _, c := range checks {
		switch c.Outcome {
		case result.Fail:
			return result.Fail
		case result.Unknown:
			out = result.Unknown
		}
	}
	return out
}

// JudgeAll judges stored results for a report: each comes back as Derive
// makes it, with Verdict set to today's judgement. The stored results are
// not changed.
func JudgeAll(stored []*result.Result) ([]*result.Result, error) {
	out := make([]*result.Result, len(stored))
	for i, r := range stored {
		j, d, err := judge(r)
		if err != nil {
			return nil, err
		}
		c := *d
		c.Verdict = j.Verdict
		out[i] = &c
	}
	return out, nil
}

// ByQuestion folds a verdict's checks per question, as Judge does.
func ByQuestion(v result.Verdict) map[Question]result.Outcome {
	j := Judgement{Verdict: v}
	out := map[Question]result.Outcome{}
	run := j.of(Run)
	invalid := len(run) > 0 && Fold(run) == result.Unknown
	for _, q := range Questions {
		if cs := j.of(q); len(cs) > 0 {
			out[q] = Fold(cs)
			// An unusable run (the load fell behind, say) cannot vouch
			// for a pass; a failure it saw still happened.
			if invalid && out[q] == result.Pass {
				out[q] = result.Unknown
			}
		}
	}
	return out
}
