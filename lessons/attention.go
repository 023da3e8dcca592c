package lessons

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// Attention is chapter 3, "The act of looking back": causal scaled
// dot-product attention on a six-token sentence, with hand-set heads whose
// arithmetic is real.
type Attention struct {
	meta
	tokens []string
	// rowIDs name the query rows in values and spots ("it", "didnt").
	rowIDs   []string
	heads    []sim.Head
	headIDs  []string
	controls []Control
}

// The lesson contract and the optional parts of it that Attention keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Attention)(nil)
	_ Spotter    = (*Attention)(nil)
	_ Poller     = (*Attention)(nil)
	_ KeyFigurer = (*Attention)(nil)
)

// NewAttention builds the chapter on sim's toy sentence and heads.
func NewAttention() (*Attention, error) {
	a := &Attention{
		meta: meta{id: "attention", number: 3, title: "The act of looking back", route: "looking back",
			summary: "Causal attention worked by hand: scores, ÷√d_k, temperature, softmax, three heads"},
		tokens:  sim.AttentionTokens(),
		heads:   sim.AttentionHeads(),
		headIDs: []string{"coreference", "previous", "first"},
	}
	if len(a.heads) != len(a.headIDs) {
		return nil, fmt.Errorf("attention: %d heads, want %d", len(a.heads), len(a.headIDs))
	}
	var rowOpts []Option
	for _, t := range a.tokens {
		id := strings.ToLower(strings.ReplaceAll(t, "'", ""))
		a.rowIDs = append(a.rowIDs, id)
		rowOpts = append(rowOpts, Option{Value: id, Label: t})
	}
	headOpts := make([]Option, len(a.heads))
	for i, h := range a.heads {
		headOpts[i] = Option{Value: a.headIDs[i], Label: h.Name}
	}
	a.controls = []Control{
		{Key: "head", Label: "Head", Kind: Choice, Default: "coreference", Options: headOpts,
			Help: "←/→ three heads with different jobs: same sentence, different Q and K"},
		{Key: "row", Label: "Query row", Kind: Choice, Default: a.rowIDs[len(a.rowIDs)-1], Options: rowOpts,
			Help: "←/→ pick the token doing the looking; its scores are worked through below the grid"},
		{Key: "temp", Label: "Temperature", Kind: Slider, Min: 0.1, Max: 5, Step: 0.1, Format: "%.1f", Default: "1",
			Help: "divides the scaled scores before the softmax: below 1 sharpens, above 1 flattens"},
		{Key: "mask", Label: "Causal mask", Kind: Toggle, Default: "true",
			Help: "on: a token sees only itself and earlier tokens. Off: what seeing the future would mean"},
	}
	return a, nil
}

// Controls implements Lesson.
func (a *Attention) Controls() []Control { return a.controls }

// Spots implements Spotter: the query rows.
func (a *Attention) Spots(Values) []Spot {
	out := make([]Spot, len(a.tokens))
	for i, t := range a.tokens {
		out[i] = Spot{ID: "row:" + a.rowIDs[i], Label: fmt.Sprintf("query row %q", t)}
	}
	return out
}

// head returns the chosen head and its index.
func (a *Attention) head(v Values) (sim.Head, int) {
	for i, id := range a.headIDs {
		if v["head"] == id {
			return a.heads[i], i
		}
	}
	return a.heads[0], 0
}

// row is the query row on show: the spotlit one while the instructor points
// at a row, otherwise the row control's.
func (a *Attention) row(v Values, spot string) int {
	want := v["row"]
	if id, ok := strings.CutPrefix(spot, "row:"); ok {
		want = id
	}
	for i, id := range a.rowIDs {
		if id == want {
			return i
		}
	}
	return len(a.rowIDs) - 1
}

// headDim is d_k of a head: the width of its query and key rows.
func headDim(h sim.Head) int {
	dk := -1
	for _, r := range append(append([][]float64{}, h.Q...), h.K...) {
		if dk < 0 || len(r) < dk {
			dk = len(r)
		}
	}
	return max(dk, 0)
}

