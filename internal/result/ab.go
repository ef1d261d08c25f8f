package result

// AB is what Apache's ab reported for a run whose client it was: the
// command, its exit and raw output, and the figures read from the output
// (package analysis reads them, on the host too).
type AB struct {
	Command string `json:"command"`
	Exit    int    `json:"exit"`
	Output  string `json:"output"`
	// Parsed: the output held ab's report ("Complete requests:"); when
	// false the figures below are zero because nothing was read.
	Parsed   bool `json:"parsed"`
	Complete int  `json:"complete_requests"`
	// Failed is ab's "Failed requests", with its breakdown: Connect
	// (connect failed), Receive (read error, such as a reset), Length
	// (a body of another length than the first response's) and
	// Exceptions.
	Failed     int `json:"failed_requests"`
	Connect    int `json:"failed_connect"`
	Receive    int `json:"failed_receive"`
	Length     int `json:"failed_length"`
	Exceptions int `json:"failed_exceptions"`
	// Non2xx is ab's "Non-2xx responses", which ab does not count as failed.
	Non2xx     int     `json:"non_2xx"`
	TimeTakenS float64 `json:"time_taken_s"`
	// Aborted is ab's own reason for stopping before its report, such as
	// "Test aborted after 10 failures".
	Aborted string `json:"aborted,omitempty"`
}
