package session

import (
	"charm.land/lipgloss/v2"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// helpScreen lists every key, from the key map, for the member's role, a
// page at a time when they do not fit.
type helpScreen struct {
	page int
}

func (*helpScreen) title() string { return "Keys" }
func (*helpScreen) covers() bool  { return true }

func (*helpScreen) footer(*Model) (string, bool) { return "", true }

func (hs *helpScreen) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.PageNext) && hs.page < m.helpPages()-1:
		hs.page++
	case key.Matches(msg, k.PagePrev) && hs.page > 0:
		hs.page--
	default:
		m.mode = nil
	}
	return nil
}

// helpText is everything the help screen says, wrapped to w: the key map's
// groups for the member's role, one key a line (two columns when there is
// room), then a word on the classroom and on the badges.
func (m *Model) helpText(w int) []string {
	groups := m.keys.Groups(m.seat != nil, m.instructor())
	labelW := 0
	for _, g := range groups {
		for _, k := range g.Keys {
			labelW = max(labelW, lipgloss.Width(k.Help().Key)+2)
		}
	}
	// Two columns when the screen is wide enough that no description
	// wraps in half of it; wrapped pairs of columns read worse than one.
	colW := w/2 - 1
	for _, g := range groups {
		for _, k := range g.Keys {
			if labelW+lipgloss.Width(k.Help().Desc) > colW {
				colW = w
			}
		}
	}
	labelW = min(labelW, colW/2)
	var keys []string
	for i, g := range groups {
		if i > 0 {
			keys = append(keys, "")
		}
		keys = append(keys, m.th.Strong.Render(g.Title))
		for _, k := range g.Keys {
			h := k.Help()
			// A long word wraps under itself, never cut.
			for j, line := range strings.Split(ui.Wrap(h.Desc, colW-labelW), "\n") {
				label := ""
				if j == 0 {
					label = m.th.Focus.Render(ui.PadRight(h.Key, labelW-1)) + " "
				}
				keys = append(keys, ui.PadRight(label, labelW)+line)
			}
		}
	}
	var b strings.Builder
	b.WriteString(m.th.Header.Render("Keys") + "\n\n")
	if colW < w {
		half := (len(keys) + 1) / 2
		for i := range half {
			line := ui.PadRight(keys[i], colW+2)
			if i+half < len(keys) {
				line += keys[i+half]
			}
			b.WriteString(line + "\n")
		}
	} else {
		for _, l := range keys {
			b.WriteString(l + "\n")
		}
	}
	if m.seat != nil {
		b.WriteString("\n" + m.classHelpText(w) + "\n")
	}
	b.WriteString("\n" + ui.Wrap("Every chapter has controls: move between them with ↑/↓ or tab, change them with ←/→ "+
		"(hold shift for ten steps). A text control is edited with enter and left with esc. "+
		"Figures are marked "+m.th.Badge(ui.Computed)+" when an exact formula or the real tokenizer made them, "+
		m.th.Badge(ui.Illustrative)+" for a hand-set toy, and "+m.th.Badge(ui.Estimate)+" for a guess.", w))
	return strings.Split(b.String(), "\n")
}

// helpPages is how many pages the help screen takes at the current size.
func (m *Model) helpPages() int {
	per := max(m.height-4-1, 1)
	return max((len(m.helpText(m.width))+per-1)/per, 1)
}

// view is one page of the help screen, with a last line that always says
// how to page and how to close it.
func (hs *helpScreen) view(m *Model, w, h int) string {
	lines := m.helpText(w)
	per := max(h-1, 1)
	pages := max((len(lines)+per-1)/per, 1)
	page := min(hs.page, pages-1)
	body := lines[page*per : min((page+1)*per, len(lines))]
	for len(body) < per {
		body = append(body, "")
	}
	last := m.keys.HelpPageHint(page, pages)
	return ui.Fit(strings.Join(body, "\n")+"\n"+m.th.Subtle.Render(last), w, h)
}
