package ui

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// PlotMark is a labelled point on a plot.
type PlotMark struct {
	X, Y float64
	// Glyph is the one-cell symbol drawn at the point.
	Glyph string
	// Label is written beside the point where it fits without covering
	// another mark or label; otherwise only the glyph shows.
	Label string
	// Strong draws the mark in the focus style, on top of any other mark in
	// the same cell, and places its label first.
	Strong bool
}

// LogLogPlot is a chart whose axes both run in decades: a curve and labelled
// points. Scaling laws are straight lines on such axes, which is why the
// compute chapters plot this way.
type LogLogPlot struct {
	// Curve is a polyline in data coordinates, in any order of x.
	Curve [][2]float64
	Marks []PlotMark
	// XMin..YMax bound the axes; all must be positive with Min < Max or the
	// plot is empty.
	XMin, XMax, YMin, YMax float64
	// XTick and YTick name a power of ten on each axis; nil prints "1e23".
	XTick, YTick func(float64) string
}

// plotCell is one character of the canvas and the style it is drawn in.
type plotCell struct {
	s     string
	style *lipgloss.Style
	taken bool // a mark or label sits here: later labels go elsewhere
}

// LogLogPlot draws p in width×height cells: y-axis labels on the left, an
// x-axis with decade ticks and labels underneath. The curve is drawn in
// braille dots (two by four per cell) for a smooth line, or in dots of
// plain ASCII when the theme is mono. Anything outside the bounds is
// clipped. Too small a box, or unusable bounds, give "".
func (t *Theme) LogLogPlot(p LogLogPlot, width, height int) string {
	if !(p.XMin > 0 && p.XMax > p.XMin && p.YMin > 0 && p.YMax > p.YMin) ||
		math.IsInf(p.XMax, 0) || math.IsInf(p.YMax, 0) {
		return ""
	}
	xt, yt := p.XTick, p.YTick
	if xt == nil {
		xt = sciTick
	}
	if yt == nil {
		yt = sciTick
	}
	lx0, lx1 := math.Log10(p.XMin), math.Log10(p.XMax)
	ly0, ly1 := math.Log10(p.YMin), math.Log10(p.YMax)

	// Decades on the y-axis decide the label column's width.
	var yDecades []int
	for k := int(math.Ceil(ly0 - 1e-9)); float64(k) <= ly1+1e-9; k++ {
		yDecades = append(yDecades, k)
	}
	labW := 0
	for _, k := range yDecades {
		labW = max(labW, lipgloss.Width(yt(math.Pow(10, float64(k)))))
	}
	pw, ph := width-labW-2, height-2
	if pw < 10 || ph < 3 {
		return ""
	}
	col := func(x float64) float64 { return (math.Log10(x) - lx0) / (lx1 - lx0) * float64(pw-1) }
	row := func(y float64) float64 { return float64(ph-1) - (math.Log10(y)-ly0)/(ly1-ly0)*float64(ph-1) }

	canvas := make([][]plotCell, ph)
	for r := range canvas {
		canvas[r] = make([]plotCell, pw)
		for c := range canvas[r] {
			canvas[r][c] = plotCell{s: " "}
		}
	}
	t.plotCurve(canvas, p.Curve, lx0, lx1, ly0, ly1)

	// Marks: strong ones drawn last so they win a shared cell, labelled
	// first so they win the space beside it.
	marks := make([]PlotMark, 0, len(p.Marks))
	for _, m := range p.Marks {
		if m.X > 0 && m.Y > 0 && !math.IsInf(m.X, 0) && !math.IsInf(m.Y, 0) {
			marks = append(marks, m)
		}
	}
	sort.SliceStable(marks, func(i, j int) bool { return !marks[i].Strong && marks[j].Strong })
	type spot struct{ r, c int }
	at := make([]spot, len(marks))
	owner := map[spot]int{}
	for i, m := range marks {
		r, c := int(math.Round(row(m.Y))), int(math.Round(col(m.X)))
		at[i] = spot{r, c}
		if r < 0 || r >= ph || c < 0 || c >= pw {
			at[i] = spot{-1, -1}
			continue
		}
		style := &t.Accent
		if m.Strong {
			style = &t.Focus
		}
		g := m.Glyph
		if g == "" || lipgloss.Width(g) != 1 {
			g = "*"
		}
		canvas[r][c] = plotCell{s: g, style: style, taken: true}
		owner[at[i]] = i
	}
	for pass := 0; pass < 2; pass++ {
		for i := len(marks) - 1; i >= 0; i-- {
			m := marks[i]
			// A mark hidden under a later one loses its label too, or the
			// label would name the wrong glyph.
			if m.Strong != (pass == 0) || at[i].r < 0 || m.Label == "" || owner[at[i]] != i {
				continue
			}
			style := &t.Subtle
			if m.Strong {
				style = &t.Strong
			}
			placeLabel(canvas, at[i].r, at[i].c, m.Label, style)
		}
	}

	var b strings.Builder
	tickRow := map[int]string{}
	for _, k := range yDecades {
		r := int(math.Round(row(math.Pow(10, float64(k)))))
		if _, ok := tickRow[r]; !ok && r >= 0 && r < ph {
			tickRow[r] = yt(math.Pow(10, float64(k)))
		}
	}
	vert, tick, corner, horiz, xtick := "│", "┤", "└", "─", "┬"
	if t.Mono {
		vert, tick, corner, horiz, xtick = "|", "|", "+", "-", "+"
	}
	for r := range ph {
		lab, axis := "", vert
		if s, ok := tickRow[r]; ok {
			lab, axis = s, tick
		}
		b.WriteString(t.Subtle.Render(strings.Repeat(" ", labW-lipgloss.Width(lab)) + lab + " "))
		b.WriteString(t.Rule.Render(axis))
		writeCells(&b, canvas[r])
		b.WriteByte('\n')
	}

	// The x-axis: ticks at each decade, labels centred under them where
	// they do not collide with the previous one.
	axis := []string{}
	for range pw {
		axis = append(axis, horiz)
	}
	labels := []rune(strings.Repeat(" ", width))
	next := 0
	for k := int(math.Ceil(lx0 - 1e-9)); float64(k) <= lx1+1e-9; k++ {
		c := int(math.Round(col(math.Pow(10, float64(k)))))
		if c < 0 || c >= pw {
			continue
		}
		if c > 0 {
			axis[c] = xtick // at 0 the corner already marks it
		}
		s := []rune(xt(math.Pow(10, float64(k))))
		start := labW + 2 + c - len(s)/2
		start = min(max(start, 0), width-len(s))
		if start < next || start < 0 {
			continue
		}
		copy(labels[start:], s)
		next = start + len(s) + 1
	}
	b.WriteString(strings.Repeat(" ", labW+1) + t.Rule.Render(corner+strings.Join(axis, "")))
	b.WriteByte('\n')
	b.WriteString(t.Subtle.Render(strings.TrimRight(string(labels), " ")))
	return Fit(b.String(), width, height)
}

