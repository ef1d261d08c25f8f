package bench

import (
	"os"
	"strconv"
	"syscall"
)

// benchNice is the nice value the benchmark runs at where it may (root):
// every thread of this process, and so the server and wrk, which inherit
// it. Other work on the machine then disturbs server and clients less,
// and all three alike.
const benchNice = -10

// raisePriority sets every thread of this process to benchNice and
// returns how to undo it and what was done, in words.
func raisePriority() (restore func(), desc string) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return func() {}, "normal priority (no /proc/self/task)"
	}
	old := map[int]int{}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// The raw syscall returns 20 - nice.
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, benchNice); err != nil {
			for tid, nice := range old {
				syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
			}
			return func() {}, "normal priority (raising it was not permitted)"
		}
		old[tid] = 20 - p
	}
	restore = func() {
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			nice, ok := old[tid]
			if !ok {
				nice = 0 // a thread started during the benchmark
				for _, n := range old {
					nice = n
					break
				}
			}
			syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
		}
	}
	return restore, "nice " + strconv.Itoa(benchNice) + " (the benchmark, the server and wrk alike)"
}
