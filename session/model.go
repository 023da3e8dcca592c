// Package session is one connection's Bubble Tea program: the app shell
// (header, chapter body, control panel, footer), navigation between chapters,
// the contents and help overlays, editing a chapter's controls, and the
// classroom as one member sees it (following or exploring, polls, the
// instructor's dashboard).
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

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// sidebarMin is the width from which controls move to a column on the right.
const sidebarMin = 110

// EndMsg tells a session it is being ended (the server restarting, an idle
// timeout): it shows Text and ends shortly after.
type EndMsg struct{ Text string }

// RoomMsg carries the room's newest snapshot for this session's seat.
type RoomMsg struct{ Snap room.Snapshot }

// PastedEsc stands for an ESC inside a pasted text on its way through the
// input decoder, which would otherwise read the escape sequence as a key and
// drop it from the paste. U+FDD0 is a noncharacter: no text holds it.
const PastedEsc = "\uFDD0"

// KeysDroppedMsg tells a session that keys arrived faster than anyone types
// and the server dropped some, so the student reads why.
type KeysDroppedMsg struct{}

type quitSoonMsg struct{}

type overlay int

const (
	overlayNone overlay = iota
	overlayContents
	overlayHelp
	overlayDashboard
)

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
	// User is the SSH user name, offered as the display name unless generic.
	User string
	// OnPanic, if set, hears of a panic in this session (with its stack)
	// before Bubble Tea ends the session; the server logs it.
	OnPanic func(v any, stack []byte)
	// Renders, if set, is the render cache this session shares with the
	// others.
	Renders *Renders
}

// Model is one session's state.
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

	// chapter and values are this member's own position: the whole state
	// when alone, the explore state of a student who broke away.
	chapter int
	values  []lessons.Values
	focus   int
	field   *ui.TextField // the text being edited, nil when not editing

	overlay  overlay
	cursor   int // the contents or dashboard selection
	helpPage int // the help screen's page

	notice   string
	noticeID uint64 // which notice the newest expiry timer is for
	closing  string

	// scroll is where the chapter body starts on screen, for the chapter
	// it was scrolled in.
	scroll struct{ chapter, top int }

	// The classroom, when there is one.
	seat      *room.Seat
	draws     uint64    // how many times this session gave to a class activity
	now       time.Time // the dashboard's clock, set when it opens and on each tick
	snap      room.Snapshot
	roster    []room.MemberView // the dashboard's, read while it is open
	following bool
	naming    *ui.TextField // the name prompt, nil once named
	pollField *ui.TextField // a number being typed for an estimate poll

	onPanic func(v any, stack []byte)
	renders *Renders

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
		th:        ui.NewTheme(o.Mono),
		keys:      ui.NewKeyMap(),
		help:      help.New(),
		overlay:   overlayContents,
		seat:      o.Seat,
		following: true,
		onPanic:   o.OnPanic,
		renders:   o.Renders,
	}
	m.resize(o.Width, o.Height)
	m.values = make([]lessons.Values, m.cat.Len())
	for i := range m.values {
		m.values[i] = lessons.Defaults(m.cat.At(i).Controls())
	}
	if m.seat != nil {
		m.applySnapshot(m.seat.Latest())
		if m.instructor() || m.snap.Me.Name != "" || m.underWay() {
			// The class is under way, this member is coming back, or this
			// is its teacher: open where the class is, not on the contents.
			m.overlay = overlayNone
		}
		m.restorePosition()
		if m.snap.Me.Name == "" {
			suggest := room.SuggestName(o.User)
			if m.instructor() && suggest == "" {
				suggest = "Instructor"
			}
			f := ui.NewTextField(suggest, room.MaxNameWidth)
			m.naming = &f
		}
	}
	return m
}

// resize takes the terminal's size as the client reports it.
func (m *Model) resize(w, h int) {
	m.termW, m.termH = w, h
	m.width, m.height = ClampSize(w, h)
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// reportPanic tells OnPanic about a panic and lets it go on: Bubble Tea
// catches it, restores the terminal and ends this session only.
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
	// A notice lasts noticeFor from when it was last said: a key that says
	// it again (a second "slow down") starts it afresh.
	if m.notice != "" && (m.notice != before || key) {
		m.noticeID++
		id := m.noticeID
		cmd = tea.Batch(cmd, tea.Tick(noticeFor, func(time.Time) tea.Msg { return noticeExpiredMsg{id} }))
	}
	return m, cmd
}

