package lessons

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// Inference is chapter 8, "The optimizations that make it fast": the KV
// cache, speculative decoding, continuous batching and mixtures of experts,
// one part at a time.
type Inference struct {
	meta
	kvModels []sim.KVModel
	moe      []sim.MoEModel
	// work is the architecture whose FLOPs the KV-cache plot counts, and
	// workKV its cache, which the batching part weighs against its weights.
	work     sim.Arch
	workKV   sim.KVModel
	sentence []string
	// specText is the passage the speculative run writes, and specWrong the
	// words a draft model guesses wrongly.
	specText, specWrong []string
	controls            []Control
}

// The parts of the chapter, as the "part" control's values.
const (
	infKV    = "kv"
	infSpec  = "spec"
	infBatch = "batch"
	infMoE   = "moe"
)

// NewInference builds the inference chapter.
func NewInference() (*Inference, error) {
	c := &Inference{
		meta: meta{id: "inference", number: 8, title: "The optimizations that make it fast",
			summary: "Serving: KV cache, speculative decoding, continuous batching, mixture of experts"},
		kvModels: sim.KVModels(),
		moe:      sim.MoEPresets(),
		sentence: sim.MoESentence(),
		specText: strings.Fields("The cat sat on the mat by the window and watched the rain run down the glass " +
			"while the kettle began to sing in the kitchen and the old clock in the hall ticked slowly towards noon"),
		specWrong: strings.Fields("a big under then it very soft red one so"),
	}
	work, ok := sim.ArchPreset("Llama 2 7B")
	if !ok {
		return nil, fmt.Errorf("inference: no Llama 2 7B preset")
	}
	c.work = work
	found := false
	for _, m := range c.kvModels {
		if m.Name == "Llama-2-7B" {
			c.workKV, found = m, true
		}
	}
	if !found {
		return nil, fmt.Errorf("inference: no Llama-2-7B cache preset")
	}
	var models []Option
	for i, m := range c.kvModels {
		note := map[sim.AttentionKind]string{sim.MHA: "MHA", sim.GQA: "GQA", sim.MLA: "MLA"}[m.Kind]
		models = append(models, Option{Value: strconv.Itoa(i), Label: m.Name, Note: note})
	}
	kv, spec, batch, moe := "part="+infKV, "part="+infSpec, "part="+infBatch, "part="+infMoE
	c.controls = []Control{
		{Key: "part", Label: "Part", Kind: Choice, Default: infKV,
			Help: "←/→ switch between the four optimizations",
			Options: []Option{
				{Value: infKV, Label: "KV cache"},
				{Value: infSpec, Label: "Spec. decoding"},
				{Value: infBatch, Label: "Batching"},
				{Value: infMoE, Label: "Mixture of experts"},
			}},
		{Key: "model", Label: "Model", Kind: Choice, Default: "0", When: kv, Options: models,
			Help: "←/→ whose cache the formula line spells out"},
		{Key: "context", Label: "Context", Kind: Slider, Min: 512, Max: 131072, Log: true, Steps: 8, Format: "%.0f", Unit: "tokens",
			Default: "4096", When: kv, Help: "←/→ doubles or halves the tokens held in the cache, up to the model's context window"},
		{Key: "batch", Label: "Batch", Kind: Slider, Min: 1, Max: 64, Log: true, Steps: 6, Format: "%.0f", Unit: "seq",
			Default: "1", When: kv, Help: "←/→ doubles or halves the conversations served at once; each has its own cache"},
		{Key: "gen", Label: "Generate", Kind: Slider, Min: 16, Max: 4096, Log: true, Steps: 8, Format: "%.0f", Unit: "tokens",
			Default: "1024", When: kv, Help: "←/→ doubles or halves the length of the work plot"},
		{Key: "k", Label: "Draft len k", Kind: Slider, Min: 1, Max: 10, Step: 1, Format: "%.0f", Default: "4", When: spec,
			Help: "tokens the small draft model proposes before the big model checks"},
		{Key: "alpha", Label: "Acceptance α", Kind: Slider, Min: 0, Max: 1, Step: 0.05, Format: "%.2f", Default: "0.8", When: spec,
			Help: "chance the big model agrees with each drafted token"},
		{Key: "cost", Label: "Draft cost c", Kind: Slider, Min: 0, Max: 1, Step: 0.05, Format: "%.2f", Default: "0.1", When: spec,
			Help: "a draft step's time as a fraction of a big-model pass"},
		{Key: "spec_seed", Label: "Seed", Kind: Slider, Min: 1, Max: 100, Step: 1, Format: "%.0f", Default: "1", When: spec,
			Help: "←/→ runs the simulation again with another seed"},
		{Key: "slots", Label: "Batch slots", Kind: Slider, Min: 2, Max: 6, Step: 1, Format: "%.0f", Default: "4", When: batch,
			Help: "how many requests the GPU decodes together"},
		{Key: "requests", Label: "Requests", Kind: Slider, Min: 4, Max: 20, Step: 1, Format: "%.0f", Default: "12", When: batch,
			Help: "how many requests arrive"},
		{Key: "batch_seed", Label: "Seed", Kind: Slider, Min: 1, Max: 100, Step: 1, Format: "%.0f", Default: "1", When: batch,
			Help: "←/→ draws another stream of arrivals and lengths"},
		{Key: "experts", Label: "Experts", Kind: Slider, Min: 4, Max: 16, Step: 1, Format: "%.0f", Default: "8", When: moe,
			Help: "feed-forward experts in the toy layer (Mixtral has 8, DeepSeek-V3 256)"},
		{Key: "top_k", Label: "Top-k", Kind: Slider, Min: 1, Max: 4, Step: 1, Format: "%.0f", Default: "2", When: moe,
			Help: "experts each token is sent to (Mixtral 2, DeepSeek-V3 8)"},
	}
	return c, nil
}

