package unitfile

import "testing"

func TestParseKeepsSectionsAndLastWins(t *testing.T) {
	opts, err := Parse("[Unit]\nDescription=x\n# PIDFile=/comment\n[Service]\nType=simple\nPIDFile=/run/a.pid\nPIDFile=/run/b.pid\n[Socket]\nListenStream=127.0.0.1:1\n")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Last(opts, "Service", "PIDFile"); !ok || v != "/run/b.pid" {
		t.Fatalf("PIDFile = %q, %v; want the last one", v, ok)
	}
	if _, ok := Last(opts, "Unit", "PIDFile"); ok {
		t.Fatal("a comment or another section's option counted")
	}
	if got := All(opts, "Socket"); len(got) != 1 || got[0].Name != "ListenStream" {
		t.Fatalf("Socket options = %v", got)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	if _, err := Parse("[Service\nType=simple\n"); err == nil {
		t.Fatal("an unterminated section header was accepted")
	}
}

func TestParseKnowsLines(t *testing.T) {
	text := "[Unit]\nDescription=x\n\n# PIDFile=/comment\n[Service]\nExecStart=/bin/a \\\n  PIDFile=/not/an/option\nPIDFile=/run/a.pid\n  PIDFile = /run/b.pid\n"
	opts, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"Description": {2}, "ExecStart": {6}, "PIDFile": {8, 9}}
	got := map[string][]int{}
	for _, o := range opts {
		got[o.Name] = append(got[o.Name], o.Line)
	}
	for k, w := range want {
		if len(got[k]) != len(w) || got[k][0] != w[0] || got[k][len(w)-1] != w[len(w)-1] {
			t.Errorf("%s on lines %v, want %v", k, got[k], w)
		}
	}
	if o, _ := LastOption(opts, "Service", "PIDFile"); o.Line != 9 || o.Value != "/run/b.pid" {
		t.Errorf("LastOption = %+v", o)
	}
}

func TestArgvTakesOffPrefixes(t *testing.T) {
	got := Argv("-@/usr/bin/start_server --port=:80 -- /opt/app -x")
	if len(got) != 5 || got[0] != "/usr/bin/start_server" || got[3] != "/opt/app" {
		t.Fatalf("Argv = %q", got)
	}
	if len(Argv("  ")) != 0 {
		t.Fatal("an empty command has words")
	}
}