// noticeFor is how long a footer notice stays: long enough to read twice.
const noticeFor = 6 * time.Second

// noticeExpiredMsg ends the notice it was armed for, unless another has
// been said since.
type noticeExpiredMsg struct{ id uint64 }

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case noticeExpiredMsg:
		if msg.id == m.noticeID {
			m.notice = ""
		}
	case TerminalSizeMsg:
		m.resize(msg.Width, msg.Height)
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
			m.th = ui.NewTheme(mono)
		}
	case EndMsg:
		m.closing = msg.Text
		m.field, m.naming, m.pollField = nil, nil, nil
		return quitAfter(700 * time.Millisecond)
	case RoomMsg:
		return m.roomUpdate(msg.Snap)
	case quitSoonMsg:
		return tea.Quit
	case dashTickMsg:
		if m.overlay == overlayDashboard {
			m.now = msg.now
			m.loadRoster()
			return dashTick()
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

// shownChapter is the index of the chapter on screen: the room's for the
// instructor and for a following student, the member's own otherwise.
func (m *Model) shownChapter() int {
	if m.synced() && m.snap.Class != nil {
		if i, ok := m.cat.Index(m.snap.Class.Chapter); ok {
			return i
		}
	}
	return m.chapter
}

// shownValues are the values on screen for chapter index i: the room's
// when synced, except Personal controls, which are always the member's own.
func (m *Model) shownValues(i int) lessons.Values {
	l := m.cat.At(i)
	if m.synced() && m.snap.Class != nil {
		v := lessons.Normalize(l.Controls(), m.snap.Class.Values[l.ID()])
		for _, c := range l.Controls() {
			if c.Personal {
				v[c.Key] = m.values[i][c.Key]
			}
		}
		return v
	}
	return m.values[i]
}

// synced reports whether the screen shows the room's state rather than the
// member's own: always for the instructor (their state is the room's), for a
// student while following.
func (m *Model) synced() bool {
	return m.seat != nil && (m.instructor() || m.following)
}

func (m *Model) instructor() bool { return m.seat != nil && m.seat.Role() == room.Instructor }

func (m *Model) locked() bool {
	return m.seat != nil && !m.instructor() && m.snap.Class != nil && m.snap.Class.Locked
}

func (m *Model) lesson() lessons.Lesson { return m.cat.At(m.shownChapter()) }

func (m *Model) visible() []lessons.Control {
	i := m.shownChapter()
	l := m.cat.At(i)
	if l == nil {
		return nil
	}
	return lessons.VisibleControls(l.Controls(), m.shownValues(i))
}

func (m *Model) focused() (lessons.Control, bool) {
	vis := m.visible()
	if len(vis) == 0 {
		return lessons.Control{}, false
	}
	if m.focus < 0 {
		// A snapshot has nothing focused.
		return lessons.Control{}, false
	}
	m.focus = min(m.focus, len(vis)-1)
	return vis[m.focus], true
}

// mayChange says whether this member may change what is on screen now, and
// if they may, makes sure a following student breaks away first.
func (m *Model) mayChange() bool {
	if m.locked() {
		m.notice = "The instructor has locked the class: everyone follows for now"
		return false
	}
	if m.seat != nil && !m.instructor() && m.following {
		m.detach()
	}
	return true
}

// set changes one control of the chapter on screen.
func (m *Model) set(key, value string) {
	i := m.shownChapter()
	l := m.cat.At(i)
	if c, ok := lessons.ControlByKey(l, key); ok && c.Personal {
		m.values[i] = m.values[i].With(key, value)
		m.contribute(true)
		m.report()
		return
	}
	v := m.shownValues(i).With(key, value)
	if ln, ok := l.(lessons.Linker); ok {
		v = ln.Link(v, key)
	}
	if m.instructor() {
		old := m.shownValues(i)
		changed := map[string]string{}
		for k, nv := range v {
			if old[k] != nv {
				changed[k] = nv
			}
		}
		if len(changed) > 0 {
			m.act(m.seat.SetValues(l.ID(), changed))
			m.closeStalePoll(l.ID(), v)
		}
		return
	}
	m.values[i] = v
	m.report()
}

// goTo shows chapter index i.
func (m *Model) goTo(i int) {
	if i < 0 || i >= m.cat.Len() {
		if i >= m.cat.Len() {
			m.notice = "That was the last chapter · t for the contents"
		} else {
			m.notice = "This is the first chapter"
		}
		return
	}
	if i != m.shownChapter() {
		if !m.mayChange() {
			return
		}
		m.focus = 0
	}
	m.overlay = overlayNone
	if m.instructor() {
		m.act(m.seat.SetChapter(m.cat.At(i).ID()))
		return
	}
	m.chapter = i
	m.report()
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "ctrl+c" {
		return tea.Quit
	}
	if m.closing != "" || m.offSize() {
		return nil
	}
	if m.seat != nil {
		m.seat.Touch()
	}
	m.notice = ""
	switch {
	case m.naming != nil:
		m.nameKey(msg)
		return nil
	case m.field != nil:
		m.editKey(msg)
		return nil
	case m.pollField != nil:
		m.pollFieldKey(msg)
		return nil
	}
	switch m.overlay {
	case overlayHelp:
		switch k := msg.String(); {
		case key.Matches(msg, m.keys.Quit):
			return tea.Quit
		case (k == "right" || k == "pgdown" || k == "space") && m.helpPage < m.helpPages()-1:
			m.helpPage++
		case (k == "left" || k == "pgup") && m.helpPage > 0:
			m.helpPage--
		default:
			m.overlay = overlayNone
		}
		return nil
	case overlayContents:
		return m.contentsKey(msg)
	case overlayDashboard:
		return m.dashboardKey(msg)
	}
	if cmd, ok := m.classKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.overlay, m.helpPage = overlayHelp, 0
	case key.Matches(msg, m.keys.Contents):
		m.overlay = overlayContents
		m.cursor = m.shownChapter()
	case key.Matches(msg, m.keys.ScrollDown):
		m.scrollBy(m.scrollStep(k))
	case key.Matches(msg, m.keys.ScrollUp):
		m.scrollBy(-m.scrollStep(k))
	case key.Matches(msg, m.keys.Next):
		m.goTo(m.shownChapter() + 1)
	case key.Matches(msg, m.keys.Prev):
		m.goTo(m.shownChapter() - 1)
	case key.Matches(msg, m.keys.Jump):
		m.jump(k)
	// Focus stops at the ends rather than wrapping: ↑ on the first control
	// must not land on the last, a vote that ←/→ would then cast.
	case key.Matches(msg, m.keys.FocusNext):
		m.focus = min(m.focus+1, max(len(m.visible())-1, 0))
	case key.Matches(msg, m.keys.FocusPrev):
		m.focus = max(m.focus-1, 0)
	case key.Matches(msg, m.keys.Increase):
		m.adjust(1)
	case key.Matches(msg, m.keys.Decrease):
		m.adjust(-1)
	case key.Matches(msg, m.keys.IncreaseMore):
		m.adjust(10)
	case key.Matches(msg, m.keys.DecreaseMore):
		m.adjust(-10)
	case key.Matches(msg, m.keys.Edit), key.Matches(msg, m.keys.Toggle):
		if c, ok := m.focused(); ok {
			switch c.Kind {
			case lessons.Text:
				if !m.mayChange() {
					return nil
				}
				f := ui.NewTextField(m.shownValues(m.shownChapter())[c.Key], c.MaxLen)
				m.field = &f
			case lessons.Toggle:
				m.adjust(1)
			}
		}
	}
	return nil
}

