package own

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const unit = `[Unit]
Description=app

[Service]
User=app
EnvironmentFile=/etc/default/app
PIDFile=/run/app/app.pid
ExecStart=/usr/local/bin/app -listen 127.0.0.1:9090 -pid /run/app/app.pid
ExecReload=/bin/kill -USR2 $MAINPID
`

// files writes a unit and a binary (this test's own executable: an ELF
// file for this machine) into a temporary directory.
func files(t *testing.T, unitText string) (unitPath, binPath string) {
	t.Helper()
	d := t.TempDir()
	unitPath = filepath.Join(d, "app.service")
	if err := os.WriteFile(unitPath, []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	binPath = filepath.Join(d, "app")
	if err := os.WriteFile(binPath, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return unitPath, binPath
}

func TestPrepare(t *testing.T) {
	u, b := files(t, unit)
	env := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(env, []byte("A=1\n"), 0o644)
	p, err := Prepare(u, b, Settings{URL: "http://127.0.0.1:9090/api?x=1", Health: "/healthz", EnvFile: env})
	if err != nil {
		t.Fatal(err)
	}
	if p.Own.Binary != "/usr/local/bin/app" || p.Own.Unit.Path != "/etc/systemd/system/app.service" || p.Own.Unit.Text != unit {
		t.Errorf("placed %s, unit %s", p.Own.Binary, p.Own.Unit.Path)
	}
	if p.Listen != "127.0.0.1:9090" || p.Path != "/api?x=1" || p.Health != "/healthz" {
		t.Errorf("load %s %s, health %s", p.Listen, p.Path, p.Health)
	}
	if len(p.Own.Files) != 1 || p.Own.Files[0].Path != "/etc/default/app" || p.Own.Files[0].Text != "A=1\n" {
		t.Errorf("env file: %+v", p.Own.Files)
	}
	if len(p.Lint) != 1 || p.Lint[0].Rule != "main-pid-not-child" {
		t.Errorf("lint: %+v", p.Lint)
	}
}

func TestPrepareStartServer(t *testing.T) {
	u, b := files(t, "[Service]\nExecStart=/usr/bin/start_server --port=127.0.0.1:8080 -- /opt/app/app -flag\nExecReload=/bin/kill -HUP $MAINPID\n")
	p, err := Prepare(u, b, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Own.Binary != "/opt/app/app" || p.Own.Tools["/usr/bin/start_server"] != "start_server" {
		t.Errorf("binary at %s, tools %v", p.Own.Binary, p.Own.Tools)
	}
	if p.Listen != "127.0.0.1:8080" || p.Path != "/" || p.Health != "/" {
		t.Errorf("defaults: %s %s %s", p.Listen, p.Path, p.Health)
	}
}

// Each bad input is one line that says what is wrong.
func TestPrepareBadInput(t *testing.T) {
	u, b := files(t, unit)
	env := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(env, nil, 0o644)
	noStart, _ := files(t, "[Service]\nType=simple\n")
	relative, _ := files(t, "[Service]\nExecStart=app -listen :80\n")
	other, _ := files(t, "[Service]\nExecStart=/usr/bin/python3 /srv/app\n")
	notELF := filepath.Join(t.TempDir(), "app")
	os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755)
	unreadable := filepath.Join(t.TempDir(), "secret.service")
	os.WriteFile(unreadable, []byte(unit), 0o000)
	ok := Settings{EnvFile: env}
	for _, c := range []struct {
		name, unit, bin string
		s               Settings
		want            string
	}{
		{"missing unit", "/nonexistent/app.service", b, ok, "unit file /nonexistent/app.service does not exist"},
		{"missing binary", u, "/nonexistent/app", ok, "binary /nonexistent/app does not exist"},
		{"unreadable unit", t.TempDir() + "/", b, ok, "cannot read unit file"},
		{"unreadable binary", u, t.TempDir(), ok, "cannot read binary"},
		{"not a service", b, b, ok, "a file named NAME.service"},
		{"no ExecStart", noStart, b, ok, "no ExecStart="},
		{"relative ExecStart", relative, b, ok, "without a path"},
		{"another program", other, b, ok, "check can provide start_server, not python3"},
		{"not ELF", u, notELF, ok, "not a Linux executable (ELF); build it with GOOS=linux"},
		{"not loopback", u, b, Settings{EnvFile: env, URL: "http://10.0.0.1:9090/"}, "the lab loads only loopback"},
		{"no port", u, b, Settings{EnvFile: env, URL: "http://127.0.0.1/"}, "want http://127.0.0.1:PORT/PATH"},
		{"https", u, b, Settings{EnvFile: env, URL: "https://127.0.0.1:9090/"}, "want http://127.0.0.1:PORT/PATH"},
		{"env file required", u, b, Settings{}, "line 6: EnvironmentFile=/etc/default/app must exist; give its contents with CHECK_ENV"},
		{"bad health", u, b, Settings{EnvFile: env, Health: "healthz"}, "want a path"},
		{"bad slow path", u, b, Settings{EnvFile: env, Slow: "slow"}, "CHECK_SLOW=\"slow\": want a path"},
		{"bad extra file", u, b, Settings{EnvFile: env, Files: []string{"a.conf"}}, "is not HOSTPATH:/ABSOLUTE/LAB/PATH"},
	} {
		_, err := Prepare(c.unit, c.bin, c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line with %q", c.name, err, c.want)
		}
	}
	if os.Geteuid() != 0 {
		if _, err := Prepare(unreadable, b, ok); err == nil || !strings.Contains(err.Error(), "cannot read unit file") {
			t.Errorf("unreadable: %v", err)
		}
	}
}

func TestExecutableArchitecture(t *testing.T) {
	self, _ := os.Executable()
	b, _ := os.ReadFile(self)
	if err := Executable(b, runtime.GOARCH); err != nil {
		t.Fatalf("this test binary: %v", err)
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if err := Executable(b, other); err == nil || !strings.Contains(err.Error(), "build it with GOARCH="+other) {
		t.Fatalf("for %s: %v", other, err)
	}
}
