package runner

import (
	"testing"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

func TestLoadConfigPerProfile(t *testing.T) {
	want := map[string]struct {
		keep   bool
		method string
		client load.Client
	}{
		protocol.KeepAlive: {true, "", load.Auto},
		protocol.NewConn:   {false, "", load.Auto},
		protocol.Post:      {true, "POST", load.Auto},
		protocol.GoClient:  {true, "", load.NetHTTP},
	}
	for _, p := range protocol.AllProfiles() {
		s := DefaultSpec(kind.Base(), catalog.Variant{Server: "plain", Name: "restart"})
		s.Profile = p
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		c, w := loadConfig(s), want[p]
		if c.KeepAlive != w.keep || c.Method != w.method || c.Client != w.client || c.URL != "http://"+protocol.Listen+"/" {
			t.Errorf("%s: %+v", p, c)
		}
	}
}
