package lessons

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// SampleKeyPrefix starts the Frame.Class keys the sampling chapter reads.
// The classroom pools every student's draws into a Tally keyed
// "sample:<word>" → how many times the class drew that word, where <word> is
// one of the chapter's candidate words exactly as SampleWords lists them
// ("sample:mat" → 12). Keys for other words, other prefixes and counts
// below 1 are ignored. With no such key the chapter shows the learner's own
// seeded draws instead.
const SampleKeyPrefix = "sample:"

// SampleKey is the Frame.Class key that counts the class's draws of word.
func SampleKey(word string) string { return SampleKeyPrefix + word }

// Sampling is chapter 7, "The moment of speech": how a distribution over
// next words becomes one word, through temperature, top-k, top-p and min-p.
// Its class activity is the histogram of the class's pooled draws, read
// from Frame.Class under SampleKey.
type Sampling struct {
	meta
	cands    []sim.Candidate
	controls []Control
}

// The lesson contract and the optional parts of it that Sampling keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Sampling)(nil)
	_ Activity   = (*Sampling)(nil)
	_ Spotter    = (*Sampling)(nil)
	_ Poller     = (*Sampling)(nil)
	_ KeyFigurer = (*Sampling)(nil)
)

// NewSampling builds the sampling chapter.
func NewSampling() *Sampling {
	s := &Sampling{meta: meta{id: "sampling", number: 7, title: "The moment of speech", route: "the moment of speech",
		summary: "Sampling: temperature, top-k, top-p and min-p turn probabilities into one word"}, cands: sim.CatSatCandidates()}
	n := len(s.cands)
	s.controls = []Control{
		{Key: "temperature", Label: "Temperature", Kind: Slider, Min: 0, Max: 3, Step: 0.05, Format: "%.2f", Default: "1",
			Help: "←/→ by 0.05 · below 1 sharpens, above 1 flattens · 0 is greedy: always the top word"},
		{Key: "top_k", Label: "Top-k", Kind: Slider, Min: 1, Max: float64(n), Step: 1, Format: "%.0f", Default: fmt.Sprint(n),
			Help: fmt.Sprintf("keep only the k most likely words · %d = all of them (off)", n)},
		{Key: "top_p", Label: "Top-p", Kind: Slider, Min: 0.05, Max: 1, Step: 0.05, Format: "%.2f", Default: "0.9",
			Help: "keep the fewest top words whose probability adds up to p · 1 = off"},
		{Key: "min_p", Label: "Min-p", Kind: Slider, Min: 0, Max: 0.5, Step: 0.01, Format: "%.2f", Default: "0",
			Help: "drop words less likely than min-p × the top word's probability · 0 = off"},
		{Key: "draws", Label: "Draw", Kind: Choice, Default: "100", Personal: true,
			Help:    "how many words your own sampler draws (the class's samples replace them when pooled)",
			Options: []Option{{Value: "1", Label: "1 word"}, {Value: "100", Label: "100 words"}}},
		{Key: "seed", Label: "Seed", Kind: Slider, Min: 1, Max: 100, Step: 1, Format: "%.0f", Default: "1", Personal: true,
			Help: "←/→ draws again with another seed · the same seed always gives the same words"},
	}
	return s
}

// Controls implements Lesson.
func (s *Sampling) Controls() []Control { return s.controls }

// SampleWords lists the candidate words, most likely first: the words
// SampleKey accepts.
func (s *Sampling) SampleWords() []string {
	out := make([]string, len(s.cands))
	for i, c := range s.cands {
		out[i] = c.Word
	}
	return out
}

// Contribute implements Activity: one word drawn at the values on the
// learner's screen, added to the class's histogram.
func (s *Sampling) Contribute(v Values, seed uint64) []Contribution {
	return []Contribution{{Key: SampleKey(s.Draw(v, seed))}}
}

// ActivityHelp implements Activity.
func (s *Sampling) ActivityHelp() string { return "draw a word for the class" }

// Draw is the word a student's sampler says at values v with seed: one draw
// from the chapter's distribution, for the classroom to pool under
// SampleKey.
func (s *Sampling) Draw(v Values, seed uint64) string {
	d := s.distribution(Normalize(s.controls, v))
	if got := sim.Draw(d.Probs, seed, 1); len(got) == 1 {
		return s.cands[got[0]].Word
	}
	return s.cands[0].Word
}

