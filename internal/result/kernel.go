package result

// KernelDelta is how the lab's TCP counters (package kstat, names as
// "Tcp.OutRsts") changed over a window of the load's clock: a reload's
// from just before `systemctl reload` to its settled snapshot; the
// stop's from just before `systemctl stop` to after it and the load
// ended. Counters that did not change are left out.
type KernelDelta struct {
	FromMS   float64          `json:"from_ms"`
	ToMS     float64          `json:"to_ms"`
	Counters map[string]int64 `json:"counters"`
}
