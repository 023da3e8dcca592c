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

// Stack is chapter 2, "A stack of identical blocks": dials for every choice
// that sets a decoder's size, and the exact parameter count they give, with
// real models as presets.
type Stack struct {
	meta
	presets  []stackPreset
	controls []Control
}

// The lesson contract and the optional parts of it that Stack keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Stack)(nil)
	_ Linker     = (*Stack)(nil)
	_ Spotter    = (*Stack)(nil)
	_ Poller     = (*Stack)(nil)
	_ KeyFigurer = (*Stack)(nil)
)

// stackPreset is a real architecture the preset control can load.
type stackPreset struct {
	id     string
	arch   sim.Arch
	values Values
}

// stackDials are the controls a preset sets; touching any of them makes the
// model "custom" unless it lands exactly on a preset again.
func stackDials() []string {
	return []string{"d_model", "layers", "heads", "kv_heads", "ffn", "ffn_mult", "multiple_of",
		"vocab", "context", "tied", "pos", "norm", "bias"}
}

// stackBars are the breakdown's components in screen order, which are also
// the chapter's spots.
func stackBars() []Spot {
	return []Spot{
		{ID: "bar:embedding", Label: "Token embeddings"},
		{ID: "bar:position", Label: "Positions"},
		{ID: "bar:attention", Label: "Attention"},
		{ID: "bar:ffn", Label: "Feed-forward"},
		{ID: "bar:norms", Label: "Norms"},
		{ID: "bar:head", Label: "Output head"},
	}
}

// NewStack builds the chapter with the presets from sim.ArchPresets.
func NewStack() (*Stack, error) {
	ids := []string{"gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-175b",
		"llama2-7b", "llama3-8b", "llama3.1-70b", "llama3.1-405b"}
	archs := sim.ArchPresets()
	if len(archs) != len(ids) {
		return nil, fmt.Errorf("stack: %d architecture presets, want %d", len(archs), len(ids))
	}
	s := &Stack{meta: meta{id: "stack", number: 2, title: "A stack of identical blocks", route: "a stack of blocks",
		summary: "Build a model from dials or load GPT-2 to Llama 3.1 405B: every parameter counted"}}
	var opts []Option
	for i, a := range archs {
		opts = append(opts, Option{Value: ids[i], Label: a.Name})
	}
	opts = append(opts, Option{Value: "custom", Label: "custom", Note: "your own dials"})
	s.controls = []Control{
		{Key: "preset", Label: "Model", Kind: Choice, Default: "gpt2-small", Options: opts,
			Help: "←/→ load a real model's dials; moving any dial makes it custom"},
		{Key: "d_model", Label: "d_model", Kind: Slider, Min: 64, Max: 32768, Log: true, Steps: 54,
			Format: "%.0f", Default: "768",
			Help: "width of every token's vector; ←/→ about 12% (rounded so heads divide it)"},
		{Key: "layers", Label: "Layers", Kind: Slider, Min: 1, Max: 128, Step: 1, Format: "%.0f", Default: "12",
			Help: "how many identical blocks are stacked"},
		{Key: "heads", Label: "Heads", Kind: Slider, Min: 1, Max: 128, Step: 1, Format: "%.0f", Default: "12",
			Help: "attention heads per block; here each is d_model/heads wide (GPT's and Llama's convention, not a rule), so heads divide d_model"},
		{Key: "kv_heads", Label: "KV heads", Kind: Slider, Min: 1, Max: 128, Step: 1, Format: "%.0f", Default: "12",
			Help: "key/value heads (grouped-query attention): fewer than heads means queries share K and V"},
		{Key: "ffn", Label: "Feed-fwd", Kind: Choice, Default: string(sim.FFNGELU),
			Help: "GELU MLP 4×d wide (GPT), or gated SwiGLU about 8/3×d wide (Llama)",
			Options: []Option{
				{Value: string(sim.FFNGELU), Label: "GELU 4×d", Note: "GPT-2, GPT-3"},
				{Value: string(sim.FFNSwiGLU), Label: "SwiGLU 8/3×d", Note: "Llama"},
			}},
		{Key: "ffn_mult", Label: "FFN mult", Kind: Slider, Min: 0.5, Max: 2, Step: 0.05, Format: "×%.2f",
			Default: "1", When: "ffn=swiglu",
			Help: "Llama's ffn_dim_multiplier: scales the 8/3·d width (1.3 in Llama 3 8B)"},
		{Key: "multiple_of", Label: "Multiple of", Kind: Choice, Default: "256", When: "ffn=swiglu",
			Help: "the SwiGLU width is rounded up to a multiple of this, so it tiles well on GPUs",
			Options: []Option{{Value: "1"}, {Value: "64"}, {Value: "128"}, {Value: "256"}, {Value: "512"},
				{Value: "1024"}, {Value: "2048"}, {Value: "4096"}}},
		{Key: "vocab", Label: "Vocabulary", Kind: Slider, Min: 256, Max: 262144, Log: true, Steps: 60,
			Format: "%.0f", Default: "50257",
			Help: "how many token ids: one embedding row each (and one output row if untied)"},
		{Key: "context", Label: "Context", Kind: Slider, Min: 128, Max: 1 << 20, Log: true, Steps: 52,
			Format: "%.0f", Default: "1024",
			Help: "tokens the model reads at once: a learned position table grows with it; attention cost does"},
		{Key: "tied", Label: "Tied embed", Kind: Toggle, Default: "true",
			Help: "reuse the embedding table as the output head (GPT-2) instead of a second V×d matrix"},
		{Key: "pos", Label: "Positions", Kind: Choice, Default: string(sim.PosLearned),
			Help: "a learned n_ctx×d table (GPT), or rotary angles with no parameters (Llama)",
			Options: []Option{
				{Value: string(sim.PosLearned), Label: "learned table"},
				{Value: string(sim.PosRotary), Label: "rotary (RoPE)"},
			}},
		{Key: "norm", Label: "Norm", Kind: Choice, Default: string(sim.NormLayer),
			Help: "LayerNorm has a gain and a bias per channel; RMSNorm only a gain",
			Options: []Option{
				{Value: string(sim.NormLayer), Label: "LayerNorm"},
				{Value: string(sim.NormRMS), Label: "RMSNorm"},
			}},
		{Key: "bias", Label: "Biases", Kind: Toggle, Default: "true",
			Help: "a bias vector on every linear layer (GPT-2) or none (Llama)"},
	}
	for i, a := range archs {
		s.presets = append(s.presets, stackPreset{id: ids[i], arch: a, values: s.presetValues(a)})
	}
	return s, nil
}

