package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ensureWrk finds wrk, installing Debian's package when it is missing.
func ensureWrk(ctx context.Context, out io.Writer) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: install it with your package manager", errNoWrk)
	}
	fmt.Fprintln(out, "bench: wrk is missing; installing the Debian package with apt-get (about a minute)")
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	install := func() error {
		cmd := exec.CommandContext(ctx, apt, "install", "-y", "-qq", "--no-install-recommends", "wrk")
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install wrk: %v\n%s", err, strings.TrimSpace(string(b)))
		}
		return nil
	}
	if install() != nil {
		fmt.Fprintln(out, "bench: apt-get update, then install again")
		cmd := exec.CommandContext(ctx, apt, "update", "-qq")
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %v\n%s", err, strings.TrimSpace(string(b)))
		}
		if err := install(); err != nil {
			return "", err
		}
	}
	return exec.LookPath("wrk")
}

// WrkRun is one wrk run.
type WrkRun struct {
	Threads, Conns int
	Duration       time.Duration
	Requests       int64
	RPS            float64
	LatencyAvg     string
	// Errors are wrk's socket errors and non-2xx/3xx responses; a run
	// with errors is not counted.
	Errors string
}

// WrkReport is wrk's figure: the best run with the chosen connections.
type WrkReport struct {
	Threads, Conns int
	Probes         []WrkRun // the short runs that chose Conns
	Runs           []WrkRun // the measured runs, before and after the engine
	Best           float64
}

// measureWrk chooses wrk's connections by short probes, then measures.
func measureWrk(ctx context.Context, wrk, url string, o Options, out io.Writer) (WrkReport, error) {
	rep := WrkReport{Threads: 1}
	best := -1.0
	for _, c := range o.WrkConns {
		r, err := runWrk(ctx, wrk, url, 1, c, o.WrkProbe)
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(out, "bench: wrk -t1 -c%d -d%s: %.0f req/s%s\n", c, o.WrkProbe, r.RPS, errSuffix(r))
		rep.Probes = append(rep.Probes, r)
		if r.Errors == "" && r.RPS > best {
			best, rep.Conns = r.RPS, c
		}
	}
	if rep.Conns == 0 {
		return rep, fmt.Errorf("wrk saw errors with every connection count; the server is not healthy")
	}
	r, err := runWrk(ctx, wrk, url, 1, rep.Conns, o.WrkDuration)
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "bench: wrk -t1 -c%d -d%s: %.0f req/s%s\n", rep.Conns, o.WrkDuration, r.RPS, errSuffix(r))
	rep.Runs = append(rep.Runs, r)
	if r.Errors == "" {
		rep.Best = r.RPS
	}
	return rep, nil
}

func errSuffix(r WrkRun) string {
	if r.Errors == "" {
		return ""
	}
	return " (" + r.Errors + ", not counted)"
}

// runWrk runs wrk once, bounded by its duration and a margin.
func runWrk(ctx context.Context, wrk, url string, threads, conns int, d time.Duration) (WrkRun, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s", url)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return WrkRun{}, fmt.Errorf("wrk: %v\n%s", err, strings.TrimSpace(string(b)))
	}
	r, err := parseWrk(string(b))
	r.Threads, r.Conns, r.Duration = threads, conns, time.Duration(secs)*time.Second
	return r, err
}

// parseWrk reads wrk's summary.
func parseWrk(s string) (WrkRun, error) {
	var r WrkRun
	var errs []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: bad Requests/sec in %q", line)
			}
			r.RPS = v
		case strings.HasPrefix(line, "Latency") && len(f) >= 2:
			r.LatencyAvg = f[1]
		case strings.Contains(line, "requests in") && len(f) > 0:
			r.Requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(line, "Socket errors:"):
			if hasNonZero(strings.TrimPrefix(line, "Socket errors:")) {
				errs = append(errs, "socket errors:"+strings.TrimPrefix(line, "Socket errors:"))
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			errs = append(errs, line)
		}
	}
	if r.RPS == 0 {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", s)
	}
	r.Errors = strings.Join(errs, "; ")
	return r, nil
}

func hasNonZero(s string) bool {
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) == 2 && f[1] != "0" {
			return true
		}
	}
	return false
}
