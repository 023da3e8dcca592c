package session

import (
	"fmt"
	"hash/fnv"
	"maps"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// applySnapshot takes the room's newest state. A snapshot older than the
// one on screen is dropped: the forwarding goroutine may deliver one it read
// just before this session's own action was applied (act reads the room at
// once), and going back to it would undo that action on this screen.
func (m *Model) applySnapshot(s room.Snapshot) {
	if s.Class == nil || m.snap.Class != nil && s.Class.Version < m.snap.Class.Version {
		return
	}
	m.snap = s
	if m.locked() {
		// A lock pulls everyone back in step.
		m.following = true
		m.field = nil
	}
}

// restorePosition puts a reconnecting student back where they were:
// exploring, on their chapter, with their own values.
func (m *Model) restorePosition() {
	if m.instructor() {
		return
	}
	p := m.snap.Me.Position
	explorer := !p.Following && p.Chapter != "" && !m.locked()
	for j := 0; j < m.cat.Len(); j++ {
		l := m.cat.At(j)
		v, ok := p.Values[l.ID()]
		if !ok {
			continue
		}
		if explorer {
			m.values[j] = lessons.Normalize(l.Controls(), v)
			continue
		}
		for _, c := range l.Controls() {
			if s, ok := v[c.Key]; ok && c.Personal {
				m.values[j] = m.values[j].With(c.Key, c.Clamp(s))
			}
		}
	}
	i, ok := m.cat.Index(p.Chapter)
	if !explorer || !ok {
		return
	}
	m.following = false
	m.chapter = i
	m.overlay = overlayNone
}

// roomUpdate handles a new snapshot from the room.
func (m *Model) roomUpdate(s room.Snapshot) tea.Cmd {
	if s.Class == nil || m.snap.Class != nil && s.Class.Version < m.snap.Class.Version {
		return nil
	}
	wasLocked := m.locked()
	prev := ""
	var prevPoll *room.PollView
	wasTeaching, hadHand, shown := false, m.snap.Me.Hand, m.shownChapter()
	if m.snap.Class != nil {
		prev = m.snap.Class.Chapter
		prevPoll = m.snap.Class.Poll
		wasTeaching = m.snap.Class.Teaching
	}
	first := m.snap.Class == nil
	m.applySnapshot(s)
	if m.shownChapter() != shown {
		// "Sent to the class: chair" is about the chapter just left.
		m.notice = ""
	}
	m.loadRoster()
	if m.following && !m.instructor() && m.overlay == overlayContents && m.naming == nil &&
		(s.Class.Chapter != prev || !wasTeaching && s.Class.Teaching) {
		// A follower browsing the contents goes where the class goes, and
		// to the class when its instructor arrives.
		m.overlay = overlayNone
		m.focus = 0
	}
	if s.Me.Kicked {
		m.closing = "The instructor removed you from the class."
		m.field, m.naming, m.pollField = nil, nil, nil
		return quitAfter(1500 * time.Millisecond)
	}
	switch {
	case hadHand && !s.Me.Hand && !m.instructor():
		m.notice = "Your hand is down: the instructor lowered it"
	case !m.instructor() && !first && wasTeaching && !s.Class.Teaching:
		m.notice = "The instructor has left for now: the class stays where it is"
	case !m.instructor() && !first && !wasTeaching && s.Class.Teaching:
		m.notice = "The instructor is back"
	}
	if m.locked() && !wasLocked {
		m.notice = "The instructor locked the class: you follow until it is unlocked"
		m.report()
	} else if wasLocked && !m.locked() {
		m.notice = "The instructor unlocked the class: you may explore again"
	}
	if p := s.Class.Poll; p == nil || !p.Open || p.Revealed {
		m.pollField = nil
	}
	if pollState(prevPoll) != pollState(s.Class.Poll) {
		// "Answered 2" and the like are stale once a poll opens, shows its
		// answers or closes.
		m.notice = ""
	}
	return nil
}

// pollState names a poll's phase, to notice when it moves on.
func pollState(p *room.PollView) string {
	switch {
	case p == nil:
		return ""
	case p.Revealed:
		return p.Spec.Chapter + "/" + p.Spec.ID + " revealed"
	default:
		return p.Spec.Chapter + "/" + p.Spec.ID + " open"
	}
}

// act shows the room's refusal of an action, if any. With the room's answer
// applied at once, the member's own screen never lags their key press.
func (m *Model) act(err error) {
	if err != nil {
		m.notice = err.Error()
	}
	if m.seat != nil {
		m.applySnapshot(m.seat.Latest())
	}
}

// detach turns a following student into an explorer, starting from
// exactly what the instructor had on screen.
func (m *Model) detach() {
	if !m.following {
		return
	}
	m.chapter = m.shownChapter()
	for i := 0; i < m.cat.Len(); i++ {
		m.values[i] = m.shownValues(i)
	}
	m.following = false
	m.report()
}

// follow snaps a student back to the instructor.
func (m *Model) follow() {
	m.following = true
	m.field = nil
	m.overlay = overlayNone
	m.focus = 0
	m.report()
}

// report tells the room where this member is (for the dashboard and for a
// reconnect).
func (m *Model) report() {
	if m.seat == nil || m.instructor() {
		return
	}
	// An explorer's whole state, or a follower's Personal values only
	// (their votes and seeds), so a reconnect restores either.
	p := room.Position{Following: m.following, Values: make(map[string]map[string]string, m.cat.Len())}
	if !m.following {
		p.Chapter = m.cat.At(m.chapter).ID()
	}
	for i := 0; i < m.cat.Len(); i++ {
		l := m.cat.At(i)
		if !m.following {
			p.Values[l.ID()] = maps.Clone(m.values[i])
			continue
		}
		for _, c := range l.Controls() {
			if c.Personal {
				if p.Values[l.ID()] == nil {
					p.Values[l.ID()] = map[string]string{}
				}
				p.Values[l.ID()][c.Key] = m.values[i][c.Key]
			}
		}
	}
	m.act(m.seat.Report(p))
}

// spot is the element the instructor points at, shown to everyone who sees
// the instructor's chapter.
func (m *Model) spot(l lessons.Lesson) string {
	if m.synced() && m.snap.Class != nil && m.snap.Class.Chapter == l.ID() {
		return m.snap.Class.Spot
	}
	return ""
}

// tally is the class's pooled input for chapter l.
func (m *Model) tally(l lessons.Lesson) lessons.Tally {
	if m.snap.Class == nil {
		return nil
	}
	if t := m.snap.Class.Tallies[l.ID()]; len(t) > 0 {
		return lessons.Tally(t)
	}
	return nil
}

// classKey handles the classroom's own keys; ok is false when the key is
// not one of them.
func (m *Model) classKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if m.seat == nil {
		return nil, false
	}
	k := msg.String()
	if m.pollKey(msg) {
		return nil, true
	}
	if m.instructor() {
		switch k {
		case "o":
			m.openNextPoll()
		case "r":
			m.act(m.seat.RevealPoll())
		case "c":
			m.act(m.seat.ClosePoll())
		case "L":
			if err := m.seat.SetLock(!m.snap.Class.Locked); err != nil {
				m.act(err)
				break
			}
			m.act(nil)
			if m.snap.Class.Locked {
				m.notice = "Class locked: every student follows you"
			} else {
				m.notice = "Class unlocked: students may explore"
			}
		case "d":
			m.overlay = overlayDashboard
			m.cursor = 0
			m.now = time.Now()
			m.loadRoster()
			return dashTick(), true
		case "s":
			m.nextSpot()
		case "S":
			m.act(m.seat.SetSpot(""))
		case "C":
			if _, ok := m.lesson().(lessons.Activity); ok {
				if err := m.seat.ClearTallies(m.lesson().ID()); err != nil {
					m.act(err)
					break
				}
				m.act(nil)
				m.notice = "The class's tallies for this chapter are cleared"
			}
		default:
			return nil, false
		}
		return nil, true
	}
	switch k {
	case "s":
		if _, ok := m.lesson().(lessons.Activity); ok {
			m.contribute(false)
			return nil, true
		}
		return nil, false
	case "f":
		if m.following {
			m.notice = "You are following the instructor"
		} else {
			m.follow()
			m.notice = "Back in step with the instructor"
		}
	case "h":
		up := !m.snap.Me.Hand
		if err := m.seat.RaiseHand(up); err != nil {
			m.act(err)
			break
		}
		m.act(nil)
		if up {
			m.notice = "Hand raised: the instructor sees it (h again to lower)"
		} else {
			m.notice = "Hand lowered"
		}
	default:
		return nil, false
	}
	return nil, true
}

