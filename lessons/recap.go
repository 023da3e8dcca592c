package lessons

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// Recap is the last chapter: each chapter's one idea in a sentence, with
// its key figure recomputed by sim at that chapter's default settings, so
// the summary can never drift from what the chapters show.
type Recap struct {
	meta
	items []rcpItem
}

// rcpItem is one chapter's entry of the recap.
type rcpItem struct {
	n     int
	id    string
	title string
	// idea is the chapter in one short sentence; fact states its key
	// figure, which is drawn bold wherever it appears.
	idea, fact, figure string
	badge              ui.Badge
}

// NewRecap computes every figure once (they depend on no control), with tk
// the o200k_base tokenizer shared with chapter 1.
func NewRecap(tk *sim.Tokenizer) (*Recap, error) {
	if tk == nil {
		return nil, fmt.Errorf("recap: needs the o200k_base tokenizer")
	}
	straw := len(tk.Encode("strawberry"))

	// Every figure below is read at its chapter's own defaults, through
	// that chapter's own code, so the recap follows if a default changes.
	st, err := NewStack()
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	arch := st.arch(Defaults(st.Controls()))
	params := arch.Params().Total
	stackName := arch.Name

	at, err := NewAttention()
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	av := Defaults(at.Controls())
	head, _ := at.head(av)
	rows := sim.Attention(head, av.Float("temp"), av.Bool("mask"))
	var trophy float64
	if r := at.row(av, ""); r >= 0 && r < len(rows) {
		for j, t := range at.tokens {
			if t == "trophy" && j < len(rows[r].Weights) {
				trophy = rows[r].Weights[j]
			}
		}
	}

	sc, err := NewScaling()
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	scv := Defaults(sc.Controls())
	run := sc.run(scv)
	flops := run.c
	runName := "This run"
	if c, ok := ControlByKey(sc, "preset"); ok {
		runName = c.Display(scv["preset"])
	}
	optN, optD := run.fit.Optimal(flops)

	par, err := NewParallel()
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	pv := Defaults(par.Controls())
	bubble := sim.BubbleFraction(pv.Int("stages"), pv.Int("micro"))

	pt, err := NewPosttrain(tk)
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	ptv := Defaults(pt.Controls())
	pass := sim.PassAtK(ptv.Float("p"), ptv.Int("k"))

	// Chapters 7 and 8 are read at their own controls' defaults, so the
	// recap follows them if the defaults change.
	smp := NewSampling()
	sv := Defaults(smp.Controls())
	d := smp.distribution(sv)
	cands := smp.cands

	inf, err := NewInference()
	if err != nil {
		return nil, fmt.Errorf("recap: %w", err)
	}
	iv := Defaults(inf.Controls())
	gen := iv.Int("gen")
	cached, uncached := sim.DecodeFLOPs(inf.work, gen)

	r := &Recap{meta: meta{id: "recap", number: 9, title: "Recap: the whole journey",
		summary: "Each chapter's one idea in a sentence, with its key figure recomputed"}, items: []rcpItem{
		{n: 1, id: "tokens", title: "From letters to numbers",
			idea:   "A model reads numbers, not letters: text is cut into known pieces.",
			fact:   "o200k_base cuts “strawberry” into %s.",
			figure: Count(straw, "token", "tokens"), badge: ui.Computed},
		{n: 2, id: "stack", title: "A stack of identical blocks",
			idea:   "Parameters live in one block repeated, mostly in its matrices.",
			fact:   stackName + " has %s parameters.",
			figure: numCount(params), badge: ui.Computed},
		{n: 3, id: "attention", title: "The act of looking back",
			idea:   "Each token takes a softmax-weighted mix of the tokens before it.",
			fact:   "The coreference head puts %s of “it”'s attention on “trophy”.",
			figure: fmt.Sprintf("%.0f%%", 100*trophy), badge: ui.Illustrative},
		// The optimum is the scaling chapter's default law's, and says so in
		// the same words the chapter uses, as a dense model's 6·N·D split.
		{n: 4, id: "scaling", title: "The scaling laws",
			idea: "Loss falls as a power law in size and data; a budget has a best split.",
			fact: "By " + run.law.cite + ", " + runName + "'s " + numSci(flops) +
				" FLOPs (C = 6·N·D) are best spent on a dense model of %s.",
			figure: fmt.Sprintf("%s parameters on %s tokens", numShort(optN), numShort(optD)),
			badge:  ui.Estimate},
		{n: 5, id: "parallel", title: "A thousand machines, one mind",
			idea: "GPUs split the data, the layers or the matrices, and waiting costs time.",
			fact: fmt.Sprintf("A %d-stage pipeline with %d micro-batches sits idle %%s of each step.",
				pv.Int("stages"), pv.Int("micro")),
			figure: fmt.Sprintf("%.1f%%", 100*bubble), badge: ui.Computed},
		// pass@k is a test-time figure (best of k, a verifier picking a right
		// try), not what RL training does, which is raise p: the line says
		// so, as chapter 6's "Test time: best of k with a verifier" does.
		{n: 6, id: "posttrain", title: "Teaching it to be helpful",
			idea: "Fine-tuning, rewards and RL turn a next-word predictor into an assistant.",
			fact: fmt.Sprintf("Test time, best of %d with a verifier: if one try is right %.0f%%%% of the time, "+
				"at least one of %s is right %%s of the time (pass@%d). RL training raises the %.0f%%%% itself.",
				ptv.Int("k"), 100*ptv.Float("p"), Count(ptv.Int("k"), "checked try", "checked tries"),
				ptv.Int("k"), 100*ptv.Float("p")),
			figure: fmt.Sprintf("%.1f%%", 100*pass), badge: ui.Computed},
		{n: 7, id: "sampling", title: "The moment of speech",
			idea:   "Probabilities are reshaped, the tail is cut, and one word is drawn.",
			fact:   fmt.Sprintf("At T = %g and top-p %g, %%s can be said.", sv.Float("temperature"), sv.Float("top_p")),
			figure: fmt.Sprintf("%d of %s", d.Kept, Count(len(cands), "word", "words")), badge: ui.Computed},
		{n: 8, id: "inference", title: "The optimizations that make it fast",
			idea: "Serving trades memory for compute and skips all the work it can.",
			fact: fmt.Sprintf("Without a KV cache, writing %s with %s takes %%s the work of writing them with one.",
				Count(gen, "token", "tokens"), inf.work.Name),
			figure: numGroup(int64(uncached/max(cached, 1)+0.5)) + "×", badge: ui.Computed},
	}}
	return r, nil
}

