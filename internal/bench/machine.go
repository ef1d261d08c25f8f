package bench

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine is where the benchmark ran.
type Machine struct {
	CPU    string // model name from /proc/cpuinfo
	Cores  int
	Kernel string
	OS     string
	Go     string // the Go version the engine was built with
	Wrk    string
	// Load is /proc/loadavg's 1-minute figure at the start and the end:
	// other work on the machine takes CPU from the server and both
	// clients alike.
	LoadStart, LoadEnd string
	Priority           string
}

func machine(ctx context.Context, wrk string) Machine {
	m := Machine{CPU: cpuModel(readFile("/proc/cpuinfo")), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Kernel: strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")), Go: runtime.Version(), LoadStart: loadAvg()}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// wrk -v prints its version and usage and exits non-zero.
	b, _ := exec.CommandContext(ctx, wrk, "-v").CombinedOutput()
	if line, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(line, "wrk") {
		m.Wrk, _, _ = strings.Cut(strings.TrimSpace(line), " Copyright")
	}
	if m.Wrk == "" {
		m.Wrk = "wrk"
	}
	return m
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo string) string {
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
