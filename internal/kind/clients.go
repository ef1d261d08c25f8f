package kind

import (
	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

// Clients is issue 15's question about the clients people have: the
// reload kind's schedule and stop under load, sent as POST by gracelab's
// engine and as GET by a stock net/http Client, on each server's
// recommended variant and the control. The writeup sets its runs beside
// the same variants' reload runs on keep-alive GET in the same batch.
var Clients = Kind{
	Name: "clients", Readme: "clients", Schedule: threeReloads, SlowPerReload: 3, StopUnderLoad: true,
	Profiles: []string{protocol.Post, protocol.GoClient}, Applies: clientsVariant,
	Says: "the reload experiment's reloads and stop under load, with the clients people have: POST (which no client " +
		"sends again once written) and a stock Go `net/http` Client sending GET (which sends a GET again, unseen, " +
		"when a kept connection closes before any response byte).",
	Checks: checks("new_process_serves", "stop_drains"),
}

// clientsVariant: each server's recommended variant, and the control.
func clientsVariant(v catalog.Variant) bool { return (v.Upgrade || v.Control) && !v.Long }
