package server

import (
	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// refused reports the session requests Expedition turns down: nothing here
// needs the student's SSH agent or an X display, and saying yes to either
// would only widen what a connection can reach.
func refused(requestType string) bool {
	return requestType == "auth-agent-req@openssh.com" || requestType == "x11-req"
}

// sessionHandler is charm.land/ssh's session handler behind a filter that
// refuses the requests above (the library says yes to agent forwarding).
func sessionHandler(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{newChan}, ctx)
}

type filteredChannel struct{ gossh.NewChannel }

func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			if refused(r.Type) {
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
				continue
			}
			out <- r
		}
	}()
	return ch, out, nil
}
