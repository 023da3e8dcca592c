package session

import (
	"strings"

	"github.com/charmbracelet/colorprofile"

	"github.com/expedition-llm/expedition/frame"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// shareKey names everything the shared rows of a following student's screen
// are drawn from. Students whose keys are equal see the same screen, apart
// from their own rows (the poll box, the footer), so one of them builds it
// and the rest point at it. The class snapshot is one value for every
// student of a publish, so its pointer stands for the chapter, the values,
// the spotlight, the tallies, the lock and the open poll.
type shareKey struct {
	class   *room.Class
	w, h    int
	profile colorprofile.Profile
	mono    bool
	focus   int
	scroll  int
	// poll is how many lines the poll box takes: the chapter above it is
	// that much shorter.
	poll int
	// personal holds the member's own values of the chapter's Personal
	// controls (they show the member's, not the class's).
	personal string
}

// sharedInfo is what a shared screen's builder learned that its other
// users need for their own rows.
type sharedInfo struct {
	overflow int // lines of the chapter that do not fit, for the footer
	// footer is the footer of a student with no hand up and no notice,
	// which is most of a group: drawn once for all of them.
	footer string
}

// ownMemo keeps a follower's own rows with what they were drawn from, so a
// change that leaves them alone (a slider step) does not draw them again:
// with a thousand followers, that is most of the work a step costs.
type ownMemo struct {
	pollDrawn bool
	poll      *room.PollView
	mine      room.Answer
	answered  bool
	pollW     int
	pollMono  bool
	box       string

	footDrawn bool
	foot      footKey
	footer    string
}

// footKey is everything a follower's footer is drawn from.
type footKey struct {
	w, chapter, overflow, connected int
	mono, locked, hand              bool
	notice                          string
}

// ownPoll is the poll box, drawn again only when what it shows changed.
func (m *Model) ownPoll() string {
	o := &m.own
	var p *room.PollView
	if m.snap.Class != nil {
		p = m.snap.Class.Poll
	}
	var mine room.Answer
	answered := false
	if p != nil {
		mine, answered = m.snap.Me.Answers[p.Spec.Chapter+"/"+p.Spec.ID]
	}
	if o.pollDrawn && samePoll(o.poll, p) && o.mine == mine && o.answered == answered && o.pollW == m.width && o.pollMono == m.th.Mono {
		return o.box
	}
	o.box = m.pollView(m.width)
	o.pollDrawn, o.poll, o.mine, o.answered, o.pollW, o.pollMono = true, p, mine, answered, m.width, m.th.Mono
	return o.box
}

// ownFooter is the footer: the group's when nothing of this student's own
// shows in it, else drawn again only when what it shows changed.
func (m *Model) ownFooter(info sharedInfo) string {
	if !m.snap.Me.Hand && m.notice == "" {
		return info.footer
	}
	overflow := info.overflow
	c := m.snap.Class
	k := footKey{w: m.width, chapter: m.shownChapter(), overflow: overflow, connected: c.Connected,
		mono: m.th.Mono, locked: c.Locked, hand: m.snap.Me.Hand, notice: m.notice}
	if m.own.footDrawn && m.own.foot == k {
		return m.own.footer
	}
	m.own.footDrawn, m.own.foot, m.own.footer = true, k, m.footer(overflow)
	return m.own.footer
}

// samePoll reports whether two views of a poll show the same: the room
// replaces a poll's slices rather than changing them, so a slice that is
// the same slice holds the same answers.
func samePoll(a, b *room.PollView) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Spec.Chapter == b.Spec.Chapter && a.Spec.ID == b.Spec.ID && a.Spec.Question == b.Spec.Question &&
		a.Open == b.Open && a.Revealed == b.Revealed && a.Answered == b.Answered &&
		sameSlice(a.Spec.Choices, b.Spec.Choices) && sameSlice(a.Counts, b.Counts) && sameSlice(a.Estimates, b.Estimates)
}

func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// shown is what this session last handed its terminal.
type shown struct {
	shared bool
	key    shareKey
	text   string // the whole screen, when not shared
	box    string // the poll box, when shared
	foot   string // the footer, when shared
	screen *frame.Screen
}

// present hands the terminal what the session shows now, if anything
// changed. A following student's screen is shared with every student whose
// shareKey is the same: only the poll box and the footer are drawn here.
// Anyone else (the instructor, a student exploring, in a mode, or on a
// terminal of the wrong size) is drawn whole, on their own.
func (m *Model) present() {
	if m.term == nil {
		return
	}
	key, ok := m.shareKey()
	if !ok || m.frames == nil {
		text := m.render()
		if !m.last.shared && m.last.screen != nil && text == m.last.text {
			return
		}
		s := frame.Parse(text, m.width, m.height, m.term.Profile())
		m.last = shown{text: text, screen: s}
		m.term.Show(frame.Target{Screen: s})
		return
	}
	box := m.ownPoll()
	key.poll = ui.Lines(box)
	var s *frame.Screen
	if m.last.shared && m.last.key == key {
		s = m.last.screen
	} else {
		s = m.frames.Screen(key, m.buildShared)
	}
	foot := m.ownFooter(s.Info.(sharedInfo))
	if s == m.last.screen && box == m.last.box && foot == m.last.foot {
		return
	}
	m.last = shown{shared: true, key: key, box: box, foot: foot, screen: s}
	own := make([]string, 0, len(s.OwnRows()))
	if n := len(s.OwnRows()) - 1; n > 0 {
		own = append(own, strings.SplitN(box, "\n", n+1)[:n]...)
	}
	m.term.Show(frame.Target{Screen: s, Own: append(own, foot)})
}

// buildShared draws this session's screen as every student with its key
// sees it: the poll box and the footer are left to each.
func (m *Model) buildShared() *frame.Screen {
	overflow, _ := m.bodyOverflow()
	text, pollRow, pollRows := m.layout(overflow)
	own := make([]int, 0, pollRows+1)
	for y := pollRow; y < pollRow+pollRows; y++ {
		own = append(own, y)
	}
	s := frame.Parse(text, m.width, m.height, m.term.Profile(), append(own, m.height-1)...)
	s.Info = sharedInfo{overflow: overflow, footer: m.plainFooter(overflow)}
	return s
}

// plainFooter is the footer as a student of this screen's group with no
// hand up and no notice sees it: everything else it shows is in the
// shareKey.
func (m *Model) plainFooter(overflow int) string {
	notice, hand := m.notice, m.snap.Me.Hand
	m.notice, m.snap.Me.Hand = "", false
	defer func() { m.notice, m.snap.Me.Hand = notice, hand }()
	return m.footer(overflow)
}

// shareKey is the key this session's screen is shared by, if it is shared:
// a student following the class, on the chapter, with no mode open, on a
// terminal the tour fits.
func (m *Model) shareKey() (shareKey, bool) {
	if m.seat == nil || m.instructor() || !m.following || m.mode != nil || m.closing != "" ||
		m.jumpTo != "" || m.snap.Class == nil || m.offSize() {
		return shareKey{}, false
	}
	k := shareKey{class: m.snap.Class, w: m.width, h: m.height, profile: m.term.Profile(), mono: m.th.Mono,
		focus: m.focus, scroll: m.scrollTop()}
	i := m.shownChapter()
	if l := m.cat.At(i); l != nil {
		var b strings.Builder
		for _, c := range l.Controls() {
			if c.Personal {
				b.WriteString(c.Key + "=" + m.values[i][c.Key] + "\x00")
			}
		}
		k.personal = b.String()
	}
	return k, true
}
