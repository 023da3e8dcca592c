// Package session is one connection's Bubble Tea program: the app shell
// (header, chapter body, control panel, footer), navigation between chapters,
// the contents and help overlays, and editing a chapter's controls.
//
// Every session builds its own theme, key map and state; the only thing
// sessions share is the read-only lessons.Catalog.
package session

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
)

// MinWidth and MinHeight are the smallest terminal a chapter is drawn in;
// below it the screen asks for a bigger window and ignores keys.
const (
	MinWidth  = 80
	MinHeight = 24
)

// sidebarMin is the width from which controls move to a column on the right.
const sidebarMin = 110

// ShutdownMsg tells a session the server is going away: it shows Text and
// ends shortly after.
type ShutdownMsg struct{ Text string }

type overlay int

const (
	overlayNone overlay = iota
	overlayContents
	overlayHelp
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
}

// Model is one session's state.
type Model struct {
	cat  *lessons.Catalog
	th   *ui.Theme
	keys ui.KeyMap
	help help.Model

	width, height int

	chapter int
	values  []lessons.Values
	focus   int
	field   *ui.TextField // the text being edited, nil when not editing

	overlay overlay
	cursor  int // the contents screen's selection

	notice  string
	closing string

	// body caches the last chapter render: View runs after every message,
	// and tokenizing 2,000 characters on each is work for nothing.
	body struct {
		chapter, width, height int
		values                 lessons.Values
		out                    string
	}
}

// New builds a session's model, opening on the contents.
func New(o Options) *Model {
	m := &Model{
		cat:     o.Catalog,
		th:      ui.NewTheme(o.Mono),
		keys:    ui.NewKeyMap(),
		help:    help.New(),
		overlay: overlayContents,
	}
	m.resize(o.Width, o.Height)
	m.values = make([]lessons.Values, m.cat.Len())
	for i := range m.values {
		m.values[i] = lessons.Defaults(m.cat.At(i).Controls())
	}
	m.body.chapter = -1
	return m
}

func (m *Model) resize(w, h int) {
	if w <= 0 || h <= 0 {
		w, h = 80, 24
	}
	m.width, m.height = w, h
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.ColorProfileMsg:
		mono := msg.Profile == colorprofile.Ascii || msg.Profile == colorprofile.NoTTY
		if mono != m.th.Mono {
			m.th = ui.NewTheme(mono)
			m.body.chapter = -1
		}
	case ShutdownMsg:
		m.closing = msg.Text
		m.field = nil
		return m, tea.Tick(700*time.Millisecond, func(time.Time) tea.Msg { return tea.QuitMsg{} })
	case tea.PasteMsg:
		if m.closing == "" && !m.tooSmall() {
			m.paste(msg.Content)
		}
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) tooSmall() bool { return m.width < MinWidth || m.height < MinHeight }

func (m *Model) lesson() lessons.Lesson { return m.cat.At(m.chapter) }

