package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Fit cuts every line of s to width cells and keeps at most height lines, so
// nothing a widget draws can spill past the terminal.
func Fit(s string, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// FitWidth cuts every line of s to width cells, keeping every line: for a
// body that scrolls rather than stops.
func FitWidth(s string, width int) string {
	if width <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// Wrap word-wraps plain prose to width, keeping blank lines between
// paragraphs.
func Wrap(s string, width int) string {
	if width < 1 {
		width = 1
	}
	return ansi.Wrap(s, width, "")
}

// Lines counts the lines of a rendered block.
func Lines(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// RuleLine is a horizontal line of width cells.
func (t *Theme) RuleLine(width int) string {
	if width < 1 {
		return ""
	}
	return t.Rule.Render(strings.Repeat("─", width))
}

// PadRight pads s with spaces to width cells (ANSI-aware); longer strings
// are cut.
func PadRight(s string, width int) string {
	w := lipgloss.Width(s)
	if w > width {
		return ansi.Truncate(s, width, "…")
	}
	return s + strings.Repeat(" ", width-w)
}

// Column joins blocks top to bottom with a blank line between them,
// skipping empty ones and dropping none: a chapter body taller than its
// frame scrolls (the session shows where more is), so what a chapter says
// is never lost to a short screen. Put the idea first, the details after.
func Column(blocks ...string) string {
	var parts []string
	for _, b := range blocks {
		if b != "" {
			parts = append(parts, b)
		}
	}
	return strings.Join(parts, "\n\n")
}

// Beside puts right beside left, line by line, padding each line of left to
// leftWidth cells and putting sep between the two. The result has rows
// lines, or as many as the taller side when rows is 0.
func Beside(left, right string, leftWidth, rows int, sep string) string {
	l := strings.Split(left, "\n")
	r := strings.Split(right, "\n")
	if rows <= 0 {
		rows = max(len(l), len(r))
	}
	out := make([]string, rows)
	for i := range rows {
		var a, b string
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		out[i] = PadRight(a, leftWidth) + sep + b
	}
	return strings.Join(out, "\n")
}