// contribute sends this member's part of the chapter's class activity:
// everything (the s key), or only the votes (a Personal control changed).
func (m *Model) contribute(votesOnly bool) {
	l := m.lesson()
	act, ok := l.(lessons.Activity)
	if !ok || m.seat == nil {
		return
	}
	m.draws++
	h := fnv.New64a()
	h.Write([]byte(m.seat.ID()))
	seed := h.Sum64() + m.draws
	var sent []string
	for _, c := range act.Contribute(m.shownValues(m.shownChapter()), seed) {
		if votesOnly && c.Group == "" {
			continue
		}
		if err := m.seat.Contribute(l.ID(), c.Group, c.Key); err != nil {
			m.notice = err.Error()
			return
		}
		if c.Key != "" {
			sent = append(sent, c.Key[strings.LastIndex(c.Key, ":")+1:])
		}
	}
	m.act(nil)
	if !votesOnly && len(sent) > 0 {
		m.notice = "Sent to the class: " + strings.Join(sent, ", ")
	}
}

// openNextPoll opens the chapter's next question: the first, or the one
// after the poll now open.
func (m *Model) openNextPoll() {
	i := m.shownChapter()
	l := m.cat.At(i)
	pl, ok := l.(lessons.Poller)
	if !ok {
		m.notice = "This chapter has no questions"
		return
	}
	// Only the questions about the view on screen: a question about the
	// reward model is not asked over the SFT step.
	var polls []lessons.Poll
	for _, q := range pl.Polls(m.shownValues(i)) {
		if q.Holds(m.shownValues(i)) {
			polls = append(polls, q)
		}
	}
	if len(polls) == 0 {
		m.notice = "No question here: try another view of this chapter"
		if len(pl.Polls(m.shownValues(i))) == 0 {
			m.notice = "This chapter has no questions"
		}
		return
	}
	// The question after the one open now, or after the last one asked
	// here (so o after c moves on instead of asking question 1 again).
	cur := m.snap.Class.LastPoll(l.ID())
	if p := m.snap.Class.Poll; p != nil && p.Spec.Chapter == l.ID() {
		cur = p.Spec.ID
	}
	next := 0
	for j, q := range polls {
		if q.ID == cur {
			next = (j + 1) % len(polls)
		}
	}
	q := polls[next]
	spec := room.PollSpec{Chapter: l.ID(), ID: q.ID, Question: q.Question, Choices: q.Choices,
		Correct: q.Correct, Truth: q.Truth, Unit: q.Unit, Explain: q.Explain, Min: q.Min, Max: q.Max, When: q.When}
	if q.Kind == lessons.Estimate {
		spec.Kind = room.Estimate
	}
	m.act(m.seat.OpenPoll(spec))
}