const attentionProse = "Attention is how a token gathers context. Its query (a row) is " +
	"scored against every key (a column) with a dot product; a softmax turns the " +
	"scores into weights that sum to 1, and the token takes that weighted mix of " +
	"the values V. A decoder masks the future: each word may only look back."

const attentionScaleProse = "Why ÷√d_k: a dot product adds up d_k products, so its spread grows like " +
	"√d_k. Dividing by it (here √%d = %.2f) keeps wide heads out of the flat tails of the softmax, " +
	"where one key takes everything and learning stalls. Then each row's weights mix the value " +
	"vectors V into the token's output."

// hangingWrap wraps s to width and indents every line after the first.
func hangingWrap(s string, width int, indent string) string {
	first := ui.Wrap(s, max(width, 1))
	lines := strings.Split(first, "\n")
	if len(lines) == 1 {
		return first
	}
	rest := ui.Wrap(strings.Join(lines[1:], " "), max(width-len(indent), 1))
	return lines[0] + "\n" + indent + strings.ReplaceAll(rest, "\n", "\n"+indent)
}

// Render implements Lesson.
func (a *Attention) Render(f Frame) string {
	th, width, height := f.Theme, f.Width, f.Height
	if width < 1 || height < 1 {
		return ""
	}
	v := Normalize(a.controls, f.Values)
	h, hi := a.head(v)
	T := v.Float("temp")
	causal := v.Bool("mask")
	rows := sim.Attention(h, T, causal)
	sel := a.row(v, f.Spot)
	dk := headDim(h)

	formula := a.formulaLine(th, h, dk, T, causal, width)
	grid := a.renderGrid(th, rows, sel, dk, T, width)

	var heads []string
	for i, hd := range a.heads {
		mark, style := "  ", th.Subtle
		if i == hi {
			mark, style = "▸ ", th.Text
		}
		heads = append(heads, style.Render(mark+hangingWrap(hd.Name+" head: "+hd.Role, width-2, "  ")))
	}

	// The idea, then the formula and the grid that work it, then what the
	// settings do, the three heads and why √d_k. Nothing is left out on a
	// short screen: the body scrolls.
	out := ui.Column(
		th.Text.Render(ui.Wrap(attentionProse, width)),
		formula,
		grid,
		th.Subtle.Render(ui.Wrap(a.note(rows, sel, T, causal, h), width)),
		strings.Join(heads, "\n"),
		th.Subtle.Render(ui.Wrap(fmt.Sprintf(attentionScaleProse, dk, math.Sqrt(float64(dk))), width)),
	)
	return ui.FitWidth(out, width)
}

// formulaLine is the formula with the head and settings it is worked for:
// one line where it fits, otherwise the settings wrapped under it.
func (a *Attention) formulaLine(th *ui.Theme, h sim.Head, dk int, T float64, causal bool, width int) string {
	const formula = "softmax(QKᵀ/√d_k ÷ T + M)·V"
	mask := map[bool]string{true: "on", false: "off"}[causal]
	settings := fmt.Sprintf("%s head · d_k = %d · T = %.1f · mask %s", h.Name, dk, T, mask)
	if lipgloss.Width(formula)+3+lipgloss.Width(settings) <= width {
		return th.Strong.Render(formula) + th.Subtle.Render("   "+settings)
	}
	return th.Strong.Render(formula) + "\n" + th.Subtle.Render(ui.Wrap(settings, width))
}