func (s *Sampling) logits() []float64 {
	out := make([]float64, len(s.cands))
	for i, c := range s.cands {
		out[i] = c.Logit
	}
	return out
}

func (s *Sampling) params(v Values) sim.SampleParams {
	k := v.Int("top_k")
	if k >= len(s.cands) {
		k = 0
	}
	return sim.SampleParams{Temperature: v.Float("temperature"), TopK: k, TopP: v.Float("top_p"), MinP: v.Float("min_p")}
}

// keptTemperatureLast says how many words the values' cuts would keep in
// llama.cpp's default order, temperature last, at any T > 0 ("8 words").
func (s *Sampling) keptTemperatureLast(v Values) string {
	p := s.params(v)
	p.Temperature = 1 // any T > 0 keeps the same words in that order
	if n := sim.KeptTemperatureLast(s.logits(), p); n != 1 {
		return fmt.Sprintf("%d words", n)
	}
	return "1 word"
}

func (s *Sampling) distribution(v Values) sim.Distribution {
	return sim.Sample(s.logits(), s.params(v))
}

// smpHist is the right-hand column: counts per word and what they are.
type smpHist struct {
	counts []int
	total  int
	class  bool
	// single is the word index of a one-word draw, -1 otherwise.
	single int
	// title heads the column; short is its narrow form ("100 draws,
	// seed 1").
	title, short string
}

func (s *Sampling) histogram(v Values, d sim.Distribution, class Tally) smpHist {
	h := smpHist{counts: make([]int, len(s.cands)), single: -1}
	for i, c := range s.cands {
		if n := class[SampleKey(c.Word)]; n > 0 {
			h.counts[i] = n
			h.total += n
		}
	}
	if h.total > 0 {
		h.class = true
		h.title = "class: " + Count(h.total, "sample", "samples")
		h.short = Count(h.total, "class sample", "class samples")
		return h
	}
	n := 100
	if v["draws"] == "1" {
		n = 1
	}
	draws := sim.Draw(d.Probs, uint64(v.Int("seed")), n)
	h.counts = sim.Histogram(draws, len(s.cands))
	h.total = len(draws)
	if n == 1 && len(draws) == 1 {
		h.single = draws[0]
		h.title = fmt.Sprintf("your draw (seed %d)", v.Int("seed"))
		h.short = fmt.Sprintf("1 draw, seed %d", v.Int("seed"))
	} else {
		h.title = fmt.Sprintf("your %d draws (seed %d)", n, v.Int("seed"))
		h.short = fmt.Sprintf("%d draws, seed %d", n, v.Int("seed"))
	}
	return h
}

// samplingProse explains the pipeline, and says whose order it is: the
// order decides what the cuts measure, and the two common ones differ.
// "above 0" is joined by a non-breaking space, so the 0 never wraps alone.
const samplingProse = "For every word it knows, the model ends with a score (a logit); softmax turns " +
	"the scores into probabilities. The sampler then reshapes them in a fixed order, here Hugging " +
	"Face transformers': divide by the temperature, then cut the unlikely tail (top-k, top-p, " +
	"min-p), then rescale what is left to add up to 100%%, and draw one word. Other samplers use " +
	"other orders: llama.cpp's default chain divides by the temperature last, so its cuts read the " +
	"model's own probabilities; these settings would keep %s there, at any temperature above\u00a00."

// samplingColumns says what each column of the chart measures.
const samplingColumns = "Columns: p after ÷T is what the cuts read; Σ top-p is the running total " +
	"top-p measures (over what top-k left, rescaled to 100%); final is what the sampler draws " +
	"from, the survivors rescaled to 100%."

const samplingPipeline = "logits → ÷T → softmax → top-k → top-p → min-p → renormalise → draw (Hugging Face's order)"

