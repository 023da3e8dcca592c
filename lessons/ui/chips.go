package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Chip is one token as a learner sees it: its text (already made visible,
// see Visible) on a coloured background, with its ID underneath.
type Chip struct {
	Text string
	Sub  string
}

// Chips lays chips out in rows of at most width cells: each row of chips is
// two lines, the texts on alternating colours and the IDs aligned under
// them. At most maxRows rows are drawn; shown says how many chips made it.
func (t *Theme) Chips(chips []Chip, width, maxRows int) (out string, shown int) {
	if width < 4 || maxRows < 1 {
		return "", 0
	}
	var rows []string
	var top, bottom strings.Builder
	used := 0
	flush := func() {
		rows = append(rows, top.String()+"\n"+bottom.String())
		top.Reset()
		bottom.Reset()
		used = 0
	}
	sep := 0
	if t.Mono {
		sep = 1
	}
	for i, c := range chips {
		text := c.Text
		if text == "" {
			text = " "
		}
		// An ID always gets a cell of space after it, so neighbouring IDs
		// never run together into one long number; the token's colour covers
		// only its own text, so the padding cannot pass for a space in it.
		tw := lipgloss.Width(text)
		w := max(tw, lipgloss.Width(c.Sub)+1)
		if w > width-sep {
			w = width - sep
			text = PadRight(text, w)
			tw = w
		}
		if used > 0 && used+w+sep > width {
			flush()
			if len(rows) == maxRows {
				return strings.Join(rows, "\n"), i
			}
		}
		if t.Mono {
			top.WriteString("|")
			bottom.WriteString(" ")
		}
		bg := t.ChipColors[i%len(t.ChipColors)]
		top.WriteString(lipgloss.NewStyle().Background(bg).Foreground(t.ChipText).Render(text))
		top.WriteString(strings.Repeat(" ", w-tw))
		bottom.WriteString(lipgloss.NewStyle().Foreground(bg).Render(PadRight(c.Sub, w)))
		used += w + sep
	}
	if used > 0 {
		flush()
	}
	return strings.Join(rows, "\n"), len(chips)
}
