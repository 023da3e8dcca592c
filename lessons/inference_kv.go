package lessons

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

const kvProse = "Each new token attends to every earlier one, so it needs their keys and values. " +
	"Without a cache the model recomputes them for the whole prefix at every step; with one it " +
	"computes each once and keeps it. Compute becomes memory: the cache grows with every token " +
	"of every conversation, and fewer or smaller KV heads shrink it."

// renderKV draws the KV-cache part: the idea, the cache every preset needs
// at this context and batch with the chosen model's formula spelled out,
// then the work a cache saves, plotted and counted.
func (c *Inference) renderKV(th *ui.Theme, v Values, width, height int, spot string) string {
	ctx, batch, gen := v.Int("context"), v.Int("batch"), v.Int("gen")
	sel, _ := strconv.Atoi(v["model"])
	sel = min(max(sel, 0), len(c.kvModels)-1)
	title := infTitle(th, "KV cache", "keep every past token's keys and values instead of recomputing them", width)

	// Memory: one bar per preset at this context and batch. A model whose
	// window is shorter cannot hold the context at all, so its row says so
	// instead of drawing a bar for a cache that cannot exist.
	head := siWrap(fmt.Sprintf("Cache for %s × %s in bf16 (2 bytes each)  %s",
		Count(ctx, "token", "tokens"), Count(batch, "conversation", "conversations"), th.Badge(ui.Computed)), width)
	sizes := make([]float64, len(c.kvModels))
	holds := make([]bool, len(c.kvModels))
	maxSize := 0.0
	for i, m := range c.kvModels {
		holds[i] = m.Context <= 0 || ctx <= m.Context
		sizes[i] = sim.KVCacheBytes(m, kvTokens(m, ctx), batch, 2)
		if holds[i] {
			maxSize = max(maxSize, sizes[i])
		}
	}
	const nameW, kindW = 14, 22
	// A row: marker 2, name, kind, bar, size 9, per-token 16.
	barW := max(min(width-2-nameW-kindW-1-1-9-16, 30), 4)
	var rows []string
	for i, m := range c.kvModels {
		name := ui.PadRight(m.Name, nameW)
		mark := spotMark(th, spot == "kv:"+m.Name)
		if i == sel {
			name = th.Strong.Render(name)
			if mark == "  " {
				mark = th.Accent.Render("• ")
			}
		}
		var kind string
		if m.Kind == sim.MLA {
			kind = fmt.Sprintf("MLA latent %d+%d", m.LatentDim, m.RopeDim)
		} else {
			kind = fmt.Sprintf("%s %d of %d KV heads", m.Kind, m.KVHeads, m.Heads)
		}
		per := infBytes(float64(m.ElementsPerToken()) * 2)
		var fig string
		if holds[i] {
			frac := 0.0
			if maxSize > 0 {
				frac = sizes[i] / maxSize
			}
			fig = fracBar(th, frac, barW, th.Bar, false) + " " + th.Strong.Render(fmt.Sprintf("%9s", infBytes(sizes[i])))
		} else {
			fig = th.Muted.Render(kvWindowNote(m.Context, barW+10))
		}
		rows = append(rows, mark+name+th.Subtle.Render(ui.PadRight(kind, kindW))+" "+fig+
			th.Subtle.Render(fmt.Sprintf("  %s/token", per)))
	}
	m := c.kvModels[sel]
	mctx := kvTokens(m, ctx)
	tokens := numGroup(int64(mctx))
	if !holds[sel] {
		tokens += " (its window)"
	}
	var formula, versus string
	if m.Kind == sim.MLA {
		formula = fmt.Sprintf("• %d layers × (%d latent + %d rotary) × 2 bytes × %s × %d = %s",
			m.Layers, m.LatentDim, m.RopeDim, tokens, batch, infBytes(sizes[sel]))
	} else {
		formula = fmt.Sprintf("• 2 × %d layers × %d KV heads × %d dims × 2 bytes × %s × %d = %s",
			m.Layers, m.KVHeads, m.HeadDim, tokens, batch, infBytes(sizes[sel]))
	}
	if full := m.MHAElementsPerToken(); full > m.ElementsPerToken() {
		mha := float64(full) * 2 * float64(mctx) * float64(batch)
		ratio := float64(full) / float64(m.ElementsPerToken())
		if m.Kind == sim.MLA {
			// The latent stands in for keys and values of different widths:
			// the rotary key part rides along with the rebuilt one.
			versus = fmt.Sprintf("  plain MHA: %d heads × (%d-wide key + %d-wide value) = %s, %.0f× more",
				m.Heads, m.KeyDim(), m.ValueDim(), infBytes(mha), ratio)
		} else {
			versus = fmt.Sprintf("  plain MHA, all %d heads cached, would need %s: %.0f× more", m.Heads, infBytes(mha), ratio)
		}
	} else {
		versus = fmt.Sprintf("  plain MHA: each of the %d query heads caches its own keys and values", m.Heads)
	}
	memory := head + "\n" + strings.Join(rows, "\n") + "\n" + th.Text.Render(siWrap(formula, width)) + "\n" +
		th.Subtle.Render(siWrap(versus, width))

	// Work: cumulative forward FLOPs to generate gen tokens, both ways.
	cached, uncached := sim.DecodeFLOPs(c.work, gen)
	workHead := infIndent(fmt.Sprintf("Work to generate %s, one at a time (%s)  %s",
		Count(gen, "token", "tokens"), c.work.Name, th.Badge(ui.Computed)), width, spotMark(th, spot == "kv:plot"))
	glyphU, glyphC := th.Warn.Render("●"), th.Accent.Render("●")
	if th.Mono {
		glyphU, glyphC = "*", "o"
	}
	workSum := fmt.Sprintf("%s %s without a cache · %s %s with it · %s× more",
		glyphU, th.Warn.Render(numSI(uncached, "FLOP")), glyphC, th.Accent.Render(numSI(cached, "FLOP")),
		numGroup(int64(math.Round(uncached/max(cached, 1)))))
	// When "∝ n" holds: per step the weights cost the same and attention
	// grows with the cache, so the total is linear only while the weights
	// dominate.
	weights, perToken := sim.DecodeStepFLOPs(c.work, 1)
	growth := fmt.Sprintf("With the cache, step t costs %s for the weights (2 per weight) plus %s for each of the t cached "+
		"tokens (attention, 2 × layers × width): ∝ n in total while the weights dominate, as here (attention is %s%% of "+
		"the work; a step's attention matches its weights only at t ≈ %s), ∝ n² once attention does. Without it, "+
		"step t re-runs all t tokens: ∝ n² (its attention ∝ n³).",
		numSI(weights, "FLOP"), numSI(perToken, "FLOP"), infDec(100*sim.DecodeAttentionShare(c.work, gen), 1),
		numGroup(int64(math.Round(sim.DecodeCrossover(c.work)))))
	workSum = siWrap(workSum, width) + "\n" + th.Subtle.Render(siWrap(growth, width))
	prose := th.Text.Render(siWrap(kvProse, width))

	// The idea, the memory it costs, then the work it saves. Everything is
	// drawn; the body scrolls. Only the plot stretches: into the rows the
	// rest leaves, between a legible kvPlotMin lines and 11.
	left := height - ui.Lines(title) - 1 - ui.Lines(prose) - 1 - ui.Lines(memory) - 1 - ui.Lines(workHead) - ui.Lines(workSum)
	work := workHead
	if plot := c.workPlot(th, gen, width, min(max(left, kvPlotMin), 11)); plot != "" {
		work += "\n" + plot
	}
	work += "\n" + workSum
	return ui.Column(title, prose, memory, work)
}