func (m *Model) contentsKey(msg tea.KeyPressMsg) tea.Cmd {
	switch k := msg.String(); {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case k == "up" || k == "shift+tab":
		m.cursor = max(m.cursor-1, 0)
	case k == "down" || k == "tab":
		m.cursor = min(m.cursor+1, m.cat.Len()-1)
	case k == "enter" || k == "space" || k == "right":
		m.goTo(m.cursor)
		m.overlay = overlayNone
	case key.Matches(msg, m.keys.Jump):
		m.jump(k)
	case key.Matches(msg, m.keys.Help):
		m.overlay, m.helpPage = overlayHelp, 0
	case k == "esc" || key.Matches(msg, m.keys.Contents):
		m.overlay = overlayNone
	case key.Matches(msg, m.keys.Next):
		m.overlay = overlayNone
	}
	return nil
}

func (m *Model) jump(digit string) {
	n := int(digit[0] - '0')
	if i, ok := m.cat.ByNumber(n); ok {
		m.goTo(i)
		if m.notice == "" {
			m.overlay = overlayNone
		}
		return
	}
	m.notice = fmt.Sprintf("There is no chapter %d · t for the contents", n)
}

func (m *Model) adjust(steps int) {
	c, ok := m.focused()
	if !ok {
		return
	}
	if c.Kind == lessons.Text {
		m.notice = "Press enter to edit the text"
		return
	}
	if !c.Personal && !m.mayChange() {
		return
	}
	m.set(c.Key, c.Adjust(m.shownValues(m.shownChapter())[c.Key], steps))
}

