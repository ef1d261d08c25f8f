package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one open-loop load: Rate requests per second for Duration.
type Config struct {
	URL       string
	Rate      int
	Duration  time.Duration
	KeepAlive bool // false: a new TCP connection for every request
	Timeout   time.Duration

	// Workers is how many senders start (0: a few, by rate). Each owns at
	// most one connection and sends one request at a time.
	Workers int
	// MaxWorkers bounds the senders the engine adds when every sender is
	// busy and a request is due (a stalled server); 0 means 10000, as
	// vegeta's connection limit. At the bound, requests go out late and
	// the run shows as fallen behind.
	MaxWorkers int
	// Client chooses the HTTP client: Direct (the default) or Vegeta (the
	// former engine, kept to compare against).
	Client Client
}

// Client is an HTTP client the engine can send with.
type Client uint8

// Clients.
const (
	// Direct: fixed senders, each with its own connection, each taking the
	// next request off a precomputed schedule; a minimal HTTP/1.1 client
	// that allocates nothing per successful request.
	Direct Client = iota
	// Vegeta: vegeta's attacker over net/http, one result per request.
	Vegeta
)

func (c Client) String() string {
	if c == Vegeta {
		return "vegeta"
	}
	return "direct"
}

// Progress is a running count for the progress line.
type Progress struct {
	Elapsed time.Duration
	Done    int64
	Failed  int64
	// Behind is how late the next request of the schedule is that no
	// sender has taken yet; above zero every sender is busy.
	Behind time.Duration
	// Workers is how many senders there are now, Peak the most so far.
	Workers, Peak int
}

// Run is a load in progress.
type Run struct {
	Began time.Time
	cfg   Config
	t     *target
	total int64 // requests in the schedule

	recs    []Record
	next    atomic.Int64 // next sequence number to take
	nDone   atomic.Int64
	nFail   atomic.Int64
	workers atomic.Int64 // senders now
	busy    atomic.Int64 // senders in a request
	peak    atomic.Int64 // most senders at once
	base    int          // senders at the start, never retired
	max     int

	idle     pool
	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	interned interner

	vegetaStop func()
}

// Planned is how many requests the schedule holds: Rate × Duration.
func Planned(rate int, d time.Duration) int {
	if rate <= 0 || d <= 0 {
		return 0
	}
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// At is request i's scheduled time, as an offset from the start: requests
// are evenly spaced, i/Rate seconds, without rounding drift.
func At(rate, i int) time.Duration {
	return time.Duration(int64(i) * int64(time.Second) / int64(rate))
}

// Start begins the load. Requests go out on a fixed schedule whatever the
// server does (open loop): request i is due at At(Rate, i), a sender takes
// it, waits for its time and sends it, and its latency counts from that
// scheduled time. A stalled server shows as latency and failures, not as
// fewer requests; when every sender is busy more are added (up to
// MaxWorkers), and a request that still goes out late carries the delay in
// its latency and in Sent-Scheduled.
func Start(ctx context.Context, cfg Config) *Run {
	r := &Run{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	r.total = int64(Planned(cfg.Rate, cfg.Duration))
	if cfg.Client == Vegeta {
		r.startVegeta(ctx)
		return r
	}
	r.t = newTarget(cfg)
	r.recs = make([]Record, r.total)
	r.max = cfg.MaxWorkers
	if r.max <= 0 {
		r.max = 10000
	}
	n := cfg.Workers
	if n <= 0 {
		// Enough for a fast server at this rate; more come when needed.
		n = 2 + cfg.Rate/2000
	}
	n = int(min(int64(min(n, r.max)), max(r.total, 1)))
	r.base = n
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = newClient(r.t)
	}
	if cfg.KeepAlive {
		// A keep-alive client has its connections open when the load
		// starts; dial them before the clock starts, within a second.
		deadline := time.Now().Add(time.Second)
		for _, c := range clients {
			if c.t.err != nil || time.Now().After(deadline) || c.dial(deadline) != nil {
				break
			}
		}
	}
	r.Began = time.Now()
	r.wg.Add(n + 1)
	r.workers.Add(int64(n))
	r.peak.Store(int64(n))
	for _, c := range clients {
		go r.worker(c)
	}
	go r.supervise()
	go func() {
		r.wg.Wait()
		r.idle.closeAll()
		r.recs = r.finish()
		close(r.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			r.Stop()
		case <-r.done:
		}
	}()
	return r
}

// abandoned marks a record whose request was taken but never sent (Stop).
const abandoned Class = 0xff

// worker takes the next request off the schedule, waits for its time,
// sends it and records it in its own slot; no locks, no channels, no
// allocation on success.
func (r *Run) worker(c *client) {
	defer r.wg.Done()
	var timer *time.Timer
	for {
		if r.retire() {
			r.idle.put(c)
			return
		}
		i := r.next.Add(1) - 1
		if i >= r.total {
			r.workers.Add(-1)
			c.close()
			return
		}
		rec := &r.recs[i]
		sched := At(r.cfg.Rate, int(i))
		if wait := sched - time.Since(r.Began); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-r.stop:
				rec.Class = abandoned
				r.workers.Add(-1)
				c.close()
				return
			}
		} else if r.stopped() {
			rec.Class = abandoned
			r.workers.Add(-1)
			c.close()
			return
		}
		sent := time.Since(r.Began)
		var deadline time.Time
		if r.cfg.Timeout > 0 {
			deadline = r.Began.Add(sent + r.cfg.Timeout)
		}
		r.busy.Add(1)
		res := c.do(deadline)
		end := time.Since(r.Began)
		r.busy.Add(-1)
		*rec = Record{
			Scheduled: sched,
			Sent:      sent,
			// From the scheduled time, not the send time: a late send is
			// latency the client saw (no coordinated omission).
			Latency: end - sched,
			PID:     res.pid,
			Code:    uint16(res.code),
			Flags:   res.flags,
		}
		rec.Class = Classify(res.code, res.err, res.fail)
		if rec.Class != OK {
			rec.Err = r.errText(res)
			r.nFail.Add(1)
		}
		r.nDone.Add(1)
	}
}

