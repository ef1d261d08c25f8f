// Package own prepares a user's own unit and binary for `check`: it reads
// and validates what the user brought, says clearly what is wrong with it,
// and decides where each file goes in the lab.
package own

import (
	"bytes"
	"cmp"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gracelab/gracelab/internal/lint"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/runner"
	"github.com/gracelab/gracelab/internal/unitfile"
)

// Settings are check's optional settings.
type Settings struct {
	URL     string   // loaded, on loopback; default http://127.0.0.1:8080/
	Health  string   // path whose answer says the server serves; default the URL's path
	Slow    string   // path of a request that takes about a second, held across reloads and the stop; none if empty
	EnvFile string   // a host file: the contents of the unit's EnvironmentFile=
	Files   []string // more files to place, each "HOSTPATH:LABPATH"
	Repeats int      // runs per profile; default 5
}

// DefaultURL is what check loads unless told otherwise.
const DefaultURL = "http://127.0.0.1:8080/"

// SettingsFromEnv reads CHECK_URL, CHECK_HEALTH, CHECK_SLOW, CHECK_ENV
// and CHECK_FILES (comma-separated).
func SettingsFromEnv() Settings {
	s := Settings{URL: os.Getenv("CHECK_URL"), Health: os.Getenv("CHECK_HEALTH"), EnvFile: os.Getenv("CHECK_ENV"), Slow: os.Getenv("CHECK_SLOW")}
	for _, f := range strings.Split(os.Getenv("CHECK_FILES"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			s.Files = append(s.Files, f)
		}
	}
	return s
}

// Prepared is a unit ready to run in the lab.
type Prepared struct {
	Name                 string // the unit's file name
	Own                  runner.Own
	Listen, Path, Health string
	Slow                 string
	Lint                 []lint.Warning
	// Modules are the Go modules the binary was built with (none for a
	// binary that is not Go's): they tell which library it uses.
	Modules []string
}

// Prepare reads the unit and the binary and checks them. Each error is
// one line that says what is wrong and what to do.
func Prepare(unitPath, binPath string, s Settings) (*Prepared, error) {
	text, err := ReadFile(unitPath, "unit file")
	if err != nil {
		return nil, err
	}
	name := filepath.Base(unitPath)
	if !strings.HasSuffix(name, ".service") || len(name) == len(".service") {
		return nil, fmt.Errorf("%s: check takes a service unit, a file named NAME.service", unitPath)
	}
	warnings, err := lint.Unit(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", unitPath, err)
	}
	opts, _ := unitfile.Parse(text)
	exe, err := ReadFile(binPath, "binary")
	if err != nil {
		return nil, err
	}
	if err := Executable([]byte(exe), runtime.GOARCH); err != nil {
		return nil, fmt.Errorf("%s: %w", binPath, err)
	}
	p := &Prepared{Name: name, Lint: warnings}
	p.Modules = Modules([]byte(exe))
	p.Own.Unit = result.File{Path: "/etc/systemd/system/" + name, Text: text}
	p.Own.Exe = []byte(exe)
	if p.Own.Binary, p.Own.Tools, err = placement(opts, filepath.Base(binPath)); err != nil {
		return nil, fmt.Errorf("%s: %w", unitPath, err)
	}
	if p.Listen, p.Path, err = loopbackURL(cmp.Or(s.URL, DefaultURL)); err != nil {
		return nil, err
	}
	p.Health = cmp.Or(s.Health, p.Path)
	if !strings.HasPrefix(p.Health, "/") {
		return nil, fmt.Errorf("CHECK_HEALTH=%q: want a path, such as /healthz", s.Health)
	}
	if p.Slow = s.Slow; p.Slow != "" && !strings.HasPrefix(p.Slow, "/") {
		return nil, fmt.Errorf("CHECK_SLOW=%q: want a path, such as /report?days=30", s.Slow)
	}
	if p.Own.Files, err = envFiles(opts, s.EnvFile); err != nil {
		return nil, fmt.Errorf("%s: %w", unitPath, err)
	}
	for _, f := range s.Files {
		host, lab, ok := strings.Cut(f, ":")
		if !ok || !path.IsAbs(lab) {
			return nil, fmt.Errorf("CHECK_FILES: %q is not HOSTPATH:/ABSOLUTE/LAB/PATH", f)
		}
		t, err := ReadFile(host, "file to place")
		if err != nil {
			return nil, err
		}
		p.Own.Files = append(p.Own.Files, result.File{Path: lab, Text: t})
	}
	return p, nil
}

