// Package result is the schema of one run's result file and its safe
// storage: written atomically, never overwritten, read back strictly.
package result

import (
	"time"
)

// SchemaVersion changes when a field changes meaning. Schema 2 added the
// raw history and dropped the lab's verdict; schema 1 files are still read.
const SchemaVersion = 2

// readable are the schemas readers accept.
var readable = []int{1, SchemaVersion}

// Result is everything needed to re-read one run without the lab.
type Result struct {
	Schema     int       `json:"schema"`
	ID         string    `json:"id"`
	Experiment string    `json:"experiment"`
	Server     string    `json:"server"`
	Variant    string    `json:"variant"`
	Profile    string    `json:"profile"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	WallMS     float64   `json:"wall_ms"`
	// Batch names the batch of runs this one belongs to, and Repeat is
	// its repeat of the cell (from 1): a cell is answered as k of N.
	Batch       string `json:"batch,omitempty"`
	Repeat      int    `json:"repeat,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// Errors are problems of the run itself (not of the server under test),
	// such as a unit that never became healthy.
	Errors []string `json:"errors,omitempty"`

	Env      Env           `json:"env"`
	Gracelab *Gracelab     `json:"gracelab,omitempty"`
	Unit     Unit          `json:"unit"`
	Load     LoadProfile   `json:"load"`
	Reloads  []Reload      `json:"reloads"`
	Timeline Timeline      `json:"timeline"`
	Slow     []SlowRequest `json:"slow_requests"`
	Failures []Failure     `json:"failure_samples,omitempty"`
	Summary  Summary       `json:"summary"`
	Final    Final         `json:"final"`
	Journal  []string      `json:"journal"`
	// History is every request of the load, for the host to judge from.
	History *History `json:"history,omitempty"`
	// AB is ab's report, for a run whose client was ab (profile ab).
	AB *AB `json:"ab,omitempty"`
	// Verdict is what the lab judged, in schema 1 files only: since
	// schema 2 the host judges (package check) and nothing is frozen here.
	Verdict Verdict `json:"verdict,omitzero"`
}

// History is the raw record of every request (package history encodes it).
type History struct {
	// WindowMS is the load window the requests were scheduled in; shorter
	// than the load's duration when the run was interrupted.
	WindowMS float64 `json:"window_ms"`
	Requests int     `json:"requests"`
	// Data is the encoded records; JSON carries it as base64.
	Data []byte `json:"data"`
}

// Env is where the run happened.
type Env struct {
	Provider       string            `json:"provider"`
	Distro         string            `json:"distro"`
	Suite          string            `json:"suite"`
	Kernel         string            `json:"kernel"`
	SystemdVersion string            `json:"systemd_version"`
	GoVersion      string            `json:"go_version"`
	CPUs           int               `json:"cpus"`
	Modules        map[string]string `json:"modules"`
	// TCPMigrateReq is net.ipv4.tcp_migrate_req in the lab's network
	// namespace during the run ("" where the kernel has none).
	TCPMigrateReq string `json:"tcp_migrate_req,omitempty"`
}

// File is a file the run installed, with its exact text.
type File struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// Unit is what was installed and what systemd made of it.
type Unit struct {
	Name string `json:"name"`
	// Summary says in one line what the variant is.
	Summary string `json:"summary"`
	// Control marks a variant that must lose requests (a plain restart): a
	// run of it that shows no loss means the lab cannot see loss.
	Control    bool              `json:"control,omitempty"`
	Files      []File            `json:"files"`
	Verify     string            `json:"verify_output"`
	VerifyExit int               `json:"verify_exit"`
	Show       map[string]string `json:"show"`
}

// LoadProfile is the load and the reload schedule.
type LoadProfile struct {
	Rate          int       `json:"rate_per_s"`
	DurationMS    float64   `json:"duration_ms"`
	KeepAlive     bool      `json:"keepalive"`
	TimeoutMS     float64   `json:"timeout_ms"`
	Path          string    `json:"path"`
	Action        string    `json:"action"`
	ReloadAtMS    []float64 `json:"reload_at_ms"`
	SlowPerReload int       `json:"slow_per_reload"`
	SlowMS        int       `json:"slow_ms"`
	// Upgrade is the build swapped in before the first reload (upgrade
	// experiments): v2, or broken (exits at start).
	Upgrade string `json:"upgrade,omitempty"`
	// ClientPriority says how the load client was scheduled ("nice -10").
	ClientPriority string `json:"client_priority,omitempty"`
	// Began is when the load's clock started, on the wall clock: it places
	// the journal's lines (a server's receipt of a signal, say) among the
	// requests.
	Began time.Time `json:"began,omitzero"`
	// NoPIDHeader: the server names no serving PID in its responses (a
	// user's own, in check), so who served is known from the probes alone.
	NoPIDHeader bool `json:"no_pid_header,omitempty"`
	// Listen is the address loaded (host:port), for a user's own unit.
	Listen string `json:"listen,omitempty"`
}

