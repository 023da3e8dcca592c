package server

import (
	"context"
	"errors"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
)

// script is a model that records what it hears and answers each message
// with the command its test gives it.
type script struct {
	heard  []tea.Msg
	views  int
	answer func(tea.Msg) tea.Cmd
	init   tea.Cmd
}

type ping struct{ n int }

func (s *script) Init() tea.Cmd { return s.init }

func (s *script) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	s.heard = append(s.heard, msg)
	if s.answer != nil {
		return s, s.answer(msg)
	}
	return s, nil
}

func (s *script) View() tea.View { s.views++; return tea.View{} }

func runLoop(t *testing.T, l *loop, m tea.Model, first ...tea.Msg) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := l.run(ctx, m, first...)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the loop did not end")
	}
	return err
}

func TestLoopRunsCommandsAndQuits(t *testing.T) {
	m := &script{init: func() tea.Msg { return ping{1} }}
	m.answer = func(msg tea.Msg) tea.Cmd {
		p, ok := msg.(ping)
		switch {
		case !ok:
			return nil
		case p.n == 1:
			// A batch: both run, in either order; the second quits once
			// the first has come back.
			return tea.Batch(func() tea.Msg { return ping{2} }, nil, func() tea.Msg { return ping{3} })
		case len(m.heard) == 4:
			return tea.Quit
		}
		return nil
	}
	l := newLoop(func(msg tea.Msg) tea.Msg {
		if _, ok := msg.(tea.KeyPressMsg); ok {
			return nil // filtered out before the model
		}
		return msg
	}, nil)
	if err := runLoop(t, l, m, tea.WindowSizeMsg{Width: 80, Height: 24}, tea.KeyPressMsg{Code: 'x'}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(m.heard) != 4 {
		t.Fatalf("heard %v, want the size and pings 1, 2, 3", m.heard)
	}
	if _, ok := m.heard[0].(tea.WindowSizeMsg); !ok || m.heard[1] != (ping{1}) {
		t.Errorf("heard %v: the first messages, then Init's", m.heard)
	}
	// A view after every update and one after Init.
	if m.views != 5 {
		t.Errorf("%d views for 4 updates", m.views)
	}
	// Sends after the end neither block nor reach the model.
	done := make(chan struct{})
	go func() { l.Send(ping{9}); l.Quit(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Send blocked after the loop ended")
	}
}

func TestLoopEndsOnAPanic(t *testing.T) {
	t.Run("in Update", func(t *testing.T) {
		m := &script{answer: func(msg tea.Msg) tea.Cmd {
			if _, ok := msg.(ping); ok {
				panic("boom")
			}
			return nil
		}}
		err := runLoop(t, newLoop(nil, nil), m, ping{})
		if !errors.Is(err, errSessionPanic) {
			t.Fatalf("run: %v, want a panic", err)
		}
	})
	t.Run("in a command", func(t *testing.T) {
		var reported any
		m := &script{init: func() tea.Msg { panic("boom") }}
		err := runLoop(t, newLoop(nil, func(v any, _ []byte) { reported = v }), m)
		if !errors.Is(err, errSessionPanic) || reported != "boom" {
			t.Fatalf("run: %v, reported %v; want a panic, reported", err, reported)
		}
	})
}

func TestLoopEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &script{init: func() tea.Msg { cancel(); return nil }}
	err := newLoop(nil, nil).run(ctx, m)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want context.Canceled", err)
	}
}

func TestLoopWaitsOnTheRoomAndTheWindow(t *testing.T) {
	news := make(chan struct{}, 1)
	winch := make(chan ssh.Window, 1)
	var sizes []ssh.Window
	l := newLoop(nil, nil)
	l.news, l.newsMsg = news, func() tea.Msg { return ping{7} }
	l.winch, l.resized = winch, func(w ssh.Window) { sizes = append(sizes, w) }
	m := &script{init: func() tea.Msg { news <- struct{}{}; return nil }}
	m.answer = func(msg tea.Msg) tea.Cmd {
		if msg == (ping{7}) {
			return func() tea.Msg {
				winch <- ssh.Window{Width: 90, Height: 30}
				close(winch) // the client closed its session channel: the end
				return nil
			}
		}
		return nil
	}
	if err := runLoop(t, l, m); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(m.heard) != 1 || m.heard[0] != (ping{7}) {
		t.Errorf("heard %v, want the room's news", m.heard)
	}
	if len(sizes) != 1 || sizes[0].Width != 90 {
		t.Errorf("sizes %v, want the one the client sent", sizes)
	}
}
