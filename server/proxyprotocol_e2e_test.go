package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
)

// The words a session without a terminal reads once admitted, and the
// words of the per-address limit: which of the two a visit reads says
// which address the server took it to come from.
const (
	admittedText = "ssh -t"
	tooManyText  = "Too many people have just joined from your network"
)

// balancer dials as a TCP load balancer does: from this machine, opening
// the connection with a PROXY protocol header (version 1 or 2) that names
// client as the source.
func balancer(version byte, client string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		src := net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(client), 40000))
		if _, err := proxyproto.HeaderProxyFromAddrs(version, src, c.RemoteAddr()).WriteTo(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

// via is balancer as a dial option for sshtest.
func via(version byte, client string) sshtest.Option {
	return sshtest.WithDialer(balancer(version, client))
}

// visit opens one session without a terminal over a connection dial opens,
// and returns what the server said on stderr, or, when the connection
// failed before a session, the error.
func visit(t *testing.T, r *running, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := dial(ctx, "tcp", r.addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	cc, chans, reqs, err := gossh.NewClientConn(nc, r.addr, &gossh.ClientConfig{User: "student",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(sshtest.NewKey(t))},
		HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey())})
	if err != nil {
		return "", err
	}
	client := gossh.NewClient(cc, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	var out strings.Builder
	sess.Stderr = &out
	if err := sess.Shell(); err != nil {
		return "", err
	}
	_ = sess.Wait()
	return out.String(), nil
}

// TestProxyHeaderNamesTheClient: behind a load balancer the server sees
// each student's own address, by either version of the header: one
// address's allowance spent leaves another's whole, the log names the
// students, and a connection from the balancer without a header is refused.
func TestProxyHeaderNamesTheClient(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 1, ConnRate: 0.001,
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, cat, &logs)

	first := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), via(2, "203.0.113.7"))
	first.WaitFor("What should the class call you?")
	// The same student again, by the other version: their allowance is spent.
	if _, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)), via(1, "203.0.113.7")); status == 0 || !strings.Contains(stderr, tooManyText) {
		t.Errorf("a second session from 203.0.113.7 past a burst of 1: status %d, stderr %q", status, stderr)
	}
	// Another student through the same balancer is not held up.
	if _, stderr, _ := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)), via(1, "198.51.100.9")); !strings.Contains(stderr, admittedText) {
		t.Errorf("a session from 198.51.100.9 was not admitted: stderr %q", stderr)
	}
	if _, stderr, _ := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)), via(2, "2001:db8::9")); !strings.Contains(stderr, admittedText) {
		t.Errorf("a session from 2001:db8::9 was not admitted: stderr %q", stderr)
	}
	l := logs.String()
	for _, want := range []string{"addr=203.0.113.7:40000", "addr=198.51.100.9:40000", "addr=[2001:db8::9]:40000"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %s:\n%s", want, l)
		}
	}
	for line := range strings.Lines(l) {
		if strings.Contains(line, "connect") && strings.Contains(line, "addr=127.0.0.1") {
			t.Errorf("the log names the balancer as a client: %s", line)
		}
	}

	// The balancer itself, without a header, is a balancer misconfigured:
	// served, it would be one address for the whole class.
	plain := (&net.Dialer{}).DialContext
	if stderr, err := visit(t, r, plain); err == nil {
		t.Errorf("a connection from the balancer without a header was served: stderr %q", stderr)
	}
	waitFor(t, "the headerless connection in the log", func() bool {
		return strings.Contains(logs.String(), "connection from a load balancer without a valid PROXY header")
	})
}

// TestProxyHeaderIgnoredWhenOff: without ProxyFrom a header is not
// believed: the connection fails, or it is served as its real address
// (127.0.0.1, whose allowance is spent).
func TestProxyHeaderIgnoredWhenOff(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 1, ConnRate: 0.001}, cat, &logs)
	if _, stderr, _ := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t))); !strings.Contains(stderr, admittedText) {
		t.Fatalf("the first session was not admitted: stderr %q", stderr)
	}
	for _, version := range []byte{1, 2} {
		stderr, err := visit(t, r, balancer(version, "203.0.113.7"))
		if err == nil && !strings.Contains(stderr, tooManyText) {
			t.Errorf("a v%d header was believed with the PROXY protocol off: stderr %q", version, stderr)
		}
		t.Logf("v%d header, PROXY protocol off: err %v, stderr %q", version, err, stderr)
	}
	if strings.Contains(logs.String(), "203.0.113.7") {
		t.Errorf("the claimed address reached the log:\n%s", logs.String())
	}
}

