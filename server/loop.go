package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
)

// errSessionPanic ends a session whose model or one of its commands
// panicked; the panic itself has been reported.
var errSessionPanic = errors.New("the session panicked")

// loop runs one session's model: each message goes through Update, then
// View, one at a time, and each command runs on its own goroutine and
// sends its message back. It stands in for tea.Program, which a session
// drawing through package frame does not need: the program's renderer,
// input reader and signal handling all go unused, and its frame ticker
// would wake every session at least once a second with nothing to draw.
// The loop holds no timer and no goroutine of its own; it runs on the
// session's handler goroutine, and waits there on the room's news and the
// client's window changes too, which would otherwise take a goroutine each
// for every student.
type loop struct {
	msgs    chan tea.Msg
	done    chan struct{} // closed when run returns: sends stop waiting
	filter  func(tea.Msg) tea.Msg
	onPanic func(v any, stack []byte) // a command's panic; the model reports its own

	// news wakes the loop when the room has news, which newsMsg reads
	// (the model was made with session.Options.RoomSent); nil for none.
	news    <-chan struct{}
	newsMsg func() tea.Msg
	// winch brings the client's window changes, each handed to resized;
	// the session ends when the client closes it (its session channel
	// closed, though the connection may live on). Nil for none.
	winch   <-chan ssh.Window
	resized func(ssh.Window)
}

func newLoop(filter func(tea.Msg) tea.Msg, onPanic func(v any, stack []byte)) *loop {
	return &loop{msgs: make(chan tea.Msg), done: make(chan struct{}), filter: filter, onPanic: onPanic}
}

// Send hands msg to the model, waiting until the loop takes it or has
// ended; it is safe from any goroutine, at any time.
func (l *loop) Send(msg tea.Msg) {
	select {
	case l.msgs <- msg:
	case <-l.done:
	}
}

// Quit ends the loop as tea.Quit does.
func (l *loop) Quit() { l.Send(tea.QuitMsg{}) }

// commandPanic carries a command's panic back to the loop.
type commandPanic struct{}

// run feeds m the first messages, then its Init command's and every
// message sent, until the model quits (nil), ctx ends (its error) or
// something panics (errSessionPanic).
func (l *loop) run(ctx context.Context, m tea.Model, first ...tea.Msg) (err error) {
	defer close(l.done)
	defer func() {
		// The model has reported its own panic (session.Options.OnPanic).
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errSessionPanic, r)
		}
	}()
	for _, msg := range first {
		if l.update(&m, msg) {
			return nil
		}
	}
	l.start(m.Init())
	m.View()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("session: %w", ctx.Err())
		case msg := <-l.msgs:
			if _, ok := msg.(commandPanic); ok {
				return errSessionPanic
			}
			if l.update(&m, msg) {
				return nil
			}
		case <-l.news:
			if l.update(&m, l.newsMsg()) {
				return nil
			}
		case win, ok := <-l.winch:
			if !ok {
				return nil
			}
			l.resized(win)
		}
	}
}

// update gives the model one message and draws; true when it asked to
// quit.
func (l *loop) update(m *tea.Model, msg tea.Msg) (quit bool) {
	if l.filter != nil {
		if msg = l.filter(msg); msg == nil {
			return false
		}
	}
	switch msg := msg.(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, cmd := range msg {
			l.start(cmd)
		}
		return false
	}
	var cmd tea.Cmd
	*m, cmd = (*m).Update(msg)
	l.start(cmd)
	(*m).View()
	return false
}

// start runs cmd on its own goroutine and sends back what it returns.
func (l *loop) start(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				if l.onPanic != nil {
					l.onPanic(r, debug.Stack())
				}
				l.Send(commandPanic{})
			}
		}()
		if msg := cmd(); msg != nil {
			l.Send(msg)
		}
	}()
}
