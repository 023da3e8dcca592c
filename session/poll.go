package session

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// answerable reports whether this student can answer the open poll now.
func (m *Model) answerable() (*room.PollView, bool) {
	if m.seat == nil || m.instructor() || m.snap.Class == nil {
		return nil, false
	}
	p := m.snap.Class.Poll
	return p, p != nil && p.Open && !p.Revealed
}

// pollKey answers the open poll: a digit picks a choice; for an estimate,
// a digit (or "a") starts typing a number (see estimate.go).
func (m *Model) pollKey(msg tea.KeyPressMsg) bool {
	p, ok := m.answerable()
	if !ok {
		return false
	}
	k := msg.String()
	if p.Spec.Kind == room.MultipleChoice {
		if key.Matches(msg, m.keys.Answer) {
			n := int(k[0] - '1')
			if n >= len(p.Spec.Choices) {
				m.notice = fmt.Sprintf("Answer with 1 to %d", len(p.Spec.Choices))
				return true
			}
			m.act(m.seat.Answer(room.Answer{Choice: n}))
			m.notice = fmt.Sprintf("Answered %d: you can change it until the reveal", n+1)
			return true
		}
		return false
	}
	if key.Matches(msg, m.keys.Estimate) {
		m.mode = newEstimate(msg.Text)
		return true
	}
	return false
}

