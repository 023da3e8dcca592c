package lessons

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// Recap is the last chapter: each chapter's one idea in a sentence, with
// its key figure recomputed by that chapter at its default settings, so
// the summary can never drift from what the chapters show.
type Recap struct {
	meta
	items []rcpItem
}

// The lesson contract, the one optional part of it the recap keeps, and the
// catalog's hook for making it, checked by the compiler here.
var (
	_ Lesson    = (*Recap)(nil)
	_ Spotter   = (*Recap)(nil)
	_ tourGuide = (*Recap)(nil)
)

// rcpItem is one chapter's entry of the recap.
type rcpItem struct {
	n         int
	id, title string
	// fig's Figure is drawn bold wherever it appears in its Fact.
	fig KeyFigure
}

// NewRecap builds the recap. Its entries, and its number, one past the
// chapters it sums up, are set when a catalog makes it for its chapters
// (NewCatalogOf does); until then it lists nothing.
func NewRecap() *Recap {
	return &Recap{meta: meta{id: "recap", title: "Recap: the whole journey", route: "recap",
		summary: "Each chapter's one idea in a sentence, with its key figure recomputed"}}
}

// forTour implements tourGuide: a recap of c's chapters that offer a key
// figure, each asked once at its defaults (the figures depend on no
// control of the recap's), numbered after the last of c's chapters.
func (r *Recap) forTour(c *Catalog) Lesson {
	out := &Recap{meta: r.meta}
	next := 0
	for i := range c.Len() {
		l := c.At(i)
		if l.ID() == r.ID() {
			continue
		}
		next = max(next, l.Number()+1)
		if k, ok := l.(KeyFigurer); ok {
			out.items = append(out.items, rcpItem{n: l.Number(), id: l.ID(), title: l.Title(),
				fig: k.KeyFigure(Defaults(l.Controls()))})
		}
	}
	out.number = next
	return out
}

// Controls implements Lesson: the recap has none.
func (r *Recap) Controls() []Control { return nil }

// rcpIntro opens the recap; %s is the number of entries, counted from the
// catalog ("eight ideas").
const rcpIntro = "From the letters you type to the word the model says, in %s. Each " +
	"figure is recomputed from the chapter's starting settings; go back with its number to move the dials."

// Render implements Lesson: one entry per chapter, each its title, its
// idea and its figure in a sentence. Nothing is shortened for a short
// screen: the body scrolls.
func (r *Recap) Render(f Frame) string {
	th, width := f.Theme, f.Width
	if width < 20 || f.Height < 1 {
		return ""
	}
	intro := th.Text.Render(siWrap(fmt.Sprintf(rcpIntro, countWords(len(r.items), "idea", "ideas")), width))
	entries := make([]string, len(r.items))
	for i, it := range r.items {
		entries[i] = r.entry(th, it, width, f.Spot == "ch:"+it.id)
	}
	return ui.FitWidth(ui.Column(intro, strings.Join(entries, "\n")), width)
}

// entry draws one chapter: the title, with its badge at the right where it
// fits, over the idea and the fact, indented.
func (r *Recap) entry(th *ui.Theme, it rcpItem, width int, spot bool) string {
	mark := spotMark(th, spot)
	const indent = "     "
	bold := th.Strong.Render(it.fig.Figure)
	title := mark + th.Key.Render(fmt.Sprint(it.n)) + "  " + th.Header.Render(it.title)
	badge := th.Badge(it.fig.Badge)
	if gap := width - lipgloss.Width(title) - lipgloss.Width(badge); gap >= 2 {
		title += strings.Repeat(" ", gap) + badge
	} else {
		title += "\n" + indent + badge
	}
	plain := siWrap(it.fig.Idea, max(width-len(indent), 10)) + "\n" +
		siWrap(it.fig.Fact, max(width-len(indent), 10))
	var lines []string
	for _, l := range strings.Split(plain, "\n") {
		// Bold the figure where the wrap left it whole on one line.
		lines = append(lines, indent+strings.Replace(l, it.fig.Figure, bold, 1))
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
