package kind

import (
	"time"

	"github.com/gracelab/gracelab/internal/protocol"
	"github.com/gracelab/gracelab/lab/catalog"
)

// hup2015 reproduces the 2015 comparison of braintree/manners and
// shogo82148/go-gracedown under start_server (issue 15): a HUP every
// second under ab -r -c 10, and under our engine with a new connection
// per request, as ab opens one without -k.
var hup2015 = Kind{
	Name: "hup-2015", Readme: "hup-2015", Duration: 33 * time.Second, Schedule: every(time.Second),
	Profiles: []string{protocol.AB, protocol.NewConn}, Applies: func(v catalog.Variant) bool { return v.HUP2015 },
	Says: "the 2015 comparison again: start_server workers reloaded once a second for 30 s (start_server ignores a HUP " +
		"while the old worker lives), under `ab -r -c 10` (the 2015 client, time-limited to the run) and under our engine " +
		"with a new connection per request. ab's runs are judged from ab's own report.",
	Checks: []string{"run_complete", "load_sustained", "ab_report_read", "no_failed_requests", "ab_no_failed_requests",
		"systemd_tracks_server", "unit_active_at_end", "unit_stops_cleanly", "nothing_left_behind"},
}