func (m *Model) editKey(msg tea.KeyPressMsg) {
	c, ok := m.focused()
	if !ok || c.Kind != lessons.Text {
		m.field = nil
		return
	}
	switch k := msg.String(); {
	case k == "esc" || k == "enter":
		m.field = nil
		return
	case m.field.Key(k):
	case msg.Text != "":
		if dropped := m.field.Insert(msg.Text); dropped > 0 {
			m.notice = fmt.Sprintf("Text is capped at %s characters", thousands(c.MaxLen))
		}
	default:
		return
	}
	m.set(c.Key, m.field.Value())
}

// paste puts pasted text into the field being typed in, or else the focused
// text control, or else the chapter's first text control.
func (m *Model) paste(s string) {
	switch {
	case m.naming != nil:
		m.naming.Insert(s)
		return
	case m.pollField != nil:
		m.pollField.Insert(s)
		return
	case m.overlay != overlayNone:
		return
	}
	vis := m.visible()
	idx := -1
	if c, ok := m.focused(); ok && c.Kind == lessons.Text {
		idx = m.focus
	} else {
		for i, c := range vis {
			if c.Kind == lessons.Text {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		m.notice = "Nothing here takes text"
		return
	}
	if m.field == nil && !m.mayChange() {
		return
	}
	c := vis[idx]
	if m.field == nil || m.focus != idx {
		m.focus = idx
		f := ui.NewTextField(m.shownValues(m.shownChapter())[c.Key], c.MaxLen)
		m.field = &f
	}
	if dropped := m.field.Insert(s); dropped > 0 {
		m.notice = fmt.Sprintf("Paste cut: text is capped at %s characters (%s left out)",
			thousands(c.MaxLen), thousands(dropped))
	}
	m.set(c.Key, m.field.Value())
}

// thousands prints n with comma separators.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	defer m.reportPanic()
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "Expedition"
	return v
}

func (m *Model) render() string {
	w, h := m.width, m.height
	if msg := m.sizeNotice(); msg != "" {
		if w < lipgloss.Width(msg) {
			msg = ui.Wrap(msg, w)
		}
		return ui.Fit(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, m.th.Warn.Render(msg)), w, h)
	}
	header := m.header()
	footer := m.footer()
	mid := h - 4
	var body string
	switch {
	case m.naming != nil:
		body = m.nameView(w, mid)
	case m.overlay == overlayContents:
		body = m.contents(w, mid)
	case m.overlay == overlayHelp:
		body = m.helpView(w, mid)
	case m.overlay == overlayDashboard:
		body = m.dashboardView(w, mid)
	default:
		status, pollBox, chH := m.chapterParts()
		body = status + m.chapterView(w, chH)
		if pollBox != "" {
			body = ui.Fit(body, w, chH+ui.Lines(status))
			body += "\n" + m.th.RuleLine(w) + "\n" + pollBox
		}
	}
	body = ui.Fit(body, w, mid)
	if pad := mid - ui.Lines(body); pad > 0 {
		body += strings.Repeat("\n", pad)
	}
	return ui.Fit(header+"\n"+m.th.RuleLine(w)+"\n"+body+"\n"+m.th.RuleLine(w)+"\n"+footer, w, h)
}

