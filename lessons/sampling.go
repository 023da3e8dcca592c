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

// NewSampling builds the sampling chapter.
func NewSampling() *Sampling {
	s := &Sampling{meta: meta{id: "sampling", number: 7, title: "The moment of speech",
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
	title  string
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
		h.title = fmt.Sprintf("class: %s samples", numGroup(int64(h.total)))
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
	} else {
		h.title = fmt.Sprintf("your %d draws (seed %d)", n, v.Int("seed"))
	}
	return h
}

const samplingProse = "For every word it knows, the model ends with a score (a logit); softmax turns " +
	"the scores into probabilities. The sampler then reshapes them in a fixed order: divide by the " +
	"temperature first, then cut the unlikely tail (top-k, top-p, min-p), then rescale what is left " +
	"to add up to 1, and draw one word."

const samplingPipeline = "logits → ÷T → softmax → top-k → top-p → min-p → renormalise → draw"

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
	prose := th.Text.Render(siWrap(samplingProse, width))
	note := ""
	if !hist.class {
		note = th.Subtle.Render(siWrap("Right column: your own sampler's draws. When the class pools its "+
			"samples, theirs appear here instead, beside the theory on the left.", width))
	}

	// The chart wants every word on screen; the text around it is added
	// only while the chart still gets that. Stack puts a blank line
	// between blocks, hence the +1s.
	want := s.chartHeight(v, d)
	status := s.status(th, v, d, hist, width, f.Spot, true)
	used := ui.Lines(head) + 1 + ui.Lines(status)
	if used+want > height {
		// Short of room: a one-line status and the title right on top of
		// the chart.
		status = s.status(th, v, d, hist, width, f.Spot, false)
		chart := s.chart(th, v, d, hist, width, max(height-1-ui.Lines(status), 2), f.Spot)
		return ui.Fit(head+"\n"+chart+"\n"+status, width, height)
	}
	if used+ui.Lines(pipeline)+want <= height {
		head += "\n" + pipeline
		used += ui.Lines(pipeline)
	}
	for _, p := range []*string{&prose, &note} {
		if used+ui.Lines(*p)+1+want <= height {
			used += ui.Lines(*p) + 1
		} else {
			*p = ""
		}
	}
	chart := s.chart(th, v, d, hist, width, want, f.Spot)
	out := ui.Stack(height,
		ui.Block{Text: head},
		ui.Block{Text: prose, Optional: true, Priority: 2},
		ui.Block{Text: chart + "\n" + status},
		ui.Block{Text: note, Optional: true, Priority: 1},
	)
	return ui.Fit(out, width, height)
}

