// Package units holds the unit-file variants under test as templates and
// renders them deterministically for one lab.
package units

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/gracelab/gracelab/internal/result"
)

//go:embed */*.service */*.env */*.socket
var files embed.FS

// Variant is one way of writing a server's unit.
type Variant struct {
	Server  string
	Name    string
	Summary string
	// Action is what the experiment asks systemctl to do: reload, or
	// restart for servers that cannot hand their socket over.
	Action string
	// EnvFile says the variant has an EnvironmentFile template.
	EnvFile bool
	// Socket says the variant has a .socket unit that owns the listener.
	Socket bool
	// MinSystemd is the oldest systemd that understands the unit (0: any).
	MinSystemd int
	// Control marks the baseline that must lose requests.
	Control bool
	// Upgrade marks the variant the upgrade experiments use for its server:
	// the one a careful user of that server style would write.
	Upgrade bool
	// VerifyWarns, when set, says why systemd-analyze verify is expected to
	// complain about this variant: the complaint is part of the finding.
	VerifyWarns string
}

// Catalog is every variant, in the order reports list them.
var Catalog = []Variant{
	{Server: "grace", Name: "pidfile", Action: "reload", Upgrade: true, Summary: "the blog post's unit: Type=simple, PIDFile=, ExecReload=pkill -USR2 --pidfile"},
	{Server: "grace", Name: "envfile", Action: "reload", EnvFile: true, Summary: "PID file path from EnvironmentFile=, used in ExecStart=, ExecReload= and PIDFile=${PIDFILE}"},
	{Server: "grace", Name: "specifier", Action: "reload", EnvFile: true, Summary: "PID file path written once with specifiers (%t/%N), other settings from EnvironmentFile="},
	{Server: "grace", Name: "pidfile-env", Action: "reload", Summary: "PIDFile= set once, ExecStart=/ExecReload= use the $PIDFILE systemd exports"},
	{Server: "grace", Name: "mainpid", Action: "reload", Summary: "no PIDFile=, ExecReload=kill -USR2 $MAINPID"},
	{Server: "starter", Name: "hup", Action: "reload", Upgrade: true, Summary: "start_server as main process, ExecReload=kill -HUP $MAINPID, no PID file"},
	{Server: "starter", Name: "pidfile", Action: "reload", Summary: "start_server --pid-file plus PIDFile=, ExecReload=pkill -HUP --pidfile"},
	{Server: "plain", Name: "restart", Action: "restart", Upgrade: true, Control: true, Summary: "plain net/http, systemctl restart: the baseline that must lose requests"},
	{Server: "tableflip", Name: "pidfile", Action: "reload", Upgrade: true, Summary: "the unit tableflip's README recommends: PIDFile=, ExecReload=kill -HUP $MAINPID"},
	{Server: "tableflip", Name: "no-pidfile", Action: "reload", Summary: "the README's unit without PIDFile="},
	{Server: "tableflip", Name: "notify", Action: "reload", Summary: "Type=notify, NotifyAccess=all; the new process sends MAINPID= and READY=1"},
	{Server: "tableflip", Name: "notify-reload", Action: "reload", MinSystemd: 253, Summary: "Type=notify-reload (systemd 253+): systemd sends SIGHUP, waits for RELOADING=1 ... READY=1"},
	{Server: "socket", Name: "restart", Action: "restart", Socket: true, Upgrade: true, Summary: "plain net/http on a systemd .socket unit, systemctl restart: the kernel keeps the socket"},
}

// Params are the lab-specific values a template needs.
type Params struct {
	Bin    string // where the binaries are
	Listen string // address the server listens on
	User   string // the unprivileged service user
}

// UnitName is the systemd unit name of a variant.
func (v Variant) UnitName() string { return "gracelab-" + v.Server + "-" + v.Name + ".service" }

// ID is "server/variant".
func (v Variant) ID() string { return v.Server + "/" + v.Name }

// Servers lists the servers in catalog order.
func Servers() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range Catalog {
		if !seen[v.Server] {
			seen[v.Server] = true
			out = append(out, v.Server)
		}
	}
	return out
}

// Of returns a server's variants; an unknown server is an error listing the
// known ones.
func Of(server string) ([]Variant, error) {
	var out []Variant
	for _, v := range Catalog {
		if v.Server == server {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("unknown server %q; servers: %s", server, strings.Join(Servers(), ", "))
	}
	return out, nil
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
	sort.Strings(names)
	return Variant{}, fmt.Errorf("unknown variant %q of %s; variants: %s", variant, server, strings.Join(names, ", "))
}

// Paths where a rendered variant is installed in the lab.
func (v Variant) UnitPath() string { return "/etc/systemd/system/" + v.UnitName() }

// SocketPath is the .socket unit's path, for variants that have one.
func (v Variant) SocketPath() string { return strings.TrimSuffix(v.UnitPath(), ".service") + ".socket" }

// EnvPath is the EnvironmentFile's path, for variants that have one.
func (v Variant) EnvPath() string {
	return "/etc/gracelab/" + strings.TrimSuffix(v.UnitName(), ".service") + ".env"
}

// Render returns the variant's files (the service unit first, then its
// socket unit and environment file if any) with their install paths and
// exact text.
func Render(v Variant, p Params) ([]result.File, error) {
	data := map[string]string{
		"Name":        strings.TrimSuffix(v.UnitName(), ".service"),
		"Description": "gracelab " + v.ID() + ": " + v.Summary,
		"Bin":         p.Bin,
		"Listen":      p.Listen,
		"User":        p.User,
		"EnvFile":     v.EnvPath(),
	}
	unit, err := render(v.Server+"/"+v.Name+".service", data)
	if err != nil {
		return nil, err
	}
	out := []result.File{{Path: v.UnitPath(), Text: unit}}
	if v.Socket {
		sock, err := render(v.Server+"/"+v.Name+".socket", data)
		if err != nil {
			return nil, err
		}
		out = append(out, result.File{Path: v.SocketPath(), Text: sock})
	}
	if v.EnvFile {
		env, err := render(v.Server+"/"+v.Name+".env", data)
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
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}
