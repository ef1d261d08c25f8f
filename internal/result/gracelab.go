package result

// Gracelab is the checkout of gracelab that ran a run, so that the run
// can be repeated from the same code. The host records it (results from
// before it did have none).
type Gracelab struct {
	// Commit is `git rev-parse HEAD` when the batch began.
	Commit string `json:"commit"`
	// Dirty: `git status --porcelain` listed changes outside results/ and
	// docs/, so the commit alone is not the code that ran.
	Dirty bool `json:"dirty,omitempty"`
}
