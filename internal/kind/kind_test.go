package kind

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEveryKindIsComplete(t *testing.T) {
	for _, k := range All {
		if _, err := os.Stat(filepath.Join("..", "..", "experiments", k.Readme, "README.md")); err != nil {
			t.Errorf("kind %s: no experiments/%s/README.md", k.Name, k.Readme)
		}
		if k.Says == "" || len(k.Checks) == 0 || len(k.Variants()) == 0 {
			t.Errorf("kind %s: no sentence, no checks or no variant", k.Name)
		}
		d := k.LoadDuration(15 * time.Second)
		at := k.Schedule(d)
		if len(at) == 0 {
			t.Errorf("kind %s: no reload", k.Name)
		}
		for i, x := range at {
			if x <= 0 || x >= d || i > 0 && x <= at[i-1] {
				t.Errorf("kind %s: reload %d at %v is outside %v or out of order", k.Name, i+1, x, d)
			}
		}
	}
	if n := len(mustFind(t, "soak").Schedule(53 * time.Second)); n != 50 {
		t.Errorf("soak: %d reloads, want 50", n)
	}
}

func mustFind(t *testing.T, name string) Kind {
	t.Helper()
	k, err := Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFindListsKinds(t *testing.T) {
	if _, err := Find("nap"); err == nil || !strings.Contains(err.Error(), "reload, upgrade, upgrade-broken, soak") {
		t.Fatalf("unknown kind: %v", err)
	}
}