// closeStalePoll closes the open poll when the instructor's values have left
// the view it is about (its When), as leaving its chapter does in the room.
func (m *Model) closeStalePoll(chapter string, v lessons.Values) {
	p := m.snap.Class.Poll
	if p == nil || p.Spec.Chapter != chapter || p.Spec.When == "" {
		return
	}
	if (lessons.Poll{When: p.Spec.When}).Holds(v) {
		return
	}
	m.act(m.seat.ClosePoll())
	m.notice = "The question was about another view: closed (o asks it again there)"
}

// nextSpot points the class at the chapter's next element.
func (m *Model) nextSpot() {
	i := m.shownChapter()
	sp, ok := m.cat.At(i).(lessons.Spotter)
	if !ok {
		m.notice = "Nothing to spotlight in this chapter"
		return
	}
	spots := sp.Spots(m.shownValues(i))
	if len(spots) == 0 {
		m.notice = "Nothing to spotlight in this chapter"
		return
	}
	next := 0
	for j, s := range spots {
		if s.ID == m.snap.Class.Spot {
			next = (j + 1) % len(spots)
		}
	}
	m.act(m.seat.SetSpot(spots[next].ID))
}

// classBadge is the header's right side in a class: role, mode, head count.
func (m *Model) classBadge() string {
	c := m.snap.Class
	if c == nil {
		return ""
	}
	var parts []string
	if m.instructor() {
		parts = append(parts, m.th.Focus.Render(room.InstructorBadge+" instructor"))
		if c.Locked {
			parts = append(parts, m.th.Warn.Render("locked"))
		}
		if c.Hands > 0 {
			// Raised hands, seen without opening the dashboard.
			parts = append(parts, m.th.Warn.Render(fmt.Sprintf("✋ %d", c.Hands)))
		}
	} else {
		parts = append(parts, "student")
		switch {
		case c.Locked:
			parts = append(parts, m.th.Warn.Render("locked"))
		case m.following:
			parts = append(parts, m.th.Accent.Render("following"))
		default:
			parts = append(parts, m.th.Warn.Render("exploring"))
		}
		if m.snap.Me.Hand {
			parts = append(parts, m.th.Warn.Render("hand up"))
		}
	}
	parts = append(parts, fmt.Sprintf("%d connected", c.Connected))
	return strings.Join(parts, m.th.Subtle.Render(" · "))
}

