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

// Block is one piece of a screen that may be dropped when space runs out.
type Block struct {
	Text string
	// Optional blocks are left out, lowest priority first, when the screen is
	// too short for everything.
	Optional bool
	Priority int
}

// Stack joins blocks top to bottom with a blank line between them, leaving
// out optional blocks (lowest Priority first) until the whole fits height.
func Stack(height int, blocks ...Block) string {
	keep := make([]bool, len(blocks))
	for i := range keep {
		keep[i] = blocks[i].Text != ""
	}
	total := func() int {
		n, first := 0, true
		for i, b := range blocks {
			if !keep[i] {
				continue
			}
			if !first {
				n++
			}
			first = false
			n += Lines(b.Text)
		}
		return n
	}
	for total() > height {
		drop := -1
		for i, b := range blocks {
			if keep[i] && b.Optional && (drop < 0 || b.Priority < blocks[drop].Priority) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		keep[drop] = false
	}
	var parts []string
	for i, b := range blocks {
		if keep[i] {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n\n")
}
