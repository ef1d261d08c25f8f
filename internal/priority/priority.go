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

// Alone moves the process into a session of its own, and so into a
// scheduler autogroup of its own, and gives that group nice. Where the
// kernel groups tasks by session (kernel.sched_autogroup_enabled), nice
// orders threads only within their group and the CPU is shared between
// groups: the lab's runners, all started from one host session, shared a
// single group's share while every server had a group of its own.
func Alone(nice int) string {
	if _, err := syscall.Setsid(); err != nil {
		return "shared autogroup (setsid: " + err.Error() + ")"
	}
	if _, err := os.Stat("/proc/self/autogroup"); err != nil {
		return "own session, no autogroups"
	}
	if err := os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(nice)), 0); err != nil {
		return "own autogroup at nice 0 (" + err.Error() + ")"
	}
	return "own autogroup at nice " + strconv.Itoa(nice)
}
