// Package session is one connection's Bubble Tea model: a thin shell
// (header, chapter body, control panel, footer, navigation, the link to
// the classroom) that routes to one component per mode: the name prompt,
// the text editor, estimate entry, the contents, help, the dashboard.
//
// Files are named for what they hold: model.go is the shell, chapter.go the
// chapter on screen and its controls, bridge.go the one path from the room
// to the screen, classroom.go the classroom's keys and lines, and one file
// per mode (name.go, editor.go, estimate.go, contents.go, help.go,
// dashboard.go) beside mode.go, which says what a mode is.
//
// Every session builds its own theme, key map and state; sessions share only
// the read-only lessons.Catalog and the room, which they reach through their
// own seat.
package session

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/expedition-llm/expedition/frame"
	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// sidebarMin is the width from which controls move to a column on the right.
const sidebarMin = 110

// EndMsg tells a session it is being ended (the server restarting, an idle
// timeout): it shows Text and ends shortly after.
type EndMsg struct{ Text string }

// PastedEsc stands for an ESC inside a pasted text on its way through the
// input decoder, which would otherwise read the escape sequence as a key and
// drop it from the paste. U+FDD0 is a noncharacter: no text holds it.
const PastedEsc = "\uFDD0"

// KeysDroppedMsg tells a session that keys arrived faster than anyone types
// and the server dropped some, so the student reads why.
type KeysDroppedMsg struct{}

type quitSoonMsg struct{}

// Options configure one session.
type Options struct {
	Catalog *lessons.Catalog
	// Width and Height are the terminal's size at connect; 0×0 (what some
	// clients report without a real terminal) is taken as 80×24.
	Width, Height int
	// Mono starts the session without colour, before the terminal's colour
	// profile is known.
	Mono bool
	// Seat is this session's place in the class; nil runs the tour alone
	// (the local and snapshot commands).
	Seat *room.Seat
	// Done, closed when the session ends, stops the wait for the room's
	// news (see Init).
	Done <-chan struct{}
	// Joins, if set, says how students join this class (an ssh command, a
	// web address), which the instructor's dashboard shows for the
	// projector; asked each time the dashboard is drawn, since a door may
	// open after the session began.
	Joins func() []string
	// Themes, if set, are the server's themes, shared by its sessions;
	// without them the session builds its own.
	Themes *ui.Themes
	// RoomSent says whoever runs the model waits on the seat's mailbox
	// itself and sends a RoomMsg for each wake (the server's session
	// loop), so the model starts no wait of its own: a goroutine fewer
	// per student.
	RoomSent bool
	// User is the SSH user name, offered as the display name unless generic.
	User string
	// OnPanic, if set, hears of a panic in this session (with its stack)
	// before whatever runs the model ends the session; the server logs it.
	OnPanic func(v any, stack []byte)
	// Renders, if set, is the render cache this session shares with the
	// others.
	Renders *Renders
	// Terminal, if set, is where the session's screens go: the session
	// draws itself there after every message (see present) and its View
	// is empty, for a program run without Bubble Tea's renderer. Without
	// it, View returns the screen as usual.
	Terminal *frame.Terminal
	// Frames, if set with Terminal, shares screens between sessions that
	// show the same thing; without it each session draws its own.
	Frames *frame.Cache
}

// Model is one session's state: the shell's, the chapter's and the mode's.
type Model struct {
	cat  *lessons.Catalog
	th   *ui.Theme
	keys ui.KeyMap
	help help.Model

	// width and height are the size the screen is drawn at; termW and termH
	// the terminal's size as the client reports it, which may be larger
	// than anything the server will draw (see ClampSize).
	width, height int
	termW, termH  int

	// mode is what the session does besides showing a chapter; nil for the
	// chapter alone.
	mode mode

	// chapter and values are this member's own position: the whole state
	// when alone, the explore state of a student who broke away.
	chapter int
	values  []lessons.Values
	focus   int
	// jumpTo is a chapter number being typed, when the catalog has
	// chapters past 9 (see jump).
	jumpTo string
	// scroll is where the chapter body starts on screen, for the chapter
	// it was scrolled in.
	scroll struct{ chapter, top int }

	notice   string
	noticeID uint64 // which notice the newest expiry timer is for
	closing  string

	// The classroom, when there is one.
	seat      *room.Seat
	done      <-chan struct{}
	roomSent  bool // the runner sends RoomMsg itself (Options.RoomSent)
	themes    *ui.Themes
	joins     func() []string // Options.Joins
	snap      room.Snapshot
	following bool
	draws     uint64 // how many times this session gave to a class activity

	onPanic func(v any, stack []byte)
	renders *Renders

	// term is where screens go (nil: through View); frames shares them;
	// last is what term was last handed.
	term   *frame.Terminal
	frames *frame.Cache
	last   shown
	own    ownMemo

	// body caches the last chapter render: View runs after every message,
	// and tokenizing 2,000 characters on each is work for nothing.
	body struct {
		key lessons.Frame
		out string
	}
}

