// Package unitfile reads systemd unit files with go-systemd's parser: the
// one place gracelab parses a unit.
package unitfile

import (
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// Option is one Name=Value line of a section.
type Option struct{ Section, Name, Value string }

// Parse returns the options of a unit file's text, in order.
func Parse(text string) ([]Option, error) {
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = Option{Section: o.Section, Name: o.Name, Value: o.Value}
	}
	return out, nil
}

// Last returns the last value of name in section (systemd's rule for
// single-valued settings), and whether it is set.
func Last(opts []Option, section, name string) (string, bool) {
	v, ok := "", false
	for _, o := range opts {
		if o.Section == section && o.Name == name {
			v, ok = o.Value, true
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