// Snapshot is what systemd reported and who served, at one moment.
type Snapshot struct {
	AtMS           float64 `json:"at_ms"`
	MainPID        int     `json:"main_pid"`
	ActiveState    string  `json:"active_state"`
	SubState       string  `json:"sub_state"`
	Result         string  `json:"result"`
	NRestarts      int     `json:"n_restarts"`
	PIDFile        string  `json:"pid_file,omitempty"`
	PIDFileContent string  `json:"pid_file_content,omitempty"`
	CgroupPIDs     []int   `json:"cgroup_pids"`
	ServingPID     int     `json:"serving_pid"`
	ServingVersion string  `json:"serving_version,omitempty"`
	// ServingAncestors is the serving process's parent chain up to PID 1,
	// so a supervisor as MainPID (start_server) counts as tracking.
	ServingAncestors []int  `json:"serving_ancestors,omitempty"`
	ServingError     string `json:"serving_error,omitempty"`
	// Resource use of the serving process and of the main process, for
	// the soak's leak check.
	ServingFDs   int `json:"serving_fds,omitempty"`
	ServingRSSKB int `json:"serving_rss_kb,omitempty"`
	MainFDs      int `json:"main_fds,omitempty"`
	MainRSSKB    int `json:"main_rss_kb,omitempty"`
	// ServingListener is the serving process's listening socket and its
	// flags (blocking or not); ServingWaits where its threads sleep in the
	// kernel. They explain a process that no longer notices a close.
	ServingListener string `json:"serving_listener,omitempty"`
	ServingWaits    string `json:"serving_waits,omitempty"`
}

// Reload is one `systemctl reload` (or restart) during the load.
type Reload struct {
	N       int      `json:"n"`
	Command string   `json:"command"`
	StartMS float64  `json:"start_ms"`
	TookMS  float64  `json:"took_ms"`
	Exit    int      `json:"exit"`
	Output  string   `json:"output,omitempty"`
	Before  Snapshot `json:"before"`
	After   Snapshot `json:"after"`
	Settled Snapshot `json:"settled"`
	// DaemonReloadMS is when `systemctl daemon-reload` ran after this
	// reload had settled (the last reload of variants tagged
	// daemon-reload), and its exit.
	DaemonReloadMS   float64 `json:"daemon_reload_ms,omitempty"`
	DaemonReloadExit int     `json:"daemon_reload_exit,omitempty"`
	// FirstNewOKMS is how soon after the reload a process that had not
	// served before answered successfully; -1 if none did.
	FirstNewOKMS float64 `json:"first_new_ok_ms"`
	// Kernel is what the lab's TCP counters did during the hand-over.
	Kernel *KernelDelta `json:"kernel,omitempty"`
}

// Bin counts requests by their scheduled send time.
type Bin struct {
	StartMS float64        `json:"start_ms"`
	Sent    int            `json:"sent"`
	OK      int            `json:"ok"`
	Failed  map[string]int `json:"failed,omitempty"`
	PIDs    map[int]int    `json:"pids,omitempty"`
	P50MS   float64        `json:"p50_ms"`
	P99MS   float64        `json:"p99_ms"`
	MaxMS   float64        `json:"max_ms"`
}

// Timeline is the requests in short bins.
type Timeline struct {
	BinMS float64 `json:"bin_ms"`
	Bins  []Bin   `json:"bins"`
}

