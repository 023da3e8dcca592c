package server

import (
	"fmt"
	"net"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// logMiddleware logs each session's arrival and departure, with who it was:
// the key's fingerprint, or "keyless". It runs after the rate limit and the
// capacity check, which log their refusals once per address per interval,
// and what the client chose (user name, TERM) is cut and escaped.
func (s *Server) logMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		pty, _, hasPty := sess.Pty()
		id := "keyless"
		if pk := sess.PublicKey(); pk != nil {
			id = gossh.FingerprintSHA256(pk)
		}
		user := clientText(sess.User())
		s.log.Info("connect", "user", user, "addr", sess.RemoteAddr().String(), "key", id,
			"pty", hasPty, "term", clientText(pty.Term), "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height))
		next(sess)
		s.log.Info("disconnect", "user", user, "addr", sess.RemoteAddr().String(),
			"after", time.Since(start).Round(time.Second).String())
	}
}

// capacityMiddleware turns away sessions past MaxSessions with a clear
// message instead of letting one more slow everyone down.
func (s *Server) capacityMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		release, why := s.takeSession(hostOf(sess.RemoteAddr()))
		defer release()
		if why != "" {
			refuse(sess, why)
			return
		}
		next(sess)
	}
}

// takeSession counts one more session, by either door, against
// MaxSessions; release gives it back. Past the limit it says why instead.
func (s *Server) takeSession(addr string) (release func(), refusal string) {
	n := s.active.Add(1)
	release = func() { s.active.Add(-1) }
	if n > int64(s.cfg.MaxSessions) {
		s.refusals.note("class full", addr, "max", s.cfg.MaxSessions)
		return release, fmt.Sprintf("The class is full (%d students). Please try again later.", s.cfg.MaxSessions)
	}
	return release, ""
}

// terminalMiddleware answers anything but an interactive terminal with one
// line saying how to connect, and a non-zero exit.
func (s *Server) terminalMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		join := JoinLine(sess.LocalAddr().String())
		if tcp, ok := sess.LocalAddr().(*net.TCPAddr); ok {
			join = JoinLine(net.JoinHostPort(hostForJoin(tcp), portOf(sess.LocalAddr().String())))
		}
		if s.cfg.PublicSSH != "" {
			join = JoinLine(s.cfg.PublicSSH)
		}
		if _, _, ok := sess.Pty(); !ok {
			refuse(sess, "Expedition is a full-screen tour and needs a terminal. Connect with: "+
				"ssh -t"+join[len("ssh"):])
			return
		}
		if len(sess.Command()) > 0 {
			refuse(sess, "Expedition takes no commands. Connect with: "+join)
			return
		}
		next(sess)
	}
}

// hostForJoin is the host part of the join line for a connection that
// arrived at addr: loopback stays "localhost", anything else is the address
// the student reached.
func hostForJoin(addr *net.TCPAddr) string {
	if addr.IP.IsLoopback() {
		return "localhost"
	}
	return addr.IP.String()
}

// onePty reads the session's PTY once, as the session starts, and hands the
// rest of the chain a session that answers Pty() from that reading.
// charm.land/ssh writes the PTY's window without a lock when a window
// change arrives, so every later read would race with the client's
// resizes; the window's later sizes come through the channel Pty returns.
func onePty(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, winch, ok := sess.Pty()
		next(&ptySession{Session: sess, pty: pty, winch: winch, ok: ok})
	}
}

// ptySession is a session whose Pty() is the reading onePty took.
type ptySession struct {
	ssh.Session
	pty   ssh.Pty
	winch <-chan ssh.Window
	ok    bool
}

func (p *ptySession) Pty() (ssh.Pty, <-chan ssh.Window, bool) { return p.pty, p.winch, p.ok }
