package runner

import (
	"slices"
	"testing"
	"time"
)

func TestABArgsPutTimeLimitBeforeCount(t *testing.T) {
	got := abArgs("http://127.0.0.1:18080/", 32500*time.Millisecond)
	want := []string{"-r", "-c", "10", "-t", "33", "-n", "1000000", "http://127.0.0.1:18080/"}
	if !slices.Equal(got, want) {
		t.Fatalf("ab %v, want %v", got, want)
	}
}
