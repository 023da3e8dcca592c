package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/ssh"
	"github.com/pires/go-proxyproto"
	"golang.org/x/time/rate"
)

// Limits on connections that have not authenticated yet, checked when the
// TCP connection is accepted, before the key exchange spends any CPU on it:
// the way OpenSSH's MaxStartups and PerSourcePenalties protect sshd.
//
// Per address, at most startupsPerAddr connections may be mid-handshake at
// once and as many may start together (a class behind one NAT pressing
// enter at the same moment), then HandshakeRate a second. A connection that
// closes without authenticating costs one more start (a penalty), so a
// client that only ever handshakes gets half the rate. MaxStartups bounds
// the unauthenticated connections of all addresses together.
const (
	HandshakeRate = 20
	MaxStartups   = 1000
)

// gate admits new connections within the limits above.
type gate struct {
	perAddr int
	burst   int
	now     func() time.Time

	mu      sync.Mutex
	pending int
	addrs   map[string]*source
}

// source is one address's connections mid-handshake and its pace.
type source struct {
	pending int
	lim     *rate.Limiter
}

// startupsPerAddr is twice the session burst, and never fewer than 32: a
// class behind one NAT meets the session limit first, which says in words
// what to do, rather than a connection closed before the handshake.
func startupsPerAddr(connBurst int) int { return max(2*connBurst, 32) }

func newGate(perAddr int) *gate {
	return &gate{perAddr: perAddr, burst: perAddr, now: time.Now, addrs: map[string]*source{}}
}

// ticket is one admitted connection's place at the gate.
type ticket struct {
	g    *gate
	ip   string
	once sync.Once
}

// admit lets a new connection from ip start its handshake, or says why not.
func (g *gate) admit(ip string) (*ticket, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending >= MaxStartups {
		return nil, "too many connections mid-handshake"
	}
	src := g.addrs[ip]
	if src == nil {
		if len(g.addrs) >= MaxStartups {
			g.sweep()
		}
		src = &source{lim: rate.NewLimiter(HandshakeRate, g.burst)}
		g.addrs[ip] = src
	}
	switch {
	case src.pending >= g.perAddr:
		return nil, "too many connections mid-handshake from one address"
	case !src.lim.AllowN(g.now(), 1):
		return nil, "too many new connections from one address"
	}
	src.pending++
	g.pending++
	return &ticket{g: g, ip: ip}, ""
}

// sweep forgets addresses with nothing pending and a full budget: they
// would start afresh anyway. Callers hold g.mu.
func (g *gate) sweep() {
	now := g.now()
	for ip, src := range g.addrs {
		if src.pending == 0 && src.lim.TokensAt(now) >= float64(g.burst) {
			delete(g.addrs, ip)
		}
	}
}

// release frees the ticket's place; a connection that never authenticated
// pays the penalty. It runs once, whichever comes first: the first channel
// (authenticated) or the connection's close.
func (t *ticket) release(authenticated bool) {
	t.once.Do(func() {
		g := t.g
		g.mu.Lock()
		defer g.mu.Unlock()
		g.pending--
		src := g.addrs[t.ip]
		if src == nil {
			return
		}
		src.pending--
		if !authenticated {
			src.lim.ReserveN(g.now(), 1) // goes into debt: the next start waits
		}
	})
}

// ticketKey finds a connection's ticket in its ssh.Context.
type ticketKey struct{}

// gateConn is an admitted connection; closing it frees its ticket. A
// connection from a load balancer is admitted later, once its header is
// read (admitProxied): until then it holds no ticket.
type gateConn struct {
	net.Conn
	l *gatedListener
	t atomic.Pointer[ticket]
}

func (c *gateConn) Close() error {
	if t := c.t.Load(); t != nil {
		t.release(false)
	}
	return c.Conn.Close()
}

// gatedListener admits connections at the gate as they are accepted, so a
// refused one costs an accept and a close, not a goroutine and an SSH
// context: a flood from one address is turned away at the cost the kernel
// sets.
type gatedListener struct {
	net.Listener
	gate     *gate
	refusals *refusals
}

// Accept returns the next admitted connection, closing the ones the gate
// refuses with a line saying why (OpenSSH shows lines sent before the
// version exchange only with -v, but nc and other clients show them).
//
// Behind a load balancer (Listener a proxyListener), a connection from the
// balancer is returned unadmitted: its client's address is in a header not
// read yet, and reading it here would hold up every accept behind one slow
// connection. connCallback admits it by that address in its own goroutine.
// Any other connection may not send a header, so its address is its
// socket's, read without waiting for one.
func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		raw := conn
		if pc, ok := conn.(*proxyproto.Conn); ok {
			if pc.ProxyHeaderPolicy == proxyproto.REQUIRE {
				return &gateConn{Conn: conn, l: l}, nil
			}
			raw = pc.Raw()
		}
		ip := hostOf(raw.RemoteAddr())
		t, why := l.gate.admit(ip)
		if t != nil {
			gc := &gateConn{Conn: conn, l: l}
			gc.t.Store(t)
			return gc, nil
		}
		l.refuse(raw, ip, why)
	}
}

// refuse closes a connection the gate turned away, with a line saying why.
func (l *gatedListener) refuse(conn net.Conn, ip, why string) {
	l.refusals.note("connection refused before the handshake: "+why, ip)
	_ = conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = conn.Write([]byte("Expedition: " + why + "; try again in a few seconds.\r\n"))
	_ = conn.Close()
}

// connCallback is the server's ssh.ConnCallback: it admits a connection
// from a load balancer at the gate (or ends it), and puts the connection's
// ticket and its count of open sessions in its context.
func connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	if gc, ok := conn.(*gateConn); ok {
		if gc.t.Load() == nil && !gc.admitProxied() {
			return nil // the SSH server closes it
		}
		ctx.SetValue(ticketKey{}, gc.t.Load())
	}
	ctx.SetValue(channelsKey{}, &atomic.Int32{})
	return conn
}

// authenticated frees the connection's place at the gate once it opens a
// channel, which a client can do only after authenticating.
func authenticated(ctx ssh.Context) {
	if t, ok := ctx.Value(ticketKey{}).(*ticket); ok {
		t.release(true)
	}
}