// plotCurve draws the polyline into the canvas, sampling it once per dot
// column and joining neighbouring samples vertically so steep stretches
// stay connected.
func (t *Theme) plotCurve(canvas [][]plotCell, curve [][2]float64, lx0, lx1, ly0, ly1 float64) {
	var pts [][2]float64
	for _, q := range curve {
		if q[0] > 0 && q[1] > 0 && !math.IsInf(q[0], 0) && !math.IsInf(q[1], 0) {
			pts = append(pts, [2]float64{math.Log10(q[0]), math.Log10(q[1])})
		}
	}
	if len(pts) < 2 {
		return
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i][0] < pts[j][0] })
	ph, pw := len(canvas), len(canvas[0])
	dw, dh := pw*2, ph*4
	dots := make([][]bool, dh)
	for i := range dots {
		dots[i] = make([]bool, dw)
	}
	prev := -1
	for sx := range dw {
		lx := lx0 + (lx1-lx0)*float64(sx)/float64(dw-1)
		if lx < pts[0][0] || lx > pts[len(pts)-1][0] {
			prev = -1
			continue
		}
		j := sort.Search(len(pts), func(i int) bool { return pts[i][0] >= lx })
		ly := pts[j][1]
		if j > 0 && pts[j][0] > pts[j-1][0] {
			f := (lx - pts[j-1][0]) / (pts[j][0] - pts[j-1][0])
			ly = pts[j-1][1] + f*(pts[j][1]-pts[j-1][1])
		}
		sy := int(math.Round(float64(dh-1) - (ly-ly0)/(ly1-ly0)*float64(dh-1)))
		lo, hi := sy, sy
		if prev >= 0 {
			lo, hi = min(sy, prev), max(sy, prev)
		}
		for y := max(lo, 0); y <= min(hi, dh-1); y++ {
			dots[y][sx] = true
		}
		prev = sy
	}
	// Braille dot bits by (column, row) inside a cell.
	bits := [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}
	for r := range ph {
		for c := range pw {
			var code rune
			for dx := range 2 {
				for dy := range 4 {
					if dots[r*4+dy][c*2+dx] {
						code |= bits[dx][dy]
					}
				}
			}
			if code == 0 {
				continue
			}
			s := string(0x2800 + code)
			if t.Mono {
				s = "."
			}
			canvas[r][c] = plotCell{s: s, style: &t.Bar}
		}
	}
}

// placeLabel writes label right of (r, c) after a space, or else left of
// it, on cells no other mark or label holds; the curve may be covered.
func placeLabel(canvas [][]plotCell, r, c int, label string, style *lipgloss.Style) {
	rs := []rune(label)
	pw := len(canvas[r])
	free := func(from int) bool {
		if from < 0 || from+len(rs) > pw {
			return false
		}
		for i := from - 1; i <= from+len(rs); i++ {
			if i >= 0 && i < pw && i != c && canvas[r][i].taken {
				return false
			}
		}
		return true
	}
	from, gap := c+2, c+1
	if !free(from) {
		from, gap = c-1-len(rs), c-1
		if !free(from) {
			return
		}
	}
	// A curve dot touching the label would read as part of it.
	canvas[r][gap] = plotCell{s: " ", taken: true}
	if end := from + len(rs); end < pw && end != c {
		canvas[r][end] = plotCell{s: " ", taken: true}
	}
	if from-1 >= 0 && from-1 != c {
		canvas[r][from-1] = plotCell{s: " ", taken: true}
	}
	for i, ch := range rs {
		canvas[r][from+i] = plotCell{s: string(ch), style: style, taken: true}
	}
}

// writeCells renders a canvas row, one style switch per run of cells.
func writeCells(b *strings.Builder, cells []plotCell) {
	for i := 0; i < len(cells); {
		j := i
		var run strings.Builder
		for j < len(cells) && cells[j].style == cells[i].style {
			run.WriteString(cells[j].s)
			j++
		}
		if cells[i].style == nil {
			b.WriteString(run.String())
		} else {
			b.WriteString(cells[i].style.Render(run.String()))
		}
		i = j
	}
}

// sciTick names a power of ten as "1e23".
func sciTick(x float64) string {
	return "1e" + strconv.Itoa(int(math.Round(math.Log10(x))))
}
