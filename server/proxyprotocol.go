package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pires/go-proxyproto"
)

// The PROXY protocol (HAProxy's, v1 and v2): a TCP load balancer in front of
// several servers opens each connection with a header naming the client,
// since every connection otherwise reaches the server from the balancer's
// own address, and the per-address limits would take a whole school for
// one student (or the other way round). Only the balancers listed in
// Config.ProxyFrom are believed; from anyone else a header is refused, so a
// student cannot claim another address to escape a limit or to spend a
// classmate's.

// ProxyHeaderTimeout is how long a connection from a load balancer has to
// send its PROXY header (and, on the browser door, how long any connection
// has to send its first bytes while the door looks for one). HAProxy writes
// the header as soon as it connects, so one that is late is not coming; the
// library's default of 10 seconds only holds a goroutine longer.
const ProxyHeaderTimeout = 5 * time.Second

// ParseProxyFrom reads a comma-separated list of IP addresses and CIDR
// prefixes ("10.0.0.5, 10.0.1.0/24, 2001:db8::/64"), the load balancers
// trusted to send a PROXY protocol header. A bare address is its own /32 or
// /128. A prefix with bits set past its length ("10.0.0.5/24") is refused
// rather than widened: whom to believe is too important to guess. Empty
// items are skipped, so "" is no balancer at all.
func ParseProxyFrom(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseProxyPrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// parseProxyPrefix reads one item of ParseProxyFrom's list.
func parseProxyPrefix(item string) (netip.Prefix, error) {
	if !strings.Contains(item, "/") {
		a, err := netip.ParseAddr(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR prefix (e.g. 10.0.0.5 or 10.0.0.0/24)", item)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: an address with a zone cannot be matched; leave the zone out", item)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(item)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix (e.g. 10.0.0.0/24): %w", item, err)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past its length: write %s for the network or %s for the one address",
			item, p.Masked(), p.Addr())
	}
	return p, nil
}

// proxied reports whether addr is one of the trusted load balancers. An
// IPv4 peer on a dual-stack socket (::ffff:10.0.0.5) matches 10.0.0.5, and
// a link-local peer's zone is left out, as ParseProxyFrom leaves it out.
func proxied(from []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range from {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// addrOf is the IP address of a connection's peer (invalid when it has
// none, as a Unix socket's).
func addrOf(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// proxyListener wraps ln so that a connection from a trusted load balancer
// gets the policy trusted (USE or REQUIRE: the client's address comes from
// its header), and one from anyone else that opens with a header is
// refused (REJECT): its first read fails with ErrSuperfluousProxyHeader.
// IGNORE would strip such a header and serve the peer as itself, which is
// just as safe but silent, and a balancer missing from ProxyFrom would then
// make the whole class one address without a word; refused, every such
// connection fails at once and the log says why.
//
// The listener does not read headers in Accept (go-proxyproto reads one on
// the connection's first use), so one slow connection cannot hold up the
// others.
func proxyListener(ln net.Listener, from []netip.Prefix, trusted proxyproto.Policy) *proxyproto.Listener {
	return &proxyproto.Listener{
		Listener: ln,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if proxied(from, addrOf(o.Upstream)) {
				return trusted, nil
			}
			return proxyproto.REJECT, nil
		},
		ReadHeaderTimeout: ProxyHeaderTimeout,
	}
}

// sshProxyListener is proxyListener for the SSH door: a balancer's
// connections must carry a header (REQUIRE). HAProxy with send-proxy or
// send-proxy-v2 always sends one, and no other kind of proxy can stand in
// front of SSH and say who the client is, so a connection from a balancer
// without one is a balancer misconfigured (it would be served as the
// balancer, one address for the class): refused, and logged.
func sshProxyListener(ln net.Listener, from []netip.Prefix) *proxyproto.Listener {
	return proxyListener(ln, from, proxyproto.REQUIRE)
}

// webProxyListener is proxyListener for the browser door: a trusted
// address's header is used when it sends one (USE) and not required, since
// the same address may instead be an HTTP reverse proxy that names the
// client in X-Forwarded-For (clientAddr).
func webProxyListener(ln net.Listener, from []netip.Prefix) *proxyproto.Listener {
	return proxyListener(ln, from, proxyproto.USE)
}

// proxyConnKey finds a web request's connection in its context, when the
// browser door is behind a load balancer.
type proxyConnKey struct{}

// withProxyConn is the browser door's http.Server.ConnContext behind a
// load balancer: it keeps the connection where clientAddr can ask whether
// it came with a header. It runs in the accept loop, so it only keeps it:
// the header is read later, in the connection's own goroutine.
func withProxyConn(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*proxyproto.Conn); ok {
		return context.WithValue(ctx, proxyConnKey{}, pc)
	}
	return ctx
}

// cameWithProxyHeader reports whether r's connection opened with a PROXY
// header that was believed (r.RemoteAddr is then the header's).
func cameWithProxyHeader(r *http.Request) bool {
	pc, ok := r.Context().Value(proxyConnKey{}).(*proxyproto.Conn)
	return ok && pc.ProxyHeader() != nil
}

// admitProxied is the gate's admission of a connection from a load
// balancer, which Accept could not do: it reads the header, here in the
// connection's own goroutine, and admits the connection by the client's
// address it names. It reports false, having said why, for a connection to
// close.
func (c *gateConn) admitProxied() bool {
	pc, ok := c.Conn.(*proxyproto.Conn)
	if !ok {
		return false // gatedListener defers only *proxyproto.Conn
	}
	if pc.ProxyHeader() == nil {
		// Missing, malformed or late: the header is read once, and its
		// error is kept for every read, so the connection is done.
		c.l.refusals.note("connection from a load balancer without a valid PROXY header", hostOf(pc.Raw().RemoteAddr()))
		return false
	}
	ip := hostOf(pc.RemoteAddr())
	t, why := c.l.gate.admit(ip)
	if t == nil {
		c.l.refuse(pc, ip, why)
		return false
	}
	c.t.Store(t)
	return true
}

// connFailed is the SSH server's ConnectionFailedCallback: of the
// connections that never finished the handshake, it logs those refused for
// a PROXY header their address may not send (a forgery, or a balancer
// missing from ProxyFrom).
func (s *Server) connFailed(conn net.Conn, err error) {
	if errors.Is(err, proxyproto.ErrSuperfluousProxyHeader) {
		s.refusals.note("connection refused: a PROXY header from an address not trusted to send one", hostOf(conn.RemoteAddr()))
	}
}
