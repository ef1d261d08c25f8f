// Package plots draws one result's timeline and latency as SVG files that
// read well in GitHub's markdown view. Output depends only on the result:
// the same result gives the same bytes.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/gracelab/gracelab/internal/kind"
	"github.com/gracelab/gracelab/internal/load"
	"github.com/gracelab/gracelab/internal/result"
)

// Size of every plot, legend included: wide enough for a 30 s run at
// 100 ms bins, small enough for GitHub's content column.
const (
	Width  = 9 * vg.Inch
	Height = 3.5 * vg.Inch
)

// Series names that tests and readers can rely on.
const (
	LabelReload     = "reload running"
	LabelP50        = "p50"
	LabelP99        = "p99"
	LabelMax        = "max"
	LabelSlowDone   = "slow request, completed"
	LabelSlowCut    = "slow request, cut"
	LabelOKNoPID    = "ok, PID unknown"
	labelFailedTmpl = "failed: %s"
	labelPIDTmpl    = "ok, served by PID %d"
)

// PIDLabel is the legend text of the series of requests served by pid.
func PIDLabel(pid int) string { return fmt.Sprintf(labelPIDTmpl, pid) }

// PIDVersionLabel is the legend text of the series of requests served by
// pid when the result says which build that process ran.
func PIDVersionLabel(pid int, version string) string {
	if version == "" {
		return PIDLabel(pid)
	}
	return PIDLabel(pid) + " (" + version + ")"
}

// versions maps the PIDs that answered a health check in the result's
// snapshots to the build version they reported.
func versions(r *result.Result) map[int]string {
	out := map[int]string{}
	note := func(s result.Snapshot) {
		if s.ServingPID != 0 && s.ServingVersion != "" {
			out[s.ServingPID] = s.ServingVersion
		}
	}
	for _, rl := range r.Reloads {
		note(rl.Before)
		note(rl.After)
		note(rl.Settled)
	}
	note(r.Final.Snapshot)
	return out
}

// title names the run (server, variant, profile, and the experiment when
// it is not the plain reload) and, on its second line, the environment
// and what the plot shows.
func title(r *result.Result, what string) string {
	t := fmt.Sprintf("%s · %s · %s", r.Server, r.Variant, r.Profile)
	if r.Experiment != "" && r.Experiment != kind.Base().Name {
		t += " · " + r.Experiment
	}
	return t + "\n" + envLine(r) + ": " + what
}

// FailedLabel is the legend text of the series of failures of one class.
func FailedLabel(class string) string { return fmt.Sprintf(labelFailedTmpl, class) }

var (
	// Served-by colors avoid red, which is kept for failures.
	pidColors = []color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xb0, 0x7a, 0xa1, 0xff},
		{0x76, 0xb7, 0xb2, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
		{0xba, 0xb0, 0xac, 0xff}, {0x2f, 0x4b, 0x7c, 0xff},
	}
	failColors = map[string]color.RGBA{
		"refused":    {0xd6, 0x27, 0x28, 0xff},
		"reset":      {0xff, 0x7f, 0x0e, 0xff},
		"eof":        {0xe3, 0x37, 0x9c, 0xff},
		"timeout":    {0x8c, 0x00, 0x00, 0xff},
		"http_5xx":   {0x94, 0x67, 0xbd, 0xff},
		"http_other": {0x7f, 0x7f, 0x7f, 0xff},
		"other":      {0x00, 0x00, 0x00, 0xff},
	}
	reloadBand = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	reloadLine = color.RGBA{0x55, 0x55, 0x55, 0xff}
)

