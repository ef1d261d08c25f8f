package kstat

import (
	"os"
	"strings"
	"testing"
)

// The samples are this project's build machine's /proc files (kernel 6.18),
// copied as they were.
func TestParseRealSamples(t *testing.T) {
	c := Counters{}
	for _, p := range []string{"testdata/netstat-6.18", "testdata/snmp-6.18"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := Parse(f, c); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		f.Close()
	}
	want := Counters{
		// Read off the files with awk, by column name.
		"TcpExt.ListenOverflows": 0, "TcpExt.TCPAbortOnClose": 840, "TcpExt.TCPAbortOnData": 3517,
		"TcpExt.TCPAbortOnTimeout": 0, "TcpExt.TCPMigrateReqSuccess": 0,
		"Tcp.OutRsts": 100519, "Tcp.AttemptFails": 94834, "Tcp.EstabResets": 5867, "Tcp.ActiveOpens": 543555,
	}
	for n, v := range want {
		if got, ok := c[n]; !ok || got != v {
			t.Errorf("%s = %d (present %v), want %d", n, got, ok, v)
		}
	}
	for _, n := range Names {
		if _, ok := c[n]; !ok {
			t.Errorf("%s missing from the samples", n)
		}
	}
	if _, ok := c["TcpExt.TW"]; ok {
		t.Error("a counter not in Names was kept")
	}
}

func TestParseRejectsMismatchedTable(t *testing.T) {
	err := Parse(strings.NewReader("Tcp: OutRsts AttemptFails\nTcp: 1\n"), Counters{})
	if err == nil {
		t.Fatal("a table with fewer values than names was accepted")
	}
}

func TestDelta(t *testing.T) {
	d := Delta(Counters{"Tcp.OutRsts": 10, "Tcp.AttemptFails": 4}, Counters{"Tcp.OutRsts": 25, "Tcp.AttemptFails": 4, "Tcp.EstabResets": 1})
	if len(d) != 1 || d["Tcp.OutRsts"] != 15 {
		t.Errorf("delta = %v, want only Tcp.OutRsts 15", d)
	}
	if Delta(nil, Counters{}) != nil {
		t.Error("delta with no before reading is not nil")
	}
}

func TestReadHere(t *testing.T) {
	c, err := Read()
	if err != nil {
		t.Skip("no /proc/net here:", err)
	}
	if _, ok := c["Tcp.OutRsts"]; !ok {
		t.Errorf("Read found no Tcp.OutRsts in %v", c)
	}
}
