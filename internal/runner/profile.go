package runner

import (
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/protocol"
)

// loadConfig is the load a profile sends: keep-alive or not, GET or POST,
// through gracelab's engine or a stock net/http Client.
func loadConfig(spec Spec) load.Config {
	cfg := load.Config{URL: "http://" + spec.Listen + spec.Path, Rate: spec.Rate, Duration: spec.loadDuration(),
		KeepAlive: protocol.KeepsAlive(spec.Profile), Timeout: spec.Timeout}
	switch spec.Profile {
	case protocol.Post:
		cfg.Method = "POST"
	case protocol.GoClient:
		cfg.Client = load.NetHTTP
	}
	return cfg
}