// Timeline writes requests per bin as SVG: successes stacked by the PID
// that served them, failures per class as lines from zero (so that a
// single failure is visible), and a band for each reload.
func Timeline(w io.Writer, r *result.Result) error {
	tl := r.Timeline
	binS := tl.BinMS / 1000
	p := newPlot(title(r, "requests by outcome and serving process"),
		"time since load start (s)", fmt.Sprintf("requests per %s ms", num(tl.BinMS)))
	end := endS(r)
	p.X.Min, p.X.Max = 0, end

	ymax := 1.0
	for _, b := range tl.Bins {
		ymax = math.Max(ymax, float64(b.Sent))
	}
	ymax *= 1.05
	p.Y.Min, p.Y.Max = 0, ymax
	reloadLines, err := addReloads(p, r, 0, ymax)
	if err != nil {
		return err
	}
	states, err := addStates(p, r, 0, ymax, end)
	if err != nil {
		return err
	}

	// Successes by PID, stacked in order of first appearance.
	pids := pidOrder(tl.Bins)
	base := make([]float64, len(tl.Bins))
	stack := func(label string, col color.Color, count func(result.Bin) int) error {
		top := make([]float64, len(tl.Bins))
		for i, b := range tl.Bins {
			top[i] = base[i] + float64(count(b))
		}
		poly, err := plotter.NewPolygon(stepArea(tl.Bins, binS, base, top))
		if err != nil {
			return err
		}
		poly.Color = col
		poly.LineStyle.Width = 0
		p.Add(poly)
		if label != "" {
			p.Legend.Add(label, poly)
		}
		base = top
		return nil
	}
	vers := versions(r)
	few := len(pids) <= manyPIDs
	for i, pid := range pids {
		label := ""
		if few {
			label = PIDVersionLabel(pid, vers[pid])
		}
		if err := stack(label, pidColors[i%len(pidColors)], func(b result.Bin) int { return b.PIDs[pid] }); err != nil {
			return err
		}
	}
	if !few {
		var cols stripes
		for _, c := range pidColors {
			cols = append(cols, c)
		}
		p.Legend.Add(PIDsLabel(len(pids), versionList(pids, vers)), cols)
	}
	if noPID := func(b result.Bin) int { return b.OK - sumPIDs(b) }; anyBin(tl.Bins, noPID) {
		if err := stack(LabelOKNoPID, color.RGBA{0xcc, 0xcc, 0xcc, 0xff}, noPID); err != nil {
			return err
		}
	}

	classes := failureClasses(tl.Bins)
	for _, class := range classes {
		counts := make(plotter.XYs, 0, 2*len(tl.Bins))
		for _, b := range tl.Bins {
			x0 := b.StartMS / 1000
			n := float64(b.Failed[class])
			counts = append(counts, plotter.XY{X: x0, Y: n}, plotter.XY{X: x0 + binS, Y: n})
		}
		l, err := plotter.NewLine(counts)
		if err != nil {
			return err
		}
		l.Color = failColor(class)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(FailedLabel(class), l)
	}
	p.Add(reloadLines...)
	p.Add(states...)
	if counts := lossLabels(tl, ymax, classes); len(counts) > 0 {
		p.Add(counts)
	}
	return save(w, p)
}

