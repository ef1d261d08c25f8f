package kind

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
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

func TestClientsApplies(t *testing.T) {
	cases := []struct {
		v    catalog.Variant
		want bool
	}{
		{catalog.Variant{Server: "grace", Name: "pidfile", Upgrade: true}, true},
		{catalog.Variant{Server: "plain", Name: "restart", Upgrade: true, Control: true}, true},
		{catalog.Variant{Server: "x", Name: "control-only", Control: true}, true},
		{catalog.Variant{Server: "grace", Name: "envfile"}, false},
		{catalog.Variant{Server: "grace", Name: "long", Long: true}, false},
		{catalog.Variant{Server: "x", Name: "long-upgrade", Long: true, Upgrade: true}, false},
	}
	for _, c := range cases {
		if got := Clients.Applies(c.v); got != c.want {
			t.Errorf("%s/%s: applies %v, want %v", c.v.Server, c.v.Name, got, c.want)
		}
	}
	k := mustFind(t, "clients")
	if got := k.ProfilesFrom(protocol.Profiles()); !slices.Equal(got, []string{protocol.Post, protocol.GoClient}) {
		t.Errorf("clients runs profiles %v", got)
	}
	if !slices.Equal(k.Checks, Base().Checks) || k.StopUnderLoad != Base().StopUnderLoad || k.SlowPerReload != Base().SlowPerReload ||
		!slices.Equal(k.Schedule(7*time.Second), Base().Schedule(7*time.Second)) {
		t.Error("clients differs from reload in more than its profiles and variants")
	}
	for _, v := range k.Variants() {
		if !v.Upgrade && !v.Control {
			t.Errorf("clients runs %s/%s, neither recommended nor the control", v.Server, v.Name)
		}
	}
}
