package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
)

// The NetHTTP engine is the client most Go programs have: a stock
// net/http Client on a clone of http.DefaultTransport, with only its idle
// pool raised (DefaultTransport keeps 2 idle connections per host, so at
// 1000/s most requests would dial, which no tuned client does). Each
// request goes out at its scheduled time on a goroutine of its own, and
// the Transport does what it always does, retries included: a GET that
// fails on a kept connection before any response byte is sent again
// unseen (see retryable). httptrace's GotConn, called once for every
// connection the Transport takes for the request (transport.go
// L1556-L1566 at go1.26.8), tells reuse and attempts apart:
// https://github.com/golang/go/blob/go1.26.8/src/net/http/transport.go#L1556-L1566

// newTransport is DefaultTransport's clone with an idle pool of max.
func newTransport(cfg Config, max int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = max, max
	tr.DisableKeepAlives = !cfg.KeepAlive
	return tr
}

func (r *Run) startNetHTTP(ctx context.Context) {
	tr := newTransport(r.cfg, r.max)
	hc := &http.Client{Transport: tr, Timeout: r.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var wg sync.WaitGroup
	r.Began = time.Now()
	r.stopOnCancel(ctx)
	go func() {
		defer close(r.done)
		defer tr.CloseIdleConnections()
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for i := int64(0); i < r.total; i++ {
			sched := At(r.cfg.Rate, int(i))
			if wait := sched - time.Since(r.Began); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-r.stop:
				}
			}
			if r.stopped() {
				break
			}
			r.next.Store(i + 1)
			r.addConns(1)
			wg.Go(func() {
				defer r.addConns(-1)
				r.netDo(ctx, hc, i, sched)
			})
		}
		wg.Wait()
		r.recs = r.finish()
	}()
}

// netDo sends request i through the Client and records it.
func (r *Run) netDo(ctx context.Context, hc *http.Client, i int64, sched time.Duration) {
	var res result
	if r.t.err != nil {
		res.err = r.t.err
		now := time.Since(r.Began)
		r.record(i, sched, now, now, &res)
		return
	}
	var conns int
	// A dial that fails gives no GotConn, only ConnectStart.
	trace := &httptrace.ClientTrace{
		ConnectStart: func(string, string) { res.flags |= Dialed },
		GotConn: func(info httptrace.GotConnInfo) {
			conns++
			if !info.Reused {
				res.flags |= Dialed
			}
		}}
	// Not the Run's context: a request in flight ends on its own (bounded
	// by Timeout), as with the other engines.
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.WithoutCancel(ctx), trace), r.t.method(), r.cfg.URL, nil)
	if err != nil {
		res.err = err
		now := time.Since(r.Began)
		r.record(i, sched, now, now, &res)
		return
	}
	sent := time.Since(r.Began)
	resp, err := hc.Do(req)
	if err == nil {
		// The whole body, so the connection goes back to the pool.
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.code = resp.StatusCode
		if res.code < 200 || res.code >= 400 {
			res.fail = resp.Status
		}
		if pid, perr := strconv.Atoi(resp.Header.Get(protocol.HeaderPID)); perr == nil {
			res.pid = int32(pid)
		}
	}
	end := time.Since(r.Began)
	if conns > 1 {
		res.flags |= Retried
	}
	if err != nil {
		// record prefixes the method and URL, as url.Error does.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		res.err = err
	}
	r.record(i, sched, sent, end, &res)
	if err == nil {
		var last int32
		r.noteVersion(&last, &r.recs[i], []byte(resp.Header.Get(protocol.HeaderVersion)))
	}
}