// versionList is the builds the PIDs ran, in order of first appearance.
func versionList(pids []int, vers map[int]string) []string {
	var out []string
	for _, pid := range pids {
		if v := vers[pid]; v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Latency writes p50, p99 and max latency per bin on a log scale, with the
// slow in-flight requests as points.
func Latency(w io.Writer, r *result.Result) error {
	tl := r.Timeline
	p := newPlot(title(r, fmt.Sprintf("latency per %s ms bin", num(tl.BinMS))),
		"time since load start (s)", "latency (ms, log scale)")
	p.X.Min, p.X.Max = 0, endS(r)
	// The axis holds log10(ms) and its ticks show ms: gonum's LogScale
	// centres the axis label on the wrong spot and wastes the top.
	p.Y.Tick.Marker = logTicks{}

	const floor = 0.001 // a log axis has no zero
	log := func(v float64) float64 { return math.Log10(math.Max(v, floor)) }
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		v = math.Max(v, floor)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	series := []struct {
		label string
		get   func(result.Bin) float64
		col   color.RGBA
	}{
		{LabelP50, func(b result.Bin) float64 { return b.P50MS }, color.RGBA{0x4e, 0x79, 0xa7, 0xff}},
		{LabelP99, func(b result.Bin) float64 { return b.P99MS }, color.RGBA{0xf2, 0x8e, 0x2b, 0xff}},
		{LabelMax, func(b result.Bin) float64 { return b.MaxMS }, color.RGBA{0xd6, 0x27, 0x28, 0xff}},
	}
	xys := make([]plotter.XYs, len(series))
	for _, b := range tl.Bins {
		if b.Sent == 0 {
			continue // no request, no latency
		}
		x := (b.StartMS + tl.BinMS/2) / 1000
		for i, s := range series {
			v := s.get(b)
			see(v)
			xys[i] = append(xys[i], plotter.XY{X: x, Y: log(v)})
		}
	}
	var done, cut plotter.XYs
	for _, s := range r.Slow {
		pt := plotter.XY{X: s.StartMS / 1000, Y: log(s.LatencyMS)}
		see(s.LatencyMS)
		if s.Outcome == "completed" {
			done = append(done, pt)
		} else {
			cut = append(cut, pt)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0.1, 1000
	}
	// Whole decades, so that the axis has labelled ticks at both ends.
	lo = math.Floor(log(lo))
	hi = math.Ceil(log(hi * 1.01))
	p.Y.Min, p.Y.Max = lo, hi
	reloadLines, err := addReloads(p, r, lo, hi)
	if err != nil {
		return err
	}
	states, err := addStates(p, r, lo, hi, endS(r))
	if err != nil {
		return err
	}
	for i, s := range series {
		if len(xys[i]) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys[i])
		if err != nil {
			return err
		}
		l.Color = s.col
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(s.label, l)
	}
	for _, pts := range []struct {
		xys   plotter.XYs
		label string
		col   color.RGBA
		glyph draw.GlyphDrawer
	}{
		{done, LabelSlowDone, color.RGBA{0x2c, 0x8c, 0x2c, 0xff}, draw.CircleGlyph{}},
		{cut, LabelSlowCut, color.RGBA{0xd6, 0x27, 0x28, 0xff}, draw.CrossGlyph{}},
	} {
		if len(pts.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts.xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: pts.col, Radius: vg.Points(3.5), Shape: pts.glyph}
		p.Add(sc)
		p.Legend.Add(pts.label, sc)
	}
	p.Add(reloadLines...)
	p.Add(states...)
	return save(w, p)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Title.TextStyle.Font.Size = vg.Points(11)
	// Sans reads better than the default serif at this size.
	for _, v := range []*font.Variant{
		&p.Title.TextStyle.Font.Variant, &p.X.Label.TextStyle.Font.Variant,
		&p.Y.Label.TextStyle.Font.Variant, &p.X.Tick.Label.Font.Variant,
		&p.Y.Tick.Label.Font.Variant, &p.Legend.TextStyle.Font.Variant,
	} {
		*v = "Sans"
	}
	p.X.Tick.Marker = secondTicks{}
	p.Title.Padding = vg.Points(6)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.ThumbnailWidth = vg.Points(16)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Padding = vg.Points(3)
	p.Add(plotter.NewGrid())
	return p
}

// save draws p with its legend in a column to the right of the plot, so
// that the legend never hides data.
func save(w io.Writer, p *plot.Plot) error {
	c := vgsvg.New(Width, Height)
	drawTo(c, p)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	// Readers rarely have Liberation fonts; name metric-compatible ones
	// and a generic family, so that a browser does not fall back to serif.
	out := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:Liberation Sans,Arimo,Arial,Helvetica,sans-serif;"))
	_, err := w.Write(out)
	return err
}

// drawTo draws p on c, the legend beside the plot.
func drawTo(c vg.CanvasSizer, p *plot.Plot) {
	dc := draw.New(c)
	// Plot.Draw would draw the legend over the data: take it out first.
	leg := p.Legend
	p.Legend = plot.NewLegend()
	margin := vg.Points(6)
	lw := leg.Rectangle(dc).Size().X + 2*margin
	p.Draw(draw.Crop(dc, margin, -lw, margin, -margin))
	leg.Draw(draw.Crop(dc, Width-lw+margin, -margin, 0, -vg.Points(28)))
}

// addReloads draws each reload as a band from its start to the return of
// the command, behind the data. It returns the dashed start lines, to be
// added after the data so that they stay visible.
func addReloads(p *plot.Plot, r *result.Result, ymin, ymax float64) ([]plot.Plotter, error) {
	var lines []plot.Plotter
	for i, rl := range r.Reloads {
		x0 := rl.StartMS / 1000
		x1 := (rl.StartMS + rl.TookMS) / 1000
		band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ymin}, {X: x1, Y: ymin}, {X: x1, Y: ymax}, {X: x0, Y: ymax}})
		if err != nil {
			return nil, err
		}
		band.Color = reloadBand
		band.LineStyle.Width = 0
		line, err := plotter.NewLine(plotter.XYs{{X: x0, Y: ymin}, {X: x0, Y: ymax}})
		if err != nil {
			return nil, err
		}
		line.Color = reloadLine
		line.Width = vg.Points(1)
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(band)
		lines = append(lines, line)
		if i == 0 {
			label := LabelReload
			if a := r.Load.Action; a != "" {
				label = "systemctl " + a + " running"
			}
			p.Legend.Add(label, band, line)
		}
	}
	return lines, nil
}

