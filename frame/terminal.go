package frame

import (
	"io"
	"slices"
	"sync"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// Target is what a terminal is to show: a screen, and the content of the
// screen's own rows (one styled line each, in the order of OwnRows).
type Target struct {
	Screen *Screen
	Own    []string
}

// Terminal is one session's terminal as the server sees it: the screen it
// shows, the own rows drawn on it, and a writer that brings it to the
// newest Target. Show never waits: the target is left in a one-slot
// mailbox and the writer, on its own goroutine, takes the newest, so a
// terminal that reads slowly skips to the latest screen and nobody waits
// for it. A Terminal holds no cells of its own, only a pointer to the
// screen it shows.
type Terminal struct {
	out   io.Writer
	cache *Cache
	prof  colorprofile.Profile
	title string

	mu     sync.Mutex
	want   Target
	wanted bool
	redraw bool
	closed bool
	wake   chan struct{}
	done   chan struct{}
	err    error
	// waiters are closed once the writer has drawn what was shown before
	// they asked (see Wait).
	waiters []chan struct{}

	// Owned by the writer goroutine.
	shown    *Screen
	shownOwn []string // what it shows in each of shown's own rows
	started  bool
	buf      []byte
}

// NewTerminal starts the writer for a terminal behind out, in colour
// profile p, with a window title. Encodings are shared through cache; with
// a nil cache nothing is shared (each terminal encodes its own).
func NewTerminal(out io.Writer, cache *Cache, p colorprofile.Profile, title string) *Terminal {
	t := &Terminal{out: out, cache: cache, prof: p, title: title, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go t.run()
	return t
}

// Profile is the colour profile the terminal draws in.
func (t *Terminal) Profile() colorprofile.Profile { return t.prof }

// Show makes tg the screen to show next. It never blocks.
func (t *Terminal) Show(tg Target) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.want, t.wanted = tg, true
	t.poke()
	t.mu.Unlock()
}

// Redraw has the next screen drawn whole, as after a resize: the terminal
// may have moved what it showed.
func (t *Terminal) Redraw() {
	t.mu.Lock()
	if !t.closed {
		t.redraw = true
		t.poke()
	}
	t.mu.Unlock()
}

// Wait returns once the terminal has been written everything shown before
// the call (or the writer has stopped): for tests, and for a caller that
// must know the screen is out before it writes after it.
func (t *Terminal) Wait() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.done
		return
	}
	ch := make(chan struct{})
	t.waiters = append(t.waiters, ch)
	t.poke()
	t.mu.Unlock()
	select {
	case <-ch:
	case <-t.done:
	}
}

// poke wakes the writer. Callers hold t.mu, so the mailbox is never closed
// under them.
func (t *Terminal) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Close draws the newest target, gives the terminal back as it was (main
// screen, cursor shown, no bracketed paste) and stops the writer. It returns
// the first write error, if any.
func (t *Terminal) Close() error {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.wake)
	}
	t.mu.Unlock()
	<-t.done
	return t.err
}

// Setup is what a terminal is told before the first screen: the alternate
// screen, no cursor, bracketed paste, the keyboard's modifier keys reported
// (as Bubble Tea's own renderer asks), and the window title.
func setup(title string) string {
	return ansi.SetModeAltScreenSaveCursor + ansi.HideCursor + ansi.SetModeBracketedPaste +
		ansi.SetModifyOtherKeys2 + ansi.PushKittyKeyboard(1) + ansi.SetWindowTitle(title)
}

// teardown undoes setup.
func teardown() string {
	return ansi.ResetStyle + ansi.ResetModifyOtherKeys + ansi.PopKittyKeyboard(1) + ansi.SetWindowTitle("") +
		ansi.ResetModeBracketedPaste + ansi.ShowCursor + ansi.ResetModeAltScreenSaveCursor
}

func (t *Terminal) run() {
	defer close(t.done)
	for range t.wake {
		if !t.step() {
			t.drain()
			return
		}
	}
	// Closed: the newest target, then the terminal given back.
	if t.step() && t.started {
		t.write([]byte(teardown()))
	}
}

// drain empties the mailbox after a failed write, so Close never waits on
// a writer that has stopped.
func (t *Terminal) drain() {
	for range t.wake {
	}
}

// step draws the newest target, if there is one not drawn yet, and reports
// whether the terminal can still be written to.
func (t *Terminal) step() bool {
	t.mu.Lock()
	tg, ok, redraw := t.want, t.wanted, t.redraw
	t.wanted, t.redraw = false, false
	waiters := t.waiters
	t.waiters = nil
	t.mu.Unlock()
	defer func() {
		for _, ch := range waiters {
			close(ch)
		}
	}()
	if !ok && !redraw || tg.Screen == nil && t.shown == nil {
		return t.err == nil
	}
	if tg.Screen == nil {
		tg = Target{Screen: t.shown, Own: t.ownNow()}
	}
	if redraw {
		t.shown, t.shownOwn = nil, nil
	}
	b := t.buf[:0]
	if !t.started {
		b = append(b, setup(t.title)...)
		t.started = true
	}
	b = append(b, ansi.SetModeSynchronizedOutput...)
	mark := len(b)
	b = append(b, t.encoding(t.shown, tg.Screen)...)
	b = t.ownRows(b, tg)
	if len(b) == mark {
		// Nothing to write: the terminal shows tg already.
		t.shown, t.buf = tg.Screen, b[:0]
		return t.err == nil
	}
	b = append(b, ansi.ResetModeSynchronizedOutput...)
	t.shown = tg.Screen
	ok = t.write(b)
	t.buf = b[:0]
	if cap(t.buf) > 64<<10 {
		t.buf = nil // one large frame need not be held on to
	}
	return ok
}

func (t *Terminal) encoding(a, b *Screen) []byte {
	if t.cache == nil {
		return encode(a, b)
	}
	return t.cache.encoding(a, b)
}

// ownNow is the content of the shown screen's own rows, as drawn.
func (t *Terminal) ownNow() []string { return slices.Clone(t.shownOwn) }

// ownRows appends what draws tg's own rows where they differ from what the
// terminal shows there: a row that was the old screen's own row with other
// content, or that was shared (the encoding left it alone).
func (t *Terminal) ownRows(b []byte, tg Target) []byte {
	s := tg.Screen
	if len(s.ownRows) == 0 {
		t.shownOwn = nil
		return b
	}
	// What the terminal shows in its own rows now: the shown screen's,
	// when it is of the same size. A step that keeps the same own rows
	// (most do) updates them in place.
	var prevRows []int
	if t.shown != nil && t.shown.w == s.w && t.shown.h == s.h {
		prevRows = t.shown.ownRows
	}
	prev, next := t.shownOwn, t.shownOwn
	if len(prev) != len(prevRows) || !slices.Equal(prevRows, s.ownRows) {
		next = make([]string, len(s.ownRows))
	}
	e := newEncoder(b)
	for i, y := range s.ownRows {
		line := ""
		if i < len(tg.Own) {
			line = tg.Own[i]
		}
		// Read before writing: in place, prev[j] is next[i].
		j := slices.Index(prevRows, y)
		had := j >= 0 && j < len(prev) && prev[j] == line
		next[i] = line
		if had {
			continue
		}
		row := Parse(line, s.w, 1, t.prof)
		row.load()
		e.tail(row, 0, y, 0)
	}
	e.reset()
	t.shownOwn = next
	return e.buf
}

func (t *Terminal) write(b []byte) bool {
	if t.err != nil {
		return false
	}
	if _, err := t.out.Write(b); err != nil {
		t.err = err
		return false
	}
	return true
}