// Controls implements Lesson: the recap has none.
func (r *Recap) Controls() []Control { return nil }

const rcpIntro = "From the letters you type to the word the model says, in eight ideas. Each " +
	"figure is recomputed from the chapter's starting settings; go back with its number to move the dials."

// Render implements Lesson: one entry per chapter, each its title, its
// idea and its figure in a sentence. Nothing is shortened for a short
// screen: the body scrolls.
func (r *Recap) Render(f Frame) string {
	th, width := f.Theme, f.Width
	if width < 20 || f.Height < 1 {
		return ""
	}
	intro := th.Text.Render(siWrap(rcpIntro, width))
	entries := make([]string, len(r.items))
	for i, it := range r.items {
		entries[i] = r.entry(th, it, width, f.Spot == "ch:"+it.id)
	}
	return ui.FitWidth(ui.Column(intro, strings.Join(entries, "\n")), width)
}

// entry draws one chapter: the title, with its badge at the right where it
// fits, over the idea and the fact, indented.
func (r *Recap) entry(th *ui.Theme, it rcpItem, width int, spot bool) string {
	mark := "  "
	if spot {
		mark = th.Focus.Render("▶ ")
	}
	const indent = "     "
	bold := th.Strong.Render(it.figure)
	title := mark + th.Key.Render(fmt.Sprint(it.n)) + "  " + th.Header.Render(it.title)
	badge := th.Badge(it.badge)
	if gap := width - lipgloss.Width(title) - lipgloss.Width(badge); gap >= 2 {
		title += strings.Repeat(" ", gap) + badge
	} else {
		title += "\n" + indent + badge
	}
	plain := siWrap(it.idea, max(width-len(indent), 10)) + "\n" +
		siWrap(fmt.Sprintf(it.fact, it.figure), max(width-len(indent), 10))
	var lines []string
	for _, l := range strings.Split(plain, "\n") {
		// Bold the figure where the wrap left it whole on one line.
		lines = append(lines, indent+strings.Replace(l, it.figure, bold, 1))
	}
	return title + "\n" + strings.Join(lines, "\n")
}

// Spots implements Spotter: each chapter's entry.
func (r *Recap) Spots(Values) []Spot {
	out := make([]Spot, len(r.items))
	for i, it := range r.items {
		out[i] = Spot{ID: "ch:" + it.id, Label: it.title}
	}
	return out
}
