package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/gracelab/gracelab/internal/analysis"
	"github.com/gracelab/gracelab/internal/load"
)

var cur *load.Run

func main() {
	rate := flag.Int("r", 10000, "")
	d := flag.Duration("d", 5*time.Second, "")
	veg := flag.Bool("vegeta", false, "")
	prof := flag.String("prof", "", "")
	w := flag.Int("w", 0, "")
	flag.Parse()
	if *prof != "" {
		f, _ := os.Create(*prof)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	cfg := load.Config{URL: "http://127.0.0.1:18111/", Rate: *rate, Duration: *d, KeepAlive: true, Timeout: 5 * time.Second, Workers: *w}
	if *veg {
		cfg.Client = load.Vegeta
	}
	r := load.Start(context.Background(), cfg)
	cur = r
	recs := r.Wait()
	p := r.Progress()
	s := analysis.Summarize(recs, *rate, *d)
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("cpu %.2fs (%.1fus/req) ", cpu.Seconds(), float64(cpu.Microseconds())/float64(len(recs)))
	fmt.Printf("rate %d: sent %d ok %d failed %d achieved %.0f lagp99 %.2fms lagmax %.1fms p50 %.2fms p99 %.2fms fell %v workers %d peak %d wall %.2fs\n", *rate, s.Sent, s.OK, s.Failed, s.AchievedRate, s.SendLagP99MS, s.SendLagMaxMS, s.P50MS, s.P99MS, s.FellBehind, p.Workers, p.Peak, time.Since(r.Began).Seconds())
}

func init() {
	go func() {
		for range time.Tick(50 * time.Millisecond) {
			if cur != nil {
				p := cur.Progress()
				fmt.Fprintf(os.Stderr, "%.2fs done %d behind %v workers %d peak %d\n", p.Elapsed.Seconds(), p.Done, p.Behind, p.Workers, p.Peak)
			}
		}
	}()
}