// Controls implements Lesson.
func (c *Inference) Controls() []Control { return c.controls }

// Link implements Linker: the context stops at the chosen model's window,
// so the formula line never spells out a cache the model cannot hold
// (Llama 2 was trained on 4,096 tokens, not 128K).
func (c *Inference) Link(v Values, changed string) Values {
	if changed != "model" && changed != "context" {
		return v
	}
	n := Normalize(c.controls, v)
	m := c.kvModel(n)
	if m.Context > 0 && n.Int("context") > m.Context {
		ctl, _ := ControlByKey(c, "context")
		v = v.With("context", ctl.Clamp(strconv.Itoa(m.Context)))
	}
	return v
}

// kvModel is the cache preset the normalised values choose.
func (c *Inference) kvModel(v Values) sim.KVModel {
	sel, _ := strconv.Atoi(v["model"])
	return c.kvModels[min(max(sel, 0), len(c.kvModels)-1)]
}

// infDec prints x rounded to prec decimals from the decimal value x stands
// for rather than from its binary float. A float is
// off in its last bits: 2.952 / 1.6 is stored as 1.8449999999999995, which
// %.2f prints as 1.84 though the quotient is 1.845. So x is read back at 12
// significant digits first, far finer than any figure here and far coarser
// than float noise (the chapter's figures are ratios of small whole numbers
// and 0.05 steps, never within 1e-12 of a half without being on it). A
// value that is exactly a half at prec decimals is printed with its one
// more digit, "1.845", rather than rounded either way.
func infDec(x float64, prec int) string {
	prec = min(max(prec, 0), 12)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', prec, 64)
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', 12, 64))
	if !ok {
		return strconv.FormatFloat(x, 'f', prec, 64)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec+1)), nil)))
	if scaled.IsInt() && new(big.Int).Rem(scaled.Num(), big.NewInt(10)).CmpAbs(big.NewInt(5)) == 0 {
		return r.FloatString(prec + 1)
	}
	return r.FloatString(prec)
}