// SlowRequest is one long request started just before a reload.
type SlowRequest struct {
	Reload int `json:"reload"`
	// AtStop: in flight when the unit was stopped, not at a reload.
	AtStop    bool    `json:"at_stop,omitempty"`
	StartMS   float64 `json:"start_ms"`
	LatencyMS float64 `json:"latency_ms"`
	Outcome   string  `json:"outcome"` // completed or cut
	Class     string  `json:"class"`
	PID       int     `json:"pid,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Failure is one failed request, kept as a sample for the reader.
type Failure struct {
	ScheduledMS float64 `json:"scheduled_ms"`
	Class       string  `json:"class"`
	Error       string  `json:"error"`
}

// Summary is the run in a few numbers.
type Summary struct {
	Sent         int            `json:"sent"`
	OK           int            `json:"ok"`
	Failed       int            `json:"failed"`
	ByClass      map[string]int `json:"failed_by_class"`
	LongestGapMS float64        `json:"longest_gap_ms"`
	GapStartMS   float64        `json:"gap_start_ms"`
	P50MS        float64        `json:"latency_p50_ms"`
	P99MS        float64        `json:"latency_p99_ms"`
	MaxMS        float64        `json:"latency_max_ms"`
	PIDs         []int          `json:"pids"`
	TargetRate   float64        `json:"target_rate"`
	AchievedRate float64        `json:"achieved_rate"`
	SendLagP99MS float64        `json:"send_lag_p99_ms"`
	SendLagMaxMS float64        `json:"send_lag_max_ms"`
	FellBehind   bool           `json:"fell_behind"`
	SlowTotal    int            `json:"slow_total"`
	SlowDone     int            `json:"slow_completed"`
	// DroppedAfterTermMS is, for each request accepted and then dropped
	// (EOF or reset), how long after a server process last received
	// SIGTERM it ended (the journal's receipt lines; at most 100 kept);
	// DroppedNoTerm counts those with no SIGTERM before them.
	DroppedAfterTermMS []float64 `json:"dropped_after_sigterm_ms,omitempty"`
	DroppedNoTerm      int       `json:"dropped_no_sigterm,omitempty"`
	// DroppedAfterReloadMS is the same against the start of the last
	// reload before each (at most 100 kept).
	DroppedAfterReloadMS []float64 `json:"dropped_after_reload_ms,omitempty"`
}

// Process is a process found after the run.
type Process struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
}

// Final is the unit's state at the end of the load, and what was left after
// it was stopped and removed.
type Final struct {
	Snapshot Snapshot `json:"snapshot"`
	// StopAtMS is when `systemctl stop` began on the load's clock, for a
	// unit stopped under load; 0 when it was stopped after the load.
	// StopStarted is the same moment on the wall clock, which places the
	// journal's lines.
	StopAtMS    float64   `json:"stop_at_ms,omitempty"`
	StopStarted time.Time `json:"stop_started,omitzero"`
	// MainPIDAlien is systemd's own view just before the stop, from
	// `systemd-analyze dump` ("Main PID Alien:"): yes, no, or "" if unread.
	MainPIDAlien string `json:"main_pid_alien,omitempty"`
	// StopWaits, for a stop still under way after stopWatch, is each
	// process of the unit then: its listener and where its threads sleep.
	StopWaits     []string     `json:"stop_waits,omitempty"`
	StopExit      int          `json:"stop_exit"`
	StopTookMS    float64      `json:"stop_took_ms"`
	AfterStop     Snapshot     `json:"after_stop"`
	Stop          *StopSummary `json:"stop,omitempty"`
	ProcessesLeft []Process    `json:"processes_left"`
	UnitRemoved   bool         `json:"unit_removed"`
	// StopKernel is what the lab's TCP counters did during the stop.
	StopKernel *KernelDelta `json:"stop_kernel,omitempty"`
}

// StopSummary is what the clients and the journal saw of a stop under
// load (package analysis computes it from the history and the journal).
type StopSummary struct {
	// InFlight requests were sent before the stop began and not yet
	// answered; InFlightOK of them were answered.
	InFlight   int `json:"in_flight"`
	InFlightOK int `json:"in_flight_ok"`
	// After requests were sent after the stop began; Refused of them found
	// nothing listening, which is how a stopped server turns clients away.
	After   int `json:"after"`
	Refused int `json:"refused"`
	// Lost requests were in flight or sent after the stop began and failed
	// otherwise than refused: accepted, then dropped.
	Lost        int            `json:"lost"`
	LostByClass map[string]int `json:"lost_by_class,omitempty"`
	SlowTotal   int            `json:"slow_total"`
	SlowDone    int            `json:"slow_completed"`
	// Signals are the journal's lines about signals after the stop began:
	// systemd's "Killing process … with signal SIGKILL" and the servers'
	// own receipt lines.
	Signals []SignalSeen `json:"signals,omitempty"`
}

// SignalSeen is one signal sent by systemd or received by a server.
type SignalSeen struct {
	AfterMS float64 `json:"after_ms"` // after the stop began
	PID     int     `json:"pid"`
	Signal  string  `json:"signal"`
	By      string  `json:"by"` // "systemd sent" or "server received"
}

// Outcome of a check or a run.
type Outcome string

// The three outcomes. Unknown is for data that cannot decide; it is never
// shown as pass.
const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Unknown Outcome = "unknown"
)

// Check is one verdict with its reason in words.
type Check struct {
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`
}

// Verdict is the overall outcome and the checks behind it.
type Verdict struct {
	Overall Outcome `json:"overall"`
	Checks  []Check `json:"checks"`
}
