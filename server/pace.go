package server

import (
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"golang.org/x/time/rate"

	"github.com/expedition-llm/expedition/session"
)

// Paces on what one session's client sends, so that no script can keep a
// core busy redrawing one screen: every key and every window size costs a
// frame.
const (
	// KeyBurst and KeyRate bound the keys a session takes: a burst no
	// typist reaches, then more a second than keyboard repeat sends. Keys
	// past them are dropped (ctrl+c never is) and the student is told once.
	// A paste is one message however long, and never dropped.
	KeyBurst = 100
	KeyRate  = 40
	// ResizeEvery spaces the window sizes a session takes: a storm of
	// window changes is coalesced to the newest, delivered at most this
	// often (a person dragging a window sees it follow).
	ResizeEvery = 50 * time.Millisecond
)

// keyPacer drops keys past KeyBurst and KeyRate. It is used from the
// session's loop only (its filter), one per session.
type keyPacer struct {
	lim    *rate.Limiter
	warned bool // told of the drops since the last key let through
}

func newKeyPacer() *keyPacer { return &keyPacer{lim: rate.NewLimiter(KeyRate, KeyBurst)} }

// filter passes msg on, or drops a key past the pace: the first dropped key
// of a run becomes a KeysDroppedMsg, so the student learns why keys went
// missing, and the rest cost nothing.
func (k *keyPacer) filter(msg tea.KeyPressMsg) tea.Msg {
	if msg.String() == "ctrl+c" || k.lim.Allow() {
		k.warned = false
		return msg
	}
	if k.warned {
		return nil
	}
	k.warned = true
	return session.KeysDroppedMsg{}
}

// sizePacer coalesces a session's window changes: the session's loop
// hands it every one the client sends (so the SSH layer never waits on this
// session) and it keeps only the newest, handed on at most once per
// ResizeEvery by a timer: no goroutine waits while nothing is resized.
type sizePacer struct {
	deliver func(ssh.Window) // on the timer's goroutine

	mu      sync.Mutex
	latest  ssh.Window
	last    time.Time   // when a size was last handed on
	timer   *time.Timer // a hand-over due; nil when none is
	handing sync.Mutex  // one hand-over at a time, so sizes arrive in order
}

func newSizePacer(deliver func(ssh.Window)) *sizePacer { return &sizePacer{deliver: deliver} }

// offer takes the newest size the client sent.
func (s *sizePacer) offer(win ssh.Window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest = win
	if s.timer == nil {
		s.timer = time.AfterFunc(max(ResizeEvery-time.Since(s.last), 0), s.hand)
	}
}

func (s *sizePacer) hand() {
	s.handing.Lock()
	defer s.handing.Unlock()
	s.mu.Lock()
	win := s.latest
	s.timer, s.last = nil, time.Now()
	s.mu.Unlock()
	s.deliver(win)
}
