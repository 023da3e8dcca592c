package session

import (
	"maps"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/session/room"
)

// RoomMsg carries the room's newest snapshot for this session's seat.
type RoomMsg struct{ Snap room.Snapshot }

// awaitRoom waits for the room's next news on the seat's one-slot mailbox
// and brings the newest snapshot in as a RoomMsg; Update waits again after
// each. Only this wait ever blocks on the room for this session, and a slow
// session only skips to the newest state. It ends when the session does.
func (m *Model) awaitRoom() tea.Cmd {
	if m.seat == nil || m.roomSent {
		return nil
	}
	seat, done := m.seat, m.done
	return func() tea.Msg {
		select {
		case <-seat.Ready():
			return RoomMsg{Snap: seat.Latest()}
		case <-done:
			return nil
		}
	}
}

// act shows the room's refusal of an action, if any, and takes the room's
// answer at once, so the member's own screen never lags their key press.
// The same snapshot comes again by awaitRoom, and take lets it pass as the
// no-change it is.
func (m *Model) act(err error) {
	if err != nil {
		m.notice = err.Error()
	}
	if m.seat != nil {
		m.take(m.seat.Latest())
	}
}

// take is the one path from the room to this screen: the room's news and
// this session's own actions both come through it. One guard drops a
// snapshot older than the one on screen: the mailbox may hold one read just
// before this session's own action, and going back to it would undo that
// action here. Then it says on screen what changed for this member.
func (m *Model) take(s room.Snapshot) tea.Cmd {
	if s.Class == nil || m.snap.Class != nil && s.Class.Version < m.snap.Class.Version {
		return nil
	}
	first := m.snap.Class == nil
	prev := ""
	var prevPoll *room.PollView
	wasLocked, wasTeaching, hadHand, shown := m.locked(), false, m.snap.Me.Hand, m.shownChapter()
	if !first {
		prev = m.snap.Class.Chapter
		prevPoll = m.snap.Class.Poll
		wasTeaching = m.snap.Class.Teaching
	}
	m.snap = s
	if m.locked() {
		// A lock pulls everyone back in step.
		m.following = true
		if _, ok := m.mode.(*editor); ok {
			m.mode = nil
		}
	}
	if first {
		return nil
	}
	if m.shownChapter() != shown {
		// "Sent to the class: chair" is about the chapter just left.
		m.notice = ""
	}
	if _, ok := m.mode.(*contents); ok && m.following && !m.instructor() &&
		(s.Class.Chapter != prev || !wasTeaching && s.Class.Teaching) {
		// A follower browsing the contents goes where the class goes, and
		// to the class when its instructor arrives.
		m.mode = nil
		m.focus = 0
	}
	if s.Me.Kicked {
		m.closing = "The instructor removed you from the class."
		m.endInput()
		return quitAfter(1500 * time.Millisecond)
	}
	switch {
	case hadHand && !s.Me.Hand && !m.instructor():
		m.notice = "Your hand is down: the instructor lowered it"
	case !m.instructor() && wasTeaching && !s.Class.Teaching:
		m.notice = "The instructor has left for now: the class stays where it is"
	case !m.instructor() && !wasTeaching && s.Class.Teaching:
		m.notice = "The instructor is back"
	}
	if m.locked() && !wasLocked {
		m.notice = "The instructor locked the class: you follow until it is unlocked"
		m.report()
	} else if wasLocked && !m.locked() {
		m.notice = "The instructor unlocked the class: you may explore again"
	}
	if _, ok := m.mode.(*estimate); ok {
		if p := s.Class.Poll; p == nil || !p.Open || p.Revealed {
			m.mode = nil
		}
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

// restorePosition puts a reconnecting student back where they were:
// exploring, on their chapter, with their own values. It reports whether
// they were exploring (and so go straight to their chapter).
func (m *Model) restorePosition() bool {
	if m.instructor() {
		return false
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
		return false
	}
	m.following = false
	m.chapter = i
	return true
}

// underWay reports a class that has started: its instructor is here, or it
// has moved past the first chapter (a restarted server keeps its place,
// and a student coming back before the instructor goes to it).
func (m *Model) underWay() bool {
	c := m.snap.Class
	return c != nil && (c.Teaching || c.Chapter != m.cat.At(0).ID())
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
	m.mode = nil
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
