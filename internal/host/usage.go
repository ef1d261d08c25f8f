package host

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// UsageOnMissingArgs runs in the compiled magefile before mage's own main
// (from an init): when a target on the command line lacks arguments, it
// prints that target's help and usage, as `-h TARGET` does, and exits 2.
// Mage alone says only "not enough arguments for target", and mage's
// generated main has no hook for it (mage v1.17.2, mage/template.go).
func UsageOnMissingArgs() {
	for _, env := range []string{"MAGEFILE_LIST", "MAGEFILE_HELP"} {
		if b, _ := strconv.ParseBool(os.Getenv(env)); b {
			return
		}
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	help := func(target string) (string, bool) {
		out, err := exec.Command(self, "-h", target).Output()
		return string(out), err == nil
	}
	if text, ok := missingArgs(os.Args[1:], help); ok {
		fmt.Fprint(os.Stderr, text)
		os.Exit(2)
	}
}

// missingArgs walks a mage command line (flags, then targets each with its
// arguments) and returns the help of the first target that lacks
// arguments, with a line saying how many it got. help returns a target's
// `-h` text, whose usage line names each argument as <name>; false for an
// unknown target, which mage itself reports.
func missingArgs(args []string, help func(target string) (string, bool)) (string, bool) {
	i := 0
flags:
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		name, _, valued := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		i++
		switch {
		case name == "":
			break flags // "--" ends the flags
		case name == "l" || name == "h":
			return "", false // listing or help: mage's own business
		case name == "t" && !valued:
			i++ // -t 5m
		}
	}
	for i < len(args) {
		target := args[i]
		text, ok := help(target)
		if !ok {
			return "", false
		}
		want := 0
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "\t") {
				want = strings.Count(line, "<")
				break
			}
		}
		got := len(args) - i - 1
		if got < want {
			return fmt.Sprintf("%s\n%s needs %d argument(s), got %d.\n", strings.TrimRight(text, "\n"), target, want, got), true
		}
		i += 1 + want
	}
	return "", false
}
