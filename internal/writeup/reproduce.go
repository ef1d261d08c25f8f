package writeup

import (
	"github.com/gracelab/gracelab/internal/reproduce"
	"github.com/gracelab/gracelab/internal/result"
)

// rerunSection gives the command that runs r's cell again, after a
// checkout of the commit that ran it when the result records one.
func rerunSection(p *page, r *result.Result) {
	cmd := reproduce.Command(r)
	g := r.Gracelab
	if g == nil || g.Commit == "" {
		p.para("To run it again: the gracelab commit that ran it is not recorded (the result predates the record), so this runs today's code:")
		p.fence("sh", cmd)
		return
	}
	dirty := ""
	if g.Dirty {
		dirty = " Its tree had uncommitted changes, so the commit is close to, not exactly, the code that ran."
	}
	p.para("To run it again with the code that ran it, gracelab commit %s:%s", code(g.Commit), dirty)
	p.fence("sh", "git checkout "+g.Commit+"\n"+cmd)
}
