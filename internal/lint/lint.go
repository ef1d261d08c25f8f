// Package lint reads a unit file and warns about each way of writing it
// that the lab has measured to fail a graceful restart. Each warning
// names the line, what will happen, and the published result that shows
// it. It runs without a lab.
package lint

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/unitfile"
)

// Warning is one finding about one line.
type Warning struct {
	Line    int
	Setting string // as written, "PIDFile=${PIDFILE}"
	Rule    string // short name, such as "pidfile-variable"
	Happens string // what will happen, in a sentence or two
	Fix     string // what to write instead
	Seen    string // where the lab shows it: a docs/ path
}

// String is the warning without its line: the setting, then what
// happens, the fix and the evidence, indented.
func (w Warning) String() string {
	return fmt.Sprintf("%s [%s]\n  %s\n  Instead: %s\n  Measured: %s", w.Setting, w.Rule, w.Happens, w.Fix, w.Seen)
}

// Drains are how long the libraries the lab measured drain at stop; a
// stop timeout below the shortest of them cuts requests they would finish.
const graceDrain = 60 * time.Second

// Unit lints the text of a service unit.
func Unit(text string) ([]Warning, error) {
	u, err := parse(text)
	if err != nil {
		return nil, err
	}
	if _, ok := u.get("ExecStart"); !ok {
		return nil, fmt.Errorf("no ExecStart= in [Service]: this is not a service unit lint can read")
	}
	var out []Warning
	for _, rule := range rules {
		if w, ok := rule(u); ok {
			out = append(out, w)
		}
	}
	return out, nil
}

type parsed struct{ opts []unitfile.Option }

func parse(text string) (parsed, error) {
	opts, err := unitfile.Parse(text)
	if err != nil {
		return parsed{}, fmt.Errorf("not a unit file systemd's syntax allows: %w", err)
	}
	return parsed{opts: opts}, nil
}

func (u parsed) get(name string) (unitfile.Option, bool) {
	return unitfile.LastOption(u.opts, "Service", name)
}

func (u parsed) value(name, def string) string {
	if o, ok := u.get(name); ok && o.Value != "" {
		return o.Value
	}
	return def
}

func setting(o unitfile.Option) string { return o.Name + "=" + o.Value }

// reexec says whether ExecReload= sends USR2 or HUP to a process (by PID,
// $MAINPID or a PID file): the signal graceful-restart libraries take to
// start a new process that replaces the old one.
func (u parsed) reexec() (unitfile.Option, bool) {
	o, ok := u.get("ExecReload")
	if !ok {
		return o, false
	}
	f := strings.Fields(strings.NewReplacer("'", " ", `"`, " ", ";", " ", "&&", " ").Replace(o.Value))
	kill, sig := false, false
	for i, w := range f {
		switch base := path.Base(strings.TrimLeft(w, "-@:+!")); {
		case base == "kill" || base == "pkill" || base == "killall":
			kill = true
		case kill && (isSignal(w) || (w == "-s" || w == "--signal") && i+1 < len(f) && isSignal(f[i+1])):
			sig = true
		}
	}
	return o, kill && sig
}

func isSignal(w string) bool {
	s := strings.TrimPrefix(strings.ToUpper(strings.TrimLeft(w, "-")), "SIG")
	return s == "USR2" || s == "HUP" || s == "12" || s == "1"
}

// Waits says whether an ExecReload= waits for the old process to exit.
func Waits(reload string) bool {
	return strings.Contains(reload, "kill -0") || strings.Contains(reload, "tail --pid")
}

// supervisor says whether the main process stays across a reload (it
// starts and stops workers itself), so systemd's main PID never changes.
func (u parsed) supervisor() bool {
	o, _ := u.get("ExecStart")
	f := unitfile.Argv(o.Value)
	if len(f) == 0 {
		return false
	}
	switch path.Base(f[0]) {
	case "start_server", "einhorn":
		return true
	}
	return false
}