// chartHeight is the rows the chart wants: a column header, one row per
// word and the top-p line.
func (s *Sampling) chartHeight(v Values, d sim.Distribution) int {
	n := 1 + len(s.cands)
	if s.topPLine(v, d) >= 0 {
		n++
	}
	return n
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

func (s *Sampling) status(th *ui.Theme, v Values, d sim.Distribution, hist smpHist, width int, spot string, full bool) string {
	ent := fmt.Sprintf("entropy %s bits %s", th.Strong.Render(fmt.Sprintf("%.2f", d.Entropy)), th.Badge(ui.Computed))
	if spot == "entropy" {
		ent = th.Focus.Render("▶ ") + ent
	}
	parts := []string{ent}
	if full {
		parts = append(parts, fmt.Sprintf("the model's own %.2f", d.BaseEntropy),
			fmt.Sprintf("at most %.2f (%d equal words)", math.Log2(float64(len(s.cands))), len(s.cands)))
	}
	parts = append(parts, th.Strong.Render(fmt.Sprint(d.Kept))+fmt.Sprintf(" of %d words can be said", len(s.cands)))
	if hist.single >= 0 {
		parts = append(parts, "drew "+th.Accent.Render("“"+s.cands[hist.single].Word+"”"))
	}
	if full && v.Float("temperature") == 0 {
		parts = append(parts, "T = 0 is greedy: always the top word")
	}
	line := strings.Join(parts, th.Subtle.Render(" · "))
	if !full {
		return ui.Fit(line, width, 1)
	}
	return siWrap(line, width)
}

// siWrap word-wraps like ui.Wrap but never breaks at a hyphen, so "top-p"
// and "min-p" stay whole: a line ending in "min-" reads as a typo. The
// hyphens ride through the wrap as non-breaking ones (same width).
func siWrap(s string, width int) string {
	const nb = "\u2011"
	return strings.ReplaceAll(ui.Wrap(strings.ReplaceAll(s, "-", nb), width), nb, "-")
}

// smpBefore is what word i had before the cut that removed it: its tempered
// probability, or under greedy decoding (where tempering leaves only the top
// word) the model's own, so the greyed bars still show what was given up.
func smpBefore(d sim.Distribution, i int) float64 {
	if d.CutBy[i] == sim.CutGreedy {
		return d.Base[i]
	}
	return d.Tempered[i]
}

// smpBar draws frac of width cells in eighths of a block, so small
// probabilities still differ; muted bars use a light shade (and dots when
// mono) so a cut reads without colour. A positive frac never draws empty.
func smpBar(th *ui.Theme, frac float64, width int, style lipgloss.Style, muted bool) string {
	if width < 1 {
		return ""
	}
	frac = min(max(frac, 0), 1)
	if math.IsNaN(frac) {
		frac = 0
	}
	var s string
	switch {
	case th.Mono || muted:
		n := int(frac*float64(width) + 0.5)
		if n == 0 && frac > 0 {
			n = 1
		}
		ch := "#"
		if muted {
			ch = "░"
			if th.Mono {
				ch = "."
			}
		}
		s = strings.Repeat(ch, n)
	default:
		eighths := int(frac*float64(width)*8 + 0.5)
		if eighths == 0 && frac > 0 {
			eighths = 1
		}
		s = strings.Repeat("█", eighths/8)
		if r := eighths % 8; r > 0 {
			s += []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}[r]
		}
	}
	return style.Render(s) + strings.Repeat(" ", width-lipgloss.Width(s))
}

