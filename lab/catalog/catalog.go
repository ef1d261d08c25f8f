// Package catalog is the one place servers and unit variants are defined,
// as files: a folder per sample server (server.md says what it is), and
// one unit template per variant, whose header carries its summary and
// tags. Optional <variant>.env and <variant>.socket files go beside it.
//
// Header lines, at the top of a template:
//
//	# summary: one line about the variant
//	# tags: upgrade soak hup2015 control action=restart min-systemd=253 pidfile-path daemon-reload tcp-migrate-req
package catalog

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/internal/result"
)

//go:embed */*
var files embed.FS

// Server is one sample server: servers/<Name> holds its main.
type Server struct {
	Name        string
	Description string
	// DescriptionJa is server.ja.md, the same in Japanese ("" if none).
	DescriptionJa string
	Variants      []Variant
}

// Variant is one way of writing a server's unit.
type Variant struct {
	Server  string
	Name    string
	Summary string
	// Action is what the experiment asks systemctl to do: reload, or
	// restart (tag action=restart) for servers that cannot hand over.
	Action string
	// EnvFile and Socket say the variant has a .env or .socket file.
	EnvFile, Socket bool
	// MinSystemd is the oldest systemd that understands the unit (0: any).
	MinSystemd int
	// Control marks the baseline that must lose requests.
	Control bool
	// Upgrade marks the variant the upgrade experiments use for its server.
	Upgrade bool
	// Soak marks the variants the soak reloads many times.
	Soak bool
	// Long: a variant of the long-request experiment only.
	Long bool
	// HUP2015: a start_server worker of the 2015 comparison (hup-2015).
	HUP2015 bool
	// PIDFilePath marks variants that name the PID file path in a variable
	// or a specifier: the EnvironmentFile page compares them.
	PIDFilePath bool
	// Unit names a user's own unit (check), installed under its own name;
	// catalog variants leave it empty.
	Unit string
	// DaemonReload: the operator runs `systemctl daemon-reload` once the
	// last reload has settled, a mitigation to measure (systemd then takes
	// the main PID again and asks anew whether it is its child).
	DaemonReload bool
	// MigrateReq: the run sets net.ipv4.tcp_migrate_req=1 in the lab's
	// network namespace (tag tcp-migrate-req), so a closing SO_REUSEPORT
	// listener's queued connections move to another listener of its group.
	MigrateReq bool
}

var load = sync.OnceValues(func() ([]Server, error) { return read(files) })

// Servers lists the servers, by name, each with its variants by name.
// The catalog is embedded, so an error here is a defect in its files.
func Servers() []Server {
	s, err := load()
	if err != nil {
		panic(err)
	}
	return s
}

// Variants lists every variant, server by server.
func Variants() []Variant {
	var out []Variant
	for _, s := range Servers() {
		out = append(out, s.Variants...)
	}
	return out
}

// ServerNames lists the servers' names.
func ServerNames() []string {
	var out []string
	for _, s := range Servers() {
		out = append(out, s.Name)
	}
	return out
}

func read(fsys fs.FS) ([]Server, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Server
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		desc, err := fs.ReadFile(fsys, path.Join(d.Name(), "server.md"))
		if err != nil {
			return nil, fmt.Errorf("catalog: server %s has no server.md: %w", d.Name(), err)
		}
		s := Server{Name: d.Name(), Description: strings.TrimSpace(string(desc))}
		if ja, err := fs.ReadFile(fsys, path.Join(d.Name(), "server.ja.md")); err == nil {
			s.DescriptionJa = strings.TrimSpace(string(ja))
		}
		ents, err := fs.ReadDir(fsys, d.Name())
		if err != nil {
			return nil, err
		}
		names := map[string]bool{}
		for _, e := range ents {
			names[e.Name()] = true
		}
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".service")
			if !ok {
				continue
			}
			text, err := fs.ReadFile(fsys, path.Join(d.Name(), e.Name()))
			if err != nil {
				return nil, err
			}
			v, err := parseHeader(s.Name, name, string(text))
			if err != nil {
				return nil, err
			}
			v.EnvFile, v.Socket = names[name+".env"], names[name+".socket"]
			s.Variants = append(s.Variants, v)
		}
		slices.SortFunc(s.Variants, func(a, b Variant) int { return strings.Compare(a.Name, b.Name) })
		if len(s.Variants) == 0 {
			return nil, fmt.Errorf("catalog: server %s has no unit template", s.Name)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseHeader(server, name, text string) (Variant, error) {
	v := Variant{Server: server, Name: name, Action: "reload"}
	where := server + "/" + name + ".service"
	for _, line := range strings.Split(text, "\n") {
		key, val, ok := headerLine(line)
		if !ok {
			break
		}
		switch key {
		case "summary":
			v.Summary = val
		case "tags":
			for _, tag := range strings.Fields(val) {
				if err := v.tag(tag); err != nil {
					return v, fmt.Errorf("catalog: %s: %w", where, err)
				}
			}
		default:
			return v, fmt.Errorf("catalog: %s: unknown header %q (summary, tags)", where, key)
		}
	}
	if v.Summary == "" {
		return v, fmt.Errorf("catalog: %s: no '# summary:' header", where)
	}
	return v, nil
}

// headerLine splits "# key: value".
func headerLine(line string) (key, val string, ok bool) {
	rest, ok := strings.CutPrefix(line, "# ")
	if !ok {
		return "", "", false
	}
	key, val, ok = strings.Cut(rest, ": ")
	if !ok || strings.ContainsAny(key, " =") {
		return "", "", false
	}
	return key, strings.TrimSpace(val), true
}

func (v *Variant) tag(tag string) error {
	key, val, _ := strings.Cut(tag, "=")
	switch key {
	case "upgrade":
		v.Upgrade = true
	case "soak":
		v.Soak = true
	case "long":
		v.Long = true
	case "hup2015":
		v.HUP2015 = true
	case "control":
		v.Control = true
	case "pidfile-path":
		v.PIDFilePath = true
	case "daemon-reload":
		v.DaemonReload = true
	case "tcp-migrate-req":
		v.MigrateReq = true
	case "action":
		if val != "reload" && val != "restart" {
			return fmt.Errorf("action=%q is not reload or restart", val)
		}
		v.Action = val
	case "min-systemd":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return fmt.Errorf("min-systemd=%q is not a version number", val)
		}
		v.MinSystemd = n
	default:
		return fmt.Errorf("unknown tag %q (upgrade, soak, hup2015, control, pidfile-path, daemon-reload, tcp-migrate-req, action=, min-systemd=)", tag)
	}
	return nil
}

