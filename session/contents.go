package session

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// contents is the list of chapters, the first screen: choose one to open.
type contents struct {
	cursor int
}

func (*contents) title() string { return "Contents" }
func (*contents) covers() bool  { return true }

func (*contents) footer(*Model) (string, bool) { return "", true }

func (c *contents) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.FocusPrev):
		c.cursor = max(c.cursor-1, 0)
	case key.Matches(msg, k.FocusNext):
		c.cursor = min(c.cursor+1, m.cat.Len()-1)
	case key.Matches(msg, k.Confirm) && m.jumpTo != "":
		m.jump("")
	case key.Matches(msg, k.Jump):
		m.jump(msg.String())
	case key.Matches(msg, k.Select):
		m.goTo(c.cursor)
		m.mode = nil
	case key.Matches(msg, k.Help):
		m.mode = &helpScreen{}
	case key.Matches(msg, k.Back), key.Matches(msg, k.Contents), key.Matches(msg, k.Next):
		m.mode = nil
	}
	return nil
}

func (c *contents) view(m *Model, w, h int) string {
	var b strings.Builder
	b.WriteString(ui.Wrap("Welcome aboard. This tour walks through a large language model from the inside: "+
		"every number on screen is computed live, by a real tokenizer and real formulas.", w))
	b.WriteString("\n\n")
	b.WriteString(m.th.Header.Render("Chapters"))
	for i := 0; i < m.cat.Len(); i++ {
		l := m.cat.At(i)
		line := fmt.Sprintf(" %d  %s", l.Number(), l.Title())
		if m.seat != nil && m.snap.Class != nil && l.ID() == m.snap.Class.Chapter && !m.instructor() {
			line += m.th.Accent.Render("   ◂ the class is here")
		}
		sum := m.th.Subtle.Render("  " + l.Summary())
		b.WriteString("\n")
		if i == c.cursor {
			b.WriteString(m.th.Focus.Render("▸") + m.th.Strong.Render(line))
		} else {
			b.WriteString(" " + line)
		}
		if h >= 2*m.cat.Len()+8 {
			b.WriteString("\n    " + ui.Fit(sum, w-4, 1))
		}
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render(m.keys.ContentsHint()))
	return ui.Fit(b.String(), w, h)
}
