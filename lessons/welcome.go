package lessons

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// Welcome is chapter 0: what the tour covers, the keys, what the badges on
// figures mean, and how the classroom works (follow, explore, hands, polls).
// It has no controls: nothing on it needs steering, and a first screen with
// nothing to break is a calm place to start.
type Welcome struct {
	meta
	// stops are the chapters the tour visits, number and short name.
	stops []welStop
}

type welStop struct {
	n    string
	name string
}

// welKey is one line of a key table: the key and what it does.
type welKey struct{ key, what string }

// NewWelcome builds chapter 0.
func NewWelcome() *Welcome {
	return &Welcome{meta: meta{id: "welcome", number: 0, title: "Welcome: how this works",
		summary: "Where the tour goes, the keys, the badges, and following the instructor"}, stops: []welStop{
		{"1", "letters to numbers"}, {"2", "a stack of blocks"}, {"3", "looking back"},
		{"4", "the scaling laws"}, {"5", "a thousand machines"}, {"6", "teaching it to help"},
		{"7", "the moment of speech"}, {"8", "making it fast"}, {"9", "recap"},
	}}
}

// Controls implements Lesson: the welcome has none.
func (w *Welcome) Controls() []Control { return nil }

const welIntro = "Welcome aboard: a tour inside a GPT-5-class language model in nine stops. " +
	"Every number on screen is computed live, by real tokenizers and real formulas."

const welScreen = "On every chapter the figures come first; the controls sit beside them (below " +
	"them on a small screen), and the bottom line lists the keys. Move a control and every number " +
	"is recomputed at once, so try things: nothing you do here can break."

const welClass = "An instructor leads and everyone follows. Change a chapter or a control and " +
	"you are exploring on your own."

// Render implements Lesson. In class the keys come in two sections,
// getting around and the classroom's own; taken alone (f.Solo) there is no
// instructor to follow and no poll to answer, so only the getting-around
// keys are shown, across the whole width. Nothing is left out on a short
// screen: the body scrolls.
func (w *Welcome) Render(f Frame) string {
	th, width := f.Theme, f.Width
	if width < 20 || f.Height < 1 {
		return ""
	}
	intro := th.Text.Render(siWrap(welIntro, width))
	route := w.route(th, width)

	nav := []welKey{
		{"n  p", "next / previous chapter"},
		{"0–9", "jump to a chapter"},
		{"t", "contents"},
		{"pgdn", "scroll a long chapter"},
		{"↑  ↓", "choose a control (tab too)"},
		{"←  →", "change it (shift: 10 steps)"},
		{"enter", "edit text, esc when done"},
		{"?  q", "all keys · quit"},
	}
	class := []welKey{
		{"f", "follow the instructor again"},
		{"h", "raise or lower your hand"},
		{"1–9", "answer a poll, while one is open"},
		{"0–9", "or type an estimate, then enter"},
	}
	var keys string
	switch {
	case f.Solo && width >= 76:
		// Alone, the getting-around keys have the width to themselves: two
		// columns under one heading, so the page is shorter than in class.
		colW := (width - 3) / 2
		half := (len(nav) + 1) / 2
		keys = w.heading(th, "Getting around", f.Spot == "keys") + "\n" +
			joinColumns(w.keyRows(th, nav[:half], colW), w.keyRows(th, nav[half:], colW), colW+3)
	case f.Solo:
		keys = w.section(th, "Getting around", "", nav, width, f.Spot == "keys")
	case width >= 76:
		colW := (width - 3) / 2
		keys = joinColumns(w.section(th, "Getting around", "", nav, colW, f.Spot == "keys"),
			w.section(th, "In class", welClass, class, colW, f.Spot == "classroom"), colW+3)
	default:
		keys = ui.Column(w.section(th, "Getting around", "", nav, width, f.Spot == "keys"),
			w.section(th, "In class", welClass, class, width, f.Spot == "classroom"))
	}
	badges := w.badges(th, width, f.Spot == "badges")
	screen := th.Subtle.Render(siWrap(welScreen, width))

	return ui.FitWidth(ui.Column(intro, route, keys, badges, screen), width)
}

// route lists the stops in as many columns as fit.
func (w *Welcome) route(th *ui.Theme, width int) string {
	cellW := 0
	for _, s := range w.stops {
		cellW = max(cellW, lipgloss.Width(s.name)+4)
	}
	cols := max(min(width/cellW, 3), 1)
	rows := (len(w.stops) + cols - 1) / cols
	var lines []string
	for r := range rows {
		var b strings.Builder
		for c := range cols {
			i := c*rows + r
			if i >= len(w.stops) {
				break
			}
			s := w.stops[i]
			b.WriteString(ui.PadRight(th.Key.Render(s.n)+"  "+th.Text.Render(s.name), cellW))
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// section is a heading, optional prose, and a key table, colW wide.
func (w *Welcome) section(th *ui.Theme, title, prose string, keys []welKey, colW int, spot bool) string {
	lines := []string{w.heading(th, title, spot)}
	if prose != "" {
		lines = append(lines, th.Text.Render(siWrap(prose, colW)))
	}
	return strings.Join(append(lines, w.keyRows(th, keys, colW)), "\n")
}

// heading is a section's title, marked when the instructor points at it.
func (w *Welcome) heading(th *ui.Theme, title string, spot bool) string {
	head := th.Header.Render(title)
	if spot {
		head = th.Focus.Render("▶ ") + head
	}
	return head
}

// keyRows is a key table colW wide: each key, then what it does.
func (w *Welcome) keyRows(th *ui.Theme, keys []welKey, colW int) string {
	keyW := 0
	for _, k := range keys {
		keyW = max(keyW, lipgloss.Width(k.key))
	}
	lines := make([]string, len(keys))
	for i, k := range keys {
		// A narrow column wraps what a key does under itself, not cut.
		lines[i] = leadWrap(th.Key.Render(ui.PadRight(k.key, keyW))+"  ", k.what, colW)
	}
	return strings.Join(lines, "\n")
}

func (w *Welcome) badges(th *ui.Theme, width int, spot bool) string {
	head := th.Header.Render("Every figure wears a badge")
	if spot {
		head = th.Focus.Render("▶ ") + head
	}
	// The estimate's example is one the tour shows (chapter 4's GPU-years
	// at an assumed utilisation), not a number no screen backs up: nobody
	// has published a GPT-5-class model's size.
	lines := []string{
		head,
		ui.Wrap(th.Badge(ui.Computed)+" an exact formula, or the real tokenizer", width),
		ui.Wrap(th.Badge(ui.Illustrative)+" a hand-set toy; the arithmetic on it is real", width),
		ui.Wrap(th.Badge(ui.Estimate)+" an informed guess, such as GPU-years at an assumed utilisation", width),
	}
	return strings.Join(lines, "\n")
}

// Spots implements Spotter: the three parts of the page worth pointing at.
func (w *Welcome) Spots(Values) []Spot {
	return []Spot{
		{ID: "keys", Label: "the keys"},
		{ID: "classroom", Label: "following and exploring"},
		{ID: "badges", Label: "the badges"},
	}
}