func (m *Model) visible() []lessons.Control {
	l := m.lesson()
	if l == nil {
		return nil
	}
	return lessons.VisibleControls(l.Controls(), m.values[m.chapter])
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

func (m *Model) set(key, value string) {
	v := m.values[m.chapter].With(key, value)
	if ln, ok := m.lesson().(lessons.Linker); ok {
		v = ln.Link(v, key)
	}
	m.values[m.chapter] = v
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "ctrl+c" {
		return tea.Quit
	}
	if m.closing != "" || m.tooSmall() {
		return nil
	}
	m.notice = ""
	if m.field != nil {
		m.editKey(msg)
		return nil
	}
	switch m.overlay {
	case overlayHelp:
		if key.Matches(msg, m.keys.Quit) {
			return tea.Quit
		}
		m.overlay = overlayNone
		return nil
	case overlayContents:
		return m.contentsKey(msg)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.overlay = overlayHelp
	case key.Matches(msg, m.keys.Contents):
		m.overlay = overlayContents
		m.cursor = m.chapter
	case key.Matches(msg, m.keys.Next):
		m.goTo(m.chapter + 1)
	case key.Matches(msg, m.keys.Prev):
		m.goTo(m.chapter - 1)
	case key.Matches(msg, m.keys.Jump):
		m.jump(k)
	case key.Matches(msg, m.keys.FocusNext):
		m.focus++
		if n := len(m.visible()); n > 0 {
			m.focus %= n
		}
	case key.Matches(msg, m.keys.FocusPrev):
		m.focus--
		if m.focus < 0 {
			m.focus = max(len(m.visible())-1, 0)
		}
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
				f := ui.NewTextField(m.values[m.chapter][c.Key], c.MaxLen)
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
	case key.Matches(msg, m.keys.Jump):
		m.jump(k)
	case key.Matches(msg, m.keys.Help):
		m.overlay = overlayHelp
	case k == "esc" || key.Matches(msg, m.keys.Contents):
		m.overlay = overlayNone
	case key.Matches(msg, m.keys.Next):
		m.goTo(m.chapter)
	}
	return nil
}

func (m *Model) goTo(i int) {
	if i < 0 || i >= m.cat.Len() {
		if i >= m.cat.Len() {
			m.notice = "That was the last chapter · t for the contents"
		} else {
			m.notice = "This is the first chapter"
		}
		return
	}
	if i != m.chapter {
		m.focus = 0
	}
	m.chapter = i
	m.overlay = overlayNone
}

func (m *Model) jump(digit string) {
	n := int(digit[0] - '0')
	if i, ok := m.cat.ByNumber(n); ok {
		m.goTo(i)
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
	m.set(c.Key, c.Adjust(m.values[m.chapter][c.Key], steps))
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

// paste puts pasted text into the focused text control, or the chapter's
// first text control if another control has focus.
func (m *Model) paste(s string) {
	if m.overlay != overlayNone {
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
	c := vis[idx]
	if m.field == nil || m.focus != idx {
		m.focus = idx
		f := ui.NewTextField(m.values[m.chapter][c.Key], c.MaxLen)
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
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "Expedition"
	return v
}

func (m *Model) render() string {
	w, h := m.width, m.height
	if m.tooSmall() {
		msg := fmt.Sprintf("Terminal too small: now %d×%d, need %d×%d", w, h, MinWidth, MinHeight)
		if w < lipgloss.Width(msg) {
			msg = ui.Wrap(msg, w)
		}
		return ui.Fit(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, m.th.Warn.Render(msg)), w, h)
	}
	header := m.header()
	footer := m.footer()
	mid := h - 4
	var body string
	switch m.overlay {
	case overlayContents:
		body = m.contents(w, mid)
	case overlayHelp:
		body = m.helpView(w, mid)
	default:
		body = m.chapterView(w, mid)
	}
	body = ui.Fit(body, w, mid)
	if pad := mid - ui.Lines(body); pad > 0 {
		body += strings.Repeat("\n", pad)
	}
	return ui.Fit(header+"\n"+m.th.RuleLine(w)+"\n"+body+"\n"+m.th.RuleLine(w)+"\n"+footer, w, h)
}

func (m *Model) header() string {
	left := m.th.Title.Render("Expedition")
	if l := m.lesson(); l != nil && m.overlay == overlayNone {
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render(fmt.Sprintf("%d  %s", l.Number(), l.Title()))
	} else if m.overlay == overlayContents {
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Contents")
	} else if m.overlay == overlayHelp {
		left += m.th.Subtle.Render("  ·  ") + m.th.Header.Render("Keys")
	}
	right := m.th.Subtle.Render("a tour inside a GPT-5-class model")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 2 {
		return ui.Fit(left, m.width, 1)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) footer() string {
	if m.closing != "" {
		return m.th.Warn.Render(m.closing)
	}
	if m.notice != "" {
		return m.th.Warn.Render(m.notice)
	}
	if m.field != nil {
		return m.th.Subtle.Render("editing · type or paste · ←/→ move · backspace · ctrl+u clear · esc or enter when done")
	}
	m.help.SetWidth(m.width)
	return m.help.ShortHelpView(m.keys.ShortHelp())
}

func (m *Model) chapterView(w, h int) string {
	l := m.lesson()
	if l == nil {
		return ""
	}
	vals := m.values[m.chapter]
	p := lessons.Panel{Editing: m.field}
	if c, ok := m.focused(); ok && m.focus >= 0 {
		p.Focus = c.Key
	}
	if w >= sidebarMin {
		side := 38
		bodyW := w - side - 3
		panel := m.th.Header.Render("Controls") + "\n" + lessons.RenderPanel(m.th, l.Controls(), vals, p, side, h-1, true)
		body := m.lessonBody(l, vals, bodyW, h)
		return joinSide(body, panel, bodyW, h, m.th)
	}
	// Below the body the panel may take a third of the height; more
	// controls scroll.
	panel := lessons.RenderPanel(m.th, l.Controls(), vals, p, w, max(h/3, 3), false)
	bodyH := h - ui.Lines(panel) - 1
	if panel == "" {
		bodyH = h
	}
	body := m.lessonBody(l, vals, w, bodyH)
	if pad := bodyH - ui.Lines(body); pad > 0 {
		body += strings.Repeat("\n", pad)
	}
	if panel == "" {
		return body
	}
	return body + "\n" + m.th.RuleLine(w) + "\n" + panel
}

func (m *Model) lessonBody(l lessons.Lesson, vals lessons.Values, w, h int) string {
	c := &m.body
	if c.chapter == m.chapter && c.width == w && c.height == h && c.values.Equal(vals) {
		return c.out
	}
	out := ui.Fit(l.Render(lessons.Frame{Theme: m.th, Values: vals, Width: w, Height: h}), w, h)
	c.chapter, c.width, c.height, c.values, c.out = m.chapter, w, h, vals, out
	return out
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
		sum := m.th.Subtle.Render("  " + l.Summary())
		b.WriteString("\n")
		if i == m.cursor {
			b.WriteString(m.th.Focus.Render("▸") + m.th.Strong.Render(line))
		} else {
			b.WriteString(" " + line)
		}
		b.WriteString("\n    " + ui.Fit(sum, w-4, 1))
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render("↑/↓ choose · enter open · a digit jumps to a chapter · ? keys · q quit"))
	return ui.Fit(b.String(), w, h)
}

func (m *Model) helpView(w, h int) string {
	m.help.SetWidth(w)
	var b strings.Builder
	b.WriteString(m.th.Header.Render("Keys"))
	b.WriteString("\n\n")
	b.WriteString(m.help.FullHelpView(m.keys.FullHelp()))
	b.WriteString("\n\n")
	b.WriteString(ui.Wrap("Every chapter has controls: move between them with ↑/↓ or tab, change them with ←/→ "+
		"(hold shift for ten steps). A text control is edited with enter and left with esc. "+
		"Figures are marked "+m.th.Badge(ui.Computed)+" when an exact formula or the real tokenizer made them, "+
		m.th.Badge(ui.Illustrative)+" for a hand-set toy, and "+m.th.Badge(ui.Estimate)+" for a guess.", w))
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render("any key closes this"))
	return ui.Fit(b.String(), w, h)
}
