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

// Scaling is chapter 4, "The scaling laws": what a training run costs in
// FLOPs, GPU time and money, what loss Chinchilla's fit predicts for it, and
// how the same budget is best split between parameters and tokens.
type Scaling struct {
	meta
	presets  []scalingPreset
	controls []Control
}

// scalingPreset is a published run the preset control can load.
type scalingPreset struct {
	id  string
	run sim.ScalingPreset
	// params and tpp are the canonical dial values that reproduce the run.
	params, tpp string
}

// chinchillaRule is the paper's headline tokens per parameter, marked on the
// tokens-per-parameter scale.
const chinchillaRule = 20

// NewScaling builds the chapter with the runs from sim.ScalingPresets.
func NewScaling() (*Scaling, error) {
	ids := []string{"gpt3", "chinchilla", "llama3-8b", "llama3.1-405b", "deepseek-v3"}
	runs := sim.ScalingPresets()
	if len(runs) != len(ids) {
		return nil, fmt.Errorf("scaling: %d presets, want %d", len(runs), len(ids))
	}
	s := &Scaling{meta: meta{id: "scaling", number: 4, title: "The scaling laws",
		summary: "The compute economy: C = 6ND, GPU-years and dollars, Chinchilla's loss and its optimum"}}
	opts := make([]Option, 0, len(runs)+1)
	for i, r := range runs {
		o := Option{Value: ids[i], Label: r.Name}
		if r.ActiveParams > 0 {
			o.Note = fmt.Sprintf("%s active of %s", numShort(r.ActiveParams), numShort(r.Params))
		}
		opts = append(opts, o)
	}
	opts = append(opts, Option{Value: "custom", Label: "custom", Note: "your own N and D"})
	s.controls = []Control{
		{Key: "preset", Label: "Run", Kind: Choice, Default: "chinchilla", Options: opts,
			Help: "←/→ load a published run's N and tokens; moving either makes it custom"},
		{Key: "params", Label: "Params N", Kind: Slider, Min: 0.1, Max: 10000, Log: true, Steps: 75,
			Format: "%.5g", Unit: "B", Default: "70",
			Help: "parameters that compute each token, in billions: 100M to 10T (MoE: the active ones)"},
		{Key: "tpp", Label: "Tokens/param", Kind: Slider, Min: 1, Max: 2000, Log: true, Steps: 66,
			Format: "%.4g", Default: "20",
			Help: "training tokens per parameter, so D = N × this. Chinchilla's rule of thumb: ≈20"},
		{Key: "mfu", Label: "MFU", Kind: Slider, Min: 10, Max: 70, Step: 1, Format: "%.0f", Unit: "%", Default: "40",
			Help: "model FLOPs utilisation: the share of the GPU's peak a real run sustains (big runs: 35–45%)"},
		{Key: "gpus", Label: "GPUs", Kind: Slider, Min: 8, Max: 131072, Log: true, Steps: 56,
			Format: "%.0f", Default: "2048",
			Help: "H100s working in parallel: more GPUs, fewer days, the same GPU-hours"},
		{Key: "price", Label: "Price", Kind: Slider, Min: 0.5, Max: 10, Step: 0.25, Format: "$%.2f", Unit: "/GPU-h",
			Default: "2", Help: "rental price of one H100 for one hour"},
	}
	for i, r := range runs {
		n := r.ComputeParams()
		s.presets = append(s.presets, scalingPreset{
			id: ids[i], run: r,
			params: s.canon("params", n/1e9),
			tpp:    s.canon("tpp", r.Tokens/n),
		})
	}
	return s, nil
}

// canon is x as the control key stores it.
func (s *Scaling) canon(key string, x float64) string {
	c, _ := ControlByKey(s, key)
	return c.Clamp(strconv.FormatFloat(x, 'g', -1, 64))
}

// Controls implements Lesson.
func (s *Scaling) Controls() []Control { return s.controls }

