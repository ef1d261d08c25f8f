package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gracelab/gracelab/internal/result"
)

// LabelStop is the legend text of the band of `systemctl stop`.
const LabelStop = "systemctl stop running"

var (
	stopBand  = color.RGBA{0xf3, 0xd9, 0xd9, 0xff}
	stateText = color.RGBA{0x6a, 0x1b, 0x1b, 0xff}
	// noteGround lets the data show faintly through a note.
	noteGround = color.NRGBA{0xff, 0xff, 0xff, 0xcc}
)

// envLine names where the run happened, as the writeup's headings do.
func envLine(r *result.Result) string {
	suite := cmp.Or(r.Env.Suite, r.Env.Distro)
	// The version's first word ("252"); the package's is on the page.
	sd, _, _ := strings.Cut(r.Env.SystemdVersion, " ")
	return fmt.Sprintf("%s · %s · systemd %s", cmp.Or(r.Env.Provider, "unknown"), cmp.Or(suite, "unknown"), cmp.Or(sd, "unknown"))
}

// stateOf is a snapshot's unit state as systemctl shows it: the active
// state, and the result when it is not success, else the sub-state.
func stateOf(s result.Snapshot) string {
	switch {
	case s.Result != "" && s.Result != "success":
		return s.ActiveState + " (" + s.Result + ")"
	case s.SubState != "" && s.SubState != s.ActiveState:
		return s.ActiveState + " (" + s.SubState + ")"
	}
	return s.ActiveState
}

// took is a duration in ms as a reader reads it: ms below a second.
func took(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

// stateMark is a moment the unit's state is known to have changed.
type stateMark struct {
	atMS float64
	text string
}

// stateMarks are the changes of the unit's state in the snapshots taken
// around the reloads (the first snapshot is the state it started from),
// and where `systemctl stop` left it.
func stateMarks(r *result.Result) []stateMark {
	var out []stateMark
	prev := ""
	for _, rl := range r.Reloads {
		for _, s := range []result.Snapshot{rl.Before, rl.After, rl.Settled} {
			if s.ActiveState == "" {
				continue
			}
			if st := stateOf(s); prev != "" && st != prev {
				out = append(out, stateMark{s.AtMS, "unit " + st})
				prev = st
			} else if prev == "" {
				prev = st
			}
		}
	}
	f := r.Final
	if f.StopAtMS > 0 && f.AfterStop.ActiveState != "" {
		out = append(out, stateMark{f.StopAtMS + f.StopTookMS, fmt.Sprintf("stop took %s: unit %s", took(f.StopTookMS), stateOf(f.AfterStop))})
	}
	return out
}

// addStates draws the stop under load as a band, like a reload, and a
// short text at each change of the unit's state; a change after the end
// of the axis is written at its right edge. It returns what must be
// drawn over the data.
func addStates(p *plot.Plot, r *result.Result, ymin, ymax, endS float64) ([]plot.Plotter, error) {
	var over []plot.Plotter
	if f := r.Final; f.StopAtMS > 0 {
		x0 := f.StopAtMS / 1000
		x1 := math.Min((f.StopAtMS+f.StopTookMS)/1000, endS)
		band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ymin}, {X: x1, Y: ymin}, {X: x1, Y: ymax}, {X: x0, Y: ymax}})
		if err != nil {
			return nil, err
		}
		band.Color = stopBand
		band.LineStyle.Width = 0
		line, err := plotter.NewLine(plotter.XYs{{X: x0, Y: ymin}, {X: x0, Y: ymax}})
		if err != nil {
			return nil, err
		}
		line.Color = stateText
		line.Width = vg.Points(1)
		line.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(band)
		p.Legend.Add(LabelStop, band, line)
		over = append(over, line)
	}
	marks := stateMarks(r)
	if len(marks) == 0 {
		return over, nil
	}
	var ns notes
	for _, m := range marks {
		x := m.atMS / 1000
		st := markStyle()
		if x >= endS*0.7 {
			// Near or past the right edge: end the text at the mark.
			st.XAlign = draw.XRight
		}
		x = math.Min(x, endS)
		ns = append(ns, note{plotter.XY{X: x, Y: ymax - (ymax-ymin)*0.03}, m.text, st})
		tick, err := plotter.NewLine(plotter.XYs{{X: x, Y: ymin}, {X: x, Y: ymax}})
		if err != nil {
			return nil, err
		}
		tick.Color = stateText
		tick.Width = vg.Points(0.6)
		over = append(over, tick)
	}
	return append(over, ns), nil
}

// note is a short text at a point of the data, on a white ground so that
// it reads over the data.
type note struct {
	at    plotter.XY
	text  string
	style text.Style
}

type notes []note

