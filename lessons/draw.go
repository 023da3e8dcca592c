package lessons

import (
	"math"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// joinColumns puts right beside left, padding left to leftWidth cells.
func joinColumns(left, right string, leftWidth int) string {
	return ui.Beside(left, right, leftWidth, 0, "")
}

// fracBar draws frac of width cells in eighths of a block, so small
// values (a word's probability, a model's cache) still differ; muted bars use a light shade (and dots when
// mono) so a cut reads without colour. A positive frac never draws empty.
func fracBar(th *ui.Theme, frac float64, width int, style lipgloss.Style, muted bool) string {
	if width < 1 {
		return ""
	}
	frac = min(max(frac, 0), 1)
	if math.IsNaN(frac) {
		frac = 0
	}
	var s string
	switch {
	case th.Mono || muted:
		n := int(frac*float64(width) + 0.5)
		if n == 0 && frac > 0 {
			n = 1
		}
		ch := "#"
		if muted {
			ch = "░"
			if th.Mono {
				ch = "."
			}
		}
		s = strings.Repeat(ch, n)
	default:
		eighths := int(frac*float64(width)*8 + 0.5)
		if eighths == 0 && frac > 0 {
			eighths = 1
		}
		s = strings.Repeat("█", eighths/8)
		if r := eighths % 8; r > 0 {
			s += []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}[r]
		}
	}
	return style.Render(s) + strings.Repeat(" ", width-lipgloss.Width(s))
}

// chipStyle is the i-th of the theme's chip colours, as a foreground. A
// chapter gives each thing it tells apart (a pipeline stage, a response, a
// request, an expert) one index, so the same thing has the same colour in
// every figure that shows it.
func chipStyle(th *ui.Theme, i int) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(th.ChipColors[i%len(th.ChipColors)])
}