// ParseNumber reads an estimate as people type them: "1200", "1,200",
// "3.5e6", "40M", "2.1 billion", "1k".
func ParseNumber(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, ",", "")))
	t = strings.ReplaceAll(t, "_", "")
	mult := 1.0
	for _, suf := range []struct {
		s string
		m float64
	}{
		{"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"trillion", 1e12},
		{"k", 1e3}, {"m", 1e6}, {"b", 1e9}, {"g", 1e9}, {"t", 1e12},
	} {
		if strings.HasSuffix(t, suf.s) {
			t = strings.TrimSpace(strings.TrimSuffix(t, suf.s))
			mult = suf.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number (try 1200, 3.5e6 or 40M)", s)
	}
	return v * mult, nil
}

// pollView is the box under the chapter while a poll is open. Everything in
// it wraps: a question or a choice is never cut, whatever the width.
func (m *Model) pollView(w int) string {
	if m.seat == nil || m.snap.Class == nil || m.snap.Class.Poll == nil {
		return ""
	}
	p := m.snap.Class.Poll
	th := m.th
	var b strings.Builder
	b.WriteString(hanging(th.Title.Render("Question: "), th.Strong.Render(p.Spec.Question), w))
	mine, answered := m.snap.Me.Answers[p.Spec.Chapter+"/"+p.Spec.ID]
	counted := p.Revealed || m.instructor()
	switch p.Spec.Kind {
	case room.MultipleChoice:
		var counts []int
		if counted {
			counts = p.Counts
		}
		selected := -1
		if answered && !counted {
			selected = mine.Choice
		}
		correct := -1
		if p.Revealed {
			correct = p.Spec.Correct
		}
		b.WriteString("\n" + choiceRows(th, p.Spec.Choices, counts, selected, correct, w))
	case room.Estimate:
		if counted && len(p.Estimates) > 0 {
			b.WriteString("\n" + estimateSummary(th, p, w))
		} else if e, ok := m.mode.(*estimate); ok {
			b.WriteString("\nyour estimate: " + th.TextFieldView(e.field, 26, true, true) + " " + th.Subtle.Render(p.Spec.Unit))
		}
	}
	var status string
	switch {
	case p.Revealed:
		var parts []string
		if answered && !m.instructor() {
			parts = append(parts, m.yourAnswer(p, mine))
		}
		if p.Spec.Kind == room.Estimate {
			parts = append(parts, th.BadgeComputed.Render(fmt.Sprintf("the answer: %s %s", lessons.FormatEstimate(p.Spec.Truth), p.Spec.Unit)))
		}
		status = strings.Join(parts, th.Subtle.Render(" · "))
		if p.Spec.Explain != "" {
			if status != "" {
				status += "\n"
			}
			status += th.Subtle.Render(p.Spec.Explain)
		}
	case m.instructor():
		status = fmt.Sprintf("%d answered · %s", p.Answered, m.keys.PollHint())
	case answered:
		status = m.yourAnswer(p, mine) + th.Subtle.Render(fmt.Sprintf(" · %d answered · you can change it until the reveal", p.Answered))
	case p.Spec.Kind == room.MultipleChoice:
		status = th.Accent.Render(fmt.Sprintf("press 1–%d to answer", len(p.Spec.Choices))) + th.Subtle.Render(fmt.Sprintf(" · %d answered", p.Answered))
	case !m.estimating():
		// The unit and the range before the student starts typing.
		status = th.Accent.Render("type a number to answer") + th.Subtle.Render(" · "+rangeText(p.Spec)+fmt.Sprintf(" · %d answered", p.Answered))
	}
	if status != "" {
		b.WriteString("\n" + ui.Wrap(status, w))
	}
	return b.String()
}

// rangeText says what an estimate counts and which answers it takes:
// "in tokens, 0 or more", "in %, 0 to 100".
func rangeText(spec room.PollSpec) string {
	in := ""
	if spec.Unit != "" {
		in = "in " + spec.Unit + ", "
	}
	if spec.Max > spec.Min {
		return fmt.Sprintf("%s%s to %s", in, lessons.FormatEstimate(spec.Min), lessons.FormatEstimate(spec.Max))
	}
	return in + "0 or more"
}

// hanging wraps text to w after a lead-in, continuing lines under the text
// rather than under the lead-in.
func hanging(lead, text string, w int) string {
	indent := lipgloss.Width(lead)
	if w-indent < 20 {
		return ui.Wrap(lead+text, w)
	}
	lines := strings.Split(ui.Wrap(text, w-indent), "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = lead + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", indent) + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// choiceRows lists a poll's choices one under another, each wrapped, never
// cut. With counts (the instructor's view, or after the reveal) each
// choice has its bar beside its first line; selected marks the student's own
// answer and correct the right one (-1 for none).
func choiceRows(th *ui.Theme, choices []string, counts []int, selected, correct, w int) string {
	barW, textW, most := 0, 0, 0
	if counts != nil {
		for _, c := range counts {
			textW = max(textW, len(fmt.Sprint(c)))
			most = max(most, c)
		}
		barW = min(20, max(w/5, 4))
	}
	labelW := w
	if counts != nil {
		labelW = w - barW - textW - 2
	}
	var rows []string
	for i, c := range choices {
		lead := fmt.Sprintf("%d) ", i+1)
		text := c
		if i == correct {
			text += " ✓"
		}
		lines := strings.Split(hanging(lead, text, labelW), "\n")
		style := func(s ...string) string { return strings.Join(s, "") }
		switch {
		case i == selected:
			style = th.Selected.Render
		case correct >= 0 && i != correct:
			style = th.Subtle.Render
		}
		for j, l := range lines {
			if j == 0 && counts != nil && i < len(counts) {
				n := 0
				if most > 0 && counts[i] > 0 {
					n = max(1, int(float64(counts[i])/float64(most)*float64(barW)+0.5))
				}
				bar := th.Bar.Render(strings.Repeat("█", n)) + strings.Repeat(" ", barW-n)
				l = ui.PadRight(l, labelW) + " " + bar + " " + fmt.Sprintf("%*d", textW, counts[i])
			}
			rows = append(rows, style(l))
		}
	}
	return strings.Join(rows, "\n")
}

func (m *Model) yourAnswer(p *room.PollView, a room.Answer) string {
	if p.Spec.Kind == room.MultipleChoice {
		if a.Choice >= 0 && a.Choice < len(p.Spec.Choices) {
			return m.th.Strong.Render(fmt.Sprintf("your answer: %d) %s", a.Choice+1, p.Spec.Choices[a.Choice]))
		}
		return ""
	}
	return m.th.Strong.Render("your answer: " + lessons.FormatEstimate(a.Number))
}

// estimateSummary shows numeric answers as a histogram with bars narrow
// enough to tell close answers apart around the truth, and the median.
func estimateSummary(th *ui.Theme, p *room.PollView, w int) string {
	bins := estimateBins(p.Spec, p.Estimates)
	items := make([]ui.BarItem, len(bins))
	for i, b := range bins {
		label := b.label
		if p.Revealed && b.truth {
			label += " ✓"
		}
		items[i] = ui.BarItem{Label: label, Value: float64(b.count), Text: fmt.Sprint(b.count)}
	}
	median := room.Median(p.Estimates)
	return th.Bars(items, min(w, 70)) + "\n" + th.Subtle.Render("median guess: "+lessons.FormatEstimate(median))
}

// bin is one bar of an estimate histogram.
type bin struct {
	label string
	count int
	truth bool // the truth falls in it
}

// estimateBins sorts sorted answers into bars. On a range (a share, a
// weight) the bars are ten equal slices of it, from the lowest answer's to
// the highest's (and the truth's). Otherwise they are on a log scale, the
// scale estimates are wrong on: seven around the truth, as wide as puts the
// median miss halfway out (at least ×1.1 each, at most ×10), with answers
// farther out gathered at the ends.
func estimateBins(spec room.PollSpec, answers []float64) []bin {
	if spec.Max > spec.Min {
		const n = 10
		step := (spec.Max - spec.Min) / n
		at := func(v float64) int { return min(max(int((v-spec.Min)/step), 0), n-1) }
		counts := make([]int, n)
		lo, hi := at(spec.Truth), at(spec.Truth)
		for _, v := range answers {
			i := at(v)
			counts[i]++
			lo, hi = min(lo, i), max(hi, i)
		}
		var out []bin
		for i := lo; i <= hi; i++ {
			a, b := spec.Min+float64(i)*step, spec.Min+float64(i+1)*step
			out = append(out, bin{label: lessons.FormatEstimate(a) + "–" + lessons.FormatEstimate(b), count: counts[i], truth: i == at(spec.Truth)})
		}
		return out
	}
	if spec.Truth <= 0 {
		return decadeBins(spec.Truth, answers)
	}
	const side = 3 // bars each side of the truth's
	var dist []float64
	nonPositive := 0
	for _, v := range answers {
		if v <= 0 {
			nonPositive++
			continue
		}
		dist = append(dist, math.Abs(math.Log10(v/spec.Truth)))
	}
	sort.Float64s(dist)
	median := 0.0
	if len(dist) > 0 {
		median = dist[(len(dist)-1)/2] // the lower median: two answers, the closer one
	}
	// The median miss lands halfway out: half the class is in the inner
	// bars, fine enough to tell close answers apart, and the rest fans out
	// to the ends.
	width := min(max(2*median/side, math.Log10(1.1)), 1)
	edge := func(k float64) float64 { return spec.Truth * math.Pow(10, k*width) }
	counts := make([]int, 2*side+1)
	below, above := 0, 0
	for _, v := range answers {
		if v <= 0 {
			continue
		}
		k := int(math.Floor(math.Log10(v/spec.Truth)/width + 0.5))
		switch {
		case k < -side:
			below++
		case k > side:
			above++
		default:
			counts[k+side]++
		}
	}
	var out []bin
	if nonPositive > 0 {
		out = append(out, bin{label: "0 or less", count: nonPositive})
	}
	if below > 0 {
		out = append(out, bin{label: "below " + sig3(edge(-side-0.5)), count: below})
	}
	for k := -side; k <= side; k++ {
		out = append(out, bin{label: sig3(edge(float64(k)-0.5)) + "–" + sig3(edge(float64(k)+0.5)),
			count: counts[k+side], truth: k == 0})
	}
	if above > 0 {
		out = append(out, bin{label: "above " + sig3(edge(side+0.5)), count: above})
	}
	return out
}

// sig3 prints a bar's edge to three significant figures: 6.64, 66.4,
// 6,640, 6.64e+07.
func sig3(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	if a := math.Abs(r); a >= 1000 && a < 1e6 {
		return thousands(int(r))
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}

// decadeBins is the histogram over powers of ten, for a truth of zero or
// less (no scale to centre on).
func decadeBins(truth float64, answers []float64) []bin {
	bucket := func(v float64) int {
		if v <= 0 {
			return math.MinInt32
		}
		return int(math.Floor(math.Log10(v)))
	}
	counts := map[int]int{}
	for _, v := range answers {
		counts[bucket(v)]++
	}
	keys := make([]int, 0, len(counts)+1)
	for k := range counts {
		keys = append(keys, k)
	}
	if _, ok := counts[bucket(truth)]; !ok {
		keys = append(keys, bucket(truth))
	}
	sort.Ints(keys)
	out := make([]bin, 0, len(keys))
	for _, k := range keys {
		label := "0 or less"
		if k != math.MinInt32 {
			label = lessons.FormatEstimate(math.Pow(10, float64(k))) + "–" + lessons.FormatEstimate(math.Pow(10, float64(k+1)))
		}
		out = append(out, bin{label: label, count: counts[k], truth: k == bucket(truth)})
	}
	return out
}