// TestProxyHeaderFromAnUntrustedAddressIsRefused: with a balancer listed,
// a header from any other address is refused, by either door, and logged;
// that address's own connections without one are served as usual.
func TestProxyHeaderFromAnUntrustedAddressIsRefused(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 1, ConnRate: 0.001,
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}}, cat, &logs)
	for _, version := range []byte{1, 2} {
		if stderr, err := visit(t, r, balancer(version, "203.0.113.7")); err == nil {
			t.Errorf("a v%d header from an address not listed was served: stderr %q", version, stderr)
		}
	}
	waitFor(t, "the forged header in the log", func() bool {
		return strings.Contains(logs.String(), "a PROXY header from an address not trusted to send one")
	})
	// The browser door refuses it too.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: balancer(1, "203.0.113.7")}}
	if resp, err := client.Get(r.page); err == nil {
		resp.Body.Close()
		t.Errorf("the browser door answered a forged header: %s", resp.Status)
	}
	if strings.Contains(logs.String(), "203.0.113.7") {
		t.Errorf("the claimed address reached the log:\n%s", logs.String())
	}
	// The refused connections did not spend 127.0.0.1's one session.
	if _, stderr, _ := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t))); !strings.Contains(stderr, admittedText) {
		t.Errorf("a connection without a header was not served: stderr %q", stderr)
	}
}

// TestBrowserBehindABalancer: the browser door believes a listed
// balancer's header too, and a student's allowance is one across both
// doors; the balancer's address may also come without a header (an HTTP
// proxy there names the client in X-Forwarded-For instead).
func TestBrowserBehindABalancer(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 1, ConnRate: 0.001,
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, cat, &logs)
	browser(t, r, "Wen", via(2, "203.0.113.7"))
	if _, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)), via(1, "203.0.113.7")); status == 0 || !strings.Contains(stderr, tooManyText) {
		t.Errorf("the same student by SSH past a burst of 1: status %d, stderr %q", status, stderr)
	}
	c := sshtest.DialWeb(t, r.ws, via(1, "203.0.113.7"))
	c.WaitFor(tooManyText)
	browser(t, r, "Ada", via(1, "198.51.100.9"))
	browser(t, r, "Lin") // no header: 127.0.0.1 itself
	l := logs.String()
	for _, want := range []string{"addr=203.0.113.7", "addr=198.51.100.9", "addr=127.0.0.1"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %s:\n%s", want, l)
		}
	}
}

// TestSilentBalancerConnectionsHoldUpNoOne: connections from the balancer
// that never send their header do not delay anyone else's (the header is
// read in each connection's own goroutine, not in Accept), and are closed
// once ProxyHeaderTimeout has passed.
func TestSilentBalancerConnectionsHoldUpNoOne(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, cat, &logs)
	var silent []net.Conn
	for range 5 {
		c, err := net.DialTimeout("tcp", r.addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	start := time.Now()
	if _, stderr, _ := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)), via(2, "198.51.100.9")); !strings.Contains(stderr, admittedText) {
		t.Errorf("a student behind five silent connections was not admitted: stderr %q", stderr)
	}
	// Read one after another in Accept, five silent headers would hold the
	// student up five timeouts.
	if d := time.Since(start); d >= 2*server.ProxyHeaderTimeout {
		t.Errorf("a student behind five silent connections waited %v", d)
	}
	for i, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(server.ProxyHeaderTimeout + 15*time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("silent connection %d: read %v, want it closed by the server", i, err)
		}
	}
	waitFor(t, "the headerless connections in the log", func() bool {
		return strings.Contains(logs.String(), "connection from a load balancer without a valid PROXY header")
	})
}