// Render implements Lesson.
func (s *Sampling) Render(f Frame) string {
	th, width, height := f.Theme, f.Width, f.Height
	if width < 20 || height < 1 {
		return ""
	}
	v := Normalize(s.controls, f.Values)
	d := s.distribution(v)
	hist := s.histogram(v, d, f.Class)

	head := th.Strong.Render("The cat sat on the ___") + "  " + th.Badge(ui.Illustrative) +
		th.Subtle.Render(" logits, real arithmetic")
	pipeline := th.Subtle.Render(siWrap(samplingPipeline, width))
	prose := th.Text.Render(siWrap(fmt.Sprintf(samplingProse, s.keptTemperatureLast(v)), width))
	note := samplingColumns
	if !hist.class {
		note += " Right column: your own sampler's draws. When the class pools its " +
			"samples, theirs appear here instead, beside the theory on the left."
	}
	note = th.Subtle.Render(siWrap(note, width))

	// The idea first, then the chart with every word and its status line,
	// then what each column measures. The chart always shows all the words:
	// a short frame scrolls rather than hiding the tail the cuts removed.
	chart := s.chart(th, v, d, hist, width, f.Spot)
	status := s.status(th, v, d, hist, width, f.Spot)
	out := ui.Column(head, prose, pipeline, chart+"\n"+status, note)
	return ui.FitWidth(out, width)
}

// topPLine is the rank after which the top-p line is drawn, or -1 when top-p
// cut nothing.
func (s *Sampling) topPLine(v Values, d sim.Distribution) int {
	last := -1
	for r, i := range d.Rank {
		if d.CutBy[i] == sim.CutTopP {
			return last
		}
		if d.TopPMass[i] > 0 {
			last = r
		}
	}
	return -1
}

// status sums up the chart: the entropy against the model's own and the
// most possible, how many words can still be said, the word drawn.
func (s *Sampling) status(th *ui.Theme, v Values, d sim.Distribution, hist smpHist, width int, spot string) string {
	ent := fmt.Sprintf("entropy %s bits %s", th.Strong.Render(fmt.Sprintf("%.2f", d.Entropy)), th.Badge(ui.Computed))
	if spot == "entropy" {
		ent = spotMark(th, true) + ent
	}
	parts := []string{ent,
		fmt.Sprintf("the model's own %.2f", d.BaseEntropy),
		fmt.Sprintf("at most %.2f (%d equal words)", math.Log2(float64(len(s.cands))), len(s.cands)),
		th.Strong.Render(fmt.Sprint(d.Kept)) + fmt.Sprintf(" of %d words can be said", len(s.cands)),
	}
	if hist.single >= 0 {
		parts = append(parts, "drew "+th.Accent.Render("“"+s.cands[hist.single].Word+"”"))
	}
	if v.Float("temperature") == 0 {
		parts = append(parts, "T = 0 is greedy: always the top word")
	}
	return siWrap(strings.Join(parts, th.Subtle.Render(" · ")), width)
}

// smpBefore is the column the cuts read, for every word on one scale: the
// tempered probability (softmax of logits ÷ T), or under greedy decoding,
// where tempering leaves only the top word, the model's own, so the greyed
// bars still show what was given up.
func smpBefore(d sim.Distribution, v Values) []float64 {
	if !(v.Float("temperature") > 0) {
		return d.Base
	}
	return d.Tempered
}

// The chart's numeric columns, in cells: the probability after ÷T, the
// running total top-p measured, what cut the word, the final probability.
const (
	smpPctW = 6 // "100.0%"
	smpSumW = 7 // "Σ top-p"
	smpCutW = 6 // "greedy"
	smpFinW = 6 // "100.0%"
	// smpFixed is a row's width besides the word and the bar: the
	// columns and the spaces between them.
	smpFixed = 1 + 1 + smpPctW + 1 + smpSumW + 1 + smpCutW + 1 + smpFinW
)

