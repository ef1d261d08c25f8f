package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/gracelab/gracelab/internal/kstat"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/observe"
	"github.com/gracelab/gracelab/internal/result"
)

// env is every effect a run has on the machine: programs (systemctl,
// journalctl, systemd-analyze), files, processes, systemd's D-Bus view and
// the load. Run uses the real one; tests inject fakes, so the run sequence
// is tested without a lab (as cloudflare/tableflip's env.go does).
type env struct {
	// command runs a program: combined output and exit code; an error
	// only when it could not run at all.
	command     func(ctx context.Context, timeout time.Duration, name string, args ...string) (string, int, error)
	writeFile   func(path string, data []byte) error
	readFile    func(path string) ([]byte, error)
	removeFile  func(path string) error
	exists      func(path string) bool
	replaceFile func(src, dst string) error
	stage       func(binDir string) error
	portFree    func(addr string) error
	connect     func(ctx context.Context, health string) (observer, error)
	waitHealthy func(ctx context.Context, addr, path string, timeout time.Duration) error
	startLoad   func(ctx context.Context, cfg load.Config) loadRun
	startAB     func(ctx context.Context, url string, d time.Duration) abRun
	slow        func(ctx context.Context, spec Spec, n int, since func() time.Duration) result.SlowRequest
	processes   func(dirs ...string) []result.Process
	kill        func(pid int)
	environment func(provider, suite string, binaries ...string) result.Env
	// kernel reads the lab's TCP counters (nil: not read).
	kernel func() (kstat.Counters, error)
}

// observer is systemd's view of a unit, and who serves.
type observer interface {
	Snapshot(ctx context.Context, unit, addr string, at time.Duration) result.Snapshot
	Unit(ctx context.Context, unit string) (result.Snapshot, error)
	Close()
}

// loadRun is a load in progress (load.Run).
type loadRun interface {
	Began() time.Time
	Done() <-chan struct{}
	Progress() load.Progress
	Wait() []load.Record
	Versions() map[int32]string
}

type realLoad struct{ *load.Run }

func (l realLoad) Began() time.Time { return l.Run.Began }

// osEnv is the real machine.
var osEnv = env{
	command: command,
	writeFile: func(path string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	},
	readFile:   os.ReadFile,
	removeFile: os.Remove,
	exists: func(path string) bool {
		_, err := os.Stat(path)
		return !errors.Is(err, os.ErrNotExist)
	},
	replaceFile: replaceFile,
	stage:       stageBinaries,
	portFree:    portFree,
	connect: func(ctx context.Context, health string) (observer, error) {
		sd, err := observe.Connect(ctx)
		if err != nil {
			return nil, err
		}
		sd.Health = health
		return sd, nil
	},
	waitHealthy: observe.WaitHealthy,
	startLoad:   func(ctx context.Context, cfg load.Config) loadRun { return realLoad{load.Start(ctx, cfg)} },
	startAB:     startAB,
	slow:        slowRequest,
	processes:   OurProcesses,
	kill: func(pid int) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	},
	environment: Environment,
	kernel:      kstat.Read,
}
