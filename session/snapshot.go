package session

import "github.com/expedition-llm/expedition/lessons"

// Snapshot renders the screen a person would see with chapter open at the
// given values, at width×height, with nothing focused. An unknown chapter
// renders the contents.
// Without colour the theme draws its mono variant, so what colour alone
// would show (where one token ends and the next begins) is still there.
func Snapshot(cat *lessons.Catalog, chapter string, values lessons.Values, width, height int, color bool) string {
	m := New(Options{Catalog: cat, Width: width, Height: height, Mono: !color})
	if i, ok := cat.Index(chapter); ok {
		m.goTo(i)
		m.values[i] = lessons.Normalize(cat.At(i).Controls(), values)
		m.focus = -1
	}
	return m.render()
}
