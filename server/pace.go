package server

import (
	"context"
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
// program's event loop only (its filter), one per session.
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

// sizes coalesces a session's window changes: it reads every one the client
// sends (so the SSH layer never waits on this session) and keeps only the
// newest for the deliverer, which hands it to the program at most once per
// ResizeEvery.
type sizes struct {
	mu     sync.Mutex
	latest ssh.Window
	closed bool
	ready  chan struct{}
}

// watchSizes starts reading winch; deliver is called with the newest size,
// paced, until ctx ends; gone is called once winch closes (the client
// closed its session channel).
func watchSizes(ctx context.Context, winch <-chan ssh.Window, deliver func(ssh.Window), gone func()) {
	s := &sizes{ready: make(chan struct{}, 1)}
	go func() {
		for win := range winch {
			s.mu.Lock()
			s.latest = win
			s.mu.Unlock()
			s.signal()
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.signal()
	}()
	go func() {
		pace := time.NewTimer(0)
		defer pace.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.ready:
			}
			s.mu.Lock()
			win, closed := s.latest, s.closed
			s.mu.Unlock()
			if closed {
				gone()
				return
			}
			deliver(win)
			pace.Reset(ResizeEvery)
			select {
			case <-ctx.Done():
				return
			case <-pace.C:
			}
		}
	}()
}

func (s *sizes) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}
