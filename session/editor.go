package session

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
)

// editor edits the focused text control in place, on the chapter screen:
// every key is sent on at once, so the chapter follows the typing.
type editor struct {
	field ui.TextField
}

// newEditor starts editing control c from the value on screen.
func newEditor(m *Model, c lessons.Control) *editor {
	return &editor{field: ui.NewTextField(m.shownValues(m.shownChapter())[c.Key], c.MaxLen)}
}

func (*editor) title() string                { return "" }
func (*editor) covers() bool                 { return false }
func (*editor) view(*Model, int, int) string { return "" }
func (*editor) input()                       {}

func (*editor) footer(m *Model) (string, bool) { return m.keys.EditHint(), true }

// control is the text control being edited, if it is still on screen.
func (e *editor) control(m *Model) (lessons.Control, bool) {
	c, ok := m.focused()
	return c, ok && c.Kind == lessons.Text
}

func (e *editor) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	c, ok := e.control(m)
	if !ok {
		m.mode = nil
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Confirm), key.Matches(msg, m.keys.Back):
		m.mode = nil
		return nil
	case e.field.Key(msg, m.keys.Field):
	case msg.Text != "":
		if dropped := e.field.Insert(msg.Text); dropped > 0 {
			m.notice = fmt.Sprintf("Text is capped at %s characters", thousands(c.MaxLen))
		}
	default:
		return nil
	}
	m.set(c.Key, e.field.Value())
	return nil
}

// paste puts pasted text at the cursor, cut to the control's cap with a
// notice.
func (e *editor) paste(m *Model, text string) {
	c, ok := e.control(m)
	if !ok {
		m.mode = nil
		return
	}
	if dropped := e.field.Insert(text); dropped > 0 {
		m.notice = fmt.Sprintf("Paste cut: text is capped at %s characters (%s left out)",
			thousands(c.MaxLen), thousands(dropped))
	}
	m.set(c.Key, e.field.Value())
}