// Controls implements Lesson.
func (s *Stack) Controls() []Control { return s.controls }

// presetValues are the dial values that reproduce a preset exactly.
func (s *Stack) presetValues(a sim.Arch) Values {
	v := Defaults(s.controls)
	set := func(key, val string) {
		if c, ok := ControlByKey(s, key); ok {
			v[key] = c.Clamp(val)
		}
	}
	set("d_model", strconv.Itoa(a.DModel))
	set("layers", strconv.Itoa(a.Layers))
	set("heads", strconv.Itoa(a.Heads))
	kv := a.KVHeads
	if kv <= 0 {
		kv = a.Heads
	}
	set("kv_heads", strconv.Itoa(kv))
	set("ffn", string(a.FFN))
	if a.FFN == sim.FFNSwiGLU {
		mult := a.FFNMultiplier
		if mult <= 0 {
			mult = 1
		}
		set("ffn_mult", strconv.FormatFloat(mult, 'g', -1, 64))
		set("multiple_of", strconv.Itoa(max(a.MultipleOf, 1)))
	}
	set("vocab", strconv.Itoa(a.Vocab))
	set("context", strconv.Itoa(a.Context))
	set("tied", strconv.FormatBool(a.Tied))
	set("pos", string(a.Pos))
	set("norm", string(a.Norm))
	set("bias", strconv.FormatBool(a.Bias))
	return v
}

// matchPreset finds the preset whose dials equal v's. The SwiGLU-only dials
// are hidden, and ignored, while the feed-forward is GELU.
func (s *Stack) matchPreset(v Values) (stackPreset, bool) {
	for _, p := range s.presets {
		pv := p.values
		same := true
		for _, k := range stackDials() {
			if (k == "ffn_mult" || k == "multiple_of") && pv["ffn"] != string(sim.FFNSwiGLU) {
				continue
			}
			if v[k] != pv[k] {
				same = false
				break
			}
		}
		if same {
			return p, true
		}
	}
	return stackPreset{}, false
}

