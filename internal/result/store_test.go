package result

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *Result {
	return &Result{Schema: SchemaVersion, ID: "20260101T000000Z-reload-grace-pidfile-keepalive-bookworm",
		Experiment: "reload", Server: "grace", Variant: "pidfile", Profile: "keepalive"}
}

func TestWriteReadsBackAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	path, err := Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	back, err := Read(path)
	if err != nil || back.ID != r.ID {
		t.Fatalf("read back: %v %+v", err, back)
	}
	r.Server = "changed"
	if _, err := Write(dir, r); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Fatalf("second write of the same ID: %v", err)
	}
	if back, _ := Read(path); back.Server != "grace" {
		t.Fatal("the first result was overwritten")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestReadDirNamesBadFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, sample()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, FileName(sample())))
	bad := map[string]string{
		"truncated.json":  string(good[:len(good)/2]),
		"unknown.json":    strings.Replace(string(good), `"schema"`, `"schema_x": 1, "schema"`, 1),
		"oldschema.json":  strings.Replace(string(good), `"schema": 2`, `"schema": 0`, 1),
		"trailing.json":   string(good) + "{}",
		"noidentity.json": `{"schema": 1}`,
	}
	for name, text := range bad {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	rs, err := ReadDir(dir)
	if err == nil {
		t.Fatal("bad files read without error")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if len(rs) != 1 {
		t.Errorf("%d good results returned, want 1", len(rs))
	}
}