// Render implements Lesson.
func (c *Inference) Render(f Frame) string {
	if f.Width < 20 || f.Height < 1 {
		return ""
	}
	v := Normalize(c.controls, f.Values)
	var out string
	switch v["part"] {
	case infSpec:
		out = c.renderSpec(f.Theme, v, f.Width, f.Spot)
	case infBatch:
		out = c.renderBatch(f.Theme, v, f.Width, f.Spot)
	case infMoE:
		out = c.renderMoE(f.Theme, v, f.Width, f.Height, f.Spot)
	default:
		out = c.renderKV(f.Theme, v, f.Width, f.Height, f.Spot)
	}
	return ui.FitWidth(out, f.Width)
}

// infTitle is a part's first line: its name, then what it does, wrapped
// rather than cut where the frame is narrow.
func infTitle(th *ui.Theme, name, what string, width int) string {
	return siWrap(th.Strong.Render(name)+th.Subtle.Render(" · "+what), width)
}

// infIndent wraps s to width less a two-cell margin: the first line after
// first (two cells: a spotlight mark or spaces), the rest after two spaces,
// so a figure's lines stay aligned however they wrap.
func infIndent(s string, width int, first string) string {
	lines := strings.Split(siWrap(s, max(width-2, 1)), "\n")
	return first + strings.Join(lines, "\n  ")
}

// infMark prefixes a spotlit element with a pointer and two spaces
// otherwise, so rows keep their alignment.
func infMark(th *ui.Theme, on bool) string {
	if on {
		return th.Focus.Render("▶ ")
	}
	return "  "
}

// infBytes prints a byte count in binary units, as memory is sold:
// "512 KiB", "2.00 GiB", "40.0 GiB".
func infBytes(x float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for x >= 1023.5 && i < len(units)-1 {
		x /= 1024
		i++
	}
	switch {
	case i == 0 || x >= 99.95:
		return infDec(x, 0) + " " + units[i]
	case x >= 9.995:
		return infDec(x, 1) + " " + units[i]
	}
	return infDec(x, 2) + " " + units[i]
}

// --- KV cache ---

const kvProse = "Each new token attends to every earlier one, so it needs their keys and values. " +
	"Without a cache the model recomputes them for the whole prefix at every step; with one it " +
	"computes each once and keeps it. Compute becomes memory: the cache grows with every token " +
	"of every conversation, and fewer or smaller KV heads shrink it."

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
		mark := infMark(th, spot == "kv:"+m.Name)
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
			fig = smpBar(th, frac, barW, th.Bar, false) + " " + th.Strong.Render(fmt.Sprintf("%9s", infBytes(sizes[i])))
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
		Count(gen, "token", "tokens"), c.work.Name, th.Badge(ui.Computed)), width, infMark(th, spot == "kv:plot"))
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

// --- speculative decoding ---

const specProse = "A big model generates one token per pass, and each pass reads all its weights. " +
	"A small draft model guesses the next k tokens cheaply; the big model then checks all k in a " +
	"single pass, keeps the agreed prefix and adds one token of its own (the correction, or a " +
	"bonus when all k pass). Under greedy decoding the text is exactly the big model's own. Under " +
	"sampling, a drafted token is kept with probability min(1, big model's probability ÷ draft's) and " +
	"otherwise redrawn, so every token follows the big model's distribution (Leviathan et al. 2023): " +
	"the same odds, not the same words."

