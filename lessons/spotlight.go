package lessons

import "github.com/expedition-llm/expedition/lessons/ui"

// The instructor's spotlight is marked in two widths, and the difference is
// kept on purpose: a list whose rows start with a two-cell gutter (the
// inference figures, the recap's entries, sampling's bars) takes spotMark's
// "▶ ", and the post-training labels, which have one cell to give before a
// name or a line, take spotTick's smaller "▸". Swapping one for the other
// would shift every row of the list it marks, spotlit or not.

// spotMark is the two-cell mark before an element the instructor points at,
// "▶ " in the focus style, or two spaces, so the rows of a list keep their
// alignment whichever one is spotlit. A heading that has no gutter takes
// spotMark(th, true) only while it is spotlit.
func spotMark(th *ui.Theme, on bool) string {
	if on {
		return th.Focus.Render("▶ ")
	}
	return "  "
}

// spotTick is spotMark one cell wide, "▸" in the focus style or a space,
// for labels with a single cell before them.
func spotTick(th *ui.Theme, on bool) string {
	if on {
		return th.Focus.Render("▸")
	}
	return " "
}
