package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gracelab/gracelab/internal/unitfile"
)

var params = Params{Bin: "/opt/gracelab/bin", Listen: "127.0.0.1:18080", User: "gracelab"}

// tools are binaries the build makes besides the servers.
var tools = map[string]bool{"start_server": true}

func TestEveryServerHasItsMain(t *testing.T) {
	for _, s := range Servers() {
		if _, err := os.Stat(filepath.Join("..", "..", "servers", s.Name, "main.go")); err != nil {
			t.Errorf("catalog server %s has no servers/%s/main.go: %v", s.Name, s.Name, err)
		}
		if s.Description == "" {
			t.Errorf("server %s: empty server.md", s.Name)
		}
		if s.DescriptionJa == "" {
			t.Errorf("server %s: no server.ja.md (the Japanese pages need it)", s.Name)
		}
	}
}

// TestTemplatesReferenceOnlyWhatExists renders every variant, parses it
// with go-systemd and checks what it points at: the binary ExecStart=
// runs, the EnvironmentFile= and the socket unit.
func TestTemplatesReferenceOnlyWhatExists(t *testing.T) {
	servers := map[string]bool{}
	for _, n := range ServerNames() {
		servers[n] = true
	}
	for _, v := range Variants() {
		fs, err := Render(v, params)
		if err != nil {
			t.Fatalf("%s: %v", v.ID(), err)
		}
		text := fs[0].Text
		if strings.Contains(text, "# summary:") || strings.Contains(text, "<no value>") {
			t.Errorf("%s: header or unrendered text left:\n%s", v.ID(), text)
		}
		opts, err := unitfile.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", v.ID(), err)
		}
		start, _ := unitfile.Last(opts, "Service", "ExecStart")
		bin := strings.Fields(start)[0]
		if name, ok := strings.CutPrefix(bin, params.Bin+"/"); !ok || !servers[name] && !tools[name] {
			t.Errorf("%s: ExecStart= runs %s, which the build does not make", v.ID(), bin)
		}
		if u, _ := unitfile.Last(opts, "Service", "User"); u != params.User {
			t.Errorf("%s: User=%q, want %q", v.ID(), u, params.User)
		}
		envFile, hasEnv := unitfile.Last(opts, "Service", "EnvironmentFile")
		if hasEnv != v.EnvFile || hasEnv && envFile != v.EnvPath() {
			t.Errorf("%s: EnvironmentFile=%q but the catalog has env file: %v", v.ID(), envFile, v.EnvFile)
		}
		req, _ := unitfile.Last(opts, "Unit", "Requires")
		if wantSock := strings.TrimSuffix(v.UnitName(), ".service") + ".socket"; (req == wantSock) != v.Socket {
			t.Errorf("%s: Requires=%q but the catalog has socket file: %v", v.ID(), req, v.Socket)
		}
		if v.Action == "reload" && v.MinSystemd == 0 {
			if _, ok := unitfile.Last(opts, "Service", "ExecReload"); !ok {
				t.Errorf("%s: reloaded, but has no ExecReload=", v.ID())
			}
		}
		again, _ := Render(v, params)
		if again[0].Text != text {
			t.Errorf("%s renders differently twice", v.ID())
		}
	}
}

func TestEveryFileBelongsToAVariant(t *testing.T) {
	for _, s := range Servers() {
		ents, _ := files.ReadDir(s.Name)
		for _, e := range ents {
			base := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
			if e.Name() == "server.md" || e.Name() == "server.ja.md" || strings.HasSuffix(e.Name(), ".service") {
				continue
			}
			if _, err := Find(s.Name, base); err != nil {
				t.Errorf("%s/%s belongs to no variant", s.Name, e.Name())
			}
		}
	}
}

func TestBadCatalogFilesAreRefused(t *testing.T) {
	ok := "# summary: fine\n[Service]\nExecStart={{.Bin}}/x\n"
	for name, fsys := range map[string]fstest.MapFS{
		"no server.md":   {"x/a.service": {Data: []byte(ok)}},
		"no summary":     {"x/server.md": {Data: []byte("x")}, "x/a.service": {Data: []byte("[Service]\n")}},
		"unknown tag":    {"x/server.md": {Data: []byte("x")}, "x/a.service": {Data: []byte("# summary: s\n# tags: fast\n")}},
		"bad systemd":    {"x/server.md": {Data: []byte("x")}, "x/a.service": {Data: []byte("# summary: s\n# tags: min-systemd=new\n")}},
		"bad action":     {"x/server.md": {Data: []byte("x")}, "x/a.service": {Data: []byte("# summary: s\n# tags: action=kill\n")}},
		"unknown header": {"x/server.md": {Data: []byte("x")}, "x/a.service": {Data: []byte("# summary: s\n# owner: me\n")}},
		"no template":    {"x/server.md": {Data: []byte("x")}},
	} {
		if _, err := read(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	got, err := read(fstest.MapFS{"x/server.md": {Data: []byte("About x.\n")}, "x/a.service": {Data: []byte("# summary: s\n# tags: upgrade min-systemd=253 action=restart tcp-migrate-req\n" + ok)}})
	if err != nil {
		t.Fatal(err)
	}
	v := got[0].Variants[0]
	if got[0].Description != "About x." || !v.Upgrade || v.MinSystemd != 253 || v.Action != "restart" || !v.MigrateReq || v.Soak || v.Control {
		t.Fatalf("parsed %+v %+v", got[0], v)
	}
}

func TestTemplateUsingEnvFileNeedsOne(t *testing.T) {
	_, err := renderText("x.service", "# summary: s\n[Service]\nEnvironmentFile={{.EnvFile}}\n", map[string]string{"Bin": "/b"})
	if err == nil {
		t.Fatal("a template that names .EnvFile without a .env file rendered")
	}
}

func TestFindErrorsListValidNames(t *testing.T) {
	if _, err := Find("nginx", "x"); err == nil || !strings.Contains(err.Error(), "endless, fdstore, grace, gracedown, manners, overseer, plain, reuseport, socket, starter, tableflip") {
		t.Fatalf("unknown server: %v", err)
	}
	if _, err := Find("grace", "nope"); err == nil || !strings.Contains(err.Error(), "envfile, long, long-30, mainpid, pidfile, pidfile-daemon-reload, pidfile-env, pidfile-wait, specifier, varrun") {
		t.Fatalf("unknown variant: %v", err)
	}
	if v, err := Find("starter", "hup"); err != nil || v.UnitName() != "gracelab-starter-hup.service" || !v.Upgrade || !v.Soak {
		t.Fatalf("Find(starter, hup) = %+v, %v", v, err)
	}
}
