package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"

	gossh "golang.org/x/crypto/ssh"

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
	program  *tea.Program
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
		go ls.program.Send(session.EndMsg{Text: text})
	})
}

// programMiddleware runs one Bubble Tea program per session. It is written
// here rather than taken from wish's bubbletea middleware so the server owns
// the program's lifecycle: registration for shutdown, the terminal's size
// clamped before the renderer allocates for it, the idle timeout, what the
// student reads when the program ends, and logging through the server's
// logger (wish's logs every ordinary disconnect as an error).
func (s *Server) programMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, winch, _ := sess.Pty()
		w, h := pty.Window.Width, pty.Window.Height
		seat, err := s.room.Join(s.identityOf(sess))
		if err != nil {
			refuse(sess, BannedText)
			return
		}
		defer seat.Leave()
		// The session waits for the room's news itself (session.Options.Done
		// ends the wait); it ends with this handler.
		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()
		m := session.New(session.Options{Catalog: s.catalog, Width: w, Height: h, Seat: seat, Done: ctx.Done(), User: sess.User(), Renders: s.renders,
			OnPanic: func(v any, stack []byte) {
				s.log.Error("panic in a session", "user", clientText(sess.User()), "addr", sess.RemoteAddr().String(),
					"panic", fmt.Sprint(v), "stack", string(stack))
			}})
		act := newActivity(sess)
		keys := newKeyPacer()
		drawW, drawH := session.ClampSize(w, h)
		opts := append(bubbletea.MakeOptions(sess),
			tea.WithInput(newPasteGuard(act)),
			tea.WithOutput(act),
			tea.WithContext(sess.Context()),
			tea.WithoutSignalHandler(),
			// The renderer allocates a cell buffer for the window it is
			// given: never the client's size as sent, always the clamp.
			tea.WithWindowSize(drawW, drawH),
			// WithFilter replaces MakeOptions' filter, so it repeats its
			// ctrl+z guard (suspending would stop the whole server); it
			// also paces keys and clamps any window size on its way to
			// the renderer.
			tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
				switch msg := msg.(type) {
				case tea.SuspendMsg:
					return tea.ResumeMsg{}
				case tea.KeyPressMsg:
					return keys.filter(msg)
				case tea.WindowSizeMsg:
					cw, ch := session.ClampSize(msg.Width, msg.Height)
					return tea.WindowSizeMsg{Width: cw, Height: ch}
				}
				return msg
			}),
		)
		p := tea.NewProgram(m, opts...)
		ls := &liveSession{program: p}
		s.mu.Lock()
		s.sessions[ls] = struct{}{}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.sessions, ls)
			s.mu.Unlock()
		}()
		if s.closing.Load() {
			refuse(sess, ShutdownText)
			return
		}

		// Window sizes reach the program coalesced and paced: a storm of
		// window changes costs a frame per ResizeEvery, not one per change.
		// The model hears the size as sent (to say it is too large); the
		// renderer only ever the clamped one.
		watchSizes(ctx, winch, func(win ssh.Window) {
			p.Send(session.TerminalSizeMsg{Width: win.Width, Height: win.Height})
			cw, ch := session.ClampSize(win.Width, win.Height)
			p.Send(tea.WindowSizeMsg{Width: cw, Height: ch})
		}, func() {
			// The client closed the session channel but may keep the
			// connection (ssh ControlMaster): end the program.
			p.Quit()
		})

		// A session with nothing crossing its terminal either way for the
		// idle timeout is told so and closed, before the SSH layer would
		// cut it without a word.
		go func() {
			t := time.NewTicker(idleCheckEvery(s.cfg.IdleTimeout))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					if act.idleFor(now) >= s.cfg.IdleTimeout {
						ls.end(idleText(s.cfg.IdleTimeout))
						return
					}
				}
			}
		}()

		_, err = p.Run()
		p.Kill()
		switch {
		case errors.Is(err, tea.ErrProgramPanic):
			s.log.Error("session ended by a panic", "user", clientText(sess.User()), "addr", sess.RemoteAddr().String())
			refuse(sess, "Sorry, something broke in this session and it had to close. "+
				"The class goes on: reconnect to rejoin.")
			return
		case seat.Latest().Me.Kicked:
			refuse(sess, RemovedText)
			return
		case ls.farewell.Load() != nil:
			tell(sess, *ls.farewell.Load())
		case s.closing.Load():
			tell(sess, ShutdownText)
		case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
			s.log.Warn("session ended with an error", "user", clientText(sess.User()), "err", err)
		}
		next(sess)
	}
}
