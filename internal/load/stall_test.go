package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/priority"
	"github.com/gracelab/gracelab/servers/sample"
)

const stallServerEnv = "GRACELAB_TEST_STALL_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(stallServerEnv) != "" {
		stallServer()
		return
	}
	os.Exit(m.Run())
}

// stallServer is the server of TestStalledServerKeepsTheSchedule, in a
// process of its own at lower priority, as a lab's server runs beside
// its runner (nice -10): in the test's own process the 2,000 handlers
// that wake at the end of the stall took the client's CPU for 80 ms. GET
// /stall holds every request until 2 s from then. It ends when its
// stdin closes.
func stallServer() {
	priority.Raise(10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var until atomic.Int64
	h := sample.Handler()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/stall" {
			until.Store(time.Now().Add(2 * time.Second).UnixNano())
			return
		}
		if d := time.Until(time.Unix(0, until.Load())); d > 0 {
			time.Sleep(d)
		}
		h.ServeHTTP(w, req)
	}))
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin)
}

// A server that stops answering for 2 s, as a unit does while systemd
// restarts it behind its socket, must not make a keep-alive load fall
// behind: every request due in the stall needs a connection of its own,
// and the engine opens them as they come due.
func TestStalledServerKeepsTheSchedule(t *testing.T) {
	forEach(t, func(t *testing.T, c Client) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), stallServerEnv+"=1")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer stdin.Close()
		addr, _ := bufio.NewReader(stdout).ReadString('\n')
		if _, _, err := net.SplitHostPort(addr[:max(len(addr)-1, 0)]); err != nil {
			t.Fatalf("stall server said %q", addr)
		}
		url := "http://" + addr[:len(addr)-1]
		r := Start(context.Background(), Config{URL: url + "/", Rate: 1000, Duration: 3 * time.Second,
			KeepAlive: true, Timeout: 5 * time.Second, Client: c})
		time.AfterFunc(500*time.Millisecond, func() {
			if resp, err := http.Get(url + "/stall"); err == nil {
				resp.Body.Close()
			}
		})
		recs := r.Wait()
		if len(recs) != 3000 {
			t.Fatalf("%d records, want 3000", len(recs))
		}
		lags := make([]time.Duration, 0, len(recs))
		stalled := 0
		for _, rec := range recs {
			if rec.Class != OK {
				t.Fatalf("%+v", rec)
			}
			if rec.Latency > time.Second {
				stalled++
			}
			lags = append(lags, rec.Sent-rec.Scheduled)
			if os.Getenv("DEBUGLAG") != "" && rec.Sent-rec.Scheduled > 15*time.Millisecond {
				t.Logf("%v %v %v %v", rec.Scheduled, rec.Sent-rec.Scheduled, rec.Latency, rec.Flags)
			}
		}
		if stalled < 900 {
			t.Fatalf("only %d requests took over 1 s: the server did not stall", stalled)
		}
		slices.Sort(lags)
		if p99 := lags[len(lags)*99/100]; p99 > 25*time.Millisecond {
			t.Errorf("send lag p99 %v (max %v) through a 2 s stall at 1000/s; want at most 25ms (peak %d connections)",
				p99, lags[len(lags)-1], r.Progress().Peak)
		}
	})
}
