package session

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"github.com/expedition-llm/expedition/frame"
	"github.com/expedition-llm/expedition/session/room"
)

// seen is what a session's terminal was written, as a terminal (x/vt)
// shows it.
type seen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *seen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *seen) screen(w, h int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := vt.NewEmulator(w, h)
	_, _ = e.Write(s.buf.Bytes())
	var lines []string
	for y := range h {
		var b strings.Builder
		for x := range w {
			c := e.CellAt(x, y)
			switch {
			case c == nil || c.Content == "" && c.Width != 0:
				b.WriteByte(' ')
			case c.Width > 0:
				b.WriteString(c.Content)
			}
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return strings.Join(lines, "\n")
}

// termSession is a seated session that draws on a terminal of its own,
// sharing screens through cache, as the server runs one.
type termSession struct {
	m    *Model
	out  *seen
	w, h int
}

func (c *class) joinTerm(id, name string, w, h int, p colorprofile.Profile, cache *frame.Cache) *termSession {
	c.t.Helper()
	cat, _ := catalog()
	seat, err := c.room.Join(room.Identity{ID: id})
	if err != nil {
		c.t.Fatal(err)
	}
	out := &seen{}
	term := frame.NewTerminal(out, cache, p, "Expedition")
	c.t.Cleanup(func() { _ = term.Close() })
	m := New(Options{Catalog: cat, Width: w, Height: h, Seat: seat, Terminal: term, Frames: cache,
		Mono: p == colorprofile.Ascii})
	ts := &termSession{m: m, out: out, w: w, h: h}
	ts.press("ctrl+u")
	ts.press(strings.Split(name, "")...)
	ts.press("enter")
	return ts
}

// press sends keys, then lets the session draw, as Bubble Tea calls View
// after every message.
func (ts *termSession) press(keys ...string) {
	for _, k := range keys {
		if k == "pgdown" {
			ts.m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
		} else {
			press(ts.m, k)
		}
		ts.m.View()
	}
}

func (ts *termSession) deliver() {
	deliver(ts.m)
	ts.m.View()
}

// check fails t unless the terminal shows exactly what the session's own
// full render says: a shared screen with this member's own rows on top must
// read the same as the screen drawn for them alone.
func (ts *termSession) check(t *testing.T, what string) {
	t.Helper()
	ts.m.term.Wait()
	want := strings.Split(ansi.Strip(ts.m.render()), "\n")
	for i := range want {
		want[i] = strings.TrimRight(want[i], " ")
	}
	for len(want) < ts.h {
		want = append(want, "")
	}
	if got := ts.out.screen(ts.w, ts.h); got != strings.Join(want, "\n") {
		t.Fatalf("%s: %s's terminal shows\n%s\nits render is\n%s", what, ts.m.snap.Me.Name, got, strings.Join(want, "\n"))
	}
}

// TestSharedScreensReadAsTheirOwn: students following one instructor share
// screens, yet each terminal shows exactly what that student's own render
// would, through chapter changes, a poll (answered by some, not others), a
// raised hand, a notice, scrolling, a moved focus, a spotlight, a personal
// control and two terminal sizes and colour profiles.
func TestSharedScreensReadAsTheirOwn(t *testing.T) {
	cl := newClass(t)
	cache := frame.NewCache()
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	students := []*termSession{
		cl.joinTerm("key:ada", "Ada", 80, 24, colorprofile.TrueColor, cache),
		cl.joinTerm("key:bo", "Bo", 80, 24, colorprofile.TrueColor, cache),
		cl.joinTerm("key:cy", "Cy", 100, 30, colorprofile.TrueColor, cache),
		cl.joinTerm("key:di", "Di", 80, 24, colorprofile.Ascii, cache),
	}
	ada, bo, cy, di := students[0], students[1], students[2], students[3]
	step := func(what string, teacherKeys ...string) {
		t.Helper()
		press(in, teacherKeys...)
		for _, s := range students {
			s.deliver()
		}
		for _, s := range students {
			s.check(t, what)
		}
	}
	step("chapter 1", "1")
	step("a changed value", "down", "right")
	step("a poll", "o")
	ada.press("1")
	bo.press("h")
	di.m.notice = "A notice only Di reads"
	step("answers, a hand and a notice")
	step("the reveal", "r")
	step("poll closed, chapter 2", "c", "2")
	ada.press("pgdown")
	cy.press("down", "down")
	step("scrolled and refocused")
	step("a spotlight on chapter 3", "3", "s")
	step("sampling", "7")
	bo.press("down", "down", "right")
	step("a personal control moved")
	for i := range 5 {
		step(fmt.Sprintf("slider step %d", i), "right")
	}
	st := cache.Stats()
	if st.Shared == 0 || st.Reused == 0 {
		t.Errorf("nothing was shared: %+v", st)
	}
	t.Logf("cache: %+v", st)
}

// discard is a terminal that reads nothing back.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkFollowerStep is one instructor slider step reaching 100 students
// who follow on 80×24 terminals, per student: taking the snapshot, drawing
// (the shared screen once, each student's own rows) and encoding what the
// terminal is written. Compare BenchmarkFollowerStepAlone, where every
// student builds and encodes their own screen.
func BenchmarkFollowerStep(b *testing.B)      { benchFollowers(b, frame.NewCache()) }
func BenchmarkFollowerStepAlone(b *testing.B) { benchFollowers(b, nil) }

func benchFollowers(b *testing.B, cache *frame.Cache) {
	const n = 100
	cl := newClass(&testing.T{})
	in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
	cat, _ := catalog()
	var ms []*Model
	for i := range n {
		seat, err := cl.room.Join(room.Identity{ID: fmt.Sprintf("key:%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		term := frame.NewTerminal(discard{}, cache, colorprofile.TrueColor, "Expedition")
		defer term.Close()
		m := New(Options{Catalog: cat, Width: 80, Height: 24, Seat: seat, Terminal: term, Frames: cache})
		press(m, "S", "enter")
		if m.mode != nil {
			b.Fatal("a student did not join")
		}
		ms = append(ms, m)
	}
	press(in, "4", "down")
	b.ResetTimer()
	for i := range b.N {
		if i%40 < 20 {
			press(in, "right")
		} else {
			press(in, "left")
		}
		for _, m := range ms {
			deliver(m)
			m.View()
		}
		for _, m := range ms {
			m.term.Wait()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/student")
}

// BenchmarkFrame is the whole work of one chapter's frame at 120×40, as a
// group of followers shares it: drawing the screen (header, body, panel,
// footer), reading it into cells, and comparing every cell with the
// terminal's last frame to encode the change. It is drawn without the
// render cache or the frame cache, so every iteration does all of it.
func BenchmarkFrame(b *testing.B) {
	cat, _ := catalog()
	for i := range cat.Len() {
		b.Run(cat.At(i).ID(), func(b *testing.B) {
			cl := newClass(&testing.T{})
			in := cl.join("teacher", room.Instructor, "Grace", 100, 30)
			press(in, fmt.Sprint(i))
			seat, err := cl.room.Join(room.Identity{ID: "key:ada"})
			if err != nil {
				b.Fatal(err)
			}
			term := frame.NewTerminal(discard{}, nil, colorprofile.TrueColor, "Expedition")
			defer term.Close()
			m := New(Options{Catalog: cat, Width: 120, Height: 40, Seat: seat, Terminal: term})
			press(m, "A", "enter")
			deliver(m)
			if m.mode != nil || m.shownChapter() != i {
				b.Fatalf("the student is not following on chapter %d", i)
			}
			m.View()
			term.Wait()
			b.ReportAllocs()
			for b.Loop() {
				m.last = shown{} // draw again, as a new frame would be
				m.View()
				term.Wait()
			}
		})
	}
}
