// Package protocol is the contract between the host and the lab: paths,
// the listen address, exit codes, profile names and response headers. Both
// sides import it, so each value is written once.
package protocol

import "slices"

// Paths inside every lab machine.
const (
	// BinDir is where the host's build output appears, read-only.
	BinDir = "/opt/gracelab/bin"
	// Runner is the in-lab command the host drives.
	Runner = BinDir + "/" + RunnerName
	// RunnerName is the runner binary's name (its package folder's name).
	RunnerName = "gracelab-runner"
	// WorkBin is where each run copies the binaries its unit runs:
	// writable, so an upgrade can replace a binary the way a deploy does.
	WorkBin = "/var/lib/gracelab/bin"
	// UnitDir is where unit files are installed.
	UnitDir = "/etc/systemd/system"
	// ConfDir holds the variants' EnvironmentFile= files.
	ConfDir = "/etc/gracelab"
	// PendingDir keeps results the host has not yet stored; the nspawn
	// lab binds it from the host, so they outlive the lab.
	PendingDir = "/var/lib/gracelab/pending"
)

// Listen is where sample servers listen, inside the lab.
const Listen = "127.0.0.1:18080"

// HealthPath is the sample servers' health check.
const HealthPath = "/health"

// User is the unprivileged user every sample server runs as.
const User = "gracelab"

// UnitPrefix starts the name of every unit gracelab installs.
const UnitPrefix = "gracelab-"

// ExitSkipped is the runner's exit code for a run that does not apply to
// this lab (say, a unit that needs a newer systemd).
const ExitSkipped = 3

// Load profiles.
const (
	KeepAlive = "keepalive"
	NewConn   = "new-conn"
	// Post is keep-alive POST with a small body: a request a client may
	// not send again once written.
	Post = "post"
	// GoClient is keep-alive GET through a stock net/http Client.
	GoClient = "go-client"
)

// AB is Apache's ab as the client (ab -r -c 10, a new connection per
// request), in place of our engine: only the hup-2015 kind asks for it.
const AB = "ab"

// Profiles lists the load profiles a batch runs by default, in report
// order.
func Profiles() []string { return []string{KeepAlive, NewConn} }

// AllProfiles lists every load profile, in report order: the default ones
// and those only some kinds take (Post, GoClient).
func AllProfiles() []string { return []string{KeepAlive, NewConn, Post, GoClient} }

// KeepsAlive says whether a profile keeps its connections open.
func KeepsAlive(profile string) bool { return profile != NewConn }

// Known says p is a profile a kind may ask for.
func Known(p string) bool { return slices.Contains(append(AllProfiles(), AB), p) }

// Response headers that name the process and build that served.
const (
	HeaderPID     = "X-Gracelab-Pid"
	HeaderVersion = "X-Gracelab-Version"
)