// match finds the published run whose N and tokens per parameter v holds.
func (s *Scaling) match(v Values) (scalingPreset, bool) {
	for _, p := range s.presets {
		if v["params"] == p.params && v["tpp"] == p.tpp {
			return p, true
		}
	}
	return scalingPreset{}, false
}

// Link implements Linker. A preset sets N and tokens per parameter ("custom"
// leaves them); the hardware dials (MFU, GPUs, price) belong to no run and
// never change the preset. Moving N or tokens per parameter makes the run
// "custom" unless both land exactly on a published run again. Log-slider
// values are rounded to three significant figures (GPUs to whole GPUs), so
// the screen never shows 125.892541179B.
func (s *Scaling) Link(v Values, changed string) Values {
	v = Normalize(s.controls, v)
	switch changed {
	case "preset":
		for _, p := range s.presets {
			if p.id == v["preset"] {
				v["params"], v["tpp"] = p.params, p.tpp
			}
		}
		return v
	case "params", "tpp":
		v[changed] = s.canon(changed, sig3(v.Float(changed)))
	case "gpus":
		v["gpus"] = s.canon("gpus", float64(v.Int("gpus")))
	default:
		return v
	}
	if p, ok := s.match(v); ok {
		v["preset"] = p.id
	} else {
		v["preset"] = "custom"
	}
	return v
}

