package kind

import (
	"testing"

	"github.com/gracelab/gracelab/lab/catalog"
)

// The catalog's tags decide which kinds run a variant: the deploy
// experiments take one variant per server (tag upgrade), and the
// tcp_migrate_req variant is a reload variant only.
func TestKindsOfTheReuseportAndFDStoreVariants(t *testing.T) {
	for _, c := range []struct {
		server, variant string
		kinds           []string
		not             []string
	}{
		{"reuseport", "notify", []string{"reload", "upgrade", "upgrade-broken"}, []string{"long"}},
		{"reuseport", "migrate", []string{"reload"}, []string{"upgrade", "upgrade-broken", "long"}},
		{"fdstore", "restart", []string{"reload", "upgrade", "upgrade-broken"}, []string{"long"}},
	} {
		v, err := catalog.Find(c.server, c.variant)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range c.kinds {
			if !mustFind(t, name).Applies(v) {
				t.Errorf("%s does not run %s", name, v.ID())
			}
		}
		for _, name := range c.not {
			if k, err := Find(name); err == nil && k.Applies(v) {
				t.Errorf("%s runs %s", name, v.ID())
			}
		}
	}
}
