package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
)

// HeatCell is one cell of a heatmap: a value from 0 to 1, or masked.
type HeatCell struct {
	Value  float64
	Masked bool
}

// Heatmap draws a grid with row and column labels; each cell shows its value
// as a shade (░▒▓█, so it reads without colour too) and as a number.
// Highlight marks one row (-1 for none).
func (t *Theme) Heatmap(rowLabels, colLabels []string, cells [][]HeatCell, width, highlight int) string {
	if len(cells) == 0 || width < 10 {
		return ""
	}
	labelW := 0
	for _, l := range rowLabels {
		labelW = max(labelW, lipgloss.Width(l))
	}
	labelW = min(labelW, width/4)
	cols := len(cells[0])
	cellW := (width - labelW - 1) / max(cols, 1)
	cellW = min(max(cellW, 4), 9)
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", labelW+1))
	for j := 0; j < cols; j++ {
		l := ""
		if j < len(colLabels) {
			l = colLabels[j]
		}
		b.WriteString(t.Subtle.Render(PadRight(l, cellW)))
	}
	shades := []string{" ", "░", "▒", "▓", "█"}
	for i, row := range cells {
		b.WriteByte('\n')
		l := ""
		if i < len(rowLabels) {
			l = rowLabels[i]
		}
		ls := t.Text
		if i == highlight {
			ls = t.Focus
		}
		b.WriteString(ls.Render(PadRight(l, labelW)) + " ")
		for _, c := range row {
			if c.Masked {
				b.WriteString(t.Muted.Render(PadRight(" ·", cellW)))
				continue
			}
			v := min(max(c.Value, 0), 1)
			shade := shades[min(int(v*float64(len(shades)-1)+0.5), len(shades)-1)]
			num := fmt.Sprintf("%.2f", v)
			col := t.Heat[min(int(v*float64(len(t.Heat)-1)+0.5), len(t.Heat)-1)]
			cell := lipgloss.NewStyle().Foreground(col).Render(shade+shade) + " " + num
			b.WriteString(PadRight(cell, cellW))
		}
	}
	return Fit(b.String(), width, len(cells)+1)
}
