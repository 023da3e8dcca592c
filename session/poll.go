package session

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

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
// a digit (or enter) starts typing a number.
func (m *Model) pollKey(msg tea.KeyPressMsg) bool {
	p, ok := m.answerable()
	if !ok {
		return false
	}
	k := msg.String()
	if p.Spec.Kind == room.MultipleChoice {
		if len(k) == 1 && k[0] >= '1' && k[0] <= '9' {
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
	if len(k) == 1 && (k[0] >= '0' && k[0] <= '9' || k == "." || k == "-") || k == "a" {
		f := ui.NewTextField("", 24)
		if k != "a" {
			f.Insert(k)
		}
		m.pollField = &f
		return true
	}
	return false
}

// pollFieldKey edits a numeric answer.
func (m *Model) pollFieldKey(msg tea.KeyPressMsg) {
	switch k := msg.String(); {
	case k == "esc":
		m.pollField = nil
	case k == "enter":
		n, err := ParseNumber(m.pollField.Value())
		if err != nil {
			m.notice = err.Error()
			return
		}
		m.act(m.seat.Answer(room.Answer{Number: n}))
		m.pollField = nil
		if m.notice == "" {
			m.notice = "Answered " + formatNumber(n) + ": you can change it until the reveal"
		}
	case m.pollField.Key(k):
	case msg.Text != "":
		m.pollField.Insert(msg.Text)
	}
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

// formatNumber prints an estimate compactly: 1,234 or 3.5e+06.
func formatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6 || a < 0.01:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a == math.Trunc(a):
		return thousands(int(v))
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// pollView is the box under the chapter while a poll is open.
func (m *Model) pollView(w int) string {
	if m.seat == nil || m.snap.Class == nil || m.snap.Class.Poll == nil {
		return ""
	}
	p := m.snap.Class.Poll
	th := m.th
	var b strings.Builder
	b.WriteString(th.Title.Render("Question: ") + th.Strong.Render(p.Spec.Question))
	mine, answered := m.snap.Me.Answers[p.Spec.Chapter+"/"+p.Spec.ID]
	counted := p.Revealed || m.instructor()
	switch p.Spec.Kind {
	case room.MultipleChoice:
		if counted && p.Counts != nil {
			items := make([]ui.BarItem, len(p.Spec.Choices))
			for i, c := range p.Spec.Choices {
				label := fmt.Sprintf("%d) %s", i+1, c)
				if p.Revealed && i == p.Spec.Correct {
					label += " ✓"
				}
				items[i] = ui.BarItem{Label: label, Value: float64(p.Counts[i]), Text: fmt.Sprint(p.Counts[i]),
					Muted: p.Revealed && p.Spec.Correct >= 0 && i != p.Spec.Correct}
			}
			b.WriteString("\n" + th.Bars(items, min(w, 70)))
		} else {
			var opts []string
			for i, c := range p.Spec.Choices {
				o := fmt.Sprintf("%d) %s", i+1, c)
				if answered && mine.Choice == i {
					o = th.Selected.Render(o)
				}
				opts = append(opts, o)
			}
			b.WriteString("\n" + ui.Wrap(strings.Join(opts, "   "), w))
		}
	case room.Estimate:
		if counted && len(p.Estimates) > 0 {
			b.WriteString("\n" + estimateSummary(th, p, w))
		} else if m.pollField != nil {
			b.WriteString("\nyour estimate: " + th.TextFieldView(*m.pollField, 26, true, true) + " " + th.Subtle.Render(p.Spec.Unit))
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
			parts = append(parts, th.BadgeComputed.Render(fmt.Sprintf("the answer: %s %s", formatNumber(p.Spec.Truth), p.Spec.Unit)))
		}
		status = strings.Join(parts, th.Subtle.Render(" · "))
		if p.Spec.Explain != "" {
			if status != "" {
				status += "\n"
			}
			status += th.Subtle.Render(p.Spec.Explain)
		}
	case m.instructor():
		status = fmt.Sprintf("%d answered · r reveal to everyone · c close · o next question", p.Answered)
	case answered:
		status = m.yourAnswer(p, mine) + th.Subtle.Render(fmt.Sprintf(" · %d answered · you can change it until the reveal", p.Answered))
	case p.Spec.Kind == room.MultipleChoice:
		status = th.Accent.Render(fmt.Sprintf("press 1–%d to answer", len(p.Spec.Choices))) + th.Subtle.Render(fmt.Sprintf(" · %d answered", p.Answered))
	default:
		status = th.Accent.Render("type a number to answer") + th.Subtle.Render(fmt.Sprintf(" · %d answered", p.Answered))
	}
	b.WriteString("\n" + ui.Wrap(status, w))
	return ui.Fit(b.String(), w, 12)
}

func (m *Model) yourAnswer(p *room.PollView, a room.Answer) string {
	if p.Spec.Kind == room.MultipleChoice {
		if a.Choice >= 0 && a.Choice < len(p.Spec.Choices) {
			return m.th.Strong.Render(fmt.Sprintf("your answer: %d) %s", a.Choice+1, p.Spec.Choices[a.Choice]))
		}
		return ""
	}
	return m.th.Strong.Render("your answer: " + formatNumber(a.Number))
}

// estimateSummary shows numeric answers as a histogram over powers of ten,
// the scale on which estimates are wrong, with the truth marked.
func estimateSummary(th *ui.Theme, p *room.PollView, w int) string {
	bucket := func(v float64) int {
		if v <= 0 {
			return math.MinInt32
		}
		return int(math.Floor(math.Log10(v)))
	}
	counts := map[int]int{}
	for _, v := range p.Estimates {
		counts[bucket(v)]++
	}
	keys := make([]int, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	truth := bucket(p.Spec.Truth)
	if p.Revealed {
		if _, ok := counts[truth]; !ok {
			keys = append(keys, truth)
		}
	}
	sort.Ints(keys)
	var items []ui.BarItem
	truthAt := 0
	for _, k := range keys {
		if k == truth {
			truthAt = len(items)
		}
		label := "≤ 0"
		if k != math.MinInt32 {
			label = fmt.Sprintf("%s–%s", formatNumber(math.Pow(10, float64(k))), formatNumber(math.Pow(10, float64(k+1))))
		}
		if p.Revealed && k == truth {
			label += " ✓"
		}
		items = append(items, ui.BarItem{Label: label, Value: float64(counts[k]), Text: fmt.Sprint(counts[k])})
	}
	if len(items) > 7 {
		// Seven buckets around the truth: the answer must stay in view.
		start := min(max(truthAt-3, 0), len(items)-7)
		items = items[start : start+7]
	}
	median := p.Estimates[len(p.Estimates)/2]
	return th.Bars(items, min(w, 70)) + "\n" + th.Subtle.Render("median guess: "+formatNumber(median))
}