// pidFileBroken says whether systemd will lose the server at a reload
// that replaces its process: the PID file path is not one systemd can
// read, or there is none at all.
func (u parsed) pidFileBroken() (string, bool) {
	if _, ok := u.reexec(); !ok || u.supervisor() || strings.HasPrefix(u.value("Type", "simple"), "notify") {
		return "", false
	}
	p, ok := u.get("PIDFile")
	switch {
	case !ok:
		return "there is no PIDFile=", true
	case strings.Contains(p.Value, "$"):
		return "PIDFile= names a variable", true
	}
	return "", false
}

var rules = []func(parsed) (Warning, bool){
	// No way to reload at all.
	func(u parsed) (Warning, bool) {
		if _, ok := u.get("ExecReload"); ok || u.value("Type", "simple") == "notify-reload" {
			return Warning{}, false
		}
		o, _ := u.get("ExecStart")
		return Warning{Line: o.Line, Setting: "(no ExecReload=)", Rule: "no-exec-reload",
			Happens: "`systemctl reload` fails (\"Job type reload is not applicable\") and starts nothing; a graceful " +
				"restart needs ExecReload= to send the server its signal (or Type=notify-reload).",
			Fix:  "ExecReload=/bin/kill -HUP $MAINPID (the signal your library takes: USR2 for grace, HUP for tableflip and start_server)",
			Seen: "docs/check/tableflip-doc.md"}, true
	},
	// PIDFile= takes no environment variables.
	func(u parsed) (Warning, bool) {
		p, ok := u.get("PIDFile")
		if !ok || !strings.Contains(p.Value, "$") {
			return Warning{}, false
		}
		return Warning{Line: p.Line, Setting: setting(p), Rule: "pidfile-variable",
			Happens: "systemd does not expand variables in PIDFile=: it reads the path literally (relative to /run, as " +
				"/run/" + p.Value + "), never finds the file, and after the first reload that replaces the process it " +
				"deactivates the unit and stops the new server with it.",
			Fix:  "write the path out, or with specifiers: PIDFile=%t/%N/app.pid (and the same path in ExecStart=)",
			Seen: "docs/envfile.md"}, true
	},
	// A process-replacing reload with nothing to tell systemd the new PID.
	func(u parsed) (Warning, bool) {
		r, ok := u.reexec()
		if _, has := u.get("PIDFile"); !ok || has || u.supervisor() || strings.HasPrefix(u.value("Type", "simple"), "notify") {
			return Warning{}, false
		}
		return Warning{Line: r.Line, Setting: setting(r), Rule: "reexec-without-pidfile",
			Happens: "this reload makes the server start a new process and the old one exit, but nothing tells systemd " +
				"the new PID: when the old main process exits, systemd deactivates the unit and stops the new server " +
				"with it (requests are refused from then on).",
			Fix:  "add PIDFile= with the path the server writes its PID to, or use Type=notify with NotifyAccess=all and have the new process send MAINPID=",
			Seen: "docs/grace.md#variant-mainpid, docs/tableflip.md#variant-no-pidfile"}, true
	},
	// The new main process is not systemd's child when it reads the PID file.
	func(u parsed) (Warning, bool) {
		r, ok := u.reexec()
		p, has := u.get("PIDFile")
		if !ok || !has || strings.Contains(p.Value, "$") || u.supervisor() || Waits(r.Value) {
			return Warning{}, false
		}
		return Warning{Line: p.Line, Setting: setting(p), Rule: "main-pid-not-child",
			Happens: "after a reload systemd reads the new PID from this file while the new process's parent is still the " +
				"old one, so it holds a main PID that is not its child. It does not wait for such a process at stop: " +
				"`systemctl stop` sends SIGKILL right after SIGTERM, cutting the requests in flight.",
			Fix:  "make ExecReload= wait until the old process has exited: ExecReload=/bin/sh -c 'kill -USR2 $$MAINPID && while kill -0 $$MAINPID 2>/dev/null; do sleep 0.1; done' (or run `systemctl daemon-reload` after each reload)",
			Seen: "docs/README.md#stopping-under-load"}, true
	},
	// notify: the new process may not send MAINPID= under NotifyAccess=main.
	func(u parsed) (Warning, bool) {
		t, _ := u.get("Type")
		if !strings.HasPrefix(t.Value, "notify") || u.value("NotifyAccess", "main") == "all" {
			return Warning{}, false
		}
		if _, ok := u.reexec(); !ok && t.Value != "notify-reload" {
			return Warning{}, false
		}
		return Warning{Line: t.Line, Setting: setting(t), Rule: "notify-access",
			Happens: "the new process sends MAINPID= and READY=1 while the old one is still the main process; with " +
				"NotifyAccess=" + u.value("NotifyAccess", "main") + " systemd drops both messages, and when the old " +
				"process exits it deactivates the unit and stops the new server.",
			Fix:  "NotifyAccess=all",
			Seen: "docs/tableflip.md#variant-notify-main"}, true
	},
	// A stop timeout shorter than the drain.
	func(u parsed) (Warning, bool) {
		o, ok := u.get("TimeoutStopSec")
		if !ok {
			o, ok = u.get("TimeoutSec")
		}
		if !ok {
			return Warning{}, false
		}
		d, err := Timespan(o.Value)
		if err != nil || d >= graceDrain {
			return Warning{}, false
		}
		return Warning{Line: o.Line, Setting: setting(o), Rule: "stop-timeout",
			Happens: fmt.Sprintf("a stop that takes longer than %s is ended with SIGKILL. facebookgo/grace (httpdown) drains "+
				"requests for up to 60 s, and tableflip-style servers until their handlers return: requests still "+
				"running after %s are cut.", d, d),
			Fix:  "leave TimeoutStopSec= at its default (90 s), or set it above your longest request",
			Seen: "docs/README.md#requests-longer-than-the-stop-allows"}, true
	},
	// /var/run is a legacy path.
	func(u parsed) (Warning, bool) {
		p, ok := u.get("PIDFile")
		if !ok || !strings.HasPrefix(p.Value, "/var/run/") {
			return Warning{}, false
		}
		return Warning{Line: p.Line, Setting: setting(p), Rule: "legacy-var-run",
			Happens: "/var/run is a link to /run: systemd rewrites the path and logs a warning (\"references a path below " +
				"legacy directory /var/run/\") each time it loads the unit.",
			Fix:  "PIDFile=/run/" + strings.TrimPrefix(p.Value, "/var/run/"),
			Seen: "docs/grace.md#variant-varrun"}, true
	},
	// Restart= cannot fire after the deactivation a lost PID causes.
	func(u parsed) (Warning, bool) {
		r, ok := u.get("Restart")
		why, broken := u.pidFileBroken()
		if !broken {
			return Warning{}, false
		}
		if ok && (r.Value == "always" || r.Value == "on-success") {
			return Warning{}, false
		}
		line, set := r.Line, setting(r)
		if !ok {
			o, _ := u.get("ExecStart")
			line, set = o.Line, "(no Restart=)"
		}
		return Warning{Line: line, Setting: set, Rule: "restart-cannot-fire",
			Happens: "when systemd loses the server after a reload (" + why + "), the old main process exited with status 0, " +
				"so the unit ends with Result=success: Restart=" + u.value("Restart", "no") + " does not start it again, and the " +
				"service stays down.",
			Fix:  "fix the PID tracking above; Restart=on-failure is no safety net for it",
			Seen: "docs/envfile.md"}, true
	},
}

// Timespan parses a systemd time span ("90", "1min 30s", "500ms",
// "infinity"); a bare number is seconds.
func Timespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return time.Duration(1<<63 - 1), nil
	}
	units := map[string]time.Duration{"": time.Second, "us": time.Microsecond, "usec": time.Microsecond,
		"ms": time.Millisecond, "msec": time.Millisecond, "s": time.Second, "sec": time.Second, "second": time.Second,
		"seconds": time.Second, "m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour, "d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}
	var total time.Duration
	rest := strings.ReplaceAll(s, " ", "")
	if rest == "" {
		return 0, fmt.Errorf("empty time span")
	}
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		u, ok := units[rest[i:j]]
		if err != nil || !ok {
			return 0, fmt.Errorf("%q is not a time span systemd reads", s)
		}
		total += time.Duration(n * float64(u))
		rest = rest[j:]
	}
	return total, nil
}