// classHelp is the footer's keys in a class.
func (m *Model) classHelp(base []key.Binding) []key.Binding {
	b := func(k, desc string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc)) }
	if m.instructor() {
		out := []key.Binding{base[0], base[1], base[2]}
		if _, ok := m.lesson().(lessons.Activity); ok && m.overlay == overlayNone {
			out = append(out, b("C", "clear class tallies"))
		}
		if p := m.snap.Class.Poll; p != nil {
			out = append(out, b("r", "reveal"), b("c", "close poll"))
		} else {
			out = append(out, b("o", "poll"))
		}
		return append(out, b("d", "dashboard"), b("L", "lock"), b("?", "help"))
	}
	out := []key.Binding{base[0], base[1], base[2]}
	if act, ok := m.lesson().(lessons.Activity); ok && m.overlay == overlayNone {
		out = append(out, b("s", act.ActivityHelp()))
	}
	if !m.following {
		out = append(out, b("f", "follow"))
	}
	return append(out, b("h", "hand"), b("t", "contents"), b("?", "help"), b("q", "quit"))
}

func (m *Model) classHelpText(w int) string {
	if m.instructor() {
		return ui.Wrap(m.th.Header.Render("Teaching")+"\n"+
			"Your chapter and controls are the class's: every following student sees what you see. "+
			"o opens the chapter's next question, r reveals the answers, c closes it. L locks the class "+
			"(everyone follows, students' controls do nothing) and unlocks it. s points everyone at the next "+
			"element of the chapter, S clears it. In a chapter with a class activity (sampling, the reward model) "+
			"students' draws and votes pool on every screen; C clears them. d opens the dashboard: who is here, following or exploring, "+
			"hands up, answers; there ↑/↓ choose a student, space lowers their hand, x removes them, B bans them.", w)
	}
	return ui.Wrap(m.th.Header.Render("In class")+"\n"+
		"You follow the instructor: their chapter and values appear on your screen. Change any chapter or "+
		"control and you are exploring on your own; the line under the header then shows where the instructor "+
		"is. f snaps back. h raises (or lowers) your hand. When a question is open, press a digit to answer, "+
		"or type a number for an estimate; you may change your answer until it is revealed. Where the class "+
		"pools its work (sampling, the reward model) s sends yours; your votes are your own and never make you explore.", w)
}

// statusLine is the line under the header: where the instructor is when the
// student is exploring, the lock, the spotlight.
func (m *Model) statusLine(w int) string {
	if m.seat == nil || m.snap.Class == nil {
		return ""
	}
	c := m.snap.Class
	if m.instructor() {
		if c.Alert != "" {
			return ui.Fit(m.th.Warn.Render("⚠ "+c.Alert), w, 1)
		}
		if c.Spot != "" {
			return ui.Fit(m.th.Accent.Render("spotlight on "+m.spotLabel(c.Spot)+" · s next · S clear"), w, 1)
		}
		return ""
	}
	if m.following {
		if c.Spot != "" {
			return ui.Fit(m.th.Accent.Render("▸ the instructor is pointing at "+m.spotLabel(c.Spot)), w, 1)
		}
		return ""
	}
	ii, ok := m.cat.Index(c.Chapter)
	if !ok {
		return ""
	}
	il := m.cat.At(ii)
	mine := m.cat.At(m.chapter)
	// The key comes first, so it is never the part a narrow screen cuts.
	const lead = "f to follow · "
	var s string
	if il.ID() != mine.ID() {
		s = fmt.Sprintf("the instructor is on %d %s", il.Number(), il.Title())
	} else {
		theirs := lessons.Normalize(il.Controls(), c.Values[il.ID()])
		var names, diffs []string
		for _, ctl := range il.Controls() {
			// Personal controls never follow; a control hidden on both
			// screens says nothing.
			if ctl.Personal || !ctl.Visible(m.values[m.chapter]) && !ctl.Visible(theirs) {
				continue
			}
			if theirs[ctl.Key] != m.values[m.chapter][ctl.Key] {
				names = append(names, ctl.Label)
				diffs = append(diffs, fmt.Sprintf("%s %s (you: %s)", ctl.Label, short(ctl.Display(theirs[ctl.Key])), short(ctl.Display(m.values[m.chapter][ctl.Key]))))
			}
		}
		switch {
		case len(diffs) == 0:
			s = "same chapter and values as the instructor"
		case lipgloss.Width(lead+"instructor: "+strings.Join(diffs, ", ")) <= w:
			s = "instructor: " + strings.Join(diffs, ", ")
		case len(names) == 1:
			s = "your " + names[0] + " differs from the instructor's"
		default:
			// Every control that differs is named, if not its values.
			s = "your " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " differ from the instructor's"
		}
	}
	return ui.Wrap(m.th.Warn.Render(lead+s), w)
}

