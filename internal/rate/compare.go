package rate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gracelab/gracelab/internal/check"
	"github.com/gracelab/gracelab/internal/result"
)

// Cell is where and what ran.
type Cell struct{ Suite, Experiment, Server, Variant, Profile string }

func (c Cell) String() string {
	return fmt.Sprintf("%s %s %s/%s %s", c.Suite, c.Experiment, c.Server, c.Variant, c.Profile)
}

// Diff is one cell and question whose k of N differs between two sets
// of runs; Apart when their 95% intervals do not overlap.
type Diff struct {
	Cell     Cell
	Question check.Question
	A, B     Rate
	Apart    bool
}

// Comparison is two sets of judged runs compared cell by cell.
type Comparison struct {
	Cells, OnlyOne, Compared int
	Diffs                    []Diff
}

// Apart counts the differences whose intervals do not overlap.
func (c Comparison) Apart() int {
	n := 0
	for _, d := range c.Diffs {
		if d.Apart {
			n++
		}
	}
	return n
}

// Compare compares two sets of judged runs (Verdict set) on every cell
// both hold, question by question.
func Compare(a, b []*result.Result) Comparison {
	ca, cb := cellsOf(a), cellsOf(b)
	var keys []Cell
	for k := range ca {
		if _, ok := cb[k]; ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y Cell) int { return strings.Compare(x.String(), y.String()) })
	out := Comparison{Cells: len(keys), OnlyOne: len(ca) + len(cb) - 2*len(keys)}
	for _, k := range keys {
		for _, q := range check.Questions {
			x, y := Of(ca[k], q), Of(cb[k], q)
			if x.N == 0 || y.N == 0 {
				continue
			}
			out.Compared++
			if x.K*y.N != y.K*x.N {
				out.Diffs = append(out.Diffs, Diff{Cell: k, Question: q, A: x, B: y, Apart: Apart(x, y)})
			}
		}
	}
	return out
}

func cellsOf(rs []*result.Result) map[Cell][]*result.Result {
	out := map[Cell][]*result.Result{}
	for _, r := range rs {
		k := Cell{r.Env.Suite, r.Experiment, r.Server, r.Variant, r.Profile}
		out[k] = append(out[k], r)
	}
	return out
}