// chart draws one row per word in rank order, each column on one scale and
// labelled in the header: the probability after ÷T as a bar and a number
// (cut words greyed), the running total top-p measured, what cut the word,
// and the final probability the sampler draws from (the survivors rescaled
// to 100%). The drawn samples sit beside it, every bar of both columns
// measured against the same largest value, to be read against the final
// column. Every word has its row at any height: the words a cut removed
// are what the chart is for.
func (s *Sampling) chart(th *ui.Theme, v Values, d sim.Distribution, hist smpHist, width int, spot string) string {
	wordW := 0
	for _, c := range s.cands {
		wordW = max(wordW, lipgloss.Width(c.Word))
	}
	wordW = min(wordW+2, 13) // room for a spot marker
	// A row is marker+word (wordW), the bar, and smpFixed for the numbers;
	// the sample column adds " │ ", its bar, a space and up to 7 for the
	// count.
	rest := width - wordW - smpFixed - 11
	twoCols := rest >= 12
	if !twoCols {
		rest = width - wordW - smpFixed
	}
	barW := min(max(rest*55/100, 4), 40)
	histW := min(max(rest-barW, 0), 30)
	if !twoCols {
		barW = min(max(rest, 4), 40)
	}
	before := smpBefore(d, v)

	// One scale for every bar, so the two columns compare by eye.
	scale := 0.0
	for i := range s.cands {
		scale = max(scale, before[i], d.Probs[i])
		if hist.total > 0 {
			scale = max(scale, float64(hist.counts[i])/float64(hist.total))
		}
	}
	if scale == 0 {
		scale = 1
	}

	// The first column's label says which distribution it is: the tempered
	// one, or the model's own when T = 0 leaves nothing to temper.
	labels := []string{"p after ÷T · greyed: cut", "p after ÷T", "after ÷T"}
	if !(v.Float("temperature") > 0) {
		labels = []string{"model's own p (T = 0)", "model's own p", "own p"}
	}
	label := labels[len(labels)-1]
	for _, l := range labels {
		if lipgloss.Width(l) <= barW+1+smpPctW {
			label = l
			break
		}
	}
	header := ui.PadRight("", wordW) + " " + th.Subtle.Render(ui.PadRight(label, barW+1+smpPctW)) + " " +
		th.Subtle.Render(fmt.Sprintf("%*s %-*s %*s", smpSumW, "Σ top-p", smpCutW, "cut by", smpFinW, "final"))
	if twoCols {
		title := hist.title
		if lipgloss.Width(title) > width-wordW-barW-smpFixed-3 {
			title = hist.short
		}
		header = ui.PadRight(header, wordW+barW+smpFixed) + th.Rule.Render(" │ ") + th.Subtle.Render(title)
	}

	out := []string{header}
	cut := s.topPLine(v, d)
	for r, i := range d.Rank {
		out = append(out, s.chartRow(th, d, before, hist, i, wordW, barW, histW, scale, twoCols, spot))
		if r == cut {
			out = append(out, s.topPRow(th, v, d, width, spot))
		}
	}
	return ui.FitWidth(strings.Join(out, "\n"), width)
}

func (s *Sampling) chartRow(th *ui.Theme, d sim.Distribution, before []float64, hist smpHist, i, wordW, barW, histW int, scale float64, twoCols bool, spot string) string {
	word := s.cands[i].Word
	kept := d.Probs[i] > 0
	label := th.Text.Render(word)
	marker := "  "
	if spot == "bar:"+word {
		marker = spotMark(th, true)
		label = th.Focus.Render(word)
	} else if !kept {
		label = th.Muted.Render(word)
	}
	// The running total shows wherever top-p counted the word, even if
	// min-p removed it afterwards, so the column adds up to the cut line.
	sum := strings.Repeat(" ", smpSumW)
	if d.TopPMass[i] > 0 {
		sum = th.Subtle.Render(fmt.Sprintf("%*.1f%%", smpSumW-1, 100*d.TopPMass[i]))
	}
	var bar, pct, reason, fin string
	if kept {
		bar = fracBar(th, before[i]/scale, barW, th.Bar, false)
		pct = th.Text.Render(fmt.Sprintf("%*.1f%%", smpPctW-1, 100*before[i]))
		reason = strings.Repeat(" ", smpCutW)
		fin = th.Strong.Render(fmt.Sprintf("%*.1f%%", smpFinW-1, 100*d.Probs[i]))
	} else {
		bar = fracBar(th, before[i]/scale, barW, th.Muted, true)
		pct = th.Muted.Render(fmt.Sprintf("%*.1f%%", smpPctW-1, 100*before[i]))
		reason = th.Muted.Render(ui.PadRight(d.CutBy[i].String(), smpCutW))
		fin = th.Muted.Render(fmt.Sprintf("%*s", smpFinW, "0"))
	}
	row := marker + ui.PadRight(label, wordW-2) + " " + bar + " " + pct + " " + sum + " " + reason + " " + fin
	if !twoCols {
		return row
	}
	n := hist.counts[i]
	frac := 0.0
	if hist.total > 0 {
		frac = float64(n) / float64(hist.total)
	}
	h := fracBar(th, frac/scale, histW, th.Accent, false)
	cnt := ""
	if n > 0 {
		cnt = fmt.Sprint(n)
	}
	if hist.single == i {
		cnt = th.Accent.Render("◀ drawn")
	}
	if n > 0 && !kept && !hist.class {
		// Own draws can never land on a cut word; class samples can, since
		// classmates may have drawn under other settings.
		cnt = th.Warn.Render(cnt)
	}
	return row + th.Rule.Render(" │ ") + h + " " + cnt
}

