package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Slider draws a track of width cells with a knob at frac (0 to 1).
func (t *Theme) Slider(frac float64, width int, focused bool) string {
	if width < 3 {
		width = 3
	}
	if frac < 0 || frac != frac {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	pos := int(frac*float64(width-1) + 0.5)
	knob := "●"
	if t.Mono {
		knob = "O"
	}
	fill, rest := "━", "─"
	if t.Mono {
		fill, rest = "=", "-"
	}
	ks := t.Strong
	if focused {
		ks = t.Focus
	}
	return t.Bar.Render(strings.Repeat(fill, pos)) + ks.Render(knob) + t.Track.Render(strings.Repeat(rest, width-1-pos))
}

// Choice draws the current option of a choice between arrows, the arrows lit
// when the control has focus.
func (t *Theme) Choice(label string, focused bool) string {
	arrow := t.Subtle
	if focused {
		arrow = t.Focus
	}
	return arrow.Render("‹ ") + t.Strong.Render(label) + arrow.Render(" ›")
}

// Toggle draws an on/off box.
func (t *Theme) Toggle(on bool, focused bool) string {
	box := "[ ]"
	if on {
		box = "[x]"
	}
	if focused {
		return t.Focus.Render(box)
	}
	return t.Strong.Render(box)
}

// BarItem is one row of a horizontal bar chart.
type BarItem struct {
	Label string
	Value float64
	// Text is shown after the bar, typically the formatted value.
	Text string
	// Muted greys the row out, for what a cut has removed.
	Muted bool
}

// Bars draws a horizontal bar chart width cells wide. Bars are scaled to the
// largest value; negative values draw as empty bars.
func (t *Theme) Bars(items []BarItem, width int) string {
	if len(items) == 0 || width < 10 {
		return ""
	}
	labelW, textW := 0, 0
	maxV := 0.0
	for _, it := range items {
		labelW = max(labelW, lipgloss.Width(it.Label))
		textW = max(textW, lipgloss.Width(it.Text))
		if it.Value > maxV {
			maxV = it.Value
		}
	}
	labelW = min(labelW, width/3)
	barW := width - labelW - textW - 2
	if barW < 4 {
		textW = max(0, textW-(4-barW))
		barW = 4
	}
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		n := 0
		if maxV > 0 && it.Value > 0 {
			n = int(it.Value/maxV*float64(barW) + 0.5)
			if n == 0 {
				n = 1
			}
		}
		n = min(n, barW)
		bar := strings.Repeat("█", n)
		if t.Mono {
			bar = strings.Repeat("#", n)
		}
		style := t.Bar
		if it.Muted {
			style = t.Muted
			if t.Mono {
				bar = strings.Repeat(".", n)
			}
		}
		b.WriteString(PadRight(it.Label, labelW))
		b.WriteByte(' ')
		b.WriteString(style.Render(bar))
		b.WriteString(strings.Repeat(" ", barW-n+1))
		text := PadRight(it.Text, textW)
		if it.Muted {
			text = t.Muted.Render(text)
		}
		b.WriteString(text)
	}
	return b.String()
}
