package session

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/session/room"
)

// class is a room with the real chapters, and a way to seat sessions in it.
type class struct {
	t    *testing.T
	room *room.Room
}

func newClass(t *testing.T) *class {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	return &class{t: t, room: room.New(room.Config{FirstChapter: c.At(0).ID()})}
}

// join seats a named session of the given size.
func (c *class) join(id string, role room.Role, name string, w, h int) *Model {
	c.t.Helper()
	cat, _ := catalog()
	seat, err := c.room.Join(room.Identity{ID: id, Role: role})
	if err != nil {
		c.t.Fatal(err)
	}
	m := New(Options{Catalog: cat, Width: w, Height: h, Seat: seat, Mono: true})
	press(m, "ctrl+u")
	press(m, strings.Split(name, "")...)
	press(m, "enter")
	return m
}

// deliver gives m its seat's newest snapshot, as the server's forwarder does.
func deliver(m *Model) {
	m.Update(RoomMsg{Snap: m.seat.Latest()})
}

func footer(m *Model) string {
	lines := strings.Split(screen(m), "\n")
	return lines[len(lines)-1]
}

func TestNoticesExpire(t *testing.T) {
	m := newModel(t, 80, 24)
	press(m, "2")
	_, cmd := m.Update(tea.PasteMsg{Content: "hello"})
	if !strings.Contains(footer(m), "Nothing here takes text") || cmd == nil {
		t.Fatalf("a notice without a timer: %q, cmd %v", footer(m), cmd)
	}
	said := m.noticeID
	m.Update(noticeExpiredMsg{id: said - 1})
	if m.notice == "" {
		t.Error("an older timer cleared a newer notice")
	}
	m.Update(noticeExpiredMsg{id: said})
	if m.notice != "" {
		t.Errorf("the notice outlived its timer: %q", m.notice)
	}
}

func TestNoticesFollowTheClass(t *testing.T) {
	cl := newClass(t)
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	st := cl.join("key:ada", room.Student, "Ada", 80, 24)
	deliver(st)
	// A notice about a chapter goes when the class leaves the chapter.
	st.notice = "Sent to the class: chair"
	press(in, "2")
	deliver(st)
	if strings.Contains(footer(st), "Sent to the class") {
		t.Errorf("a notice about chapter 1 outlived the move to chapter 2: %q", footer(st))
	}
	// A raised hand lowered by the instructor says so.
	press(st, "h")
	if !strings.Contains(footer(st), "Hand raised") {
		t.Fatalf("no hand raised: %q", footer(st))
	}
	deliver(in)
	if !strings.Contains(footer(in), "✋ 1") {
		t.Errorf("the instructor's footer does not count the hand: %q", footer(in))
	}
	_ = in.seat.ClearHand("key:ada")
	deliver(st)
	if f := footer(st); strings.Contains(f, "Hand raised") || !strings.Contains(f, "the instructor lowered it") {
		t.Errorf("after the instructor lowered the hand the student reads %q", f)
	}
	// The instructor leaving and coming back.
	in.seat.Leave()
	cl.room.Refresh()
	deliver(st)
	if !strings.Contains(footer(st), "The instructor has left") {
		t.Errorf("the instructor left unannounced: %q", footer(st))
	}
	cl.join("teacher", room.Instructor, "Grace", 100, 30)
	cl.room.Refresh()
	deliver(st)
	if !strings.Contains(footer(st), "The instructor is back") {
		t.Errorf("the instructor came back unannounced: %q", footer(st))
	}
}

func TestExplorerLineKeepsTheKeyAt80(t *testing.T) {
	cl := newClass(t)
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	st := cl.join("key:ada", room.Student, "Ada", 80, 24)
	press(in, "1")
	deliver(st)
	// The student changes several controls: the view among them.
	press(st, "down", "right", "down", "right", "down", "right")
	s := screen(st)
	line := strings.Split(s, "\n")[2]
	if !strings.Contains(line, "f to follow") {
		t.Fatalf("the explorer's line lost its key at 80 columns:\n%s", s)
	}
	for _, want := range []string{"Encoding", "Spaces", "View"} {
		if !strings.Contains(s, want) {
			t.Errorf("the explorer's line does not name %s:\n%s", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("a line wider than 80: %q", l)
		}
	}
}

func TestFocusStopsAtTheEnds(t *testing.T) {
	m := newModel(t, 80, 24)
	press(m, "6")
	press(m, "up")
	if m.focus != 0 {
		t.Errorf("↑ on the first control moved focus to %d (the last is a vote)", m.focus)
	}
	for range 20 {
		press(m, "down")
	}
	if n := len(m.visible()); m.focus != n-1 {
		t.Errorf("↓ past the last control: focus %d of %d", m.focus, n)
	}
}

func TestPollWrapsAndShowsItsRange(t *testing.T) {
	cl := newClass(t)
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	st := cl.join("key:ada", room.Student, "Ada", 80, 24)
	_ = in.seat.OpenPoll(room.PollSpec{Chapter: "welcome", ID: "long", Kind: room.MultipleChoice,
		Question: "Which of these is the longest answer a question in this tour could ever offer its class, word for word?",
		Choices: []string{"Every token of the prompt and every token the model has written so far, each once",
			"Only the newest token", "None of them"}})
	deliver(st)
	s := strings.Join(strings.Fields(screen(st)), " ")
	for _, want := range []string{"could ever offer its class, word for word?", "has written so far, each once", "3) None of them"} {
		if !strings.Contains(s, want) {
			t.Errorf("the poll at 80 columns cut %q:\n%s", want, screen(st))
		}
	}
	_ = in.seat.OpenPoll(room.PollSpec{Chapter: "welcome", ID: "pct", Kind: room.Estimate, Question: "What share?",
		Truth: 12, Unit: "%", Min: 0, Max: 100})
	deliver(st)
	if !strings.Contains(screen(st), "in %, 0 to 100") {
		t.Errorf("the estimate's unit and range are not shown before typing:\n%s", screen(st))
	}
	press(st, "1", "2", "8", "enter")
	if f := footer(st); !strings.Contains(f, "128 is out of range: answers are in %, 0 to 100") {
		t.Errorf("128 %% was not refused with the range: %q", f)
	}
	if _, ok := st.seat.Latest().Me.Answers["welcome/pct"]; ok {
		t.Error("the out-of-range answer reached the room")
	}
}

func TestLateStudentGoesWhereTheClassIs(t *testing.T) {
	cl := newClass(t)
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	press(in, "3")
	in.seat.Leave() // e.g. a restart: the class kept its place, the instructor is not back yet
	st := cl.join("session:new", room.Student, "Bo", 80, 24)
	if s := screen(st); !strings.Contains(s, "3  The act of looking back") {
		t.Errorf("a student joining before the instructor is back lands elsewhere:\n%s", s)
	}
}
