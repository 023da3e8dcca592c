package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"

	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/frame"
	"github.com/expedition-llm/expedition/session"
	"github.com/expedition-llm/expedition/session/room"
)

// identityOf is who the session is: their key's fingerprint, or for a
// keyless student an identity that lasts as long as the connection.
func (s *Server) identityOf(sess ssh.Session) room.Identity {
	id := room.Identity{Role: s.auth.roleOf(sess), Addr: hostOf(sess.RemoteAddr())}
	switch {
	case sess.PublicKey() != nil:
		id.ID = "key:" + gossh.FingerprintSHA256(sess.PublicKey())
	case id.Role == room.Instructor:
		// Token logins share one seat, so a reconnecting instructor is
		// the same member.
		id.ID = "instructor"
	default:
		id.ID, id.Keyless = "session:"+sess.Context().SessionID(), true
	}
	return id
}

// liveSession is one running program, as the server sees it for shutdown.
type liveSession struct {
	loop     *loop
	once     sync.Once
	farewell atomic.Pointer[string]
}

// end asks the session to show text and close (the server restarting, an
// idle timeout); once the program is gone the server writes text again on
// the terminal's own screen, where it stays. The first reason wins. It never
// blocks the caller: a stalled client's program may not take messages until
// its connection is closed, and the send ends then.
func (ls *liveSession) end(text string) {
	ls.once.Do(func() {
		ls.farewell.Store(&text)
		go ls.loop.Send(session.EndMsg{Text: text})
	})
}

// visitor is one person at one of the doors, as a session needs them: who
// they are, their terminal, and how to tell them things. The SSH door
// (programMiddleware) and the web door (webdoor.go) each make one, so both
// run the same session under the same rules.
type visitor struct {
	id      room.Identity
	user    string // the name they came with (the SSH user), offered at the name prompt
	addr    string // for the log
	ctx     context.Context
	term    io.ReadWriter // keys in, frames out
	w, h    int           // the terminal's size as the client first said
	profile colorprofile.Profile
	// sizes brings the client's window changes; closed when the client
	// closed its terminal while the connection may live on.
	sizes <-chan ssh.Window
	// tell writes a last line on the terminal once the session has given
	// the screen back; refuse does the same and ends the connection as
	// refused.
	tell, refuse func(text string)
}

// programMiddleware runs one session per SSH session, on the session's own
// loop (loop.go) rather than wish's bubbletea middleware, so the server owns
// the session's lifecycle: registration for shutdown, the terminal's size
// clamped before anything is drawn for it, the idle timeout, what the
// student reads when the session ends, and logging through the server's
// logger (wish's logs every ordinary disconnect as an error).
func (s *Server) programMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, winch, _ := sess.Pty()
		s.runSession(&visitor{
			id: s.identityOf(sess), user: sess.User(), addr: sess.RemoteAddr().String(),
			ctx: sess.Context(), term: sess, w: pty.Window.Width, h: pty.Window.Height,
			profile: profileOf(sess), sizes: winch,
			tell:   func(text string) { tell(sess, text) },
			refuse: func(text string) { refuse(sess, text) },
		})
		next(sess)
	}
}