// Plot implements plot.Plotter. A note that would cover one drawn before
// moves a line away from its point: down for one hung from the top, up
// for one standing on the data.
func (ns notes) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pad := vg.Points(1.5)
	var drawn []vg.Rectangle
	for _, n := range ns {
		pt := vg.Point{X: trX(n.at.X), Y: trY(n.at.Y)}
		r := n.style.Rectangle(n.text).Add(pt)
		// Keep the text inside the data area.
		if d := c.Max.X - r.Max.X - pad; d < 0 {
			pt.X, r = pt.X+d, r.Add(vg.Point{X: d})
		}
		if d := c.Min.X - r.Min.X + pad; d > 0 {
			pt.X, r = pt.X+d, r.Add(vg.Point{X: d})
		}
		step := vg.Point{Y: r.Size().Y + 3*pad}
		if n.style.YAlign == draw.YTop {
			step.Y = -step.Y
		}
		for tries := 0; tries < 5 && overlaps(r, drawn, pad); tries++ {
			pt, r = pt.Add(step), r.Add(step)
		}
		drawn = append(drawn, r)
		c.FillPolygon(noteGround, []vg.Point{{X: r.Min.X - pad, Y: r.Min.Y - pad}, {X: r.Max.X + pad, Y: r.Min.Y - pad},
			{X: r.Max.X + pad, Y: r.Max.Y + pad}, {X: r.Min.X - pad, Y: r.Max.Y + pad}})
		c.FillText(n.style, pt, n.text)
	}
}

func overlaps(r vg.Rectangle, rs []vg.Rectangle, pad vg.Length) bool {
	for _, o := range rs {
		if r.Min.X < o.Max.X+2*pad && o.Min.X < r.Max.X+2*pad && r.Min.Y < o.Max.Y+2*pad && o.Min.Y < r.Max.Y+2*pad {
			return true
		}
	}
	return false
}

func markStyle() text.Style {
	return text.Style{
		Color:   stateText,
		Font:    font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, vg.Points(8)),
		XAlign:  draw.XLeft,
		YAlign:  draw.YTop,
		Handler: plot.DefaultTextHandler,
	}
}

// smallLossFrac: failures peaking below this share of the axis are hard to
// see as lines, so their count is written beside them.
const smallLossFrac = 0.1

// lossLabels writes the count of each small loss over it: a run of bins
// (gaps of one bin allowed) with failures of one class whose highest bin
// stays below smallLossFrac of the axis. Runs of several classes that
// overlap share one text ("3 reset, 1 eof").
func lossLabels(tl result.Timeline, ymax float64, classes []string) notes {
	type span struct {
		from, to int // bins
		peak     int
		counts   map[string]int
	}
	var spans []span
	for _, class := range classes {
		var cur *span
		for i, b := range tl.Bins {
			n := b.Failed[class]
			if n == 0 {
				continue
			}
			if cur != nil && i-cur.to <= 2 {
				cur.to, cur.peak = i, max(cur.peak, n)
				cur.counts[class] += n
				continue
			}
			spans = append(spans, span{i, i, n, map[string]int{class: n}})
			cur = &spans[len(spans)-1]
		}
	}
	// Merge overlapping small spans; large ones are visible on their own.
	var small []span
	for _, s := range spans {
		if float64(s.peak) >= smallLossFrac*ymax {
			continue
		}
		merged := false
		for j := range small {
			if s.from <= small[j].to+1 && small[j].from <= s.to+1 {
				small[j].from, small[j].to = min(s.from, small[j].from), max(s.to, small[j].to)
				small[j].peak = max(small[j].peak, s.peak)
				for c, n := range s.counts {
					small[j].counts[c] += n
				}
				merged = true
				break
			}
		}
		if !merged {
			small = append(small, s)
		}
	}
	var ns notes
	for _, s := range small {
		var parts []string
		for _, c := range classes {
			if n := s.counts[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, c))
			}
		}
		x := (tl.Bins[s.from].StartMS + tl.Bins[s.to].StartMS + tl.BinMS) / 2000
		label := strings.Join(parts, ", ")
		st := markStyle()
		st.Color = failColor(firstClass(label))
		st.XAlign, st.YAlign = draw.XCenter, draw.YBottom
		ns = append(ns, note{plotter.XY{X: x, Y: float64(s.peak) + 0.03*ymax}, label, st})
	}
	return ns
}

// firstClass is the class of a loss label's first count.
func firstClass(label string) string {
	f := strings.Fields(strings.SplitN(label, ",", 2)[0])
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// manyPIDs is how many serving processes get a legend entry each; a run
// with more (a soak) gets one entry for them all, so that the legend fits.
const manyPIDs = 8 // as many as pidColors

// stripes is a legend thumbnail of several colors side by side: the
// colors the serving processes take in turn.
type stripes []color.Color

func (s stripes) Thumbnail(c *draw.Canvas) {
	w := (c.Max.X - c.Min.X) / vg.Length(len(s))
	for i, col := range s {
		x := c.Min.X + w*vg.Length(i)
		c.FillPolygon(col, []vg.Point{{X: x, Y: c.Min.Y}, {X: x + w, Y: c.Min.Y}, {X: x + w, Y: c.Max.Y}, {X: x, Y: c.Max.Y}})
	}
}

// PIDsLabel is the legend text of n serving processes shown as one entry.
func PIDsLabel(n int, versions []string) string {
	l := fmt.Sprintf("ok, served by %d processes in turn", n)
	if len(versions) > 0 {
		l += " (" + strings.Join(versions, ", ") + ")"
	}
	return l
}