// chapterParts lays out the screen between the header's rule and the
// footer's when a chapter is on it: the status line (with its newline, or
// ""), the poll box ("" without a poll) and the height left for the chapter.
func (m *Model) chapterParts() (status, pollBox string, chH int) {
	w, mid := m.width, m.height-4
	if s := m.statusLine(w); s != "" {
		status = s + "\n"
	}
	pollBox = m.pollView(w)
	chH = mid - ui.Lines(status)
	if pollBox != "" {
		chH -= ui.Lines(pollBox) + 1
	}
	return status, pollBox, max(chH, 1)
}

// chapterHeight is the height the chapter area gets.
func (m *Model) chapterHeight() int {
	_, _, h := m.chapterParts()
	return h
}

func (m *Model) header() string {
	left := m.th.Title.Render("Expedition")
	switch {
	case m.naming != nil:
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Welcome")
	case m.overlay == overlayContents:
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Contents")
	case m.overlay == overlayHelp:
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Keys")
	case m.overlay == overlayDashboard:
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Class dashboard")
	default:
		if l := m.lesson(); l != nil {
			left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render(fmt.Sprintf("%d  %s", l.Number(), l.Title()))
		}
	}
	right := m.th.Subtle.Render("a tour inside a GPT-5-class model")
	if m.seat != nil && m.snap.Class != nil && m.snap.Class.Instructor != "" {
		right = m.th.Subtle.Render("class led by ") + m.displayName(room.MemberView{Name: m.snap.Class.Instructor, Role: room.Instructor})
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 2 && m.seat != nil && m.snap.Class != nil && m.snap.Class.Instructor != "" {
		// A long chapter title: keep the instructor's name, drop the words.
		right = m.displayName(room.MemberView{Name: m.snap.Class.Instructor, Role: room.Instructor})
		gap = m.width - lipgloss.Width(left) - lipgloss.Width(right)
	}
	if gap < 2 {
		return ui.Fit(left, m.width, 1)
	}
	return left + strings.Repeat(" ", gap) + right
}

// footer is the bottom line: a notice, or the keys that matter now, with
// the member's role, mode and the head count on the right in a class.
func (m *Model) footer() string {
	if m.closing != "" {
		return m.th.Warn.Render(m.closing)
	}
	left := m.footerLeft()
	if m.seat == nil || m.naming != nil {
		return left
	}
	badge := m.classBadge()
	room := m.width - lipgloss.Width(badge) - 2
	if room < 20 || m.notice != "" && lipgloss.Width(left) > room {
		// A notice is read once and goes: it may have the whole line.
		return ui.Fit(left, m.width, 1)
	}
	left = ui.Fit(left, room, 1)
	return left + strings.Repeat(" ", m.width-lipgloss.Width(left)-lipgloss.Width(badge)) + badge
}

func (m *Model) footerLeft() string {
	if m.notice != "" {
		return m.th.Warn.Render(m.notice)
	}
	switch {
	case m.naming != nil:
		return m.th.Subtle.Render("type your name · enter to join the class · ctrl+c to leave")
	case m.field != nil:
		return m.th.Subtle.Render("editing · type or paste · ←/→ move · backspace · ctrl+u clear · esc or enter when done")
	case m.pollField != nil:
		return m.th.Subtle.Render("type your estimate (e.g. 1200, 3.5e6, 40M) · enter to answer · esc to cancel")
	}
	keys := m.keys.ShortHelp()
	h := m.help
	if m.seat != nil {
		keys = m.classHelp(keys)
		h.SetWidth(m.width - lipgloss.Width(m.classBadge()) - 2)
	} else {
		h.SetWidth(m.width)
	}
	if extra, _ := m.bodyOverflow(); extra > 0 {
		// First, so the narrowest footer still says how to read the rest.
		hint := key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn/pgup", "scroll"))
		keys = append([]key.Binding{hint}, keys...)
	}
	return h.ShortHelpView(keys)
}

func (m *Model) chapterView(w, h int) string {
	i := m.shownChapter()
	l := m.cat.At(i)
	if l == nil {
		return ""
	}
	vals := m.shownValues(i)
	p := lessons.Panel{Editing: m.field, Locked: m.locked()}
	if c, ok := m.focused(); ok && m.focus >= 0 {
		p.Focus = c.Key
	}
	frame, viewH, panel := m.bodyFrame(l, vals, w, h, p)
	body, _ := viewport(strings.Split(m.lessonBody(l, frame), "\n"), m.scrollTop(), viewH, m.th)
	if w >= sidebarMin && len(l.Controls()) > 0 {
		return joinSide(body, panel, frame.Width, h, m.th)
	}
	if panel == "" {
		return body
	}
	return body + "\n" + m.th.RuleLine(w) + "\n" + panel
}

// bodyFrame lays out the chapter area w×h: the frame the chapter body is
// drawn in, the height of its window on screen (a body taller than that
// scrolls), and the control panel (beside the body from sidebarMin
// columns, below it otherwise, where it may take a third of the height and
// scrolls its own controls).
func (m *Model) bodyFrame(l lessons.Lesson, vals lessons.Values, w, h int, p lessons.Panel) (lessons.Frame, int, string) {
	frame := lessons.Frame{Theme: m.th, Values: vals, Spot: m.spot(l), Class: m.tally(l), Solo: m.seat == nil}
	if w >= sidebarMin && len(l.Controls()) > 0 {
		side := 38
		frame.Width, frame.Height = w-side-3, h
		panel := m.th.Header.Render("Controls") + "\n" + lessons.RenderPanel(m.th, l.Controls(), vals, p, side, h-1, true)
		return frame, h, panel
	}
	panel := lessons.RenderPanel(m.th, l.Controls(), vals, p, w, max(h/3, 3), false)
	bodyH := h
	if panel != "" {
		bodyH = h - ui.Lines(panel) - 1
	}
	frame.Width, frame.Height = w, max(bodyH, 1)
	return frame, frame.Height, panel
}

// scrollTop is the first line of the chapter body on screen: the member's
// own, for the chapter it was set on; a new chapter starts at the top.
func (m *Model) scrollTop() int {
	if m.scroll.chapter != m.shownChapter() {
		return 0
	}
	return m.scroll.top
}

// bodyOverflow is how many lines of the chapter on screen do not fit its
// window (0 when it fits), and the window's height: what the scroll keys
// and the footer's hint need, from the same layout the screen is drawn by.
func (m *Model) bodyOverflow() (extra, viewH int) {
	if m.overlay != overlayNone || m.naming != nil || m.offSize() {
		return 0, 0
	}
	i := m.shownChapter()
	l := m.cat.At(i)
	if l == nil {
		return 0, 0
	}
	w, h := m.width, m.chapterHeight()
	frame, viewH, _ := m.bodyFrame(l, m.shownValues(i), w, h, lessons.Panel{})
	return max(ui.Lines(m.lessonBody(l, frame))-viewH, 0), viewH
}

// scrollBy moves the chapter body by n lines (a page is the window less a
// line, so one line of context stays).
func (m *Model) scrollBy(n int) {
	extra, _ := m.bodyOverflow()
	if extra == 0 {
		return
	}
	// The last page ends with the body's last line under the ↑ marker.
	m.scroll.chapter = m.shownChapter()
	m.scroll.top = min(max(m.scrollTop()+n, 0), extra+1)
}

// scrollStep is how far a scroll key moves: shift+↓/↑ a line, pgdn/pgup a
// page less two lines (the markers), so a line of context stays.
func (m *Model) scrollStep(k string) int {
	if strings.HasPrefix(k, "shift+") {
		return 1
	}
	_, viewH := m.bodyOverflow()
	return max(viewH-3, 1)
}

// viewport is the part of lines from top that fits h rows, with a marker
// line on top when there is more above and at the bottom when there is more
// below: a chapter never silently loses what does not fit.
func viewport(lines []string, top, h int, th *ui.Theme) (string, int) {
	n := len(lines)
	if n <= h {
		for len(lines) < h {
			lines = append(lines, "")
		}
		return strings.Join(lines, "\n"), 0
	}
	if h < 3 {
		return strings.Join(lines[:h], "\n"), 0
	}
	top = min(max(top, 0), n-(h-1))
	above := top > 0
	avail := h
	if above {
		avail--
	}
	below := top+avail < n
	if below {
		avail--
	}
	var out []string
	if above {
		out = append(out, th.Subtle.Render(fmt.Sprintf("↑ %d more above · pgup", top)))
	}
	out = append(out, lines[top:top+avail]...)
	if below {
		out = append(out, th.Subtle.Render(fmt.Sprintf("↓ %d more below · pgdn", n-top-avail)))
	}
	return strings.Join(out, "\n"), top
}

// lessonBody renders the chapter, reusing the last render when nothing it
// depends on changed.
func (m *Model) lessonBody(l lessons.Lesson, f lessons.Frame) string {
	c := &m.body
	k := c.key
	if k.Theme == f.Theme && k.Width == f.Width && k.Height == f.Height && k.Spot == f.Spot && k.Solo == f.Solo &&
		k.Values.Equal(f.Values) && tallyEqual(k.Class, f.Class) && c.out != "" {
		return c.out
	}
	var out string
	if m.renders != nil {
		out = m.renders.Render(l, f)
	} else {
		out = l.Render(f)
	}
	// Taller than its frame is allowed: the body scrolls (viewport).
	c.key, c.out = f, ui.FitWidth(out, f.Width)
	return c.out
}

func tallyEqual(a, b lessons.Tally) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// joinSide puts the panel in a column right of the body, with a rule
// between them.
func joinSide(body, panel string, bodyW, h int, th *ui.Theme) string {
	bl := strings.Split(body, "\n")
	pl := strings.Split(panel, "\n")
	out := make([]string, h)
	for i := range h {
		var a, b string
		if i < len(bl) {
			a = bl[i]
		}
		if i < len(pl) {
			b = pl[i]
		}
		out[i] = ui.PadRight(a, bodyW) + " " + th.Rule.Render("│") + " " + b
	}
	return strings.Join(out, "\n")
}

func (m *Model) contents(w, h int) string {
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
		if i == m.cursor {
			b.WriteString(m.th.Focus.Render("▸") + m.th.Strong.Render(line))
		} else {
			b.WriteString(" " + line)
		}
		if h >= 2*m.cat.Len()+8 {
			b.WriteString("\n    " + ui.Fit(sum, w-4, 1))
		}
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render("↑/↓ choose · enter open · a digit jumps to a chapter · ? keys · q quit"))
	return ui.Fit(b.String(), w, h)
}

