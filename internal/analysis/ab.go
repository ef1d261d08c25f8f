package analysis

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gracelab/gracelab/internal/result"
)

var (
	abField = regexp.MustCompile(`(?m)^(Complete requests|Failed requests|Non-2xx responses|Time taken for tests):\s+([0-9.]+)`)
	abParts = regexp.MustCompile(`\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)`)
)

// ParseAB reads ab's report from its output. ab prints the breakdown of
// failures and the Non-2xx line only when they are not zero.
func ParseAB(out string) result.AB {
	a := result.AB{Output: out}
	for _, m := range abField.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "Complete requests":
			a.Parsed, a.Complete = true, n
		case "Failed requests":
			a.Failed = n
		case "Non-2xx responses":
			a.Non2xx = n
		case "Time taken for tests":
			a.TimeTakenS, _ = strconv.ParseFloat(m[2], 64)
		}
	}
	if m := abParts.FindStringSubmatch(out); m != nil {
		a.Connect, _ = strconv.Atoi(m[1])
		a.Receive, _ = strconv.Atoi(m[2])
		a.Length, _ = strconv.Atoi(m[3])
		a.Exceptions, _ = strconv.Atoi(m[4])
	}
	if !a.Parsed {
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "Test aborted") || strings.HasPrefix(l, "apr_") {
				a.Aborted = strings.TrimSpace(a.Aborted + " " + l)
			}
		}
	}
	return a
}

// Workers counts, in a unit's journal, the workers start_server started
// and the HUPs it received ("starting new worker N", "received HUP", its
// own lines: server-starter starter.go). cut says the journal was cut
// short, so the counts are a lower bound.
func Workers(journal []string) (started, hups int, cut bool) {
	for _, l := range journal {
		switch {
		case strings.Contains(l, "starting new worker "):
			started++
		case strings.Contains(l, "received HUP"):
			hups++
		case strings.HasPrefix(l, "… ") && strings.HasSuffix(l, "more lines cut"):
			cut = true
		}
	}
	return started, hups, cut
}