// Link implements Linker. Choosing a preset sets every dial to that model's
// values ("custom" leaves them alone). Moving a dial makes the preset
// "custom", unless the dials then equal a preset exactly, which shows that
// preset's name again: stepping a dial away and back restores the name.
// d_model is also rounded onto a grid the head count divides (see
// snapDModel), and vocabulary and context to whole tokens, so a log
// slider's in-between values never reach the formulas.
func (s *Stack) Link(v Values, changed string) Values {
	v = Normalize(s.controls, v)
	if changed == "preset" {
		for _, p := range s.presets {
			if p.id == v["preset"] {
				for _, k := range stackDials() {
					v[k] = p.values[k]
				}
			}
		}
		return v
	}
	round := func(key string, x int) {
		if c, ok := ControlByKey(s, key); ok {
			v[key] = c.Clamp(strconv.Itoa(x))
		}
	}
	switch changed {
	case "d_model":
		round("d_model", snapDModel(v.Float("d_model"), v.Int("heads")))
	case "vocab", "context":
		round(changed, v.Int(changed))
	}
	if p, ok := s.matchPreset(v); ok {
		v["preset"] = p.id
	} else {
		v["preset"] = "custom"
	}
	return v
}

// snapDModel rounds a width from the log slider to a multiple of the head
// count times a power of two, so head_dim stays whole (768 = 12 × 64). The
// grid is at most d/16 wide, a shift of at most 3%, less than half a slider
// step (12%): the next press always moves on rather than snapping back.
// With more heads than d/16 allows it rounds to a power of two instead.
func snapDModel(d float64, heads int) int {
	if !(d >= 1) {
		return 1
	}
	limit := d / 16
	g := max(heads, 1)
	if float64(g) > limit {
		g = 1
	}
	for float64(g*2) <= limit {
		g *= 2
	}
	return max(g, int(math.Round(d/float64(g)))*g)
}

// arch is the architecture the dials describe, clamped so every formula is
// defined (heads divide d_model, KV heads divide heads).
func (s *Stack) arch(v Values) sim.Arch {
	a := sim.Arch{
		DModel:  v.Int("d_model"),
		Layers:  v.Int("layers"),
		Heads:   v.Int("heads"),
		KVHeads: v.Int("kv_heads"),
		Vocab:   v.Int("vocab"),
		Context: v.Int("context"),
		FFN:     sim.FFNKind(v["ffn"]),
		Tied:    v.Bool("tied"),
		Pos:     sim.PosKind(v["pos"]),
		Norm:    sim.NormKind(v["norm"]),
		Bias:    v.Bool("bias"),
	}
	if a.FFN == sim.FFNSwiGLU {
		a.FFNMultiplier = v.Float("ffn_mult")
		a.MultipleOf, _ = strconv.Atoi(v["multiple_of"])
	}
	a.Name = "Custom model"
	if p, ok := s.matchPreset(v); ok {
		a.Name = p.arch.Name
	}
	return a.Clamp()
}

// Spots implements Spotter: the bars of the breakdown.
func (s *Stack) Spots(Values) []Spot { return stackBars() }

const stackProse = "A GPT is three parts: an embedding table that turns each token into a " +
	"vector of d_model numbers, a stack of identical blocks (attention, then a " +
	"feed-forward network) that refine those vectors, and an output head that turns " +
	"the last vector into a score for every word in the vocabulary. Turn the dials " +
	"or load a real model: every count here is exact."

// Render implements Lesson.
func (s *Stack) Render(f Frame) string {
	th, width, height := f.Theme, f.Width, f.Height
	if width < 1 || height < 1 {
		return ""
	}
	v := Normalize(s.controls, f.Values)
	a := s.arch(v)
	p := a.Params()

	title := th.Header.Render(a.Name) + th.Subtle.Render(" · ") +
		th.Strong.Render(numGroup(p.Total)) + " parameters (" + numShort(float64(p.Total)) + ")  " + th.Badge(ui.Computed)
	shape := fmt.Sprintf("d %s · %d layers · %d heads of %d · %s · FFN %s",
		numGroup(int64(a.DModel)), a.Layers, a.Heads, a.HeadDim(), kvText(a), ffnText(a))
	head := []string{title, th.Subtle.Render(ui.Wrap(shape, width))}
	if notes := stackNotes(v, a); notes != "" {
		head = append(head, th.Warn.Render(ui.Wrap(notes, width)))
	}

	growth := s.renderGrowth(th, a, p, width)
	compute := s.renderCompute(th, a, p, width)

	// The idea first, then the model it describes, then what it grows with
	// and costs. Nothing is left out on a short screen: the body scrolls.
	// The tower grows into whatever rows the rest leaves free, and is
	// never shorter than the bars beside it.
	layout := func(towerH int) string {
		return ui.Column(
			th.Text.Render(ui.Wrap(stackProse, width)),
			strings.Join(head, "\n"),
			s.renderBreakdown(th, a, p, f.Spot, width, towerH),
			growth,
			compute,
		)
	}
	out := layout(len(stackBars()))
	if slack := height - ui.Lines(out); slack > 0 {
		out = layout(len(stackBars()) + min(slack, 9))
	}
	return ui.FitWidth(out, width)
}

