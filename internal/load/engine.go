package load

import (
	"context"
	"maps"
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
	// Method is GET (also when empty) or POST (PostBody, with its
	// length); a POST is sent again only where net/http would.
	Method string

	// Conns is how many connections (keep-alive) or senders open at the
	// start; 0 means 2 + Rate/500 (what 2 ms of the schedule needs). More
	// open when a request is due and every one has been busy for a while
	// (a stalled server).
	Conns int
	// MaxConns bounds the connections in use at once; 0 means 10000, as
	// vegeta's limit. At the bound, requests go out late, and the run
	// shows as fallen behind.
	MaxConns int
	// Client chooses the engine; the zero value picks the fastest that
	// works here.
	Client Client
}

// Client is an engine the load can send with. All of them send on the
// same schedule, and record the same things the same way.
type Client uint8

// Engines.
const (
	// Auto is EventLoop on Linux (amd64, arm64), otherwise Goroutines.
	Auto Client = iota
	// EventLoop (Linux): one goroutine multiplexes every connection with
	// epoll and sends each request at its scheduled time, as wrk does; a
	// minimal HTTP/1.1 client that allocates nothing per successful
	// request.
	EventLoop
	// Goroutines (portable): senders, each with its own connection, each
	// taking the next request off the schedule; the same HTTP/1.1 client
	// over net.Conn.
	Goroutines
	// Vegeta: vegeta's attacker over net/http, the former engine, kept to
	// compare against.
	Vegeta
	// NetHTTP: a stock net/http Client, as Go programs send, retries and
	// all (see nethttp.go).
	NetHTTP
)

var clientNames = [...]string{"auto", "event-loop", "goroutines", "vegeta", "net/http"}

func (c Client) String() string {
	if int(c) < len(clientNames) {
		return clientNames[c]
	}
	return "invalid"
}

// Progress is a running count for the progress line.
type Progress struct {
	Elapsed time.Duration
	Done    int64
	Failed  int64
	// Behind is how late the next request of the schedule is that has not
	// gone out yet because no connection was free; zero when on time.
	// (With Vegeta, which tells of a request only when it ends, how late
	// the next request to end is.)
	Behind time.Duration
	// Conns is the connections (or senders) in use now, Peak the most at
	// once so far.
	Conns, Peak int
}

// Run is a load in progress.
type Run struct {
	Began  time.Time
	cfg    Config
	client Client
	t      *target
	total  int64 // requests in the schedule

	recs  []Record
	next  atomic.Int64 // next request of the schedule to go out
	nDone atomic.Int64
	nFail atomic.Int64
	conns atomic.Int64 // connections or senders now
	peak  atomic.Int64 // most at once
	max   int

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	interned interner

	vmu      sync.Mutex
	versions map[int32]string // serving PID: its version header

	gr         goroutines // state of the Goroutines engine
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

// due is how many requests are due by offset d.
func due(rate int, d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return int64(d)*int64(rate)/int64(time.Second) + 1
}

// Start begins the load. Requests go out on a fixed schedule whatever the
// server does (open loop): request i is due at At(Rate, i) and goes out
// then, and its latency counts from that scheduled time. A stalled server
// shows as latency and failures, not as fewer requests: while every
// connection waits on the server, more open (up to MaxConns), and a
// request that still goes out late carries the delay in its latency and in
// Sent-Scheduled.
func Start(ctx context.Context, cfg Config) *Run {
	r := &Run{cfg: cfg, client: cfg.Client, stop: make(chan struct{}), done: make(chan struct{}), versions: map[int32]string{}}
	r.total = int64(Planned(cfg.Rate, cfg.Duration))
	r.max = cfg.MaxConns
	if r.max <= 0 {
		r.max = 10000
	}
	if r.client == Vegeta {
		r.startVegeta(ctx)
		return r
	}
	r.t = newTarget(cfg)
	r.recs = make([]Record, r.total)
	if r.client == NetHTTP {
		r.startNetHTTP(ctx)
		return r
	}
	var loop *eventLoop
	if r.client != Goroutines {
		loop = newEventLoop(r)
	}
	if loop != nil {
		r.client = EventLoop
		go func() {
			loop.run()
			r.recs = r.finish()
			close(r.done)
		}()
	} else {
		r.client = Goroutines
		r.startGoroutines()
	}
	r.stopOnCancel(ctx)
	return r
}

// stopOnCancel stops the run when ctx is cancelled before it ends.
func (r *Run) stopOnCancel(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			r.Stop()
		case <-r.done:
		}
	}()
}

// initialConns is how many connections open before the load starts.
func (r *Run) initialConns() int {
	n := r.cfg.Conns
	if n <= 0 {
		// Enough that a hiccup of 2 ms of the server holds no request
		// back (the rate times 2 ms, and two); more open when every one
		// stays busy for longer.
		n = 2 + r.cfg.Rate/500
	}
	return int(min(int64(min(n, r.max)), max(r.total, 1)))
}

// Client is the engine this run uses.
func (r *Run) Client() Client { return r.client }

// abandoned marks a record whose request was taken but never sent (Stop).
const abandoned Class = 0xff

// record fills in request i's record.
func (r *Run) record(i int64, sched, sent, end time.Duration, res *result) {
	rec := &r.recs[i]
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
	// The status text of a failed response is for the reader; the code
	// alone classifies it.
	rec.Class = Classify(res.code, res.err, "")
	if rec.Class != OK {
		rec.Err = r.errText(res)
		r.nFail.Add(1)
	}
	r.nDone.Add(1)
}

// noteVersion keeps the version a successful response carried, only when
// its PID differs from *last, the last one noted on this connection or
// sender: a PID keeps its version, so almost every request skips the copy
// and the lock.
func (r *Run) noteVersion(last *int32, rec *Record, ver []byte) {
	if rec.PID == *last || rec.Class != OK {
		return
	}
	*last = rec.PID
	r.vmu.Lock()
	if v, ok := r.versions[rec.PID]; !ok || v != string(ver) {
		r.versions[rec.PID] = string(ver)
	}
	r.vmu.Unlock()
}

// Versions waits for the load to end, as Wait does, and returns the
// version header each serving PID sent with its successful responses
// (empty when it sent none).
func (r *Run) Versions() map[int32]string {
	<-r.done
	r.vmu.Lock()
	defer r.vmu.Unlock()
	return maps.Clone(r.versions)
}

func (r *Run) errText(res *result) string {
	if res.err == nil {
		return r.interned.get(res.fail)
	}
	// As net/http's url.Error reads.
	verb := "Get"
	if r.t != nil && r.t.post {
		verb = "Post"
	}
	return r.interned.get(verb + ` "` + r.cfg.URL + `": ` + res.err.Error())
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

func (r *Run) addConns(n int64) {
	c := r.conns.Add(n)
	if p := r.peak.Load(); c > p {
		r.peak.CompareAndSwap(p, c)
	}
}

// Progress reports what has completed so far.
func (r *Run) Progress() Progress {
	p := Progress{Elapsed: time.Since(r.Began), Done: r.nDone.Load(), Failed: r.nFail.Load(),
		Conns: int(r.conns.Load()), Peak: int(r.peak.Load())}
	n := r.next.Load()
	if r.client == Vegeta {
		n = p.Done // vegeta tells of a request when it ends
	}
	if n < r.total && r.cfg.Rate > 0 && !r.stopped() {
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