// Modules are the Go modules a binary was built with; none for a binary
// that is not Go's.
func Modules(exe []byte) []string {
	bi, err := buildinfo.Read(bytes.NewReader(exe))
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range bi.Deps {
		out = append(out, d.Path)
	}
	return out
}

// ReadFile reads a file the user named, with an error that says which and why.
func ReadFile(p, what string) (string, error) {
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%s %s does not exist", what, p)
	case err != nil:
		return "", fmt.Errorf("cannot read %s %s: %v", what, p, err)
	}
	return string(b), nil
}

var machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}

// Executable checks that bin is a Linux executable for the lab's
// architecture (the host's: the lab runs on it).
func Executable(bin []byte, arch string) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return errors.New("not a Linux executable (ELF); build it with GOOS=linux")
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("an ELF file of type %s, not an executable", f.Type)
	}
	if want := machines[arch]; f.Machine != want {
		return fmt.Errorf("built for %s, but the lab runs %s: build it with GOARCH=%s", f.Machine, arch, arch)
	}
	return nil
}

// placement finds where the binary goes: the first absolute path in
// ExecStart= with the binary's name, else the program ExecStart= runs.
// A program the unit runs besides it must be one the lab provides.
func placement(opts []unitfile.Option, binName string) (string, map[string]string, error) {
	start, _ := unitfile.Last(opts, "Service", "ExecStart")
	argv := unitfile.Argv(start)
	if len(argv) == 0 {
		return "", nil, errors.New("ExecStart= is empty")
	}
	prog := argv[0]
	if !path.IsAbs(prog) {
		return "", nil, fmt.Errorf("ExecStart= runs %q without a path; write the absolute path the binary is installed at", prog)
	}
	at := prog
	for _, a := range argv {
		if path.IsAbs(a) && path.Base(a) == binName {
			at = a
			break
		}
	}
	if at == prog {
		return at, nil, nil
	}
	if path.Base(prog) != "start_server" {
		return "", nil, fmt.Errorf("ExecStart= runs %s, and your binary goes to %s; check can provide start_server, not %s", prog, at, path.Base(prog))
	}
	return at, map[string]string{prog: "start_server"}, nil
}

// loopbackURL splits an http URL on a loopback address.
func loopbackURL(raw string) (listen, urlPath string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return "", "", fmt.Errorf("CHECK_URL=%q: want http://127.0.0.1:PORT/PATH", raw)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() {
		return "", "", fmt.Errorf("CHECK_URL=%q: the lab loads only loopback (127.0.0.1 or ::1), not %s", raw, u.Hostname())
	}
	return net.JoinHostPort(ip.String(), u.Port()), cmp.Or(u.RequestURI(), "/"), nil
}

// envFiles places the contents given for the unit's EnvironmentFile=;
// a file the unit requires (no "-" prefix) must be given.
func envFiles(opts []unitfile.Option, hostFile string) ([]result.File, error) {
	var out []result.File
	for _, o := range unitfile.All(opts, "Service") {
		if o.Name != "EnvironmentFile" {
			continue
		}
		optional := strings.HasPrefix(o.Value, "-")
		p := strings.TrimPrefix(o.Value, "-")
		if hostFile == "" {
			if optional {
				continue
			}
			return nil, fmt.Errorf("line %d: EnvironmentFile=%s must exist; give its contents with CHECK_ENV=path/to/file", o.Line, p)
		}
		t, err := ReadFile(hostFile, "CHECK_ENV file")
		if err != nil {
			return nil, err
		}
		out = append(out, result.File{Path: p, Text: t})
		hostFile = "" // the one file given goes to the first path
	}
	return out, nil
}
