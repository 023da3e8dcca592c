package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
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
		id.ID = "session:" + sess.Context().SessionID()
	}
	return id
}

// liveSession is one running program, as the server sees it for shutdown.
type liveSession struct {
	program *tea.Program
	once    sync.Once
}

// notify sends the shutdown notice without ever blocking the caller: a
// stalled client's program may not take messages until its connection is
// closed, and the send ends then.
func (ls *liveSession) notify(text string) {
	ls.once.Do(func() {
		go ls.program.Send(session.ShutdownMsg{Text: text})
	})
}

// programMiddleware runs one Bubble Tea program per session. It is written
// here rather than taken from wish's bubbletea middleware so the server owns
// the program's lifecycle: registration for shutdown, a 0×0 window taken as
// 80×24, what the student reads when the program ends, and logging through
// the server's logger (wish's logs every ordinary disconnect as an error).
func (s *Server) programMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, winch, _ := sess.Pty()
		w, h := pty.Window.Width, pty.Window.Height
		seat, err := s.room.Join(s.identityOf(sess))
		if err != nil {
			wish.Fatalln(sess, "You have been removed from this class.")
			return
		}
		defer seat.Leave()
		m := session.New(session.Options{Catalog: s.catalog, Width: w, Height: h, Seat: seat, User: sess.User(), Renders: s.renders,
			OnPanic: func(v any, stack []byte) {
				s.log.Error("panic in a session", "user", sess.User(), "addr", sess.RemoteAddr().String(),
					"panic", fmt.Sprint(v), "stack", string(stack))
			}})
		opts := append(bubbletea.MakeOptions(sess),
			tea.WithContext(sess.Context()),
			tea.WithoutSignalHandler(),
			// WithFilter replaces MakeOptions' filter, so it repeats its
			// ctrl+z guard (suspending would stop the whole server), and
			// turns the 0×0 window some clients report into 80×24 before
			// the renderer sees it: at 0×0 nothing would ever be drawn.
			tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
				switch msg := msg.(type) {
				case tea.SuspendMsg:
					return tea.ResumeMsg{}
				case tea.WindowSizeMsg:
					if msg.Width <= 0 || msg.Height <= 0 {
						return tea.WindowSizeMsg{Width: 80, Height: 24}
					}
				}
				return msg
			}),
		)
		if w <= 0 || h <= 0 {
			opts = append(opts, tea.WithWindowSize(80, 24))
		}
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
			wish.Fatalln(sess, ShutdownText)
			return
		}

		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()
		go func() {
			// A panic here would otherwise take the whole server down.
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("panic forwarding window size", "panic", r, "stack", string(debug.Stack()))
					p.Kill()
				}
			}()
			for {
				select {
				case <-ctx.Done():
					return
				case win, ok := <-winch:
					if !ok {
						// The client closed the session channel but may keep
						// the connection (ssh ControlMaster): end the program
						// rather than read a closed channel forever.
						p.Quit()
						return
					}
					p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
				}
			}
		}()

		// The room's news reaches the program through the seat's one-slot
		// mailbox; only this goroutine ever waits on a slow client.
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-seat.Ready():
					p.Send(session.RoomMsg{Snap: seat.Latest()})
				}
			}
		}()

		_, err = p.Run()
		p.Kill()
		switch {
		case errors.Is(err, tea.ErrProgramPanic):
			s.log.Error("session ended by a panic", "user", sess.User(), "addr", sess.RemoteAddr().String())
			wish.Fatalln(sess, "Sorry, something broke in this session and it had to close. "+
				"The class goes on: reconnect to rejoin.")
			return
		case s.closing.Load():
			wish.Println(sess, ShutdownText)
		case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
			s.log.Warn("session ended with an error", "user", sess.User(), "err", err)
		}
		next(sess)
	}
}