// stepArea is the polygon between two step curves over the bins.
func stepArea(bins []result.Bin, binS float64, lo, hi []float64) plotter.XYs {
	var xy plotter.XYs
	for i, b := range bins {
		x := b.StartMS / 1000
		xy = append(xy, plotter.XY{X: x, Y: hi[i]}, plotter.XY{X: x + binS, Y: hi[i]})
	}
	for i := len(bins) - 1; i >= 0; i-- {
		x := bins[i].StartMS / 1000
		xy = append(xy, plotter.XY{X: x + binS, Y: lo[i]}, plotter.XY{X: x, Y: lo[i]})
	}
	if len(xy) == 0 {
		xy = plotter.XYs{{}, {}, {}}
	}
	return xy
}

// pidOrder lists serving PIDs by first appearance, then by number: map
// order must not leak into the output.
func pidOrder(bins []result.Bin) []int {
	first := map[int]int{}
	var pids []int
	for i, b := range bins {
		for pid := range b.PIDs {
			if _, ok := first[pid]; !ok {
				first[pid] = i
				pids = append(pids, pid)
			}
		}
	}
	sort.Slice(pids, func(i, j int) bool {
		if first[pids[i]] != first[pids[j]] {
			return first[pids[i]] < first[pids[j]]
		}
		return pids[i] < pids[j]
	})
	return pids
}

// failureClasses lists the classes seen, known ones in report order first.
func failureClasses(bins []result.Bin) []string {
	seen := map[string]bool{}
	for _, b := range bins {
		for c, n := range b.Failed {
			if n > 0 {
				seen[c] = true
			}
		}
	}
	var out []string
	for _, c := range load.FailureClasses() {
		if seen[c.String()] {
			out = append(out, c.String())
			delete(seen, c.String())
		}
	}
	var rest []string
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func failColor(class string) color.RGBA {
	if c, ok := failColors[class]; ok {
		return c
	}
	return failColors["other"]
}

func sumPIDs(b result.Bin) int {
	n := 0
	for _, v := range b.PIDs {
		n += v
	}
	return n
}

func anyBin(bins []result.Bin, f func(result.Bin) int) bool {
	for _, b := range bins {
		if f(b) > 0 {
			return true
		}
	}
	return false
}

// endS is the end of the time axis: the last bin's end, or the load's
// duration if that is longer.
func endS(r *result.Result) float64 {
	end := r.Load.DurationMS
	if n := len(r.Timeline.Bins); n > 0 {
		end = math.Max(end, r.Timeline.Bins[n-1].StartMS+r.Timeline.BinMS)
	}
	if end <= 0 {
		end = 1000
	}
	return end / 1000
}

func num(v float64) string { return fmt.Sprintf("%g", v) }

// logTicks are ticks for an axis of log10 values: a label at each decade
// in plain ms ("0.1", "1000"), minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(min); e <= max; e++ {
		if e >= min {
			ticks = append(ticks, plot.Tick{Value: e, Label: strconv.FormatFloat(math.Pow(10, e), 'f', -1, 64)})
		}
		for k := 2.0; k < 10; k++ {
			if v := e + math.Log10(k); v >= min && v <= max {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// secondTicks labels about every tenth of the time axis with a round step,
// so a reader can tell when each reload happened.
type secondTicks struct{}

func (secondTicks) Ticks(min, max float64) []plot.Tick {
	step := 0.1
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600} {
		step = s
		if (max-min)/s <= 12 {
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / step * 2); i/2*step <= max+1e-9; i++ {
		v := i / 2 * step
		t := plot.Tick{Value: v}
		if int(i)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