// spotLabel names a spotlight target of the chapter on screen.
func (m *Model) spotLabel(id string) string {
	i := m.shownChapter()
	if sp, ok := m.cat.At(i).(lessons.Spotter); ok {
		for _, s := range sp.Spots(m.shownValues(i)) {
			if s.ID == id {
				return s.Label
			}
		}
	}
	return id
}

// short keeps a displayed value to a few words in the status line.
func short(s string) string {
	s = ui.Visible(s, false)
	if r := []rune(s); len(r) > 16 {
		return string(r[:15]) + "…"
	}
	return s
}

// nameKey edits the name prompt.
func (m *Model) nameKey(msg tea.KeyPressMsg) {
	switch k := msg.String(); {
	case k == "enter":
		if room.CleanName(m.naming.Value()) == "" {
			m.notice = "Please type a name the class will see"
			return
		}
		name, err := m.seat.SetName(m.naming.Value())
		m.act(err)
		if err == nil {
			m.naming = nil
			m.notice = "Welcome, " + name + "!"
			if !m.instructor() && m.following && m.underWay() {
				// Class is under way: go straight to where it is.
				m.overlay = overlayNone
			}
		}
	case m.naming.Key(k):
	case msg.Text != "":
		m.naming.Insert(msg.Text)
	}
}

// underWay reports a class that has started: its instructor is here, or it
// has moved past the first chapter (a restarted server keeps its place,
// and a student coming back before the instructor goes to it).
func (m *Model) underWay() bool {
	c := m.snap.Class
	return c != nil && (c.Teaching || c.Chapter != m.cat.At(0).ID())
}

func (m *Model) nameView(w, h int) string {
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
	b.WriteString(m.th.TextFieldView(*m.naming, min(room.MaxNameWidth+2, w-4), true, true))
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render(fmt.Sprintf("up to %d characters · enter to join", room.MaxNameWidth)))
	if m.snap.Class != nil {
		b.WriteString("\n\n")
		b.WriteString(m.th.Subtle.Render(fmt.Sprintf("%d connected", m.snap.Class.Connected)))
	}
	return ui.Fit(b.String(), w, h)
}

// displayName is a member's name as a screen shows it: the instructor's
// with the badge no student name can carry.
func (m *Model) displayName(v room.MemberView) string {
	name := v.Name
	if name == "" {
		name = "(joining)"
	}
	if v.Role == room.Instructor {
		return m.th.Focus.Render(room.InstructorBadge + " " + name)
	}
	return name
}

type dashTickMsg struct{ now time.Time }

// dashTick refreshes the dashboard's idle times: the time it brings is the
// "now" the dashboard is drawn at, so drawing reads no clock.
func dashTick() tea.Cmd {
	return tea.Tick(2*time.Second, func(t time.Time) tea.Msg { return dashTickMsg{now: t} })
}

func (m *Model) students() []room.MemberView {
	var out []room.MemberView
	for _, v := range m.roster {
		if v.Role != room.Instructor {
			out = append(out, v)
		}
	}
	return out
}