// New builds a session's model, opening on the contents (or, in a class,
// on the name prompt first).
func New(o Options) *Model {
	m := &Model{
		cat:       o.Catalog,
		themes:    o.Themes,
		joins:     o.Joins,
		keys:      ui.NewKeyMap(),
		help:      help.New(),
		seat:      o.Seat,
		done:      o.Done,
		roomSent:  o.RoomSent,
		following: true,
		onPanic:   o.OnPanic,
		renders:   o.Renders,
		term:      o.Terminal,
		frames:    o.Frames,
	}
	m.th = m.theme(o.Mono)
	m.resize(o.Width, o.Height)
	m.values = make([]lessons.Values, m.cat.Len())
	for i := range m.values {
		m.values[i] = m.cat.Defaults(i) // shared until changed: values are copied on write
	}
	var first mode = &contents{}
	if m.seat != nil {
		m.take(m.seat.Latest())
		if m.instructor() || m.snap.Me.Name != "" || m.underWay() {
			// The class is under way, this member is coming back, or this
			// is its teacher: open where the class is, not on the contents.
			first = nil
		}
		if m.restorePosition() {
			first = nil
		}
		if m.snap.Me.Name == "" {
			first = newNamePrompt(m, o.User, first)
		}
	}
	m.mode = first
	return m
}

// resize takes the terminal's size as the client reports it.
func (m *Model) resize(w, h int) {
	m.termW, m.termH = w, h
	m.width, m.height = ClampSize(w, h)
}

// theme is the theme for a terminal with colour or without: the shared
// one if there is one.
func (m *Model) theme(mono bool) *ui.Theme {
	if m.themes != nil {
		return m.themes.For(mono)
	}
	return ui.NewTheme(mono)
}

// Init implements tea.Model: in a class, the first wait for the room's
// news (see bridge.go).
func (m *Model) Init() tea.Cmd { return m.awaitRoom() }

// reportPanic tells OnPanic about a panic and lets it go on: whatever runs
// the model (the server's session loop, Bubble Tea locally) catches it and
// ends this session only.
func (m *Model) reportPanic() {
	if r := recover(); r != nil {
		if m.onPanic != nil {
			m.onPanic(r, debug.Stack())
		}
		panic(r)
	}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	defer m.reportPanic()
	before := m.notice
	_, key := msg.(tea.KeyPressMsg)
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.armNotice(before, key))
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case noticeExpiredMsg:
		m.expireNotice(msg)
	case TerminalSizeMsg:
		m.resize(msg.Width, msg.Height)
		if m.term != nil {
			// The terminal may have moved or rewrapped what it showed.
			m.term.Redraw()
		}
	case KeysDroppedMsg:
		m.notice = "Too many keys at once: the extra were ignored"
	case tea.WindowSizeMsg:
		// The server sends the clamped size the screen is drawn at right
		// after the terminal's own (TerminalSizeMsg); anything else is a
		// terminal's size as it is.
		if w, h := ClampSize(m.termW, m.termH); w != msg.Width || h != msg.Height {
			m.resize(msg.Width, msg.Height)
		}
	case tea.ColorProfileMsg:
		mono := msg.Profile == colorprofile.Ascii || msg.Profile == colorprofile.NoTTY
		if mono != m.th.Mono {
			m.th = m.theme(mono)
		}
	case EndMsg:
		m.closing = msg.Text
		m.endInput()
		return quitAfter(700 * time.Millisecond)
	case RoomMsg:
		return tea.Batch(m.take(msg.Snap), m.awaitRoom())
	case quitSoonMsg:
		return tea.Quit
	case dashTickMsg:
		if d, ok := m.mode.(*dashboard); ok {
			return d.tick(m, msg)
		}
	case tea.PasteMsg:
		if m.closing == "" && !m.offSize() {
			m.paste(strings.ReplaceAll(msg.Content, PastedEsc, "\x1b"))
		}
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func quitAfter(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return quitSoonMsg{} })
}

// key routes a key press: to the mode if there is one, to the chapter
// otherwise. ctrl+c always quits.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Leave) {
		return tea.Quit
	}
	if m.closing != "" || m.offSize() {
		return nil
	}
	if m.seat != nil {
		m.seat.Touch()
	}
	m.notice = ""
	if m.mode != nil {
		return m.mode.key(m, msg)
	}
	return m.chapterKey(msg)
}

// paste hands pasted text to the mode that takes it, or to the chapter's
// text control.
func (m *Model) paste(text string) {
	switch md := m.mode.(type) {
	case paster:
		md.paste(m, text)
	case nil:
		m.pasteIntoChapter(text)
	}
}

// View implements tea.Model. Bubble Tea calls it after every message; with
// a Terminal the session draws there instead and the view is empty.
func (m *Model) View() tea.View {
	defer m.reportPanic()
	if m.term != nil {
		m.present()
		return tea.View{}
	}
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "Expedition"
	return v
}