// kvPlotMin is the fewest lines the work plot is drawn in, its axis
// included: enough for the two curves to part visibly.
const kvPlotMin = 7

// kvTokens is how many of ctx tokens m's cache can hold: all of them, or
// its context window.
func kvTokens(m sim.KVModel, ctx int) int {
	if m.Context > 0 {
		return min(ctx, m.Context)
	}
	return ctx
}

// kvWindowNote says, in at most w cells, that a model's window is shorter
// than the context on screen.
func kvWindowNote(window, w int) string {
	for _, s := range []string{
		"its window is only " + numGroup(int64(window)) + " tokens",
		"window is only " + numGroup(int64(window)),
		"window " + numGroup(int64(window)),
		"max " + numShort(float64(window)),
	} {
		if lipgloss.Width(s) <= w {
			return ui.PadRight(s, w)
		}
	}
	return ui.Fit("max "+numShort(float64(window)), w, 1)
}

// workPlot draws the two cumulative-work curves on linear axes, so the
// quadratic one visibly runs away from the linear one.
func (c *Inference) workPlot(th *ui.Theme, gen, width, height int) string {
	ph := max(height-1, 2) // the x-axis takes a line
	_, top := sim.DecodeFLOPs(c.work, gen)
	yTop := numSI(top, "FLOP")
	labW := lipgloss.Width(yTop) + 1
	pw := width - labW - 1
	if pw < 10 {
		return ""
	}
	series := []infSeries{
		{style: th.Warn, mono: "*", y: func(x float64) float64 { _, u := sim.DecodeFLOPs(c.work, int(math.Round(x))); return u }},
		{style: th.Accent, mono: "o", y: func(x float64) float64 { k, _ := sim.DecodeFLOPs(c.work, int(math.Round(x))); return k }},
	}
	canvas := infPlot(th, series, float64(gen), top, pw, ph)
	var b strings.Builder
	for r, line := range canvas {
		lab := ""
		switch r {
		case 0:
			lab = yTop
		case ph - 1:
			lab = "0"
		}
		b.WriteString(th.Subtle.Render(fmt.Sprintf("%*s", labW, lab)) + th.Rule.Render("│") + line + "\n")
	}
	axis := "└" + strings.Repeat("─", pw)
	xl := fmt.Sprintf("0 tokens generated → %s", numGroup(int64(gen)))
	b.WriteString(strings.Repeat(" ", labW) + th.Rule.Render(ui.Fit(axis, pw+1, 1)))
	out := b.String()
	// Put the x labels into the axis line when it is wide enough.
	if pw > lipgloss.Width(xl)+4 {
		lines := strings.Split(out, "\n")
		lines[len(lines)-1] = strings.Repeat(" ", labW) + th.Rule.Render("└─ ") + th.Subtle.Render(xl) + " " +
			th.Rule.Render(strings.Repeat("─", max(pw-lipgloss.Width(xl)-4, 0)))
		out = strings.Join(lines, "\n")
	}
	return out
}