// loadRoster reads the roster for the dashboard, which asks for it only
// while it is open: the room builds it on demand rather than with every
// change.
func (m *Model) loadRoster() {
	if m.overlay != overlayDashboard || m.seat == nil {
		return
	}
	if roster, err := m.seat.Roster(); err == nil {
		m.roster = roster
	}
}

func (m *Model) dashboardKey(msg tea.KeyPressMsg) tea.Cmd {
	st := m.students()
	switch msg.String() {
	case "up", "shift+tab":
		m.cursor = max(m.cursor-1, 0)
	case "down", "tab":
		m.cursor = min(m.cursor+1, max(len(st)-1, 0))
	case "space":
		if m.cursor < len(st) {
			m.act(m.seat.ClearHand(st[m.cursor].ID))
		}
	case "x", "B":
		if m.cursor < len(st) {
			ban := msg.String() == "B"
			m.act(m.seat.Kick(st[m.cursor].ID, ban))
			switch {
			case ban && strings.HasPrefix(st[m.cursor].ID, "session:"):
				// A keyless student is banned as that session only: nothing
				// tells them apart from their classmates behind one NAT.
				m.notice = st[m.cursor].Name + " removed; without a key they may come back as someone new"
			case ban:
				m.notice = st[m.cursor].Name + " removed and banned for this class"
			default:
				m.notice = st[m.cursor].Name + " removed (they may rejoin)"
			}
		}
	case "q", "ctrl+c":
		return tea.Quit
	default:
		m.overlay = overlayNone
	}
	return nil
}

func (m *Model) dashboardView(w, h int) string {
	c := m.snap.Class
	st := m.students()
	connected, following, answered, hands := 0, 0, 0, 0
	for _, v := range st {
		if v.Connected {
			connected++
			if v.Position.Following {
				following++
			}
		}
		if v.Answered {
			answered++
		}
		if v.Hand {
			hands++
		}
	}
	var b strings.Builder
	rows := max(h-5, 1)
	if c != nil && c.Alert != "" {
		b.WriteString(m.th.Warn.Render(ui.Fit("⚠ "+c.Alert, w, 1)) + "\n")
		rows = max(rows-1, 1)
	}
	counts := fmt.Sprintf("%s connected · %d following · %d exploring · %s up",
		lessons.Count(connected, "student", "students"), following, connected-following, lessons.Count(hands, "hand", "hands"))
	if c != nil && c.Poll != nil {
		counts += fmt.Sprintf(" · %d answered", answered)
	}
	b.WriteString(m.th.Strong.Render(counts))
	b.WriteString("\n\n")
	nameW := room.MaxNameWidth + 1
	b.WriteString(m.th.Subtle.Render(ui.PadRight("name", nameW) + ui.PadRight("status", 8) + ui.PadRight("where", 28) + ui.PadRight("hand", 6) + ui.PadRight("answer", 8) + "idle"))
	start := 0
	if m.cursor >= rows {
		start = m.cursor - rows + 1
	}
	now := m.now
	for i := start; i < len(st) && i < start+rows; i++ {
		v := st[i]
		status := "away"
		if v.Connected {
			status = "here"
		}
		where := "following"
		if !v.Position.Following {
			where = "exploring"
			if j, ok := m.cat.Index(v.Position.Chapter); ok {
				where += fmt.Sprintf(" %d %s", m.cat.At(j).Number(), m.cat.At(j).ID())
			}
		}
		hand, ans := "", ""
		if v.Hand {
			hand = "✋"
		}
		if v.Answered {
			ans = "✓"
		}
		idle := now.Sub(v.Active).Round(time.Second)
		name := v.Name
		if name == "" {
			name = "(joining)"
		}
		line := ui.PadRight(name, nameW) + ui.PadRight(status, 8) + ui.PadRight(where, 28) + ui.PadRight(hand, 6) + ui.PadRight(ans, 8) + idle.String()
		b.WriteString("\n")
		if i == m.cursor {
			b.WriteString(m.th.Selected.Render(ui.PadRight(line, w)))
		} else if !v.Connected {
			b.WriteString(m.th.Subtle.Render(line))
		} else {
			b.WriteString(line)
		}
	}
	if len(st) == 0 {
		b.WriteString("\n" + m.th.Subtle.Render("No students yet. They join with ssh to this server."))
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render("↑/↓ choose · space lower hand · x remove · B ban · any other key closes"))
	return ui.Fit(b.String(), w, h)
}
