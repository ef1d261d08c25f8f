// Package unitfile reads systemd unit files with go-systemd's parser: the
// one place gracelab parses a unit.
package unitfile

import (
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// Option is one Name=Value line of a section, and the line it starts on
// (1-based).
type Option struct {
	Section, Name, Value string
	Line                 int
}

// Parse returns the options of a unit file's text, in order.
func Parse(text string) ([]Option, error) {
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	lines := optionLines(text)
	seen := map[[2]string]int{}
	out := make([]Option, len(opts))
	for i, o := range opts {
		k := [2]string{o.Section, o.Name}
		out[i] = Option{Section: o.Section, Name: o.Name, Value: o.Value}
		if ls := lines[k]; seen[k] < len(ls) {
			out[i].Line = ls[seen[k]]
		}
		seen[k]++
	}
	return out, nil
}

// optionLines finds where each section's options start, in order, for
// the messages a user reads (go-systemd's parser keeps no line numbers).
func optionLines(text string) map[[2]string][]int {
	out := map[[2]string][]int{}
	section, cont := "", false
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		wasCont := cont
		cont = strings.HasSuffix(t, `\`)
		switch {
		case wasCont, t == "", t[0] == '#', t[0] == ';':
		case t[0] == '[' && strings.HasSuffix(t, "]"):
			section = t[1 : len(t)-1]
		default:
			if name, _, ok := strings.Cut(t, "="); ok {
				k := [2]string{section, strings.TrimSpace(name)}
				out[k] = append(out[k], i+1)
			}
		}
	}
	return out
}

// Argv splits an Exec*= command line into words, with systemd's prefix
// characters (@, -, :, +, !, |) taken off the program.
func Argv(value string) []string {
	f := strings.Fields(value)
	if len(f) > 0 {
		f[0] = strings.TrimLeft(f[0], "@-:+!|")
	}
	return f
}

// Last returns the last value of name in section (systemd's rule for
// single-valued settings), and whether it is set.
func Last(opts []Option, section, name string) (string, bool) {
	o, ok := LastOption(opts, section, name)
	return o.Value, ok
}

// LastOption is Last with the option's line.
func LastOption(opts []Option, section, name string) (Option, bool) {
	var v Option
	ok := false
	for _, o := range opts {
		if o.Section == section && o.Name == name {
			v, ok = o, true
		}
	}
	return v, ok
}

// All returns every option of a section, in order.
func All(opts []Option, section string) []Option {
	var out []Option
	for _, o := range opts {
		if o.Section == section {
			out = append(out, o)
		}
	}
	return out
}
