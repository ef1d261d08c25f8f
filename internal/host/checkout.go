package host

import (
	"os/exec"
	"strings"

	"github.com/gracelab/gracelab/internal/result"
)

// Checkout is the gracelab commit in repo and whether the tree differs
// from it outside results/ and docs/ (which runs write); nil when repo is
// not a git checkout or git is missing: the result then says nothing
// rather than something wrong.
func Checkout(repo string) *result.Gracelab {
	head, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		return nil
	}
	status, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--", ".", ":(exclude)results", ":(exclude)docs").Output()
	if err != nil {
		return nil
	}
	return &result.Gracelab{Commit: strings.TrimSpace(string(head)), Dirty: len(strings.TrimSpace(string(status))) > 0}
}