// renderGrid draws the heatmap and, aligned under its columns, the chosen
// row worked through stage by stage.
func (a *Attention) renderGrid(th *ui.Theme, rows []sim.AttentionRow, sel, dk int, T float64, width int) string {
	n := len(rows)
	labels := make([]string, n)
	cells := make([][]ui.HeatCell, n)
	for i := range n {
		labels[i] = "  " + a.tokens[i]
		if i == sel {
			labels[i] = "▸ " + a.tokens[i]
		}
		cells[i] = make([]ui.HeatCell, n)
		for j := range n {
			cells[i][j] = ui.HeatCell{Value: rows[i].Weights[j], Masked: rows[i].Masked[j]}
		}
	}
	heat := th.Heatmap(labels, a.tokens[:n], cells, width, sel)

	// The same geometry as the heatmap, so each stage's number sits under
	// its key's column.
	labelW := 0
	for _, l := range labels {
		labelW = max(labelW, lipgloss.Width(l))
	}
	labelW = min(labelW, width/4)
	cellW := min(max((width-labelW-1)/max(n, 1), 4), 9)
	numW := min(7, cellW-1)
	r := rows[sel]
	num := func(x float64, masked bool, style lipgloss.Style) string {
		s := fmt.Sprintf("%.2f", x)
		if masked {
			style = th.Muted
		}
		return style.Render(ui.PadRight(fmt.Sprintf("%*s", numW, s), cellW))
	}
	line := func(label string, vals []float64, show func(j int) string) string {
		var b strings.Builder
		b.WriteString(th.Subtle.Render(ui.PadRight(label, labelW)) + " ")
		for j := range vals {
			b.WriteString(show(j))
		}
		return b.String()
	}
	sum := 0.0
	for _, w := range r.Weights {
		sum += w
	}
	stages := []string{
		line("q·k", r.Raw, func(j int) string { return num(r.Raw[j], r.Masked[j], th.Text) }),
		line("÷√d_k", r.Scaled, func(j int) string { return num(r.Scaled[j], r.Masked[j], th.Text) }),
		line("÷T", r.Tempered, func(j int) string { return num(r.Tempered[j], r.Masked[j], th.Text) }),
		// The mask is its own step: M is added to the scores, 0 where the
		// key is visible and −∞ where it lies in the future, so the
		// softmax gives those keys exactly 0. With the mask off, M is 0
		// everywhere.
		line("+ mask", r.Tempered, func(j int) string {
			if r.Masked[j] {
				return th.Muted.Render(ui.PadRight(fmt.Sprintf("%*s", numW, "−∞"), cellW))
			}
			return th.Subtle.Render(ui.PadRight(fmt.Sprintf("%*s", numW, "0"), cellW))
		}),
		line("softmax", r.Weights, func(j int) string { return num(r.Weights[j], r.Masked[j], th.Strong) }) +
			th.Strong.Render(fmt.Sprintf(" Σ %.2f", sum)),
	}
	badge := th.Badge(ui.Illustrative)
	title := fmt.Sprintf("── row %q step by step: ÷√d_k = ÷%.2f, ÷T = ÷%.1f ", a.tokens[sel], math.Sqrt(float64(dk)), T)
	if lipgloss.Width(title)+1+lipgloss.Width(badge) > width {
		title = fmt.Sprintf("── row %q ", a.tokens[sel])
	}
	fill := width - lipgloss.Width(title) - lipgloss.Width(badge) - 1
	rule := th.Rule.Render(title)
	if fill > 0 {
		rule += th.Rule.Render(strings.Repeat("─", min(fill, 8))) + " "
	}
	rule += badge
	return ui.FitWidth(heat+"\n"+rule+"\n"+strings.Join(stages, "\n"), width)
}

// note explains what the current temperature or the missing mask does to
// the chosen row, with numbers from the grid.
func (a *Attention) note(rows []sim.AttentionRow, sel int, T float64, causal bool, h sim.Head) string {
	if !causal {
		// The last row has no future; show the first row that does.
		r := sel
		if r == len(rows)-1 {
			r = 0
		}
		future := 0.0
		for j, w := range rows[r].Weights {
			if j > r {
				future += w
			}
		}
		return fmt.Sprintf("Mask off: every row now sees later words too. %q puts %.0f%% of its attention "+
			"on words that come after it. In training that is cheating: the model could copy the next word "+
			"instead of predicting it, and at generation time those words do not exist yet.",
			a.tokens[r], 100*future)
	}
	r := rows[sel]
	best, top := 0, 0.0
	visible := 0
	for j, w := range r.Weights {
		if !r.Masked[j] {
			visible++
			if w > top {
				best, top = j, w
			}
		}
	}
	switch {
	case visible == 1:
		return fmt.Sprintf("%q is the first token: it can see only itself, so its weight is 1 at any temperature.", a.tokens[sel])
	case T < 1:
		return fmt.Sprintf("T = %.1f sharpens: %q now gives %.0f%% to %q. As T → 0 the softmax becomes the argmax, all weight on the top score.",
			T, a.tokens[sel], 100*top, a.tokens[best])
	case T > 1:
		return fmt.Sprintf("T = %.1f flattens: %q gives only %.0f%% to %q. As T → ∞ every visible key gets 1/%d = %.2f.",
			T, a.tokens[sel], 100*top, a.tokens[best], visible, 1/float64(visible))
	}
	return fmt.Sprintf("T = 1 is the plain softmax: %q gives %.0f%% of its attention to %q. Lower T sharpens, higher T flattens.",
		a.tokens[sel], 100*top, a.tokens[best])
}

