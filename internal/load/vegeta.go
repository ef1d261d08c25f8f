package load

import (
	"context"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/gracelab/gracelab/internal/protocol"
)

// startVegeta is the former engine: vegeta's attacker over net/http. It
// spawns a goroutine per request as needed, hands each result over a
// channel and allocates a header map, a body buffer and a result per
// request, which holds it near 10,000 req/s on two cores; kept so the
// benchmark can compare against it.
func (r *Run) startVegeta(ctx context.Context) {
	atk := vegeta.NewAttacker(
		vegeta.KeepAlive(r.cfg.KeepAlive),
		vegeta.Timeout(r.cfg.Timeout),
		vegeta.MaxBody(0),
		vegeta.Redirects(vegeta.NoFollow),
	)
	r.vegetaStop = func() { atk.Stop() }
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: r.cfg.URL})
	rate := vegeta.Rate{Freq: r.cfg.Rate, Per: time.Second}
	r.recs = make([]Record, 0, r.total+16)
	r.Began = time.Now()
	results := atk.Attack(tr, rate, r.cfg.Duration, "gracelab")
	r.stopOnCancel(ctx)
	go func() {
		defer close(r.done)
		var lastPID int32
		for res := range results {
			rec := r.vegetaRecord(res)
			r.noteVersion(&lastPID, &rec, []byte(res.Headers.Get(protocol.HeaderVersion)))
			if rec.Class != OK {
				r.nFail.Add(1)
			}
			r.nDone.Add(1)
			r.recs = append(r.recs, rec)
		}
	}()
}

func (r *Run) vegetaRecord(res *vegeta.Result) Record {
	// vegeta numbers requests in the order they go out, on its schedule.
	sched := At(r.cfg.Rate, int(res.Seq))
	sent := res.Timestamp.Sub(r.Began)
	rec := Record{
		Scheduled: sched,
		Sent:      sent,
		Latency:   sent + res.Latency - sched,
		Code:      res.Code,
	}
	rec.Class = Classify(int(res.Code), nil, res.Error)
	if rec.Class != OK {
		rec.Err = r.interned.get(res.Error)
	}
	if pid, err := strconv.Atoi(res.Headers.Get(protocol.HeaderPID)); err == nil {
		rec.PID = int32(pid)
	}
	return rec
}
