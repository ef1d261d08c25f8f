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
