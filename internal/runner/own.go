package runner

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gracelab/gracelab/internal/result"
	"github.com/gracelab/gracelab/internal/unitfile"
)

// Own is a user's unit and binary, brought to the lab by `check`: the
// unit is installed exactly as written, the binary where ExecStart= names
// it, the service's user and group are created, and every file placed.
type Own struct {
	Unit   result.File   // installed at Unit.Path
	Binary string        // where the binary goes
	Exe    []byte        // the binary
	Files  []result.File // EnvironmentFile= contents and extra files
	// Tools are programs of the lab's build the unit runs too (such as
	// start_server), by where the unit expects them.
	Tools map[string]string
}

// RunOwn does one run of a user's unit: it places what the unit needs,
// runs it as a catalog variant is run, and removes everything again.
func RunOwn(ctx context.Context, spec Spec, own Own, progress io.Writer) (*result.Result, error) {
	placed, users, err := placeOwn(own, spec.BinDir)
	defer unplace(placed, users)
	if err != nil {
		return nil, err
	}
	spec.Files = append([]result.File{own.Unit}, own.Files...)
	spec.Bin = own.Binary
	for at := range own.Tools {
		spec.Tools = append(spec.Tools, at)
	}
	return run(ctx, osEnv, spec, progress)
}

// placeOwn writes the binary, tools and files, and creates the unit's
// user and group; it returns what to remove afterwards.
func placeOwn(own Own, binDir string) (placed, users []string, err error) {
	write := func(path string, data []byte, mode os.FileMode) error {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s already exists in the lab; check will not overwrite what it did not place", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		placed = append(placed, path)
		return os.WriteFile(path, data, mode)
	}
	if err := write(own.Binary, own.Exe, 0o755); err != nil {
		return placed, nil, err
	}
	if missing := missingLibraries(own.Binary); len(missing) > 0 {
		return placed, nil, fmt.Errorf("%s is dynamically linked against %s, which this lab lacks: build it with CGO_ENABLED=0",
			filepath.Base(own.Binary), strings.Join(missing, ", "))
	}
	for at, name := range own.Tools {
		b, err := os.ReadFile(filepath.Join(binDir, name))
		if err != nil {
			return placed, nil, fmt.Errorf("the unit runs %s, which the lab lacks: %w", at, err)
		}
		if err := write(at, b, 0o755); err != nil {
			return placed, nil, err
		}
	}
	for _, f := range own.Files {
		if err := write(f.Path, []byte(f.Text), 0o644); err != nil {
			return placed, nil, err
		}
	}
	if users, err = ensureUser(own.Unit.Text); err != nil {
		return placed, users, err
	}
	// A package creates its runtime directories with tmpfiles.d, after
	// its users: so does check, for the tmpfiles.d files it placed.
	for _, f := range own.Files {
		if !strings.Contains(f.Path, "/tmpfiles.d/") {
			continue
		}
		placed = append(placed, tmpfilesDirs(f.Text)...)
		if out, err := exec.Command("systemd-tmpfiles", "--create", f.Path).CombinedOutput(); err != nil {
			return placed, users, fmt.Errorf("systemd-tmpfiles --create %s: %s", f.Path, strings.TrimSpace(string(out)))
		}
	}
	return placed, users, nil
}

// tmpfilesDirs are the directories a tmpfiles.d file creates ("d" and
// "D" lines), to remove after the run.
func tmpfilesDirs(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && (f[0] == "d" || f[0] == "D") && !osEnv.exists(f[1]) {
			out = append(out, f[1])
		}
	}
	return out
}

// missingLibraries lists the shared libraries (and the loader) a binary
// needs that this machine does not have.
func missingLibraries(bin string) []string {
	f, err := elf.Open(bin)
	if err != nil {
		return nil
	}
	defer f.Close()
	var missing []string
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err == nil {
			if interp := strings.TrimRight(string(b), "\x00"); !osEnv.exists(interp) {
				missing = append(missing, interp)
			}
		}
	}
	libs, _ := f.ImportedLibraries()
	if len(libs) == 0 {
		return missing
	}
	out, _ := exec.Command("ldconfig", "-p").Output()
	for _, l := range libs {
		if !strings.Contains(string(out), "\t"+l+" ") {
			missing = append(missing, l)
		}
	}
	return missing
}

// ensureUser creates the unit's Group= and User= where they do not exist
// yet; it returns the ones it made ("group:NAME", "user:NAME").
func ensureUser(unitText string) ([]string, error) {
	opts, err := unitfile.Parse(unitText)
	if err != nil {
		return nil, err
	}
	user, _ := unitfile.Last(opts, "Service", "User")
	group, _ := unitfile.Last(opts, "Service", "Group")
	if dyn, _ := unitfile.Last(opts, "Service", "DynamicUser"); dyn == "yes" || dyn == "true" {
		return nil, nil
	}
	var made []string
	exists := func(db, name string) bool { return exec.Command("getent", db, name).Run() == nil }
	if group != "" && !exists("group", group) {
		if out, err := exec.Command("groupadd", "--system", group).CombinedOutput(); err != nil {
			return made, fmt.Errorf("create the unit's Group=%s: %s", group, strings.TrimSpace(string(out)))
		}
		made = append(made, "group:"+group)
	}
	if user != "" && !exists("passwd", user) {
		args := []string{"--system", "--no-create-home", "--shell", "/usr/sbin/nologin"}
		if group != "" {
			args = append(args, "--gid", group)
		} else {
			args = append(args, "--user-group")
		}
		if out, err := exec.Command("useradd", append(args, user)...).CombinedOutput(); err != nil {
			return made, fmt.Errorf("create the unit's User=%s: %s", user, strings.TrimSpace(string(out)))
		}
		made = append([]string{"user:" + user}, made...)
	}
	return made, nil
}

// unplace removes what placeOwn made, users before their groups.
func unplace(placed, users []string) {
	for _, p := range placed {
		os.RemoveAll(p)
	}
	for _, u := range users {
		kind, name, _ := strings.Cut(u, ":")
		cmd := "userdel"
		if kind == "group" {
			cmd = "groupdel"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		exec.CommandContext(ctx, cmd, name).Run()
		cancel()
	}
}
