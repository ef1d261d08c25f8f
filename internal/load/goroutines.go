package load

import (
	"sync"
	"sync/atomic"
	"time"
)

// goroutines is the state of the portable engine: senders that each own a
// client (one connection) and take the next request off the schedule.
type goroutines struct {
	wg   sync.WaitGroup
	busy atomic.Int64 // senders in a request
	base int          // senders at the start, never retired
	idle pool
}

func (r *Run) startGoroutines() {
	g := &r.gr
	n := r.initialConns()
	g.base = n
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = newClient(r.t)
	}
	if r.cfg.KeepAlive {
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
	g.wg.Add(n + 1)
	r.addConns(int64(n))
	for _, c := range clients {
		go r.worker(c)
	}
	go r.supervise()
	go func() {
		g.wg.Wait()
		g.idle.closeAll()
		r.recs = r.finish()
		close(r.done)
	}()
}

// worker takes the next request off the schedule, waits for its time,
// sends it and records it in its own slot; no locks, no channels, no
// allocation on success.
func (r *Run) worker(c *client) {
	g := &r.gr
	defer g.wg.Done()
	var timer *time.Timer
	leave := func() {
		r.conns.Add(-1)
		c.close()
	}
	for {
		if r.retire() {
			g.idle.put(c)
			return
		}
		i := r.next.Add(1) - 1
		if i >= r.total {
			leave()
			return
		}
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
				r.recs[i].Class = abandoned
				leave()
				return
			}
		} else if r.stopped() {
			r.recs[i].Class = abandoned
			leave()
			return
		}
		sent := time.Since(r.Began)
		var deadline time.Time
		if r.cfg.Timeout > 0 {
			deadline = r.Began.Add(sent + r.cfg.Timeout)
		}
		g.busy.Add(1)
		res := c.do(deadline)
		end := time.Since(r.Began)
		g.busy.Add(-1)
		r.record(i, sched, sent, end, &res)
		r.noteVersion(&c.lastPID, &r.recs[i], c.p.ver)
	}
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
		w := r.conns.Load()
		if w <= int64(r.gr.base) {
			return false
		}
		if r.conns.CompareAndSwap(w, w-1) {
			return true
		}
	}
}

// slack is how late a request may go out for want of a free connection
// (or sender) before a new one is added for it. Below it, a hiccup of the
// machine does not open connections; above it, lag shows in Sent.
const slack = 10 * time.Millisecond

// growth is how many connections (or senders) may be added per slack:
// twice what the schedule sends in that time, so that through a stalled
// server the requests held back for the first slack catch up, and every
// later one gets a connection when it is due. At exactly the rate they
// never caught up, and each wake-up's lateness added to the lag (2 s of
// stall at 1000/s ended 225 ms behind).
func growth(rate int) int {
	return max(8, int(2*int64(rate)*int64(slack)/int64(time.Second)))
}

// supervise adds senders when the next request of the schedule has been
// due for slack and no sender took it, because every one waits on the
// server: one for each request due by now and within the next slack (the
// later ones wait for their time), at most growth per slack.
func (r *Run) supervise() {
	g := &r.gr
	defer g.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var growSince time.Duration
	grown := int64(0)
	for {
		n := r.next.Load()
		if n >= r.total {
			return
		}
		wake := At(r.cfg.Rate, int(n)) + slack
		if grown >= int64(growth(r.cfg.Rate)) {
			wake = max(wake, growSince+slack)
		}
		timer.Reset(max(wake-time.Since(r.Began), time.Millisecond))
		select {
		case <-r.stop:
			return
		case <-timer.C:
		}
		now := time.Since(r.Began)
		n = r.next.Load()
		if n >= r.total || At(r.cfg.Rate, int(n))+slack > now {
			continue
		}
		if now-growSince >= slack {
			growSince, grown = now, 0
		}
		w := r.conns.Load()
		add := min(due(r.cfg.Rate, now+slack), r.total) - n
		add = min(add, int64(r.max)-w, int64(growth(r.cfg.Rate))-grown)
		if add <= 0 {
			continue
		}
		grown += add
		g.wg.Add(int(add))
		r.addConns(add)
		for range add {
			go r.worker(g.idle.get(r.t))
		}
	}
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
