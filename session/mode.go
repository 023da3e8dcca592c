package session

import tea "charm.land/bubbletea/v2"

// mode is what a session is doing besides showing a chapter: the name
// prompt, the text editor, estimate entry, the contents, the help screen,
// the dashboard. A session is in one mode at a time, or none (the chapter
// alone); each mode lives in its own file with its own keys and view, and
// the shell (model.go) only routes to it. A new mode (a Q&A queue, a
// projector view) is one new file and its keys in the key map.
type mode interface {
	// title names the mode in the header; "" keeps the chapter's title.
	title() string
	// key takes a key press. A mode leaves by setting s.mode.
	key(s *Model, msg tea.KeyPressMsg) tea.Cmd
	// covers reports whether the mode has the screen to itself; the text
	// editor and estimate entry work on the chapter screen instead.
	covers() bool
	// view draws a covering mode in the w×h between the header and the
	// footer's rules.
	view(s *Model, w, h int) string
	// footer is the mode's line of keys for the footer ("" for the
	// chapter's), and whether the class badge shows beside it.
	footer(s *Model) (text string, badge bool)
}

// paster is a mode that takes pasted text: the others leave a paste alone.
type paster interface {
	paste(s *Model, text string)
}

// inputMode is a mode that holds something being typed (a name, a text, an
// estimate): the server ending the session, a lock or a kick drops it.
type inputMode interface {
	mode
	input()
}

// endInput leaves a mode that holds typing, for the screen that ends a
// session or pulls it back in step.
func (m *Model) endInput() {
	if _, ok := m.mode.(inputMode); ok {
		m.mode = nil
	}
}