// infSeries is one curve of infPlot: y as a function of x, its style, and
// the character it is drawn with when the theme is mono.
type infSeries struct {
	y     func(x float64) float64
	style lipgloss.Style
	mono  string
}

// infPlot draws curves for x in [0, xMax] and y in [0, yMax] into height
// lines of width cells: braille dots (2×4 per cell) for smooth lines, or
// one character per cell when mono. Each curve is joined vertically from
// one column to the next, so a steep curve stays a line. Earlier series
// win a shared cell.
func infPlot(th *ui.Theme, series []infSeries, xMax, yMax float64, width, height int) []string {
	sx, sy := 2, 4
	if th.Mono {
		sx, sy = 1, 1
	}
	dw, dh := width*sx, height*sy
	owner := make([][]int, height) // series painting each cell, -1 for none
	bits := make([][]rune, height)
	for r := range owner {
		owner[r] = make([]int, width)
		bits[r] = make([]rune, width)
		for c := range owner[r] {
			owner[r][c] = -1
		}
	}
	// Braille dot bits by (column in cell, row in cell).
	dot := [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}
	for si := len(series) - 1; si >= 0; si-- {
		prev := -1
		for x := 0; x < dw; x++ {
			yv := 0.0
			if yMax > 0 {
				yv = series[si].y(xMax*float64(x+1)/float64(dw)) / yMax
			}
			yv = min(max(yv, 0), 1)
			row := int(math.Round((1 - yv) * float64(dh-1)))
			lo, hi := row, row
			if prev >= 0 {
				lo, hi = min(row, prev+1), max(row, prev-1)
				if prev == row {
					lo, hi = row, row
				}
			}
			for y := max(lo, 0); y <= min(hi, dh-1); y++ {
				cr, cc := y/sy, x/sx
				owner[cr][cc] = si
				if !th.Mono {
					bits[cr][cc] |= dot[x%sx][y%sy]
				}
			}
			prev = row
		}
	}
	out := make([]string, height)
	for r := range out {
		var b strings.Builder
		for cc := 0; cc < width; cc++ {
			si := owner[r][cc]
			switch {
			case si < 0:
				b.WriteByte(' ')
			case th.Mono:
				b.WriteString(series[si].mono)
			default:
				b.WriteString(series[si].style.Render(string(0x2800 + bits[r][cc])))
			}
		}
		out[r] = b.String()
	}
	return out
}