func (s *Sampling) topPRow(th *ui.Theme, v Values, d sim.Distribution, width int, spot string) string {
	p := v.Float("top_p")
	text := fmt.Sprintf(" top-p %.2f: Σ reached %.0f%% here, every word below is cut ", p, 100*p)
	dash := "╌"
	if th.Mono {
		dash = "-"
	}
	style := th.Warn
	if spot == "topp" {
		style = th.Focus
		text = "▶" + text
	}
	lead := strings.Repeat(dash, 2)
	w := width - lipgloss.Width(lead) - lipgloss.Width(text)
	if w < 0 {
		// A rule across the chart, cut rather than wrapped: it marks one
		// place between two rows.
		return style.Render(ui.Fit(lead+text, width, 1))
	}
	return style.Render(lead + text + strings.Repeat(dash, min(w, 12)))
}

// Spots implements Spotter: each word's bar, the top-p line, the entropy.
func (s *Sampling) Spots(v Values) []Spot {
	out := make([]Spot, 0, len(s.cands)+2)
	for _, c := range s.cands {
		out = append(out, Spot{ID: "bar:" + c.Word, Label: "the bar of “" + c.Word + "”"})
	}
	out = append(out, Spot{ID: "topp", Label: "the top-p cut line"}, Spot{ID: "entropy", Label: "the entropy"})
	return out
}

// KeyFigure implements KeyFigurer: how many of the candidate words the
// sampler can still say after its cuts.
func (s *Sampling) KeyFigure(v Values) KeyFigure {
	v = Normalize(s.controls, v)
	d := s.distribution(v)
	figure := fmt.Sprintf("%d of %s", d.Kept, Count(len(s.cands), "word", "words"))
	return KeyFigure{
		Idea:   "Probabilities are reshaped, the tail is cut, and one word is drawn.",
		Fact:   fmt.Sprintf("At T = %g and top-p %g, %s can be said.", v.Float("temperature"), v.Float("top_p"), figure),
		Figure: figure, Badge: ui.Computed,
	}
}

// Polls implements Poller.
func (s *Sampling) Polls(v Values) []Poll {
	v = Normalize(s.controls, v)
	logits := s.logits()
	greedy := sim.Sample(logits, sim.SampleParams{Temperature: 0, TopP: 1})
	top := s.cands[greedy.Rank[0]].Word
	choices := []string{top, "a different word each time", "floor", "moon"}
	if top == "floor" {
		choices[2] = "sofa"
	}
	d := s.distribution(v)
	topK := "off"
	if k := v.Int("top_k"); k < len(s.cands) {
		topK = fmt.Sprint(k)
	}
	h1 := sim.Sample(logits, sim.SampleParams{Temperature: 1, TopP: 1}).Entropy
	h2 := sim.Sample(logits, sim.SampleParams{Temperature: 2, TopP: 1}).Entropy
	return []Poll{
		{
			ID:       "greedy",
			Question: "At temperature 0, what does the model say after “The cat sat on the”?",
			Kind:     MultipleChoice, Choices: choices, Correct: 0,
			Explain: fmt.Sprintf("T = 0 is greedy decoding: the single most likely word, “%s”, every time. No randomness is left.", top),
		},
		{
			ID: "kept",
			Question: fmt.Sprintf("At temperature %.2f with top-p %.2f (top-k %s, min-p %.2f), how many of the %d words can still be drawn?",
				v.Float("temperature"), v.Float("top_p"), topK, v.Float("min_p"), len(s.cands)),
			Kind: Estimate, Truth: float64(d.Kept), Unit: "words", Min: 1, Max: float64(len(s.cands)),
			Explain: "Top-p keeps the fewest top words whose probability reaches p, so a sharp distribution keeps few and a flat one many.",
		},
		{
			ID:       "hotter",
			Question: "With no cuts, the temperature goes from 1 to 2. What happens to the entropy?",
			Kind:     MultipleChoice,
			Choices:  []string{"It rises towards 4 bits (all 16 words equally likely)", "It falls towards 0 bits", "It stays the same"},
			Correct:  0,
			Explain:  fmt.Sprintf("Dividing the logits by 2 flattens the distribution: %.2f bits at T = 1, %.2f bits at T = 2.", h1, h2),
		},
	}
}
