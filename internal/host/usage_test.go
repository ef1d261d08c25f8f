package host

import (
	"strings"
	"testing"
)

func TestMissingArgs(t *testing.T) {
	help := func(target string) (string, bool) {
		usage := map[string]string{"experiment:variant": " <server> <variant>", "docs": "", "experiment:reload": " <server>"}
		u, ok := usage[target]
		return "Help of " + target + ".\n\nUsage:\n\n\tmage " + target + u + "\n\n", ok
	}
	for _, c := range []struct {
		args []string
		want string // "" for nothing to say
	}{
		{[]string{"experiment:variant", "grace"}, "experiment:variant needs 2 argument(s), got 1."},
		{[]string{"experiment:variant"}, "\tmage experiment:variant <server> <variant>"},
		{[]string{"-v", "-t", "5m", "docs", "experiment:reload"}, "experiment:reload needs 1 argument(s), got 0."},
		{[]string{"experiment:variant", "grace", "pidfile"}, ""},
		{[]string{"docs", "experiment:reload", "grace"}, ""},
		{[]string{"-l"}, ""},
		{[]string{"-h", "experiment:variant"}, ""},
		{[]string{"nope"}, ""}, // mage says it is unknown
		{nil, ""},
	} {
		got, ok := missingArgs(c.args, help)
		if ok != (c.want != "") || !strings.Contains(got, c.want) {
			t.Errorf("%q: got %v %q, want %q", c.args, ok, got, c.want)
		}
	}
}