// chart draws one row per word in rank order: the final probability as a
// bar (the cut tail greyed at what it had before the cut), the running total
// top-p measured, and the drawn samples beside it on the same scale.
func (s *Sampling) chart(th *ui.Theme, v Values, d sim.Distribution, hist smpHist, width, rows int, spot string) string {
	wordW := 0
	for _, c := range s.cands {
		wordW = max(wordW, lipgloss.Width(c.Word))
	}
	wordW = min(wordW+2, 13) // room for a spot marker
	// A row is marker+word (wordW), bar, 7 for the percentage, 5 for the
	// top-p total and 6 for what cut the word: wordW+barW+22 cells; the
	// sample column adds " │ ", its bar and up to 7 for the count.
	rest := width - wordW - 33
	twoCols := rest >= 12
	if !twoCols {
		rest = width - wordW - 22
	}
	barW := min(max(rest*55/100, 4), 40)
	histW := min(max(rest-barW, 0), 30)
	if !twoCols {
		barW = min(max(rest, 4), 40)
	}

	// One scale for theory and samples, so the two columns compare by eye.
	scale := 0.0
	for i := range s.cands {
		scale = max(scale, d.Probs[i], smpBefore(d, i))
		if hist.total > 0 {
			scale = max(scale, float64(hist.counts[i])/float64(hist.total))
		}
	}
	if scale == 0 {
		scale = 1
	}

	header := ui.PadRight("", wordW) + " " + th.Subtle.Render(ui.PadRight("probability · greyed: cut", barW+8)) +
		" " + th.Subtle.Render("   Σp cut by")
	if twoCols {
		header = ui.PadRight(header, wordW+barW+22) + th.Rule.Render(" │ ") + th.Subtle.Render(ui.PadRight(hist.title, histW+8))
	}

	type line struct {
		text string
		word int // -1 for the top-p line
	}
	var lines []line
	cut := s.topPLine(v, d)
	for r, i := range d.Rank {
		lines = append(lines, line{s.chartRow(th, d, hist, i, wordW, barW, histW, scale, twoCols, spot), i})
		if r == cut {
			lines = append(lines, line{s.topPRow(th, v, d, width, spot), -1})
		}
	}
	body := rows - 1
	if len(lines) > body && body >= 1 {
		// Keep the top rows, then one line on what the rest hold: how many
		// can still be said and what cut the others.
		keep := lines[:body-1]
		var more, kept int
		var before float64
		cutBy := map[sim.Cut]int{}
		for _, l := range lines[body-1:] {
			if l.word < 0 {
				continue
			}
			more++
			if d.Probs[l.word] > 0 {
				kept++
			} else {
				before += smpBefore(d, l.word)
				cutBy[d.CutBy[l.word]]++
			}
		}
		parts := []string{}
		if kept > 0 {
			parts = append(parts, fmt.Sprintf("%d kept", kept))
		}
		for _, c := range []sim.Cut{sim.CutGreedy, sim.CutTopK, sim.CutTopP, sim.CutMinP, sim.CutZero} {
			if n := cutBy[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d cut by %s", n, c))
			}
		}
		summary := fmt.Sprintf("  … %d more words: %s", more, strings.Join(parts, ", "))
		if before > 0 {
			summary += fmt.Sprintf(" (%.1f%% before the cut)", 100*before)
		}
		lines = append(keep, line{th.Subtle.Render(summary), -1})
	}
	out := []string{header}
	for _, l := range lines {
		out = append(out, l.text)
	}
	return ui.Fit(strings.Join(out, "\n"), width, max(rows, 1))
}

func (s *Sampling) chartRow(th *ui.Theme, d sim.Distribution, hist smpHist, i, wordW, barW, histW int, scale float64, twoCols bool, spot string) string {
	word := s.cands[i].Word
	kept := d.Probs[i] > 0
	label := th.Text.Render(word)
	marker := "  "
	if spot == "bar:"+word {
		marker = th.Focus.Render("▶ ")
		label = th.Focus.Render(word)
	} else if !kept {
		label = th.Muted.Render(word)
	}
	// The running total shows wherever top-p counted the word, even if
	// min-p removed it afterwards, so the column adds up to the cut line.
	sum := strings.Repeat(" ", 5)
	if d.TopPMass[i] > 0 {
		sum = th.Subtle.Render(fmt.Sprintf("%5.2f", d.TopPMass[i]))
	}
	var bar, pct, reason string
	if kept {
		bar = smpBar(th, d.Probs[i]/scale, barW, th.Bar, false)
		pct = th.Strong.Render(fmt.Sprintf("%5.1f%%", 100*d.Probs[i]))
		reason = strings.Repeat(" ", 6)
	} else {
		bar = smpBar(th, smpBefore(d, i)/scale, barW, th.Muted, true)
		pct = th.Muted.Render(fmt.Sprintf("(%.1f%%)", 100*smpBefore(d, i)))
		reason = th.Muted.Render(ui.PadRight(d.CutBy[i].String(), 6))
	}
	row := marker + ui.PadRight(label, wordW-2) + " " + bar + " " + ui.PadRight(pct, 7) + " " + sum + " " + reason
	if !twoCols {
		return row
	}
	n := hist.counts[i]
	frac := 0.0
	if hist.total > 0 {
		frac = float64(n) / float64(hist.total)
	}
	h := smpBar(th, frac/scale, histW, th.Accent, false)
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
	text := fmt.Sprintf(" top-p %.2f reached here: every word below is cut ", p)
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
			Kind: Estimate, Truth: float64(d.Kept), Unit: "words",
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
