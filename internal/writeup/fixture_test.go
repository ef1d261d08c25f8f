package writeup

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/lab/catalog"
)

// The fixtures in testdata/results are written by this file, so that they
// are realistic and consistent (the verdicts come from check.Judge):
//
//	go test ./internal/writeup -run TestWriteFixtures -fixtures
var writeFixtures = flag.Bool("fixtures", false, "rewrite testdata/results from fixture_test.go")

const fixtureDir = "testdata/results"

func TestWriteFixtures(t *testing.T) {
	if !*writeFixtures {
		t.Skip("run with -fixtures to rewrite testdata/results")
	}
	old, _ := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range fixtures() {
		if _, err := result.Write(fixtureDir, r); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	bookworm = result.Env{Provider: "nspawn", Distro: "debian", Suite: "bookworm", Kernel: "6.1.0-28-amd64",
		SystemdVersion: "252", GoVersion: "go1.26.8", CPUs: 2,
		Modules: map[string]string{"github.com/facebookgo/grace": "v0.0.0-20180706040059-75cf19382434", "github.com/lestrrat-go/server-starter": "v0.0.0-20210101230921-50cd1900b5bc"}}
	trixie = result.Env{Provider: "nspawn", Distro: "debian", Suite: "trixie", Kernel: "6.1.0-28-amd64",
		SystemdVersion: "257", GoVersion: "go1.26.8", CPUs: 2,
		Modules: map[string]string{"github.com/facebookgo/grace": "v0.0.0-20180706040059-75cf19382434"}}
)

// scenario is how a fixture run went.
type scenario struct {
	lossMS      float64 // refused requests for this long after each reload
	untracked   bool    // systemd loses the serving process after reloads
	fellBehind  bool
	profile     string // keepalive unless set
	upgrade     string // v2 or broken: one reload after a deploy
	stopTimeout bool   // systemctl stop had to time out
}

// fixtureCatalog stands in for lab/catalog in tests, so that the
// goldens do not change when the lab gains a variant.
var fixtureCatalog = []catalog.Variant{
	{Server: "grace", Name: "pidfile", Summary: "the blog post's unit: Type=simple, PIDFile=, ExecReload=kill -USR2 $MAINPID"},
	{Server: "grace", Name: "envfile", PIDFilePath: true, Summary: "PID file path from EnvironmentFile=, PIDFile=${PIDFILE}"},
	{Server: "grace", Name: "specifier", PIDFilePath: true, Summary: "PID file path written with a specifier (%t)"},
	{Server: "grace", Name: "simple", Summary: "no PIDFile=, ExecReload=kill -USR2 $MAINPID"},
	{Server: "plain", Name: "restart", Control: true, Summary: "plain net/http, systemctl restart: the baseline that must lose requests"},
	{Server: "tableflip", Name: "pidfile", Summary: "the unit tableflip's README recommends: PIDFile=, ExecReload=kill -HUP $MAINPID"},
	{Server: "tableflip", Name: "notify-reload", MinSystemd: 253, Summary: "Type=notify-reload (systemd 253+)"},
	{Server: "socket", Name: "restart", Socket: true, Summary: "plain net/http on a systemd .socket unit, systemctl restart"},
}

func summaryOf(server, variant string) (string, bool) {
	for _, v := range fixtureCatalog {
		if v.Server == server && v.Name == variant {
			return v.Summary, v.Control
		}
	}
	return "", false
}

func fixtures() []*result.Result {
	return []*result.Result{
		fixture("20250301T100000Z-1", "reload", "grace", "pidfile", bookworm, scenario{lossMS: 200, untracked: true}),
		fixture("20250301T110000Z-2", "reload", "grace", "pidfile", bookworm, scenario{}),
		fixture("20250301T110100Z-3", "reload", "grace", "simple", bookworm, scenario{lossMS: 400, untracked: true}),
		fixture("20250301T110200Z-4", "reload", "grace", "envfile", bookworm, scenario{untracked: true}),
		fixture("20250301T110300Z-5", "reload", "grace", "specifier", bookworm, scenario{}),
		fixture("20250301T110400Z-6", "reload", "plain", "restart", bookworm, scenario{fellBehind: true, lossMS: 100}),
		fixture("20250301T110410Z-6b", "reload", "plain", "restart", bookworm, scenario{lossMS: 100, profile: "new-conn"}),
		fixture("20250301T110500Z-7", "upgrade", "grace", "pidfile", bookworm, scenario{upgrade: "v2"}),
		fixture("20250301T110510Z-7b", "upgrade-broken", "grace", "pidfile", bookworm, scenario{upgrade: "broken", stopTimeout: true}),
		fixture("20250301T110520Z-7c", "upgrade", "plain", "restart", bookworm, scenario{upgrade: "v2", lossMS: 100}),
		fixture("20250301T110600Z-a", "reload", "tableflip", "pidfile", bookworm, scenario{}),
		fixture("20250301T110700Z-b", "reload", "socket", "restart", bookworm, scenario{}),
		fixture("20250302T090000Z-8", "reload", "grace", "pidfile", trixie, scenario{lossMS: 100}),
		fixture("20250302T090100Z-9", "reload", "grace", "specifier", trixie, scenario{}),
	}
}

func unitFile(server, variant string) (string, []result.File) {
	name := fmt.Sprintf("gracelab-%s-%s.service", server, variant)
	pidfile := "/run/gracelab/" + server + ".pid"
	svc := "Type=simple\n"
	pidLine := ""
	var extra []result.File
	switch variant {
	case "pidfile":
		pidLine = "PIDFile=" + pidfile + "\n"
	case "envfile":
		pidLine = "EnvironmentFile=/etc/default/gracelab-grace\nPIDFile=${PIDFILE}\n"
		extra = append(extra, result.File{Path: "/etc/default/gracelab-grace", Text: "PIDFILE=" + pidfile + "\n"})
	case "specifier":
		pidLine = "PIDFile=%t/gracelab/" + server + ".pid\n"
	case "restart":
		svc = "Type=exec\n"
	}
	reload := "ExecReload=/bin/kill -USR2 $MAINPID\n"
	if server == "tableflip" {
		reload = "ExecReload=/bin/kill -HUP $MAINPID\n"
	}
	if variant == "restart" {
		reload = ""
	}
	if server == "socket" {
		extra = append(extra, result.File{Path: "/etc/systemd/system/" + strings.TrimSuffix(name, ".service") + ".socket",
			Text: "[Unit]\nDescription=listening socket\n\n[Socket]\nListenStream=127.0.0.1:8080\n\n[Install]\nWantedBy=sockets.target\n"})
	}
	text := "[Unit]\nDescription=gracelab sample server " + server + " (" + variant + ")\n\n[Service]\n" + svc + pidLine +
		"RuntimeDirectory=gracelab\nExecStart=/opt/gracelab/bin/" + server + " -listen 127.0.0.1:8080 -pid " + pidfile + "\n" +
		reload + "Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n"
	return name, append([]result.File{{Path: "/etc/systemd/system/" + name, Text: text}}, extra...)
}

func fixture(id, exp, server, variant string, env result.Env, sc scenario) *result.Result {
	const (
		rate  = 200
		total = 6000.0
		binMS = 100.0
	)
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	name, files := unitFile(server, variant)
	profile := "keepalive"
	if sc.profile != "" {
		profile = sc.profile
	}
	summary, control := summaryOf(server, variant)
	r := &result.Result{
		Schema: result.SchemaVersion, ID: id, Experiment: exp, Server: server, Variant: variant, Profile: profile,
		Started: start, Finished: start.Add(7 * time.Second), WallMS: 7000, Env: env,
		Unit: result.Unit{Name: name, Summary: summary, Control: control, Files: files, Show: map[string]string{
			"Type": "simple", "ExecReload": "{ path=/bin/kill ; argv[]=/bin/kill -USR2 $MAINPID ; ignore_errors=no }",
			"KillMode": "control-group", "Restart": "on-failure", "PIDFile": "/run/gracelab/" + server + ".pid", "NotifyAccess": "none",
		}},
		Load: result.LoadProfile{Rate: rate, DurationMS: total, KeepAlive: profile == "keepalive", TimeoutMS: 2000, Path: "/", Action: "reload",
			ReloadAtMS: []float64{2000, 4000}, SlowPerReload: 2, SlowMS: 1500, Upgrade: sc.upgrade},
		Timeline: result.Timeline{BinMS: binMS},
	}
	if sc.upgrade != "" {
		r.Load.ReloadAtMS = []float64{total / 3}
	}
	switch variant {
	case "envfile":
		r.Unit.Show["PIDFile"] = ""
		r.Unit.Verify = "/etc/systemd/system/gracelab-grace-envfile.service:8: PIDFile= path is not absolute, ignoring: ${PIDFILE}"
	case "specifier":
		r.Unit.Show["PIDFile"] = "/run/gracelab/grace.pid"
	case "restart":
		delete(r.Unit.Show, "PIDFile")
		r.Load.Action = "restart"
	}
	if variant == "restart" {
		r.Unit.Show["ExecReload"] = ""
	}

	pid := 4100
	version := "v1"
	var reloadBins []int
	for i, at := range r.Load.ReloadAtMS {
		reloadBins = append(reloadBins, int(at/binMS))
		before := snap(at-5, pid, pid, version)
		newPID, newVersion := pid+37, version
		if sc.upgrade == "v2" {
			newVersion = "v2"
		}
		first := 20 + sc.lossMS
		if sc.upgrade == "broken" {
			newPID, first = pid, -1
		}
		after := snap(at+40, pid, newPID, newVersion)
		settled := snap(at+500, newPID, newPID, newVersion)
		if sc.untracked {
			after = snap(at+40, 0, newPID, newVersion)
			after.ActiveState, after.SubState = "deactivating", "stop-sigterm"
			settled = snap(at+500, 0, newPID, newVersion)
			settled.ActiveState, settled.SubState, settled.Result = "failed", "failed", "exit-code"
		}
		r.Reloads = append(r.Reloads, result.Reload{N: i + 1, Command: "systemctl " + r.Load.Action + " " + name, StartMS: at, TookMS: 12,
			Before: before, After: after, Settled: settled, FirstNewOKMS: first})
		pid, version = newPID, newVersion
	}
	if variant == "envfile" {
		for i := range r.Reloads {
			r.Reloads[i].Settled.PIDFile = ""
		}
	}

	pidAt := func(t float64) int {
		p := 4100
		for _, rl := range r.Reloads {
			if t >= rl.StartMS+20 {
				p = rl.Settled.ServingPID
			}
		}
		return p
	}
	for b := 0; b < int(total/binMS); b++ {
		t0 := float64(b) * binMS
		bin := result.Bin{StartMS: t0, Sent: rate / 10, P50MS: 0.4 + float64(b%3)*0.05, P99MS: 1.6, MaxMS: 2.9}
		lost := false
		for _, rl := range r.Reloads {
			if t0 >= rl.StartMS && t0 < rl.StartMS+sc.lossMS {
				lost = true
			}
		}
		if sc.fellBehind && b%7 == 3 {
			bin.Sent -= 6
		}
		if lost {
			bin.Failed = map[string]int{"refused": bin.Sent - 2, "reset": 2}
			bin.P50MS, bin.P99MS, bin.MaxMS = 0.3, 1.1, 1.4
		} else {
			bin.OK = bin.Sent
			bin.PIDs = map[int]int{}
			for i := 0; i < bin.Sent; i++ {
				bin.PIDs[pidAt(t0+float64(i)*5)]++
			}
		}
		for _, rb := range reloadBins {
			if b == rb || b == rb+1 {
				bin.P99MS, bin.MaxMS = 18.5, 41.2
			}
		}
		r.Timeline.Bins = append(r.Timeline.Bins, bin)
	}

	// Summary from the bins, as the engine would compute it from records.
	s := result.Summary{ByClass: map[string]int{}, TargetRate: rate, P50MS: 0.42, P99MS: 2.1, MaxMS: 41.2, SendLagP99MS: 0.8, SendLagMaxMS: 3.1}
	seen := map[int]bool{}
	lastOK, gap, gapStart := 0.0, 0.0, 0.0
	for _, b := range r.Timeline.Bins {
		s.Sent += b.Sent
		s.OK += b.OK
		for c, n := range b.Failed {
			s.Failed += n
			s.ByClass[c] += n
		}
		if b.OK > 0 {
			if b.StartMS-lastOK > gap {
				gap, gapStart = b.StartMS-lastOK, lastOK
			}
			lastOK = b.StartMS + binMS
		}
		for _, p := range pidsInOrder(b.PIDs) {
			if !seen[p] {
				seen[p] = true
				s.PIDs = append(s.PIDs, p)
			}
		}
	}
	s.LongestGapMS, s.GapStartMS = max(gap, 6.5), gapStart
	s.AchievedRate = float64(s.Sent) / (total / 1000)
	if sc.fellBehind {
		s.FellBehind, s.SendLagP99MS, s.SendLagMaxMS = true, 48.2, 160
	}
	for _, rl := range r.Reloads {
		for k := range 2 {
			sr := result.SlowRequest{Reload: rl.N, StartMS: rl.StartMS - 100 + float64(k)*50, LatencyMS: 1502 + float64(k), Outcome: "completed", Class: "ok", PID: rl.Before.ServingPID}
			if sc.untracked || sc.lossMS > 0 {
				sr = result.SlowRequest{Reload: rl.N, StartMS: sr.StartMS, LatencyMS: 130 - float64(k)*50, Outcome: "cut", Class: "eof", Error: "Get \"http://127.0.0.1:8080/slow?ms=1500\": EOF"}
			}
			r.Slow = append(r.Slow, sr)
			s.SlowTotal++
			if sr.Outcome == "completed" {
				s.SlowDone++
			}
		}
	}
	r.Summary = s
	if s.Failed > 0 {
		r.Failures = []result.Failure{
			{ScheduledMS: r.Load.ReloadAtMS[0] + 3, Class: "reset", Error: "read tcp 127.0.0.1:40112->127.0.0.1:8080: read: connection reset by peer"},
			{ScheduledMS: r.Load.ReloadAtMS[0] + 8, Class: "refused", Error: "dial tcp 127.0.0.1:8080: connect: connection refused"},
		}
	}
	// As the runner records them: the final snapshots are taken after the
	// load, off its clock (at 0).
	final := snap(0, pid, pid, version)
	if sc.untracked {
		final = snap(0, 0, pid, version)
		final.ActiveState, final.SubState, final.Result = "failed", "failed", "exit-code"
	}
	r.Final = result.Final{Snapshot: final, AfterStop: snap(0, 0, 0, ""), StopTookMS: 31.4, UnitRemoved: true}
	r.Final.AfterStop.ActiveState, r.Final.AfterStop.SubState = "inactive", "dead"
	if sc.stopTimeout {
		r.Final.StopTookMS = 90034.2
		r.Final.AfterStop.ActiveState, r.Final.AfterStop.SubState, r.Final.AfterStop.Result = "failed", "failed", "timeout"
	}
	if sc.untracked {
		r.Final.ProcessesLeft = []result.Process{{PID: pid, Command: "/opt/gracelab/bin/grace -listen 127.0.0.1:8080"}}
	}
	stamp := func(sec int) string { return fmt.Sprintf("2025-03-01T10:00:%02d.%06d+0000 lab", sec, 1000*sec+123) }
	r.Journal = []string{
		stamp(0) + " systemd[1]: Starting " + name + " - gracelab sample server...",
		stamp(0) + " systemd[1]: Started " + name + ".",
	}
	for i := range r.Reloads {
		r.Journal = append(r.Journal, stamp(2+2*i)+" systemd[1]: Reloading "+name+"...")
		if sc.upgrade == "broken" {
			r.Journal = append(r.Journal, stamp(2+2*i)+" "+server+"[4137]: config error: unknown setting listen_adress (a release with a bad config)")
		}
		r.Journal = append(r.Journal, stamp(2+2*i)+" systemd[1]: Reloaded "+name+".")
		if sc.untracked {
			r.Journal = append(r.Journal, stamp(2+2*i)+" systemd[1]: "+name+": Main process exited, code=exited, status=0/SUCCESS",
				stamp(2+2*i)+" systemd[1]: "+name+": Can't open PID file /run/gracelab/grace.pid (yet?) after reload: No such file or directory")
		}
		if server == "tableflip" {
			r.Journal = append(r.Journal, stamp(2+2*i)+" systemd[1]: "+name+": Supervising process 4137 which is not our child. We'll most likely not notice when it exits.")
		}
	}
	if exp == "reload" && !sc.untracked && (server == "tableflip" || server == "grace") {
		// Stopped under load: tableflip's main PID is not systemd's child
		// and is SIGKILLed at once; grace's drains.
		r.Final.StopAtMS, r.Final.StopStarted = 5800, start.Add(5800*time.Millisecond)
		r.Final.MainPIDAlien = "no"
		st := &result.StopSummary{InFlight: 2, InFlightOK: 2, After: 40, Refused: 40, SlowTotal: 2, SlowDone: 2,
			Signals: []result.SignalSeen{{AfterMS: 3.1, PID: pid, Signal: "SIGTERM", By: "server received"}}}
		r.Journal = append(r.Journal, "2025-03-01T10:00:05.803100+0000 lab "+server+"[4137]: gracelab: PID 4137 received SIGTERM")
		if server == "tableflip" {
			r.Final.MainPIDAlien = "yes"
			st.SlowDone, st.InFlightOK, st.Lost, st.LostByClass = 0, 0, 2, map[string]int{"eof": 2}
			st.Signals = append(st.Signals, result.SignalSeen{AfterMS: 3.4, PID: pid, Signal: "SIGKILL", By: "systemd sent"})
			r.Journal = append(r.Journal, "2025-03-01T10:00:05.803400+0000 lab systemd[1]: "+name+": Killing process 4137 (tableflip) with signal SIGKILL.")
		}
		r.Final.Stop = st
	}
	if id == "20250301T110000Z-2" {
		// As the runner reads the journal from a second before the start,
		// the end of the previous run of the same unit shows up.
		r.Journal = append([]string{"2025-03-01T09:59:59.500000+0000 lab systemd[1]: " + name + ": Deactivated successfully."}, r.Journal...)
	}
	j, err := check.Judge(r)
	if err != nil {
		panic(err)
	}
	r.Verdict = j.Verdict
	return r
}

func snap(at float64, mainPID, serving int, version string) result.Snapshot {
	s := result.Snapshot{AtMS: at, MainPID: mainPID, ActiveState: "active", SubState: "running", Result: "success",
		PIDFile: "/run/gracelab/grace.pid", ServingPID: serving, ServingVersion: version, CgroupPIDs: []int{serving}}
	if serving != 0 {
		s.PIDFileContent = fmt.Sprint(serving)
		if mainPID != serving && mainPID != 0 {
			s.CgroupPIDs = []int{mainPID, serving}
		}
	} else {
		s.ServingVersion = ""
		s.ServingError = "dial tcp 127.0.0.1:8080: connect: connection refused"
	}
	return s
}

func pidsInOrder(m map[int]int) []int {
	var out []int
	for p := range m {
		out = append(out, p)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