// render draws the screen: the header, its rule, the mode or the chapter,
// a rule and the footer.
func (m *Model) render() string {
	text, _, _ := m.layout(-1)
	return text
}

// layout draws the screen and says where the poll box is on it: its first
// row and how many rows it has (0 when there is none). overflow is how many
// lines of the chapter do not fit, for the footer's hint, or -1 to measure
// it here.
func (m *Model) layout(overflow int) (text string, pollRow, pollRows int) {
	w, h := m.width, m.height
	if msg := m.sizeNotice(); msg != "" {
		if w < lipgloss.Width(msg) {
			msg = ui.Wrap(msg, w)
		}
		return ui.Fit(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, m.th.Warn.Render(msg)), w, h), 0, 0
	}
	header := m.header()
	footer := m.footer(overflow)
	mid := h - 4
	var body, pollBox string
	pollAt := -1 // the poll box's first line in body
	if m.mode != nil && m.mode.covers() {
		body = m.mode.view(m, w, mid)
	} else {
		status, box, chH := m.chapterParts()
		body = status + m.chapterView(w, chH)
		if box != "" {
			body = ui.Fit(body, w, chH+ui.Lines(status))
			pollBox, pollAt = box, max(ui.Lines(body), 1)+1
			body += "\n" + m.th.RuleLine(w) + "\n" + box
		}
	}
	body = ui.Fit(body, w, mid)
	if pad := mid - ui.Lines(body); pad > 0 {
		body += strings.Repeat("\n", pad)
	}
	if pollAt >= 0 && pollAt < mid {
		// Two rows above the body: the header and its rule.
		pollRow, pollRows = 2+pollAt, min(ui.Lines(pollBox), mid-pollAt)
	}
	return ui.Fit(header+"\n"+m.th.RuleLine(w)+"\n"+body+"\n"+m.th.RuleLine(w)+"\n"+footer, w, h), pollRow, pollRows
}

// header is the top line: where the session is on the left, who leads the
// class (or what the tour is) on the right.
func (m *Model) header() string {
	left := m.th.Title.Render("Expedition")
	if t := m.modeTitle(); t != "" {
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render(t)
	} else if l := m.lesson(); l != nil {
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render(fmt.Sprintf("%d  %s", l.Number(), l.Title()))
	}
	right := m.th.Subtle.Render("a tour inside a GPT-5-class model")
	lead := m.seat != nil && m.snap.Class != nil && m.snap.Class.Instructor != ""
	if lead {
		right = m.th.Subtle.Render("class led by ") + m.displayName(room.MemberView{Name: m.snap.Class.Instructor, Role: room.Instructor})
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 2 && lead {
		// A long chapter title: keep the instructor's name, drop the words.
		right = m.displayName(room.MemberView{Name: m.snap.Class.Instructor, Role: room.Instructor})
		gap = m.width - lipgloss.Width(left) - lipgloss.Width(right)
	}
	if gap < 2 {
		return ui.Fit(left, m.width, 1)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) modeTitle() string {
	if m.mode == nil {
		return ""
	}
	return m.mode.title()
}

// footer is the bottom line: a notice, or the keys that matter now, with
// the member's role, mode and the head count on the right in a class.
// overflow is as for layout.
func (m *Model) footer(overflow int) string {
	if m.closing != "" {
		return m.th.Warn.Render(m.closing)
	}
	left, badged := m.footerLeft(overflow)
	if m.seat == nil || !badged {
		return ui.Fit(left, m.width, 1)
	}
	badge := m.classBadge()
	space := m.width - lipgloss.Width(badge) - 2
	if space < 20 || m.notice != "" && lipgloss.Width(left) > space {
		// A notice is read once and goes: it may have the whole line.
		return ui.Fit(left, m.width, 1)
	}
	left = ui.Fit(left, space, 1)
	return left + strings.Repeat(" ", m.width-lipgloss.Width(left)-lipgloss.Width(badge)) + badge
}

// footerLeft is the notice, the mode's keys, or the chapter's, and whether
// the class badge goes beside it. overflow is as for layout.
func (m *Model) footerLeft(overflow int) (string, bool) {
	badged := true
	if m.mode != nil {
		text, b := m.mode.footer(m)
		badged = b
		if text != "" && m.notice == "" {
			return m.th.Subtle.Render(text), badged
		}
	}
	if m.notice != "" {
		return m.th.Warn.Render(m.notice), badged
	}
	keys := m.keys.ShortHelp()
	h := m.help
	if m.seat != nil {
		keys = m.classHelp(keys)
		h.SetWidth(m.width - lipgloss.Width(m.classBadge()) - 2)
	} else {
		h.SetWidth(m.width)
	}
	if overflow < 0 {
		overflow, _ = m.bodyOverflow()
	}
	if overflow > 0 {
		// First, so the narrowest footer still says how to read the rest.
		keys = append([]key.Binding{m.keys.ScrollHint()}, keys...)
	}
	return h.ShortHelpView(keys), badged
}
