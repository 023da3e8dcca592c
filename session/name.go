package session

import (
	"charm.land/bubbles/v2/key"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// namePrompt asks a new member what the class should call them, before
// anything else; then goes to then (the contents, or the class's chapter
// when nil).
type namePrompt struct {
	field ui.TextField
	then  mode
}

// newNamePrompt offers the SSH user name unless it is a generic one (and
// "Instructor" to an instructor with none).
func newNamePrompt(m *Model, user string, then mode) *namePrompt {
	suggest := room.SuggestName(user)
	if m.instructor() && suggest == "" {
		suggest = "Instructor"
	}
	return &namePrompt{field: ui.NewTextField(suggest, room.MaxNameWidth), then: then}
}

func (*namePrompt) title() string { return "Welcome" }
func (*namePrompt) covers() bool  { return true }
func (*namePrompt) input()        {}

func (n *namePrompt) footer(m *Model) (string, bool) {
	return m.keys.NameHint(), false
}

func (n *namePrompt) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Confirm):
		if room.CleanName(n.field.Value()) == "" {
			m.notice = "Please type a name the class will see"
			return nil
		}
		name, err := m.seat.SetName(n.field.Value())
		m.act(err)
		if err != nil {
			return nil
		}
		m.mode = n.then
		m.notice = "Welcome, " + name + "!"
		if !m.instructor() && m.following && m.underWay() {
			// Class is under way: go straight to where it is.
			m.mode = nil
		}
	case n.field.Key(msg, m.keys.Field):
	case msg.Text != "":
		n.field.Insert(msg.Text)
	}
	return nil
}

func (n *namePrompt) paste(_ *Model, text string) { n.field.Insert(text) }

func (n *namePrompt) view(m *Model, w, h int) string {
	var b strings.Builder
	if m.instructor() {
		b.WriteString(ui.Wrap("You are the instructor. Your chapter and controls are the class's: every student who "+
			"follows sees what you see. Press ? at any time for the teaching keys.", w))
	} else {
		b.WriteString(ui.Wrap("Welcome aboard the expedition. Your instructor will lead the class through the inside of a "+
			"large language model; your screen follows theirs, and you can always break away to explore.", w))
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Header.Render("What should the class call you?"))
	b.WriteString("\n\n  ")
	b.WriteString(m.th.TextFieldView(n.field, min(room.MaxNameWidth+2, w-4), true, true))
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render(fmt.Sprintf("up to %d characters · enter to join", room.MaxNameWidth)))
	if m.snap.Class != nil {
		b.WriteString("\n\n")
		b.WriteString(m.th.Subtle.Render(fmt.Sprintf("%d connected", m.snap.Class.Connected)))
	}
	return ui.Fit(b.String(), w, h)
}