func (c *Inference) renderSpec(th *ui.Theme, v Values, width int, spot string) string {
	k, alpha, cost := v.Int("k"), v.Float("alpha"), v.Float("cost")
	seed := uint64(v.Int("spec_seed"))
	title := infTitle(th, "Speculative decoding", "draft k tokens cheaply, check them in one big pass", width)
	e := sim.SpecExpectedTokens(alpha, k)
	sp := sim.SpecSpeedup(alpha, k, cost)
	var eLine string
	if alpha >= 1 {
		eLine = fmt.Sprintf("tokens per big pass = k + 1 = %d (α = 1: every draft accepted, plus the bonus)", k+1)
	} else {
		eLine = fmt.Sprintf("tokens per big pass = (1 − α^(k+1)) / (1 − α) = (1 − %s^%d) / %s = %s",
			infDec(alpha, 2), k+1, infDec(1-alpha, 2), th.Strong.Render(infDec(e, 2)))
	}
	// Every figure is printed from the value sim computed (infDec), never
	// from a rounded copy of it, so the same number reads the same on
	// every line.
	spLine := fmt.Sprintf("speed-up = %s / (k·c + 1) = %s / %s = %s", infDec(e, 2), infDec(e, 2), infDec(float64(k)*cost+1, 2),
		th.Strong.Render(infDec(sp, 2)+"×"))
	if sp < 1 {
		spLine += th.Warn.Render("  (slower)")
	}
	formula := infIndent(eLine, width, infMark(th, spot == "spec:formula")) + "\n" + infIndent(spLine, width, "  ") +
		"\n" + infIndent(th.Badge(ui.Computed)+th.Subtle.Render(" Leviathan et al. 2023, eq. 1 and Theorem 3.8"), width, "  ")

	// The seeded run, specPasses of it at any height: its rows are words of
	// the passage, which a short frame must not lose; the body scrolls.
	const longRun = 10000
	all := sim.SimulateSpeculative(alpha, k, longRun, seed)
	longSum := 0
	for _, p := range all {
		longSum += p.Tokens()
	}
	prose := th.Text.Render(siWrap(specProse, width))
	runHead := infIndent(fmt.Sprintf("Run with seed %d %s: %s rejected guess · %s big model's token · + bonus",
		seed, th.Badge(ui.Computed), th.Warn.Render("✗"), th.Strong.Render("→")), width, infMark(th, spot == "spec:run"))
	passes := specPasses
	var lines []string
	pos, shownTokens := 0, 0
	for i := 0; i < passes && i < len(all); i++ {
		p := all[i]
		var words []string
		for j := 0; j < p.Accepted; j++ {
			words = append(words, th.Accent.Render(c.specWord(pos+j)))
		}
		if p.Bonus {
			words = append(words, th.Strong.Render("+"+c.specWord(pos+p.Accepted)))
		} else {
			wrong := c.specWrongWord(pos + p.Accepted)
			words = append(words, th.Warn.Render("✗"+wrong), th.Strong.Render("→"+c.specWord(pos+p.Accepted)))
		}
		pos += p.Tokens()
		shownTokens += p.Tokens()
		unit := "tokens"
		if p.Tokens() == 1 {
			unit = "token"
		}
		lead := fmt.Sprintf("  pass %-2d %2d %-6s  ", i+1, p.Tokens(), unit)
		// A long pass wraps under its own words rather than losing them.
		leadW := lipgloss.Width(lead)
		text := ui.Wrap(strings.Join(words, " "), max(width-leadW, 1))
		lines = append(lines, th.Subtle.Render(lead)+strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", leadW)))
	}
	shown := min(passes, len(all))
	these := "these " + Count(shown, "pass", "passes")
	if shown == 1 {
		these = "this pass"
	}
	summary := fmt.Sprintf("%s: %s tokens each · %s passes: %s · formula: %s",
		these, infDec(float64(shownTokens)/float64(max(shown, 1)), 2), numGroup(longRun),
		infDec(float64(longSum)/longRun, 2), infDec(e, 2))
	run := runHead + "\n" + strings.Join(lines, "\n") + "\n" + th.Subtle.Render(infIndent(summary, width, "  "))
	return ui.Column(title, prose, formula, run)
}

// specPasses is how many passes of the seeded run are drawn: enough to see
// rejections and bonuses side by side, and a round number to set against
// the long run's average.
const specPasses = 10

// specWord is word i of the passage the run writes, which repeats.
func (c *Inference) specWord(i int) string { return c.specText[i%len(c.specText)] }

// specWrongWord is the draft's wrong guess at position i: a word from the
// list that differs from the right one.
func (c *Inference) specWrongWord(i int) string {
	right := c.specWord(i)
	for j := 0; j < len(c.specWrong); j++ {
		w := c.specWrong[(i*7+j)%len(c.specWrong)]
		if !strings.EqualFold(w, right) {
			return w
		}
	}
	return "?"
}

// --- batching ---

// batchProse explains the two policies and why a batch is nearly free,
// with when it stops being so: once the slots' caches or the arithmetic
// outweigh the weight reading (sim.DecodeBatchLimits, a roofline estimate
// for the chapter's model on an H100).
func (c *Inference) batchProse(th *ui.Theme, width int) string {
	l := sim.DecodeBatchLimits(c.work, c.workKV, 2, sim.H100BF16DenseFLOPS, sim.H100HBMBytesPerSec)
	text := fmt.Sprintf("A GPU decodes conversations together: one step reads every weight once and gives "+
		"each busy slot its next token, so while that reading is most of the step a full batch costs about one "+
		"conversation. Static batching waits for a batch's longest request while finished slots idle; "+
		"continuous batching refills a slot at once. For %s on an H100 that holds to about %s cached "+
		"tokens (caches as big as its weights) or %s slots (arithmetic as slow as reading).",
		c.work.Name, numGroup(int64(math.Round(l.KVTokens))), numGroup(int64(math.Round(l.ComputeBatch))))
	return siWrap(th.Text.Render(text)+"  "+th.Badge(ui.Estimate), width)
}

func (c *Inference) renderBatch(th *ui.Theme, v Values, width int, spot string) string {
	slots, n, seed := v.Int("slots"), v.Int("requests"), uint64(v.Int("batch_seed"))
	reqs := sim.RequestStream(n, seed)
	st := sim.SimulateBatching(reqs, slots, false)
	co := sim.SimulateBatching(reqs, slots, true)
	title := infTitle(th, "Batching", "one step decodes a token for every busy slot; keep the slots busy", width)
	legend := siWrap(fmt.Sprintf("A letter is a request making a token, %s an idle slot  %s",
		th.Muted.Render("·"), th.Badge(ui.Computed)), width)
	var desc []string
	for i, q := range reqs {
		desc = append(desc, fmt.Sprintf("%s %d+%d", infReqName(i), q.Arrival, q.Length))
	}
	stream := th.Subtle.Render(siWrap("arrival step + tokens: "+strings.Join(desc, "  "), width))

	steps := max(st.Steps, co.Steps)
	labW := 8
	avail := max(width-labW-6, 8)
	per := max((steps+avail-1)/avail, 1) // steps per column, when long
	timeline := func(run sim.BatchRun, name, id string) string {
		head := th.Strong.Render(ui.PadRight(name, 11)) +
			fmt.Sprintf("%s · %s tokens/step · mean latency %s steps",
				Count(run.Steps, "step", "steps"), th.Strong.Render(infDec(run.Throughput, 2)),
				th.Strong.Render(infDec(run.MeanLatency, 1)))
		lines := []string{infIndent(head, width, infMark(th, spot == id))}
		for s, row := range run.Grid {
			var b strings.Builder
			for col := 0; col*per < steps; col++ {
				q := -1
				if t := col * per; t < len(row) {
					q = row[t]
				}
				if q < 0 {
					if col*per < run.Steps {
						b.WriteString(th.Muted.Render("·"))
					} else {
						b.WriteByte(' ')
					}
					continue
				}
				b.WriteString(lipgloss.NewStyle().Foreground(th.ChipColors[q%len(th.ChipColors)]).Render(infReqName(q)))
			}
			lines = append(lines, th.Subtle.Render(ui.PadRight(fmt.Sprintf("  slot %d", s+1), labW))+" "+b.String())
		}
		return strings.Join(lines, "\n")
	}
	axis := ""
	if per > 1 {
		axis = th.Subtle.Render(fmt.Sprintf("  one column = %d steps", per))
	}
	static := timeline(st, "static", "batch:static")
	cont := timeline(co, "continuous", "batch:continuous")
	verdict := siWrap(fmt.Sprintf("Continuous batching: %s× the throughput, mean latency %s → %s steps.",
		infDec(co.Throughput/max(st.Throughput, 1e-9), 1), infDec(st.MeanLatency, 1), infDec(co.MeanLatency, 1)), width)
	// The claim that a batch costs about one conversation comes with when
	// it stops holding, in the same block, so one is never shown without
	// the other.
	prose := c.batchProse(th, width)

	// The idea, then the two timelines under their legend, then what they
	// add up to and the requests they served. Nothing is left out on a
	// short screen: the body scrolls.
	figs := legend + "\n" + static + "\n" + cont
	if axis != "" {
		figs += "\n" + axis
	}
	return ui.Column(title, prose, figs, verdict, stream)
}

// infReqName is request i's letter: A to Z, then a to z.
func infReqName(i int) string {
	switch {
	case i < 26:
		return string(rune('A' + i))
	case i < 52:
		return string(rune('a' + i - 26))
	}
	return "#"
}

// --- mixture of experts ---

// moeProse explains the idea; its sizes come from the presets' configs:
// Mixtral's experts are each a whole Mistral 7B feed-forward network, and
// only fine-grained designs such as DeepSeek-V3 split experts smaller.
func (c *Inference) moeProse() string {
	mix, ds := c.moe[0], c.moe[1]
	return fmt.Sprintf("A mixture-of-experts layer holds many feed-forward networks, the experts, where a dense "+
		"block has one. A router scores the experts for each token and sends it to the top k; the others do no "+
		"work for that token. The model stores every expert but pays, per token, only for the ones it uses. "+
		"%s's %d experts are each as large as Mistral 7B's whole feed-forward network (hidden width %s); "+
		"fine-grained designs split finer: %s's %d experts are %s wide, 1/%d of its dense layers' %s.",
		mix.Name, mix.Experts, numGroup(int64(mix.ExpertFFN)), ds.Name, ds.Experts, numGroup(int64(ds.ExpertFFN)),
		ds.DenseFFN/max(ds.ExpertFFN, 1), numGroup(int64(ds.DenseFFN)))
}

func (c *Inference) renderMoE(th *ui.Theme, v Values, width, height int, spot string) string {
	experts, k := v.Int("experts"), v.Int("top_k")
	rt := sim.RouteTokens(c.sentence, experts, k)
	title := infTitle(th, "Mixture of experts", "each token runs through only k of the experts", width)

	// Total against active for the presets: each bar is the model's whole
	// size, the solid part what one token computes with. One convention
	// throughout, the one the poll and the FLOPs line use: the input
	// embedding is a lookup, no arithmetic, so it is not counted as used.
	ps := make([]sim.MoEParams, len(c.moe))
	for i, m := range c.moe {
		ps[i] = m.Params()
	}
	// A row: marker 2, name 13, bar, then up to 47 cells of figures.
	barW := max(min(width-2-13-1-47, 30), 6)
	var rows []string
	for i, m := range c.moe {
		p := ps[i]
		frac := float64(p.Computing()) / float64(max(p.Total, 1))
		solid := int(math.Round(frac * float64(barW)))
		solid = min(max(solid, 1), barW)
		bar := smpBar(th, 1, solid, th.Bar, false) + smpBar(th, 1, barW-solid, th.Muted, true)
		used := fmt.Sprintf("top-%d of %d", m.TopK, m.Experts)
		if m.Shared > 0 {
			used += fmt.Sprintf(" + %d shared", m.Shared)
		}
		rows = append(rows, infMark(th, spot == "moe:"+m.Name)+th.Strong.Render(ui.PadRight(m.Name, 13))+bar+" "+
			th.Strong.Render(numShort(float64(p.Computing())))+" of "+numShort(float64(p.Total))+
			th.Subtle.Render(fmt.Sprintf(" (%.0f%%) · %s", 100*frac, used)))
	}
	presets := siWrap(fmt.Sprintf("Parameters a token computes with, of all stored (from the published configs; the input "+
		"embedding, a lookup, is not counted)  %s", th.Badge(ui.Computed)), width) + "\n" +
		ui.FitWidth(strings.Join(rows, "\n"), width)
	mix, ds := ps[0], ps[1]
	cost := th.Subtle.Render(siWrap(fmt.Sprintf("Cost per token: about 2 FLOPs per parameter it computes with, "+
		"%s for %s and %s for %s (running all %s would cost %s), plus attention over the context. "+
		"%s's own %s active counts the embedding.",
		numSI(mix.FLOPsPerToken(), "FLOP"), c.moe[0].Name, numSI(ds.FLOPsPerToken(), "FLOP"), c.moe[1].Name,
		numShort(float64(ds.Total-ds.Embedding)), numSI(ds.FLOPsPerTokenAllExperts(), "FLOP"),
		c.moe[0].Name, numShort(float64(mix.Active))), width))

	prose := th.Text.Render(siWrap(c.moeProse(), width))
	gridHead := infIndent(fmt.Sprintf("Routing a sentence: %d experts, top-%d, gate weights in %%  %s",
		experts, k, th.Badge(ui.Illustrative)), width, infMark(th, spot == "moe:grid"))
	// The idea, the presets with what a token costs, then the routing.
	// Everything is drawn; the body scrolls. The grid only chooses between
	// one column of tokens and two by the rows left.
	figs := presets + "\n" + cost
	left := height - ui.Lines(title) - 1 - ui.Lines(prose) - 1 - ui.Lines(figs) - 1 - ui.Lines(gridHead)
	grid := gridHead + "\n" + c.moeGrid(th, rt, width, left)
	return ui.Column(title, prose, figs, grid)
}

// moeGrid draws tokens as rows and experts as columns, each chosen cell
// holding the token's gate weight for that expert in the expert's colour,
// with the load per expert underneath. When the rows do not fit in height
// lines and the width allows, the tokens continue in a second column; every
// token is drawn either way.
func (c *Inference) moeGrid(th *ui.Theme, rt sim.Routing, width, height int) string {
	const labW, cellW = 6, 4
	gridW := labW + rt.Experts*cellW
	n := len(rt.Tokens)
	ncols := 1
	if n+2 > height && 2*gridW+3 <= width {
		ncols = 2
	}
	perCol := (n + ncols - 1) / ncols
	header := strings.Repeat(" ", labW)
	for e := range rt.Experts {
		header += th.Subtle.Render(fmt.Sprintf("%*s", cellW, fmt.Sprintf("E%d", e+1)))
	}
	row := func(i int) string {
		var b strings.Builder
		b.WriteString(ui.PadRight(rt.Tokens[i], labW))
		for e := range rt.Experts {
			w := rt.Gate[i][e]
			if w <= 0 {
				b.WriteString(th.Muted.Render(fmt.Sprintf("%*s", cellW, "·")))
				continue
			}
			cell := fmt.Sprintf("%*d", cellW, int(math.Round(100*w)))
			b.WriteString(lipgloss.NewStyle().Bold(true).Foreground(th.ChipColors[e%len(th.ChipColors)]).Render(cell))
		}
		return b.String()
	}
	lines := []string{header}
	for r := 0; r < perCol; r++ {
		line := ""
		for col := 0; col < ncols; col++ {
			i := col*perCol + r
			if i >= n {
				break
			}
			if col > 0 {
				line = ui.PadRight(line, gridW) + th.Rule.Render(" │ ")
			}
			line += row(i)
		}
		lines = append(lines, line)
	}
	if ncols == 2 {
		lines[0] = ui.PadRight(header, gridW) + th.Rule.Render(" │ ") + header
	}
	load := th.Subtle.Render(ui.PadRight("load", labW))
	for e := range rt.Experts {
		load += th.Subtle.Render(fmt.Sprintf("%*d", cellW, rt.Load[e]))
	}
	if lipgloss.Width(load)+19 <= width {
		load += th.Subtle.Render("  tokens per expert")
	}
	lines = append(lines, load)
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// Spots implements Spotter: the figures of the part on screen.
func (c *Inference) Spots(v Values) []Spot {
	v = Normalize(c.controls, v)
	switch v["part"] {
	case infSpec:
		return []Spot{{ID: "spec:formula", Label: "the expected-tokens formula"}, {ID: "spec:run", Label: "the seeded run"}}
	case infBatch:
		return []Spot{{ID: "batch:static", Label: "the static timeline"}, {ID: "batch:continuous", Label: "the continuous timeline"}}
	case infMoE:
		out := []Spot{{ID: "moe:grid", Label: "the routing grid"}}
		for _, m := range c.moe {
			out = append(out, Spot{ID: "moe:" + m.Name, Label: m.Name + "'s parameters"})
		}
		return out
	}
	out := make([]Spot, 0, len(c.kvModels)+1)
	for _, m := range c.kvModels {
		out = append(out, Spot{ID: "kv:" + m.Name, Label: m.Name + "'s cache"})
	}
	return append(out, Spot{ID: "kv:plot", Label: "the work plot"})
}

// Polls implements Poller: the truths come from sim at fixed, stated
// settings, so the questions read the same whatever the sliders say. Each
// is about one part, and is open only while that part is on screen.
func (c *Inference) Polls(v Values) []Poll {
	var l3 sim.KVModel
	for _, m := range c.kvModels {
		if m.Kind == sim.GQA {
			l3 = m
		}
	}
	kvGiB := sim.KVCacheBytes(l3, 131072, 1, 2) / (1 << 30)
	e := sim.SpecExpectedTokens(0.8, 4)
	ds := c.moe[len(c.moe)-1]
	dp := ds.Params()
	active := float64(dp.Computing()) / 1e9
	return []Poll{
		{
			ID:       "kvcache",
			Question: fmt.Sprintf("How much memory does %s's KV cache take for one 128K-token conversation in bf16?", l3.Name),
			Kind:     Estimate, Truth: kvGiB, Unit: "GiB", When: "part=" + infKV,
			Explain: fmt.Sprintf("2 × %d layers × %d KV heads × %d dims × 2 bytes = %s per token; × 131,072 tokens = %.0f GiB, for one conversation.",
				l3.Layers, l3.KVHeads, l3.HeadDim, infBytes(float64(l3.ElementsPerToken())*2), kvGiB),
		},
		{
			ID:       "specdecode",
			Question: "A draft model proposes k = 4 tokens; each is accepted with probability α = 0.8. How many tokens does one pass of the big model yield on average?",
			Kind:     MultipleChoice,
			Choices:  []string{"1", "3.20", infDec(e, 2), "5"},
			Correct:  2,
			When:     "part=" + infSpec,
			Explain:  fmt.Sprintf("(1 − 0.8⁵)/(1 − 0.8) = %s: the accepted prefix plus the big model's own token. Not 4 × 0.8, because the first rejection ends the pass.", infDec(e, 2)),
		},
		{
			ID:       "moeactive",
			Question: fmt.Sprintf("%s stores %s parameters. About how many does each token use?", ds.Name, numShort(float64(dp.Total))),
			Kind:     MultipleChoice,
			Choices:  []string{numShort(float64(dp.Total)), "335B", fmt.Sprintf("%.0fB", active), "8B"},
			Correct:  2,
			When:     "part=" + infMoE,
			Explain: fmt.Sprintf("%d of %d routed experts plus %d shared: %.1fB of arithmetic per token (%.1fB counting the embedding table).",
				ds.TopK, ds.Experts, ds.Shared, active, float64(dp.Active)/1e9),
		},
	}
}