// runSession seats v in the class and runs their session until it ends,
// then tells them why if there is something to tell.
func (s *Server) runSession(v *visitor) {
	seat, err := s.room.Join(v.id)
	switch {
	case errors.Is(err, room.ErrBanned):
		v.refuse(BannedText)
		return
	case err != nil:
		s.log.Warn("could not seat a session", "addr", v.addr, "err", err)
		v.refuse(UnreachableText)
		return
	}
	defer seat.Leave()
	ctx, cancel := context.WithCancel(v.ctx)
	defer cancel()
	act := newActivity(v.term)
	// The session draws on its terminal itself (package frame), not
	// through Bubble Tea's renderer: followers share their screens and the
	// bytes that change them, and nothing runs on a timer.
	term := frame.NewTerminal(act, s.frames, v.profile, "Expedition")
	defer term.Close()
	m := session.New(session.Options{Catalog: s.catalog, Width: v.w, Height: v.h, Seat: seat, Done: ctx.Done(),
		User: v.user, Renders: s.renders, Terminal: term, Frames: s.frames, RoomSent: true, Themes: s.themes,
		Joins:   s.joinLines,
		OnPanic: func(p any, stack []byte) { s.logPanic(v, p, stack) }})
	keys := newKeyPacer()
	// Keys are paced and every window size clamped on their way to the
	// session, which draws at that size.
	l := newLoop(func(msg tea.Msg) tea.Msg {
		switch msg := msg.(type) {
		case tea.KeyPressMsg:
			return keys.filter(msg)
		case tea.WindowSizeMsg:
			cw, ch := session.ClampSize(msg.Width, msg.Height)
			return tea.WindowSizeMsg{Width: cw, Height: ch}
		}
		return msg
	}, func(p any, stack []byte) { s.logPanic(v, p, stack) })
	ls := &liveSession{loop: l}
	s.mu.Lock()
	s.sessions[ls] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ls)
		s.mu.Unlock()
	}()
	if s.closing.Load() {
		v.refuse(ShutdownText)
		return
	}

	// The loop waits on the room's news itself (RoomSent above).
	l.news, l.newsMsg = seat.Ready(), func() tea.Msg { return session.RoomMsg{Snap: seat.Latest()} }
	// Window sizes reach the session coalesced and paced: a storm of
	// window changes costs a frame per ResizeEvery, not one per change.
	// The model hears the size as sent (to say it is too large), then the
	// clamped size it draws at.
	sizes := newSizePacer(func(win ssh.Window) {
		l.Send(session.TerminalSizeMsg{Width: win.Width, Height: win.Height})
		cw, ch := session.ClampSize(win.Width, win.Height)
		l.Send(tea.WindowSizeMsg{Width: cw, Height: ch})
	})
	l.winch, l.resized = v.sizes, sizes.offer

	go func() {
		// Ends when the terminal does; a client that closes its input
		// but keeps the connection is ended by the idle timeout.
		_ = readInput(newPasteGuard(act), func(e uv.Event) {
			if msg := inputMsg(e); msg != nil {
				l.Send(msg)
			}
		})
	}()

	// A session with nothing crossing its terminal either way for the
	// idle timeout is told so and closed, before the SSH layer would cut
	// it without a word. A timer, not a goroutine: it wakes when the
	// session would be idle long enough, and looks again then.
	idle := watchIdle(act, s.cfg.IdleTimeout, func() { ls.end(idleText(s.cfg.IdleTimeout)) })
	defer idle.Stop()

	drawW, drawH := session.ClampSize(v.w, v.h)
	err = l.run(ctx, m, tea.ColorProfileMsg{Profile: v.profile}, tea.WindowSizeMsg{Width: drawW, Height: drawH})
	cancel() // whatever still waits on the session ends with its loop
	// The last screen, then the terminal given back, before anything is
	// written after it.
	_ = term.Close()
	switch {
	case errors.Is(err, errSessionPanic):
		s.log.Error("session ended by a panic", "user", clientText(v.user), "addr", v.addr)
		v.refuse(PanicText)
	case seat.Latest().Me.Kicked:
		v.refuse(RemovedText)
	case ls.farewell.Load() != nil:
		v.tell(*ls.farewell.Load())
	case s.closing.Load():
		v.tell(ShutdownText)
	case err != nil && !errors.Is(err, context.Canceled):
		s.log.Warn("session ended with an error", "user", clientText(v.user), "err", err)
	}
}

// logPanic logs a panic that ends one session.
func (s *Server) logPanic(v *visitor, p any, stack []byte) {
	s.log.Error("panic in a session", "user", clientText(v.user), "addr", v.addr,
		"panic", fmt.Sprint(p), "stack", string(stack))
}

// inputMsg is what the session hears of an input event, as Bubble Tea
// would hand it on; nil for events the session has no use for.
func inputMsg(e uv.Event) tea.Msg {
	switch e := e.(type) {
	case uv.KeyPressEvent:
		return tea.KeyPressMsg(e)
	case uv.PasteEvent:
		return tea.PasteMsg(e)
	}
	return nil
}

// profileOf is the colours the session's terminal shows, read from its
// environment as wish does for a session without a real PTY: TERM from the
// PTY request, COLORTERM and NO_COLOR from the client's env requests.
func profileOf(sess ssh.Session) colorprofile.Profile {
	env := sess.Environ()
	if pty, _, ok := sess.Pty(); ok {
		env = append(env, "TERM="+pty.Term)
	}
	return colorprofile.Env(env)
}
