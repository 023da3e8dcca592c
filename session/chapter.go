package session

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

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
			m.notice = "That was the last chapter · " + m.keys.ContentsKey()
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
	m.mode = nil
	if m.instructor() {
		m.act(m.seat.SetChapter(m.cat.At(i).ID()))
		return
	}
	m.chapter = i
	m.report()
}

// chapterKey handles a key on the chapter screen: the classroom's keys
// first, then getting around and the controls.
func (m *Model) chapterKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.jumpTo != "" {
		switch {
		case key.Matches(msg, m.keys.Confirm):
			m.jump("")
			return nil
		case key.Matches(msg, m.keys.Jump):
			m.jump(msg.String())
			return nil
		}
		m.jumpTo = "" // any other key: the number was not meant
	}
	if cmd, ok := m.classKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.mode = &helpScreen{}
	case key.Matches(msg, m.keys.Contents):
		m.mode = &contents{cursor: m.shownChapter()}
	case key.Matches(msg, m.keys.ScrollDown):
		m.scrollBy(m.scrollPage())
	case key.Matches(msg, m.keys.ScrollUp):
		m.scrollBy(-m.scrollPage())
	case key.Matches(msg, m.keys.LineDown):
		m.scrollBy(1)
	case key.Matches(msg, m.keys.LineUp):
		m.scrollBy(-1)
	case key.Matches(msg, m.keys.Next):
		m.goTo(m.shownChapter() + 1)
	case key.Matches(msg, m.keys.Prev):
		m.goTo(m.shownChapter() - 1)
	case key.Matches(msg, m.keys.Jump):
		m.jump(msg.String())
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
				if m.mayChange() {
					m.mode = newEditor(m, c)
				}
			case lessons.Toggle:
				m.adjust(1)
			}
		}
	}
	return nil
}

// jump goes to a chapter by its number. Up to chapter 9 a digit goes at
// once; when the catalog runs past 9, a digit that could begin a longer
// number waits for the next digit or enter ("1" then "2" then enter for
// chapter 12; "1" then enter for chapter 1). digit is "" for enter.
func (m *Model) jump(digit string) {
	if digit != "" {
		m.jumpTo += digit
		if n, _ := strconv.Atoi(m.jumpTo); n > 0 && n*10 <= m.lastNumber() {
			m.notice = fmt.Sprintf("Chapter %s… · another digit, or enter", m.jumpTo)
			return
		}
	}
	n, err := strconv.Atoi(m.jumpTo)
	m.jumpTo = ""
	if err != nil {
		return
	}
	if i, ok := m.cat.ByNumber(n); ok {
		m.goTo(i)
		if m.notice == "" {
			m.mode = nil
		}
		return
	}
	m.notice = fmt.Sprintf("There is no chapter %d · %s", n, m.keys.ContentsKey())
}

// lastNumber is the highest chapter number.
func (m *Model) lastNumber() int {
	last := 0
	for i := 0; i < m.cat.Len(); i++ {
		last = max(last, m.cat.At(i).Number())
	}
	return last
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

// pasteIntoChapter puts pasted text into the focused text control, or else
// the chapter's first text control, opening the editor on it.
func (m *Model) pasteIntoChapter(text string) {
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
	if !m.mayChange() {
		return
	}
	m.focus = idx
	ed := newEditor(m, vis[idx])
	m.mode = ed
	ed.paste(m, text)
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

// chapterView draws the chapter on screen in w×h: its body (scrolled) and
// its control panel.
func (m *Model) chapterView(w, h int) string {
	i := m.shownChapter()
	l := m.cat.At(i)
	if l == nil {
		return ""
	}
	vals := m.shownValues(i)
	p := lessons.Panel{Locked: m.locked()}
	if ed, ok := m.mode.(*editor); ok {
		p.Editing = &ed.field
	}
	if c, ok := m.focused(); ok && m.focus >= 0 {
		p.Focus = c.Key
	}
	frame, viewH, panel := m.bodyFrame(l, vals, w, h, p)
	body, _ := viewport(strings.Split(m.lessonBody(l, frame), "\n"), m.scrollTop(), viewH, m.th)
	if w >= sidebarMin && len(l.Controls()) > 0 {
		return ui.Beside(body, panel, frame.Width, h, " "+m.th.Rule.Render("│")+" ")
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
	if m.mode != nil && m.mode.covers() || m.offSize() {
		return 0, 0
	}
	i := m.shownChapter()
	l := m.cat.At(i)
	if l == nil {
		return 0, 0
	}
	_, _, h := m.chapterParts()
	frame, viewH, _ := m.bodyFrame(l, m.shownValues(i), m.width, h, lessons.Panel{})
	return max(ui.Lines(m.lessonBody(l, frame))-viewH, 0), viewH
}

// scrollBy moves the chapter body by n lines.
func (m *Model) scrollBy(n int) {
	extra, _ := m.bodyOverflow()
	if extra == 0 {
		return
	}
	// The last page ends with the body's last line under the ↑ marker.
	m.scroll.chapter = m.shownChapter()
	m.scroll.top = min(max(m.scrollTop()+n, 0), extra+1)
}

// scrollPage is how far pgdn/pgup move: a page less two lines (the
// markers), so a line of context stays.
func (m *Model) scrollPage() int {
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
