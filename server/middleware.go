package server

import (
	"fmt"
	"net"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"
)

// logMiddleware logs each connection's arrival and departure, with who it
// was: the key's fingerprint, or "keyless".
func (s *Server) logMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		pty, _, hasPty := sess.Pty()
		id := "keyless"
		if pk := sess.PublicKey(); pk != nil {
			id = gossh.FingerprintSHA256(pk)
		}
		s.log.Info("connect", "user", sess.User(), "addr", sess.RemoteAddr().String(), "key", id,
			"pty", hasPty, "term", pty.Term, "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height))
		next(sess)
		s.log.Info("disconnect", "user", sess.User(), "addr", sess.RemoteAddr().String(),
			"after", time.Since(start).Round(time.Second).String())
	}
}

// capacityMiddleware turns away sessions past MaxSessions with a clear
// message instead of letting one more slow everyone down.
func (s *Server) capacityMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		n := s.active.Add(1)
		defer s.active.Add(-1)
		if n > int64(s.cfg.MaxSessions) {
			s.log.Warn("class full", "max", s.cfg.MaxSessions, "addr", sess.RemoteAddr().String())
			wish.Fatalln(sess, fmt.Sprintf("The class is full (%d students). Please try again later.", s.cfg.MaxSessions))
			return
		}
		next(sess)
	}
}

// terminalMiddleware answers anything but an interactive terminal with one
// line saying how to connect, and a non-zero exit.
func (s *Server) terminalMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		join := JoinLine(sess.LocalAddr().String())
		if tcp, ok := sess.LocalAddr().(*net.TCPAddr); ok {
			join = JoinLine(net.JoinHostPort(hostForJoin(tcp), portOf(sess.LocalAddr().String())))
		}
		if _, _, ok := sess.Pty(); !ok {
			wish.Fatalln(sess, "Expedition is a full-screen tour and needs a terminal. Connect with: "+
				"ssh -t"+join[len("ssh"):])
			return
		}
		if len(sess.Command()) > 0 {
			wish.Fatalln(sess, "Expedition takes no commands. Connect with: "+join)
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
