package lessons

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

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

// The lesson contract and the optional parts of it that Inference keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Inference)(nil)
	_ Linker     = (*Inference)(nil)
	_ Spotter    = (*Inference)(nil)
	_ Poller     = (*Inference)(nil)
	_ KeyFigurer = (*Inference)(nil)
)

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
		meta: meta{id: "inference", number: 8, title: "The optimizations that make it fast", route: "making it fast",
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

// KeyFigure implements KeyFigurer: how many times more work generating the
// KV part's tokens takes without a cache than with one.
func (c *Inference) KeyFigure(v Values) KeyFigure {
	v = Normalize(c.controls, v)
	gen := v.Int("gen")
	cached, uncached := sim.DecodeFLOPs(c.work, gen)
	figure := numGroup(int64(uncached/max(cached, 1)+0.5)) + "×"
	return KeyFigure{
		Idea: "Serving trades memory for compute and skips all the work it can.",
		Fact: fmt.Sprintf("Without a KV cache, writing %s with %s takes %s the work of writing them with one.",
			Count(gen, "token", "tokens"), c.work.Name, figure),
		Figure: figure, Badge: ui.Computed,
	}
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