// helpText is everything the help screen says, wrapped to w: the keys one
// to a line (two columns when there is room), then the classroom's keys and
// what the badges mean.
func (m *Model) helpText(w int) []string {
	var keys []string
	for i, group := range m.keys.FullHelp() {
		if i > 0 {
			keys = append(keys, "")
		}
		for _, b := range group {
			h := b.Help()
			keys = append(keys, m.th.Focus.Render(ui.PadRight(h.Key, 13))+h.Desc)
		}
	}
	var b strings.Builder
	b.WriteString(m.th.Header.Render("Keys") + "\n\n")
	if w >= 100 {
		half := (len(keys) + 1) / 2
		for i := range half {
			line := ui.PadRight(keys[i], w/2)
			if i+half < len(keys) {
				line += keys[i+half]
			}
			b.WriteString(line + "\n")
		}
	} else {
		b.WriteString(strings.Join(keys, "\n") + "\n")
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

// helpView is one page of the help screen, with a last line that always
// says how to page and how to close it.
func (m *Model) helpView(w, h int) string {
	lines := m.helpText(w)
	per := max(h-1, 1)
	pages := max((len(lines)+per-1)/per, 1)
	page := min(m.helpPage, pages-1)
	body := lines[page*per : min((page+1)*per, len(lines))]
	for len(body) < per {
		body = append(body, "")
	}
	last := "any key closes this"
	switch {
	case pages > 1 && page == 0:
		last = fmt.Sprintf("page 1 of %d · → next page · any other key closes this", pages)
	case pages > 1 && page == pages-1:
		last = fmt.Sprintf("page %d of %d · ← back · any other key closes this", page+1, pages)
	case pages > 1:
		last = fmt.Sprintf("page %d of %d · → next · ← back · any other key closes this", page+1, pages)
	}
	return ui.Fit(strings.Join(body, "\n")+"\n"+m.th.Subtle.Render(last), w, h)
}
