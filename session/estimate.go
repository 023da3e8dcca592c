package session

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// maxEstimate is the most characters an estimate may take: room for
// "1,000,000,000,000" or "2.1 trillion" and a typo.
const maxEstimate = 24

// estimate is a number being typed for the open estimate poll, in the poll
// box on the chapter screen.
type estimate struct {
	field ui.TextField
}

// newEstimate starts an estimate with the text of the key that began it: a
// digit, a point or a sign is its first character; the estimate key itself
// starts an empty one.
func newEstimate(first string) *estimate {
	e := &estimate{field: ui.NewTextField("", maxEstimate)}
	if strings.ContainsAny(first, "0123456789.-") {
		e.field.Insert(first)
	}
	return e
}

// estimating reports whether an estimate is being typed.
func (m *Model) estimating() bool {
	_, ok := m.mode.(*estimate)
	return ok
}

func (*estimate) title() string                { return "" }
func (*estimate) covers() bool                 { return false }
func (*estimate) view(*Model, int, int) string { return "" }
func (*estimate) input()                       {}

func (*estimate) footer(m *Model) (string, bool) { return m.keys.EstimateHint(), true }

func (e *estimate) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Back):
		m.mode = nil
	case key.Matches(msg, m.keys.Confirm):
		n, err := ParseNumber(e.field.Value())
		if err != nil {
			m.notice = err.Error()
			return nil
		}
		if p, ok := m.answerable(); ok && !p.Spec.InRange(n) {
			// Kept in the field, to be mended rather than typed again.
			m.notice = lessons.FormatEstimate(n) + " is out of range: answers are " + rangeText(p.Spec)
			return nil
		}
		m.act(m.seat.Answer(room.Answer{Number: n}))
		m.mode = nil
		if m.notice == "" {
			m.notice = "Answered " + lessons.FormatEstimate(n) + ": you can change it until the reveal"
		}
	case e.field.Key(msg, m.keys.Field):
	case msg.Text != "":
		e.field.Insert(msg.Text)
	}
	return nil
}

func (e *estimate) paste(_ *Model, text string) { e.field.Insert(text) }
