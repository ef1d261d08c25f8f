package runner

import (
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/kstat"
	"github.com/gracelab/gracelab/internal/result"
)

// kernelMark is a reading of the lab's TCP counters at a moment of the
// load's clock; a failed reading (no /proc/net) leaves no delta.
type kernelMark struct {
	at time.Duration
	c  kstat.Counters
}

func markKernel(e env, at time.Duration) kernelMark {
	if e.kernel == nil {
		return kernelMark{at: at}
	}
	c, _ := e.kernel()
	return kernelMark{at: at, c: c}
}

// to is the change from m to a reading now (at on the load's clock).
func (m kernelMark) to(e env, at time.Duration) *result.KernelDelta {
	end := markKernel(e, at)
	d := kstat.Delta(m.c, end.c)
	if d == nil {
		return nil
	}
	return &result.KernelDelta{FromMS: analysis.MS(m.at), ToMS: analysis.MS(at), Counters: d}
}

// closeStopKernel turns the reading stopUnit took before the stop (kept
// in StopKernel as absolute values until now) into the stop's delta, once
// the stop and the load are over.
func closeStopKernel(e env, r *result.Result) {
	k := r.Final.StopKernel
	if k == nil {
		return
	}
	var at time.Duration
	if !r.Load.Began.IsZero() {
		at = time.Since(r.Load.Began)
	}
	r.Final.StopKernel = kernelMark{at: analysis.Dur(k.FromMS), c: k.Counters}.to(e, at)
}

// openStopKernel reads the counters as the stop begins (see closeStopKernel).
func openStopKernel(e env, r *result.Result) {
	m := markKernel(e, 0)
	if m.c == nil {
		return
	}
	r.Final.StopKernel = &result.KernelDelta{FromMS: r.Final.StopAtMS, Counters: m.c}
}
