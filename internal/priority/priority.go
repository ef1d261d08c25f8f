// Package priority raises the scheduling priority of the calling process,
// every thread of it, where that is permitted (root).
package priority

import (
	"os"
	"strconv"
	"syscall"
)

// Raise sets every thread of this process to nice (threads started later
// inherit it) and returns how to undo it and what was done, in words.
func Raise(nice int) (restore func(), desc string) {
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
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
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
			was, ok := old[tid]
			if !ok {
				was = 0 // a thread started since
				for _, n := range old {
					was = n
					break
				}
			}
			syscall.Setpriority(syscall.PRIO_PROCESS, tid, was)
		}
	}
	return restore, "nice " + strconv.Itoa(nice)
}
