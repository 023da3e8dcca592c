package session

import (
	"fmt"
	"hash/fnv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// classKey handles the classroom's own keys, by role (the key map says
// which); ok is false when the key is not one of them.
func (m *Model) classKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if m.seat == nil {
		return nil, false
	}
	if m.pollKey(msg) {
		return nil, true
	}
	k := m.keys
	if m.instructor() {
		switch {
		case key.Matches(msg, k.OpenPoll):
			m.openNextPoll()
		case key.Matches(msg, k.Reveal):
			m.act(m.seat.RevealPoll())
		case key.Matches(msg, k.ClosePoll):
			m.act(m.seat.ClosePoll())
		case key.Matches(msg, k.Lock):
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
		case key.Matches(msg, k.Dashboard):
			return m.openDashboard(), true
		case key.Matches(msg, k.Spot):
			m.nextSpot()
		case key.Matches(msg, k.ClearSpot):
			m.act(m.seat.SetSpot(""))
		case key.Matches(msg, k.ClearTallies):
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
	switch {
	case key.Matches(msg, k.Draw):
		if _, ok := m.lesson().(lessons.Activity); ok {
			m.contribute(false)
			return nil, true
		}
		return nil, false
	case key.Matches(msg, k.Follow):
		if m.following {
			m.notice = "You are following the instructor"
		} else {
			m.follow()
			m.notice = "Back in step with the instructor"
		}
	case key.Matches(msg, k.Hand):
		up := !m.snap.Me.Hand
		if err := m.seat.RaiseHand(up); err != nil {
			m.act(err)
			break
		}
		m.act(nil)
		if up {
			m.notice = "Hand raised: the instructor sees it (" + m.keys.Hand.Help().Key + " again to lower)"
		} else {
			m.notice = "Hand lowered"
		}
	default:
		return nil, false
	}
	return nil, true
}

// classHelp is the footer's keys on a chapter in a class: the ones for
// getting around, then the role's, worded short, from the key map.
func (m *Model) classHelp(base []key.Binding) []key.Binding {
	out := []key.Binding{base[0], base[1], base[2]}
	act, activity := m.lesson().(lessons.Activity)
	if m.instructor() {
		return append(out, m.keys.TeachingHelp(activity, m.snap.Class.Poll != nil)...)
	}
	word := ""
	if activity {
		word = act.ActivityHelp()
	}
	return append(out, m.keys.StudentHelp(word, m.following)...)
}

// classHelpText is the help screen's word on the classroom, for the role.
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
			return ui.Fit(m.th.Accent.Render("spotlight on "+m.spotLabel(c.Spot)+" · "+m.keys.SpotHint()), w, 1)
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
	lead := m.keys.FollowHint() + " · "
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
func short(s string) string {
	s = ui.Visible(s, false)
	if r := []rune(s); len(r) > 16 {
		return string(r[:15]) + "…"
	}
	return s
}
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
func (m *Model) spot(l lessons.Lesson) string {
	if m.synced() && m.snap.Class != nil && m.snap.Class.Chapter == l.ID() {
		return m.snap.Class.Spot
	}
	return ""
}
func (m *Model) tally(l lessons.Lesson) lessons.Tally {
	if m.snap.Class == nil {
		return nil
	}
	if t := m.snap.Class.Tallies[l.ID()]; len(t) > 0 {
		return lessons.Tally(t)
	}
	return nil
}
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