// Of returns a server's variants; an unknown server is an error listing the
// known ones.
func Of(server string) ([]Variant, error) {
	for _, s := range Servers() {
		if s.Name == server {
			return s.Variants, nil
		}
	}
	return nil, fmt.Errorf("unknown server %q; servers: %s", server, strings.Join(ServerNames(), ", "))
}

// Find returns one variant, or an error that lists the valid names.
func Find(server, variant string) (Variant, error) {
	vs, err := Of(server)
	if err != nil {
		return Variant{}, err
	}
	var names []string
	for _, v := range vs {
		if v.Name == variant {
			return v, nil
		}
		names = append(names, v.Name)
	}
	return Variant{}, fmt.Errorf("unknown variant %q of %s; variants: %s", variant, server, strings.Join(names, ", "))
}

// DescribeJa returns a server's description in Japanese (server.ja.md),
// or "".
func DescribeJa(server string) string {
	for _, s := range Servers() {
		if s.Name == server {
			return s.DescriptionJa
		}
	}
	return ""
}

// Describe returns a server's description (server.md), or "".
func Describe(server string) string {
	for _, s := range Servers() {
		if s.Name == server {
			return s.Description
		}
	}
	return ""
}

// UnitName is the systemd unit name of a variant.
func (v Variant) UnitName() string {
	if v.Unit != "" {
		return v.Unit
	}
	return protocol.UnitPrefix + v.Server + "-" + v.Name + ".service"
}

// ID is "server/variant".
func (v Variant) ID() string { return v.Server + "/" + v.Name }

// UnitPath is where the variant's unit is installed in the lab.
func (v Variant) UnitPath() string { return protocol.UnitDir + "/" + v.UnitName() }

// SocketPath is the .socket unit's path, for variants that have one.
func (v Variant) SocketPath() string { return strings.TrimSuffix(v.UnitPath(), ".service") + ".socket" }

// EnvPath is the EnvironmentFile's path, for variants that have one.
func (v Variant) EnvPath() string {
	return protocol.ConfDir + "/" + strings.TrimSuffix(v.UnitName(), ".service") + ".env"
}

// Params are the lab-specific values a template needs.
type Params struct {
	Bin    string // where the binaries are
	Listen string // address the server listens on
	User   string // the unprivileged service user
}

// Render returns the variant's files (the service unit first, then its
// socket unit and environment file if any) with their install paths and
// exact text, header lines dropped. A template that uses .EnvFile without
// a .env file beside it fails to render.
func Render(v Variant, p Params) ([]result.File, error) {
	data := map[string]string{
		"Name":        strings.TrimSuffix(v.UnitName(), ".service"),
		"Description": "gracelab " + v.ID() + ": " + v.Summary,
		"Bin":         p.Bin,
		"Listen":      p.Listen,
		"User":        p.User,
	}
	if v.EnvFile {
		data["EnvFile"] = v.EnvPath()
	}
	base := v.Server + "/" + v.Name
	unit, err := render(base+".service", data)
	if err != nil {
		return nil, err
	}
	out := []result.File{{Path: v.UnitPath(), Text: unit}}
	if v.Socket {
		sock, err := render(base+".socket", data)
		if err != nil {
			return nil, err
		}
		out = append(out, result.File{Path: v.SocketPath(), Text: sock})
	}
	if v.EnvFile {
		env, err := render(base+".env", data)
		if err != nil {
			return nil, err
		}
		out = append(out, result.File{Path: v.EnvPath(), Text: env})
	}
	return out, nil
}

func render(name string, data map[string]string) (string, error) {
	src, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return renderText(name, string(src), data)
}

func renderText(name, src string, data map[string]string) (string, error) {
	lines := strings.SplitAfter(src, "\n")
	for len(lines) > 0 {
		if _, _, ok := headerLine(strings.TrimSuffix(lines[0], "\n")); !ok {
			break
		}
		lines = lines[1:]
	}
	t, err := template.New(name).Option("missingkey=error").Parse(strings.Join(lines, ""))
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}
