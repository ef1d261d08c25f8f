package lab

import (
	"slices"
	"testing"
)

func TestSuitesTrimSpaces(t *testing.T) {
	for v, want := range map[string][]string{
		"":                   {"bookworm"},
		"trixie":             {"trixie"},
		"bookworm,trixie":    {"bookworm", "trixie"},
		" bookworm , trixie": {"bookworm", "trixie"},
		"bookworm,\ttrixie ": {"bookworm", "trixie"},
	} {
		t.Setenv("LAB_SUITE", v)
		got, err := SuitesFromEnv()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("LAB_SUITE=%q: %v %v, want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"bookworm,,trixie", "bookworm trixie", "potato"} {
		t.Setenv("LAB_SUITE", v)
		if got, err := SuitesFromEnv(); err == nil {
			t.Errorf("LAB_SUITE=%q: accepted as %v", v, got)
		}
	}
}
