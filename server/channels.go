package server

import (
	"strings"
	"sync/atomic"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Limits on what one connection may ask of the server before its shell
// starts. A client chooses each of these sizes, so each is bounded.
const (
	// MaxChannelsPerConn is how many sessions one connection may hold at
	// once (OpenSSH's MaxSessions is 10); a student needs one.
	MaxChannelsPerConn = 3
	// MaxEnvVars and MaxEnvValue bound the environment a session keeps:
	// only the variables in envAllowed, each value at most MaxEnvValue bytes.
	MaxEnvVars  = 16
	MaxEnvValue = 256
	// MaxPtyRequest bounds a PTY request (its TERM and terminal modes);
	// OpenSSH sends about 300 bytes.
	MaxPtyRequest = 4096
	// MaxTerm bounds TERM.
	MaxTerm = 64
)

// envAllowed are the variables the program reads: colour (colorprofile and
// Bubble Tea read these) and locale. Everything else a client sends is
// refused: COLUMNS and LINES, for one, would size the screen behind the
// clamp's back, and TMUX makes colorprofile run a command.
var envAllowed = map[string]bool{
	"TERM": true, "COLORTERM": true, "NO_COLOR": true, "CLICOLOR": true, "CLICOLOR_FORCE": true,
	"TERM_PROGRAM": true, "WT_SESSION": true, "LANG": true, "LC_ALL": true, "LC_CTYPE": true,
}

// refused reports the session requests Expedition turns down: nothing here
// needs the student's SSH agent or an X display, and saying yes to either
// would only widen what a connection can reach.
func refused(requestType string) bool {
	return requestType == "auth-agent-req@openssh.com" || requestType == "x11-req"
}

// channelsKey finds a connection's count of open sessions in its context.
type channelsKey struct{}

// sessionHandler is charm.land/ssh's session handler behind a filter on what
// a session may ask for (the library says yes to agent forwarding and keeps
// every env request), and within MaxChannelsPerConn sessions a connection.
func sessionHandler(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	authenticated(ctx)
	open, ok := ctx.Value(channelsKey{}).(*atomic.Int32)
	if !ok {
		// Every connection gets its counter in connCallback; without one
		// the connection did not come through the gate.
		_ = newChan.Reject(gossh.ResourceShortage, "Expedition: connection not admitted")
		return
	}
	if open.Add(1) > MaxChannelsPerConn {
		open.Add(-1)
		_ = newChan.Reject(gossh.ResourceShortage, "Expedition: at most 3 sessions per connection")
		return
	}
	defer open.Add(-1)
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
		envs := 0
		for r := range reqs {
			ok := true
			switch {
			case refused(r.Type):
				ok = false
			case r.Type == "env":
				ok = envs < MaxEnvVars && envOK(r.Payload)
				if ok {
					envs++
				}
			case r.Type == "pty-req":
				ok = ptyOK(r.Payload)
			}
			if !ok {
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

// envOK reports an env request the session may keep.
func envOK(payload []byte) bool {
	var kv struct{ Key, Value string }
	if gossh.Unmarshal(payload, &kv) != nil {
		return false
	}
	return envAllowed[kv.Key] && len(kv.Value) <= MaxEnvValue && !strings.ContainsAny(kv.Value, "\x00\n")
}

// ptyOK reports a PTY request of sane size. Its window is clamped later
// (session.ClampSize); here only what the library would keep as it is.
func ptyOK(payload []byte) bool {
	if len(payload) > MaxPtyRequest {
		return false
	}
	var req struct {
		Term string
		Rest []byte `ssh:"rest"`
	}
	return gossh.Unmarshal(payload, &req) == nil && len(req.Term) <= MaxTerm
}
