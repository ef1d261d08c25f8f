package runner

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

// command runs a program and returns its combined output and exit code; an
// error only when it could not run at all.
func command(ctx context.Context, timeout time.Duration, name string, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return out.String(), 0, nil
}

// systemctl runs systemctl and fails on a non-zero exit, with its output.
func systemctl(ctx context.Context, e env, args ...string) error {
	out, code, err := e.command(ctx, 60*time.Second, "systemctl", args...)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("systemctl %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(out))
	}
	return nil
}

// show returns `systemctl show` properties as systemd formats them for users.
func show(ctx context.Context, e env, unit string, props ...string) map[string]string {
	out, _, _ := e.command(ctx, 10*time.Second, "systemctl", "show", unit, "-p", strings.Join(props, ","))
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// Environment describes the lab machine, and the modules the given binaries
// were built with.
func Environment(provider, suite string, binaries ...string) result.Env {
	env := result.Env{Provider: provider, Suite: suite, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Modules: map[string]string{}}
	osr := osRelease()
	env.Distro = osr["PRETTY_NAME"]
	if env.Suite == "" {
		env.Suite = osr["VERSION_CODENAME"]
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		env.Kernel = strings.TrimSpace(string(b))
	}
	if out, _, err := command(context.Background(), 10*time.Second, "systemctl", "--version"); err == nil {
		line, _, _ := strings.Cut(out, "\n")
		env.SystemdVersion = strings.TrimPrefix(line, "systemd ")
	}
	for _, b := range binaries {
		bi, err := buildinfo.ReadFile(b)
		if err != nil {
			continue
		}
		env.GoVersion = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			env.Modules[d.Path] = d.Version
		}
	}
	return env
}

func osRelease() map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m
}

// OurProcesses lists processes running one of our binaries (the installed
// ones or the run's working copies, and binaries named one by one, such
// as a checked unit's): after a unit is stopped there must be none.
func OurProcesses(binDirs ...string) []result.Process {
	dirs := map[string]bool{protocol.WorkBin: true}
	for _, d := range binDirs {
		dirs[d] = true
	}
	var out []result.Process
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if !dirs[filepath.Dir(exe)] && !dirs[exe] || filepath.Base(exe) == protocol.RunnerName {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out = append(out, result.Process{PID: pid, Command: strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// stageBinaries puts the top-level binaries of src into protocol.WorkBin,
// where the units run them. A binary already there with the same bytes is
// left alone: copying every one for every run took a tenth of a second.
func stageBinaries(src string) error {
	if err := os.MkdirAll(protocol.WorkBin, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(protocol.WorkBin, e.Name())
		if same(from, to) {
			continue
		}
		if err := replaceFile(from, to); err != nil {
			return err
		}
	}
	return nil
}

// same says whether dst is a staged copy of src: replaceFile gives the
// copy src's size and modification time, and a build or a deploy writes a
// new time. (Comparing the bytes read as much as copying them.)
func same(src, dst string) bool {
	a, errA := os.Stat(src)
	b, errB := os.Stat(dst)
	return errA == nil && errB == nil && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// replaceFile puts a copy of src at dst by rename, as a deploy does: a
// running process keeps its old file, a new exec gets the new one.
func replaceFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	if st, err := os.Stat(src); err == nil {
		os.Chtimes(tmp, st.ModTime(), st.ModTime())
	}
	return os.Rename(tmp, dst)
}

// systemdMajor is the running systemd's major version, 0 if unknown.
func systemdMajor(version string) int {
	f := strings.Fields(version)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}
