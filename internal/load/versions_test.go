package load

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
)

// TestVersions: responses take turns between two processes (PID and
// version), so a kept connection sees the PID change on every request,
// and a third one only fails: it served nothing, so it has no version.
func TestVersions(t *testing.T) {
	type proc struct {
		pid, version string
		code         int
	}
	procs := []proc{{"101", "v1.0.0", 200}, {"202", "v1.1.0-rc.1+abc", 200}, {"303", "broken", 503}}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p := procs[(n.Add(1)-1)%int64(len(procs))]
		w.Header().Set(protocol.HeaderPID, p.pid)
		w.Header().Set(protocol.HeaderVersion, p.version)
		w.WriteHeader(p.code)
	}))
	defer srv.Close()
	want := map[int32]string{101: "v1.0.0", 202: "v1.1.0-rc.1+abc"}
	for _, c := range append(engines(), Vegeta) {
		for _, keep := range []bool{true, false} {
			n.Store(0)
			r, recs := run(t, Config{URL: srv.URL + "/", Rate: 100, Duration: 300 * time.Millisecond, KeepAlive: keep, Timeout: time.Second, Conns: 1, Client: c})
			if len(recs) < 20 {
				t.Fatalf("%v keep-alive %v: %d records", c, keep, len(recs))
			}
			if got := r.Versions(); !maps.Equal(got, want) {
				t.Errorf("%v keep-alive %v: versions %v, want %v", c, keep, got, want)
			}
		}
	}
}

func TestParserKeepsTheVersion(t *testing.T) {
	var p parser
	for _, v := range []string{"dev", "v2.0.0-" + strings.Repeat("x", 100), ""} {
		resp := "HTTP/1.1 200 OK\r\nX-Gracelab-Pid: 5\r\nx-gracelab-version:  " + v + " \r\nContent-Length: 0\r\n\r\n"
		p.reset()
		if _, err := p.feed([]byte(resp)); err != nil || p.state != stDone || string(p.ver) != v {
			t.Fatalf("%q: %v, version %q", resp, err, p.ver)
		}
	}
	p.reset()
	if p.feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")); len(p.ver) != 0 {
		t.Fatalf("a response without the header kept version %q", p.ver)
	}
	// The buffer is kept across responses: nothing allocated per response.
	resp := []byte("HTTP/1.1 200 OK\r\nX-Gracelab-Pid: 5\r\nX-Gracelab-Version: v1.2.3\r\nContent-Length: 0\r\n\r\n")
	if a := testing.AllocsPerRun(100, func() { p.reset(); p.feed(resp) }); a != 0 {
		t.Fatalf("%v allocations per response", a)
	}
}