// renderCompute is what one token costs and what the weights weigh. Every
// matrix a token is multiplied by is counted, the output head included
// (Kaplan et al.'s 6N leaves it out), and the attention term names the
// context it assumes. "≈ 6N" is said only where the full count is within
// sim.SixNTolerance of 6N, with N all the parameters (chapter 4's N);
// elsewhere the line gives the ratio and what 6N misses.
func (s *Stack) renderCompute(th *ui.Theme, a sim.Arch, p sim.ParamBreakdown, width int) string {
	const lead = "Per token   "
	pad := strings.Repeat(" ", len(lead))
	tf := a.TokenFLOPs(0)
	forward := fmt.Sprintf("forward %s = 2 × (%s block + %s head weights) + attention at ctx %s (%s)",
		numSI(tf.Forward(), "FLOP"), numShort(tf.Blocks/2), numShort(tf.Head/2), numGroup(int64(tf.Context)),
		flopSum(tf.Blocks, tf.Head, tf.Attention))

	ratio := tf.Over6N(p.Total)
	train := "training 3 × forward = " + numSI(tf.Training(), "FLOP")
	all := fmt.Sprintf("N = all %s parameters", numShort(float64(p.Total)))
	switch {
	case tf.Near6N(p.Total):
		train += " ≈ 6N, " + all
	case ratio > 1:
		train += fmt.Sprintf(" = %.2f × 6N (%s): 6N leaves out attention, which grows with the context", ratio, all)
	default:
		train += fmt.Sprintf(" = %.2f × 6N (%s): 6N also counts the tables a token only looks up", ratio, all)
	}
	lines := []string{
		lead + strings.TrimPrefix(hangWrap(pad, withBadge(forward, th.Badge(ui.Computed), width-len(pad)), width), pad),
		hangWrap(pad, train, width),
		fmt.Sprintf("Weights     %s in bf16 · %s in fp8  %s",
			numSI(a.WeightBytes(2), "B"), numSI(a.WeightBytes(1), "B"), th.Badge(ui.Computed)),
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// flopSum writes FLOP counts as one sum in the unit of the largest
// ("136.9 + 2.1 + 171.8 GFLOP"), so the terms can be compared at a glance.
func flopSum(parts ...float64) string {
	top := 0.0
	for _, x := range parts {
		top = max(top, x)
	}
	units := []string{"", "k", "M", "G", "T", "P", "E"}
	i := 0
	for i < len(units)-1 && top >= math.Pow(1000, float64(i+1))*0.9995 {
		i++
	}
	scale := math.Pow(1000, float64(i))
	terms := make([]string, len(parts))
	for j, x := range parts {
		terms[j] = strconv.FormatFloat(x/scale, 'f', 1, 64)
		if x > 0 && x/scale < 0.05 {
			terms[j] = "<0.1" // a real term, too small to print, is not zero
		}
	}
	return strings.Join(terms, " + ") + " " + units[i] + "FLOP"
}

// kvText describes grouped-query attention in words.
func kvText(a sim.Arch) string {
	if a.KVHeads == a.Heads {
		return fmt.Sprintf("%d KV heads", a.KVHeads)
	}
	return fmt.Sprintf("%d KV heads (%d queries share each)", a.KVHeads, a.Heads/a.KVHeads)
}

// ffnText names the feed-forward width and the rule that gave it.
func ffnText(a sim.Arch) string {
	if a.FFN == sim.FFNSwiGLU {
		return fmt.Sprintf("%s (SwiGLU)", numGroup(int64(a.FFNDim())))
	}
	return fmt.Sprintf("%s (GELU, 4×d)", numGroup(int64(a.FFNDim())))
}

// stackNotes says where the dials asked for something the chapter's model
// does not build and what was used instead, so a clamped number never looks
// wrong. Heads that do not divide d are a choice of this chapter, not of
// transformers, and the note says so.
func stackNotes(v Values, a sim.Arch) string {
	var notes []string
	if h := v.Int("heads"); h != a.Heads {
		notes = append(notes, fmt.Sprintf("%d heads do not divide d %d: using %d. Here each head is d/heads wide, "+
			"GPT's and Llama's convention, not a rule: Gemma 7B and gpt-oss choose head_dim apart, "+
			"so heads × head_dim ≠ d.", h, a.DModel, a.Heads))
	}
	if kv := v.Int("kv_heads"); kv != a.KVHeads {
		notes = append(notes, fmt.Sprintf("%d KV heads do not divide %d heads: using %d.", kv, a.Heads, a.KVHeads))
	}
	return strings.Join(notes, " ")
}

// renderBreakdown draws the component bars and, when there is room beside
// them, the tower, height rows tall (at least the bars' height).
func (s *Stack) renderBreakdown(th *ui.Theme, a sim.Arch, p sim.ParamBreakdown, spot string, width, height int) string {
	vals := []int64{p.Embedding, p.Position, p.Attention, p.FFN, p.Norms, p.Head}
	numW := 0
	for _, n := range vals {
		numW = max(numW, len(numGroup(n)))
	}
	items := make([]ui.BarItem, len(vals))
	for i, sp := range stackBars() {
		label := sp.Label
		if spot != "" {
			if spot == sp.ID {
				label = th.Focus.Render("▸ " + label)
			} else {
				label = "  " + label
			}
		}
		text := fmt.Sprintf("%*s %5.1f%%", numW, numGroup(vals[i]), 100*float64(vals[i])/float64(p.Total))
		switch {
		case sp.ID == "bar:position" && vals[i] == 0:
			text = fmt.Sprintf("%*s rotary", numW, "0")
		case sp.ID == "bar:head" && vals[i] == 0:
			text = fmt.Sprintf("%*s tied", numW, "0")
		}
		items[i] = ui.BarItem{Label: label, Value: float64(vals[i]), Text: text}
	}
	towerW := 0
	if width >= 72 {
		towerW = min(width/3, 30)
	}
	bars := th.Bars(items, width-towerW-1)
	if towerW == 0 {
		return bars
	}
	return joinColumns(bars, stackTower(th, a, towerW, len(items), max(height, len(items))), width-towerW)
}

// stackTower draws the model as a tower: its height follows the layers
// (the 128 the dial allows would fill all of maxHeight) and its width
// follows log₂ d_model, so Llama 3.1 405B towers over GPT-2. It is as tall
// as the model needs but never shorter than minHeight, so it stands on the
// same ground as the bars beside it.
func stackTower(th *ui.Theme, a sim.Arch, width, minHeight, maxHeight int) string {
	const labelW = 12
	maxW := width - 3 - labelW
	if maxW < 2 || maxHeight < 3 {
		return ""
	}
	frac := (math.Log2(float64(a.DModel)) - 6) / 9
	w := 2 + int(math.Round(min(max(frac, 0), 1)*float64(maxW-2)))
	inner := maxHeight - 2
	rows := min(inner, max(1, (a.Layers*inner+127)/128))
	height := max(rows+2, minHeight)
	block, headRow, embRow := "█", "▄", "▀"
	if th.Mono {
		block, headRow, embRow = "#", "^", "="
	}
	headLabel := "head"
	if a.Tied {
		headLabel = "head (tied)"
	}
	row := func(glyph string, style lipgloss.Style, label string) string {
		return "  " + style.Render(strings.Repeat(glyph, w)) + " " + th.Subtle.Render(label)
	}
	lines := make([]string, height)
	top := height - rows - 2
	lines[top] = row(headRow, th.Accent, headLabel)
	for r := range rows {
		label := ""
		if r == rows/2 {
			label = fmt.Sprintf("%d blocks", a.Layers)
		}
		lines[top+1+r] = row(block, th.Bar, label)
	}
	lines[height-1] = row(embRow, th.Accent, "embed")
	return strings.Join(lines, "\n")
}

// renderGrowth splits the total by what it scales with and shows the d²
// law on this model: the same block at twice the width.
func (s *Stack) renderGrowth(th *ui.Theme, a sim.Arch, p sim.ParamBreakdown, width int) string {
	L := int64(a.Layers)
	matrix := L * p.Block.Matrix
	vocab := p.Embedding + p.Head
	pct := func(n int64) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(p.Total)) }
	wide := a
	wide.DModel = a.DModel * 2
	wb := wide.Clamp().Params().Block.Total
	lines := []string{
		leadWrap("Grows with d²:     ", fmt.Sprintf("%s (%s), the weight matrices of %d blocks",
			numShort(float64(matrix)), pct(matrix), a.Layers), width),
		leadWrap("Grows with vocab:  ", fmt.Sprintf("%s (%s), the embedding table%s",
			numShort(float64(vocab)), pct(vocab), map[bool]string{true: "", false: " and the output head"}[a.Tied]), width),
		leadWrap(fmt.Sprintf("Double d to %s:  ", numGroup(int64(wide.Clamp().DModel))),
			fmt.Sprintf("one block %s → %s, %s", numGroup(p.Block.Total), numGroup(wb),
				th.Strong.Render(fmt.Sprintf("×%.2f", float64(wb)/float64(p.Block.Total)))), width),
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// KeyFigure implements KeyFigurer: the model's exact parameter count.
func (s *Stack) KeyFigure(v Values) KeyFigure {
	a := s.arch(Normalize(s.controls, v))
	figure := numCount(a.Params().Total)
	return KeyFigure{
		Idea:   "Parameters live in one block repeated, mostly in its matrices.",
		Fact:   a.Name + " has " + figure + " parameters.",
		Figure: figure, Badge: ui.Computed,
	}
}

// Polls implements Poller.
func (s *Stack) Polls(v Values) []Poll {
	v = Normalize(s.controls, v)
	a := s.arch(v)
	p := a.Params()
	wide := a
	wide.DModel *= 2
	wb := wide.Clamp().Params().Block.Total
	ratio := float64(wb) / float64(p.Block.Total)
	name := a.Name
	if _, ok := s.matchPreset(v); !ok {
		name = "this model"
	}

	parts := []struct {
		name string
		n    int64
	}{
		{"The token embeddings", p.Embedding + p.Head},
		{"Attention", p.Attention},
		{"The feed-forward networks", p.FFN},
		{"The norms", p.Norms},
	}
	largest := 0
	choices := make([]string, len(parts))
	for i, q := range parts {
		choices[i] = q.name
		if q.n > parts[largest].n {
			largest = i
		}
	}
	return []Poll{
		{
			ID:       "double",
			Question: fmt.Sprintf("Double d_model of %s from %d to %d, all else equal. One block's parameters grow by about…", name, a.DModel, wide.Clamp().DModel),
			Kind:     MultipleChoice, Choices: []string{"×1.4", "×2", "×4", "×8"}, Correct: 2,
			Explain: fmt.Sprintf("Every weight matrix is d×(something that also grows with d), so parameters go with d²: %s → %s, ×%.2f.",
				numGroup(p.Block.Total), numGroup(wb), ratio),
		},
		{
			ID:       "total",
			Question: fmt.Sprintf("How many parameters does %s have (%d layers, d %d, vocabulary %s)?", name, a.Layers, a.DModel, numGroup(int64(a.Vocab))),
			Kind:     Estimate, Truth: float64(p.Total), Unit: "parameters",
			Explain: fmt.Sprintf("%s exactly: %s in the blocks, %s in embedding tables.",
				numCount(p.Total), numShort(float64(p.Attention+p.FFN+p.Norms)), numShort(float64(p.Embedding+p.Position+p.Head))),
		},
		{
			ID:       "largest",
			Question: fmt.Sprintf("Where do most of the parameters of %s live?", name),
			Kind:     MultipleChoice, Choices: choices, Correct: largest,
			Explain: fmt.Sprintf("Embeddings %s, attention %s, feed-forward %s, norms %s.",
				numShort(float64(parts[0].n)), numShort(float64(parts[1].n)), numShort(float64(parts[2].n)), numGroup(parts[3].n)),
		},
	}
}
