package analysis

import "testing"

// Output as ab 2.3 prints it, abridged.
const abReport = `This is ApacheBench, Version 2.3 <$Revision: 1903618 $>
Benchmarking 127.0.0.1 (be patient)
Finished 41234 requests

Document Path:          /
Document Length:        25 bytes

Concurrency Level:      10
Time taken for tests:   30.002 seconds
Complete requests:      41234
Failed requests:        7
   (Connect: 1, Receive: 2, Length: 3, Exceptions: 1)
Non-2xx responses:      4
Total transferred:      6100000 bytes
`

func TestParseABReadsTheReport(t *testing.T) {
	a := ParseAB(abReport)
	if !a.Parsed || a.Complete != 41234 || a.Failed != 7 || a.Connect != 1 || a.Receive != 2 || a.Length != 3 ||
		a.Exceptions != 1 || a.Non2xx != 4 || a.TimeTakenS != 30.002 || a.Aborted != "" {
		t.Fatalf("parsed %+v", a)
	}
}

func TestParseABWithoutReportIsNotParsed(t *testing.T) {
	a := ParseAB("Benchmarking 127.0.0.1 (be patient)\n\nTest aborted after 10 failures\n\napr_socket_connect(): Connection refused (111)\n")
	if a.Parsed || a.Complete != 0 || a.Aborted != "Test aborted after 10 failures apr_socket_connect(): Connection refused (111)" {
		t.Fatalf("parsed %+v", a)
	}
	if b := ParseAB(""); b.Parsed {
		t.Fatal("empty output parsed as a report")
	}
}

func TestWorkersCountsStartServerLines(t *testing.T) {
	j := []string{"x start_server[1]: starting new worker 10", "x start_server[1]: received HUP (num_old_workers=TODO)",
		"x start_server[1]: starting new worker 11", "x start_server[1]: received HUP (num_old_workers=TODO)", "… 3 more lines cut"}
	if s, h, cut := Workers(j); s != 2 || h != 2 || !cut {
		t.Fatalf("started %d, hups %d, cut %v", s, h, cut)
	}
}