// KeyFigure implements KeyFigurer: how much of the query row's attention
// the head on screen puts on "trophy", the noun "it" stands for.
func (a *Attention) KeyFigure(v Values) KeyFigure {
	v = Normalize(a.controls, v)
	head, hi := a.head(v)
	rows := sim.Attention(head, v.Float("temp"), v.Bool("mask"))
	r := a.row(v, "")
	var trophy float64
	if r < len(rows) {
		for j, t := range a.tokens {
			if t == "trophy" && j < len(rows[r].Weights) {
				trophy = rows[r].Weights[j]
			}
		}
	}
	figure := fmt.Sprintf("%.0f%%", 100*trophy)
	return KeyFigure{
		Idea:   "Each token takes a softmax-weighted mix of the tokens before it.",
		Fact:   "The " + a.headIDs[hi] + " head puts " + figure + " of “" + a.tokens[r] + "”'s attention on “trophy”.",
		Figure: figure, Badge: ui.Illustrative,
	}
}

// Polls implements Poller.
func (a *Attention) Polls(v Values) []Poll {
	v = Normalize(a.controls, v)
	T := v.Float("temp")
	coref := a.heads[0]
	it := len(a.tokens) - 1
	trophy := 1
	atT := sim.Attention(coref, T, true)[it]
	cold := sim.Attention(coref, 0.01, true)[it]
	best := 0
	for j, w := range cold.Weights {
		if w > cold.Weights[best] {
			best = j
		}
	}
	choices := []string{a.tokens[0], a.tokens[trophy], a.tokens[3], a.tokens[it]}
	correct := -1
	for i, c := range choices {
		if c == a.tokens[best] {
			correct = i
		}
	}
	if correct < 0 {
		choices[3], correct = a.tokens[best], 3
	}
	first := sim.Attention(a.heads[0], T, true)[0].Weights[0]
	return []Poll{
		{
			ID:       "cold",
			Question: fmt.Sprintf("Coreference head, temperature near 0: where does the row %q put its weight?", a.tokens[it]),
			Kind:     MultipleChoice, Choices: choices, Correct: correct,
			Explain: fmt.Sprintf("As T → 0 the softmax becomes the argmax: %.2f on %q, the top raw score.", cold.Weights[best], a.tokens[best]),
		},
		{
			ID:       "trophy",
			Question: fmt.Sprintf("Coreference head at T = %.1f with the mask on: what weight does %q give %q (0 to 1)?", T, a.tokens[it], a.tokens[trophy]),
			Kind:     Estimate, Truth: atT.Weights[trophy], Unit: "weight", Min: 0, Max: 1,
			Explain: fmt.Sprintf("%.3f: the softmax of the scaled scores, the visible weights summing to 1.", atT.Weights[trophy]),
		},
		{
			ID:       "first",
			Question: fmt.Sprintf("With the causal mask on, what does the first row, %q, look like in every head?", a.tokens[0]),
			Kind:     MultipleChoice,
			Choices:  []string{"1 on itself, 0 elsewhere", "1/6 on every word", "It depends on the head", "It depends on the temperature"},
			Correct:  0,
			Explain:  fmt.Sprintf("It can see only itself, and a softmax over one score is %.0f whatever the score or the temperature.", first),
		},
	}
}
