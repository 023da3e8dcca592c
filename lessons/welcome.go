package lessons

import (
	"charm.land/bubbles/v2/key"
	"fmt"
	"strconv"
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
	// cat is the catalog the welcome is in, whose other chapters are the
	// stops of its route; nil until a catalog makes the welcome for itself.
	// It is read at Render, once the catalog is complete, so the route
	// shows every chapter's final number (the recap's is set last).
	cat *Catalog
}

// The lesson contract, the one optional part of it the welcome keeps, and
// the catalog's hook for making it, checked by the compiler here.
var (
	_ Lesson    = (*Welcome)(nil)
	_ Spotter   = (*Welcome)(nil)
	_ tourGuide = (*Welcome)(nil)
)

// welStop is one stop of the route: the chapter's number and short name.
type welStop struct {
	n    string
	name string
}

// welKey is one line of a key table: the key and what it does.
type welKey struct{ key, what string }

// NewWelcome builds chapter 0. Its route is empty until a catalog makes it
// for its chapters (NewCatalogOf does).
func NewWelcome() *Welcome {
	return &Welcome{meta: meta{id: "welcome", number: 0, title: "Welcome: how this works",
		summary: "Where the tour goes, the keys, the badges, and following the instructor"}}
}

// forTour implements tourGuide: the same welcome, routed through c.
func (w *Welcome) forTour(c *Catalog) Lesson { return &Welcome{meta: w.meta, cat: c} }

// stops are the chapters the tour visits after the welcome, in tour order:
// every chapter of the catalog but the welcome itself.
func (w *Welcome) stops() []welStop {
	if w.cat == nil {
		return nil
	}
	var out []welStop
	for i := range w.cat.Len() {
		l := w.cat.At(i)
		if l.ID() == w.ID() {
			continue
		}
		name := l.Title()
		if r, ok := l.(interface{ routeName() string }); ok && r.routeName() != "" {
			name = r.routeName()
		}
		out = append(out, welStop{n: strconv.Itoa(l.Number()), name: name})
	}
	return out
}

// Controls implements Lesson: the welcome has none.
func (w *Welcome) Controls() []Control { return nil }

// welIntro is the welcome's first line; %s is the number of stops, counted
// from the catalog ("nine stops").
const welIntro = "Welcome aboard: a tour inside a GPT-5-class language model in %s. " +
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
	stops := w.stops()
	intro := th.Text.Render(siWrap(fmt.Sprintf(welIntro, countWords(len(stops), "stop", "stops")), width))
	route := w.route(th, stops, width)

	// The letters come from the key map, so a key bound elsewhere is
	// taught as it is; digits and arrows are what they are.
	k := ui.NewKeyMap()
	label := func(bs ...key.Binding) string {
		var ls []string
		for _, b := range bs {
			ls = append(ls, b.Help().Key)
		}
		return strings.Join(ls, "  ")
	}
	nav := []welKey{
		{label(k.Next, k.Prev), "next / previous chapter"},
		{"0–9", "jump to a chapter"},
		{label(k.Contents), "contents"},
		{label(k.ScrollDown), "scroll a long chapter"},
		{"↑  ↓", "choose a control (tab too)"},
		{"←  →", "change it (shift: 10 steps)"},
		{label(k.Edit), "edit text, " + label(k.Back) + " when done"},
		{label(k.Help, k.Quit), "all keys · quit"},
	}
	class := []welKey{
		{label(k.Follow), "follow the instructor again"},
		{label(k.Hand), "raise or lower your hand"},
		{"1–" + strconv.Itoa(MaxChoices), "answer a poll, while one is open"},
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
func (w *Welcome) route(th *ui.Theme, stops []welStop, width int) string {
	if len(stops) == 0 {
		return ""
	}
	cellW := 0
	for _, s := range stops {
		// The number, two spaces, the name and one space before the next
		// column.
		cellW = max(cellW, lipgloss.Width(s.n)+2+lipgloss.Width(s.name)+1)
	}
	cols := max(min(width/cellW, 3), 1)
	rows := (len(stops) + cols - 1) / cols
	var lines []string
	for r := range rows {
		var b strings.Builder
		for c := range cols {
			i := c*rows + r
			if i >= len(stops) {
				break
			}
			s := stops[i]
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
		head = spotMark(th, true) + head
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
		head = spotMark(th, true) + head
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