// sig3 rounds to three significant figures. The shift is at most 0.5%,
// far less than half a log-slider step, so the next press still moves on.
func sig3(x float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// scalingRun is everything the screen shows, computed once per render.
type scalingRun struct {
	n, tpp, d, c   float64
	mfu, price     float64
	gpus           int
	cost           sim.RunCost
	fit            sim.Chinchilla
	loss           float64
	optN, optD     float64
	optLoss        float64
	trade          sim.OverTraining
	preset         scalingPreset
	matchesPreset  bool
	penaltyN, penD float64
}

func (s *Scaling) run(v Values) scalingRun {
	r := scalingRun{
		n:     v.Float("params") * 1e9,
		tpp:   v.Float("tpp"),
		mfu:   v.Float("mfu") / 100,
		gpus:  max(v.Int("gpus"), 1),
		price: v.Float("price"),
		fit:   sim.ChinchillaFit(),
	}
	r.d = r.n * r.tpp
	r.c = sim.TrainingFLOPs(r.n, r.d)
	r.cost = sim.Cost(r.c, sim.H100BF16DenseFLOPS, r.mfu, r.gpus, r.price)
	r.loss = r.fit.Loss(r.n, r.d)
	r.penaltyN = r.fit.A / math.Pow(r.n, r.fit.Alpha)
	r.penD = r.fit.B / math.Pow(r.d, r.fit.Beta)
	r.optN, r.optD = r.fit.Optimal(r.c)
	r.optLoss = r.fit.Loss(r.optN, r.optD)
	r.trade = r.fit.CompareToOptimal(r.n, r.d)
	r.preset, r.matchesPreset = s.match(v)
	return r
}

const scalingProse = "Training compute is plain arithmetic: each parameter costs about 6 " +
	"FLOPs per training token (2 forward, 4 backward), so C = 6·N·D. What the " +
	"compute buys is an empirical law: Chinchilla's fit predicts the loss from N " +
	"and D, and so says how best to split a budget between a bigger model and more data."

// Render implements Lesson.
func (s *Scaling) Render(f Frame) string {
	th, width, height := f.Theme, f.Width, f.Height
	if width < 1 || height < 1 {
		return ""
	}
	v := Normalize(s.controls, f.Values)
	r := s.run(v)

	numbers := ui.Fit(strings.Join([]string{
		fmt.Sprintf("D = N × tokens/param = %s × %s = %s tokens",
			th.Strong.Render(numShort(r.n)), numTPP(r.tpp), th.Strong.Render(numShort(r.d))),
		fmt.Sprintf("C = 6·N·D = %s FLOPs  %s", th.Strong.Render(numSci(r.c)), th.Badge(ui.Computed)),
		fmt.Sprintf("H100 at %.0f%% MFU (peak %.1f TFLOP/s): %s GPU-years  %s",
			100*r.mfu, sim.H100BF16DenseFLOPS/1e12, th.Strong.Render(numYears(r.cost.GPUYears)), th.Badge(ui.Estimate)),
		fmt.Sprintf("  = %s on %s GPUs · %s at $%.2f per GPU-hour",
			th.Strong.Render(numDays(r.cost.WallDays)), numGroup(int64(r.gpus)), th.Strong.Render(numDollars(r.cost.Dollars)), r.price),
		fmt.Sprintf("L(N,D) = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 = %s  %s",
			th.Strong.Render(fmt.Sprintf("%.3f", r.loss)), th.Badge(ui.Estimate)),
		fmt.Sprintf("Same C, best split: N %s × D %s (%s tokens/param) → L = %.3f",
			numShort(r.optN), numShort(r.optD), numTPP(r.optD/r.optN), r.optLoss),
	}, "\n"), width, 6)

	var note string
	if r.matchesPreset {
		note = th.Subtle.Render(ui.Wrap(r.preset.run.Name+", "+r.preset.run.Note, width))
	}
	terms := th.Subtle.Render(ui.Wrap(fmt.Sprintf("The loss is 1.69 nats of irreducible entropy, + %.3f for too few parameters, + %.3f for too few tokens.",
		r.penaltyN, r.penD), width))

	// Blocks join in importance order while they fit; the plot takes the
	// rows left over. Screen order is fixed below.
	const plotMin, plotMax = 10, 20
	ruler := s.renderRuler(th, r, width)
	trade := th.Text.Render(ui.Wrap(s.tradeText(r), width))
	prose := th.Text.Render(ui.Wrap(scalingProse, width))
	used := ui.Lines(numbers)
	take := func(text string) bool {
		if text == "" || used+1+ui.Lines(text) > height {
			return false
		}
		used += 1 + ui.Lines(text)
		return true
	}
	hasTrade := take(trade)
	hasPlot := used+1+plotMin <= height
	if hasPlot {
		used += 1 + plotMin
	}
	hasRuler := take(ruler)
	// The caveat belongs under the ruler: it is spent from the same budget
	// but only when the ruler is there.
	caveat := th.Subtle.Render(ui.Wrap(fmt.Sprintf("≈20 is the paper's rule of thumb; its fitted formula, "+
		"with the constants as printed, wants %s here.", numTPP(r.optD/r.optN)), width))
	hasCaveat := false
	if hasRuler && used+ui.Lines(caveat) <= height {
		used += ui.Lines(caveat)
		hasCaveat = true
	}
	hasNote := take(note)
	hasProse := take(prose)
	hasTerms := take(terms)
	plotH := 0
	if hasPlot {
		plotH = min(plotMin+height-used, plotMax)
	}

	var blocks []ui.Block
	add := func(ok bool, text string) {
		if ok {
			blocks = append(blocks, ui.Block{Text: text})
		}
	}
	add(hasProse, prose)
	add(true, numbers)
	add(hasTerms, terms)
	add(hasNote, note)
	if hasCaveat {
		ruler += "\n" + caveat
	}
	add(hasRuler, ruler)
	add(hasPlot, s.renderPlot(th, r, width, plotH))
	add(hasTrade, trade)
	return ui.Fit(ui.Stack(height, blocks...), width, height)
}

// numTPP prints tokens per parameter to three figures: "1.71", "20",
// "38.5", "1,875".
func numTPP(x float64) string {
	if x >= 1000 {
		return numGroup(int64(math.Round(x)))
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// numYears prints GPU-years: one decimal while small, grouped beyond.
func numYears(y float64) string {
	if y < 1000 {
		return strconv.FormatFloat(y, 'f', 1, 64)
	}
	if y < 1e9 {
		return numGroup(int64(math.Round(y)))
	}
	return numSci(y)
}

// tradeText is the over-training trade for this run, in words and numbers:
// this run against the compute-optimal model that reaches the same loss.
func (s *Scaling) tradeText(r scalingRun) string {
	t := r.trade
	if t.TrainRatio < 1.02 {
		return fmt.Sprintf("On the frontier: no run reaches L = %.3f for less training compute. A smaller "+
			"model on more tokens would cost more to train and less to serve: the over-training trade.", t.Loss)
	}
	verdict, tail := "Over-trained", ": trained once, served billions of times, smaller wins."
	switch {
	case t.ServeRatio >= 1 && t.TrainRatio < 1.25:
		verdict, tail = "Near the frontier, on the big side", "."
	case t.ServeRatio >= 1:
		verdict, tail = "Under-trained", ": more parameters than its data can feed."
	}
	return fmt.Sprintf("%s: the compute-optimal model with the same loss (%.3f) is %s on %s tokens. "+
		"This run costs ×%.2f its training compute and ×%.2f its compute per generated token%s",
		verdict, t.Loss, numShort(t.OptParams), numShort(t.OptTokens), t.TrainRatio, t.ServeRatio, tail)
}

// renderRuler draws tokens per parameter on a log scale from 1 to 2,000,
// with Chinchilla's ≈20, the fit's optimum for this budget and the run.
func (s *Scaling) renderRuler(th *ui.Theme, r scalingRun, width int) string {
	head, tail := "Tokens/param 1 ", " 2,000"
	w := min(width-lipgloss.Width(head)-lipgloss.Width(tail), 60)
	if w < 10 {
		return ""
	}
	pos := func(x float64) int {
		f := math.Log(min(max(x, 1), 2000)) / math.Log(2000)
		return int(math.Round(f * float64(w-1)))
	}
	track, rule, opt, you := "─", "▲", "◆", "●"
	if th.Mono {
		track, rule, opt, you = "-", "^", "*", "O"
	}
	cells := make([]string, w)
	for i := range cells {
		cells[i] = th.Track.Render(track)
	}
	cells[pos(chinchillaRule)] = th.Accent.Render(rule)
	cells[pos(r.optD/r.optN)] = th.Accent.Render(opt)
	cells[pos(r.tpp)] = th.Focus.Render(you)
	line := th.Subtle.Render(head) + strings.Join(cells, "") + th.Subtle.Render(tail)
	legend := fmt.Sprintf("%s this run %s · %s Chinchilla's rule ≈%d · %s the fit's best for this C, %s",
		you, numTPP(r.tpp), rule, chinchillaRule, opt, numTPP(r.optD/r.optN))
	return line + "\n" + th.Subtle.Render(ui.Fit(legend, width, 1))
}

// renderPlot draws the compute-optimal frontier on log-log axes (training
// FLOPs across, parameters up) with the published runs, this run and the
// optimum for its budget.
func (s *Scaling) renderPlot(th *ui.Theme, r scalingRun, width, height int) string {
	if height < 4 {
		return ""
	}
	var marks []ui.PlotMark
	for _, p := range s.presets {
		if r.matchesPreset && p.id == r.preset.id {
			continue
		}
		label := p.run.Name
		if p.run.ActiveParams > 0 {
			label += " (active)"
		}
		marks = append(marks, ui.PlotMark{X: p.run.TrainingFLOPs(), Y: p.run.ComputeParams(), Glyph: "◆", Label: label})
	}
	youLabel := "this run"
	if r.matchesPreset {
		youLabel = r.preset.run.Name
	}
	optGlyph, youGlyph := "○", "●"
	if th.Mono {
		optGlyph, youGlyph = "o", "@"
		for i := range marks {
			marks[i].Glyph = "*"
		}
	}
	marks = append(marks,
		ui.PlotMark{X: r.c, Y: r.optN, Glyph: optGlyph, Label: "best N for this C"},
		ui.PlotMark{X: r.c, Y: r.n, Glyph: youGlyph, Label: youLabel, Strong: true})

	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, m := range marks {
		lo = [2]float64{min(lo[0], m.X), min(lo[1], m.Y)}
		hi = [2]float64{max(hi[0], m.X), max(hi[1], m.Y)}
	}
	decade := func(x float64, up bool) float64 {
		if up {
			return math.Pow(10, math.Ceil(math.Log10(x)+1e-9))
		}
		return math.Pow(10, math.Floor(math.Log10(x)-1e-9))
	}
	p := ui.LogLogPlot{
		Marks: marks,
		XMin:  decade(lo[0], false), XMax: decade(hi[0], true),
		YMin: decade(lo[1], false), YMax: decade(hi[1], true),
		YTick: countTick,
	}
	for _, q := range sim.FrontierPoints(p.XMin, p.XMax, 48) {
		p.Curve = append(p.Curve, [2]float64{6 * q[0] * q[1], q[0]})
	}
	caption := th.Subtle.Render("Parameters N ↑ vs training FLOPs C →. Line: best N for each C  ") +
		th.Badge(ui.Estimate)
	return ui.Fit(caption, width, 1) + "\n" + th.LogLogPlot(p, width, height-1)
}

// countTick names a power of ten as a count: "100M", "1B", "10T".
func countTick(x float64) string {
	k := int(math.Round(math.Log10(x)))
	names := map[int]string{6: "1M", 7: "10M", 8: "100M", 9: "1B", 10: "10B", 11: "100B", 12: "1T", 13: "10T", 14: "100T"}
	if s, ok := names[k]; ok {
		return s
	}
	return "1e" + strconv.Itoa(k)
}

// Polls implements Poller.
func (s *Scaling) Polls(v Values) []Poll {
	v = Normalize(s.controls, v)
	r := s.run(v)
	dir := 1 // about right
	switch {
	case r.optN > r.n*1.1:
		dir = 0
	case r.optN < r.n/1.1:
		dir = 2
	}
	return []Poll{
		{
			ID: "gpu-years",
			Question: fmt.Sprintf("N = %s on D = %s tokens (C = %s FLOPs): how many H100 GPU-years at %.0f%% MFU?",
				numShort(r.n), numShort(r.d), numSci(r.c), 100*r.mfu),
			Kind: Estimate, Truth: r.cost.GPUYears, Unit: "GPU-years",
			Explain: fmt.Sprintf("C ÷ (989.4 TFLOP/s × %.0f%%) = %s GPU-seconds, %s GPU-years: %s on %s GPUs.",
				100*r.mfu, numSci(r.cost.GPUSeconds), numYears(r.cost.GPUYears), numDays(r.cost.WallDays), numGroup(int64(r.gpus))),
		},
		{
			ID:       "split",
			Question: fmt.Sprintf("For this budget (%s FLOPs), does Chinchilla's fit want a model bigger or smaller than %s?", numSci(r.c), numShort(r.n)),
			Kind:     MultipleChoice,
			Choices:  []string{"Bigger, on fewer tokens", "About the same (within 10%)", "Smaller, on more tokens"},
			Correct:  dir,
			Explain: fmt.Sprintf("The fit's optimum for %s FLOPs is N = %s on D = %s (loss %.3f against %.3f).",
				numSci(r.c), numShort(r.optN), numShort(r.optD), r.optLoss, r.loss),
		},
		{
			ID:       "rule",
			Question: "Chinchilla's rule of thumb: about how many training tokens per parameter is compute-optimal?",
			Kind:     MultipleChoice, Choices: []string{"About 2", "About 20", "About 200", "About 2,000"}, Correct: 1,
			Explain: "Hoffmann et al. (2022): scale parameters and tokens equally, about 20 tokens each. GPT-3 had 1.7; Llama 3 8B had 1,875.",
		},
	}
}
