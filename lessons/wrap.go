package lessons

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// siWrap word-wraps like ui.Wrap but never breaks at a hyphen, so "top-p"
// and "min-p" stay whole: a line ending in "min-" reads as a typo. The
// hyphens ride through the wrap as non-breaking ones (same width).
func siWrap(s string, width int) string {
	const nb = "\u2011"
	return strings.ReplaceAll(ui.Wrap(strings.ReplaceAll(s, "-", nb), width), nb, "-")
}

// withBadge appends badge to text's last line when it fits within width
// there, and on a line of its own otherwise: the badge is never cut.
func withBadge(text, badge string, width int) string {
	lines := strings.Split(ui.Wrap(text, max(width, 10)), "\n")
	last := len(lines) - 1
	if lipgloss.Width(lines[last])+2+lipgloss.Width(badge) <= width {
		lines[last] += "  " + badge
	} else {
		lines = append(lines, badge)
	}
	return strings.Join(lines, "\n")
}

// hangWrap wraps text to width under a hanging indent: every line starts
// with pad, so a long sentence continues in its column instead of being cut.
func hangWrap(pad, text string, width int) string {
	lines := strings.Split(ui.Wrap(text, max(width-len(pad), 10)), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// leadWrap writes text after a row label and wraps it under itself, so a
// narrow body continues the row in its column rather than cutting it.
func leadWrap(lead, text string, width int) string {
	pad := strings.Repeat(" ", lipgloss.Width(lead))
	return lead + strings.TrimPrefix(hangWrap(pad, text, width), pad)
}