func (r *Run) errText(res result) string {
	if res.err == nil {
		return r.interned.get(res.fail)
	}
	// As net/http's url.Error reads.
	return r.interned.get(`Get "` + r.cfg.URL + `": ` + res.err.Error())
}

// retireWait: a sender added in a stall leaves when the next request is
// this far off, so the senders shrink back once the server answers again
// (its kept connection goes to the idle pool for the next one added).
const retireWait = 5 * time.Millisecond

// retire says whether this sender should leave (and counts it out).
func (r *Run) retire() bool {
	n := r.next.Load()
	if n >= r.total || At(r.cfg.Rate, int(n))-time.Since(r.Began) < retireWait {
		return false
	}
	for {
		w := r.workers.Load()
		if w <= int64(r.base) {
			return false
		}
		if r.workers.CompareAndSwap(w, w-1) {
			return true
		}
	}
}

// slack is how late the next untaken request may be before the supervisor
// adds senders.
const slack = 2 * time.Millisecond

// supervise adds senders when the next request of the schedule is due and
// no sender is free to take it because every one waits on the server. It
// adds at most half as many as there are at a time: when the machine, not
// the server, is slow, more senders and connections would only make it
// slower.
func (r *Run) supervise() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		n := r.next.Load()
		if n >= r.total {
			return
		}
		timer.Reset(max(At(r.cfg.Rate, int(n))+slack-time.Since(r.Began), slack))
		select {
		case <-r.stop:
			return
		case <-timer.C:
		}
		w := r.workers.Load()
		if r.next.Load() != n || r.busy.Load() < w {
			continue
		}
		// Everything due by now and not yet taken needs a sender.
		due := min(int64(time.Since(r.Began))*int64(r.cfg.Rate)/int64(time.Second)+1, r.total)
		add := min(due-n, int64(r.max)-w, max(8, w/4))
		if add <= 0 {
			continue
		}
		r.wg.Add(int(add))
		r.peak.Store(max(r.peak.Load(), r.workers.Add(add)))
		for range add {
			go r.worker(r.idle.get(r.t))
		}
	}
}

func (r *Run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// finish keeps the records of requests that were sent, in schedule order.
func (r *Run) finish() []Record {
	recs := r.recs[:min(r.next.Load(), r.total)]
	out := recs[:0]
	for i := range recs {
		if recs[i].Class != abandoned {
			out = append(out, recs[i])
		}
	}
	return out
}

// Progress reports what has completed so far.
func (r *Run) Progress() Progress {
	p := Progress{Elapsed: time.Since(r.Began), Done: r.nDone.Load(), Failed: r.nFail.Load(),
		Workers: int(r.workers.Load()), Peak: int(r.peak.Load())}
	if n := r.next.Load(); r.cfg.Client == Direct && n < r.total && r.cfg.Rate > 0 {
		p.Behind = max(0, p.Elapsed-At(r.cfg.Rate, int(n)))
	}
	return p
}

// Stop ends the load early (for an interrupt): no new request goes out;
// those in flight end on their own (bounded by Timeout).
func (r *Run) Stop() {
	r.stopOnce.Do(func() {
		close(r.stop)
		if r.vegetaStop != nil {
			r.vegetaStop()
		}
	})
}

// Wait blocks until every request has ended and returns the records, in
// the order of their scheduled times.
func (r *Run) Wait() []Record {
	<-r.done
	return r.recs
}

// Done is closed when the load has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// interner keeps one copy of each failure text.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

// maxInterned bounds the table; texts beyond it are kept as they are.
const maxInterned = 4096

func (in *interner) get(s string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

// pool holds the clients of retired senders with their kept connections,
// most recently used first, as net/http's idle pool does.
type pool struct {
	mu sync.Mutex
	cs []*client
}

func (p *pool) put(c *client) {
	if c.conn == nil {
		return
	}
	p.mu.Lock()
	p.cs = append(p.cs, c)
	p.mu.Unlock()
}

func (p *pool) get(t *target) *client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.cs); n > 0 {
		c := p.cs[n-1]
		p.cs[n-1] = nil
		p.cs = p.cs[:n-1]
		return c
	}
	return newClient(t)
}

func (p *pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cs {
		c.close()
	}
	p.cs = nil
}
