package server

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
)

// TestClientAddr: X-Forwarded-For is believed only from a proxy on this
// machine, and only its last hop (the one the proxy added).
func TestClientAddr(t *testing.T) {
	cases := []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.7:5555", nil, "192.0.2.7"},
		{"192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7"}, // not from a local proxy: ignored
		{"127.0.0.1:5555", nil, "127.0.0.1"},
		{"127.0.0.1:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"[::1]:5555", []string{"10.0.0.1, 203.0.113.9"}, "203.0.113.9"}, // a spoofed first hop is not read
		{"127.0.0.1:5555", []string{"1.1.1.1", "203.0.113.10"}, "203.0.113.10"},
		{"127.0.0.1:5555", []string{"not an address"}, "127.0.0.1"},
	}
	for _, tc := range cases {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, nil); got != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// TestClientAddrFromListedProxies: with --proxy-from, X-Forwarded-For is
// also believed from the listed addresses (an HTTP proxy on another
// machine), and still from loopback, but from no one else.
func TestClientAddrFromListedProxies(t *testing.T) {
	proxies, err := ParseProxyFrom("192.0.2.10, 10.1.0.0/16, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.10:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"[::ffff:192.0.2.10]:5555", []string{"203.0.113.9"}, "203.0.113.9"}, // the same proxy on a dual-stack socket
		{"10.1.200.3:5555", []string{"6.6.6.6, 203.0.113.11"}, "203.0.113.11"},
		{"[2001:db8::7]:5555", []string{"2001:db8:ffff::1"}, "2001:db8:ffff::1"},
		{"192.0.2.10:5555", nil, "192.0.2.10"},
		{"192.0.2.10:5555", []string{"not an address"}, "192.0.2.10"},
		{"192.0.2.11:5555", []string{"203.0.113.9"}, "192.0.2.11"}, // next door to the proxy: not believed
		{"10.2.0.1:5555", []string{"203.0.113.9"}, "10.2.0.1"},
		{"127.0.0.1:5555", []string{"203.0.113.12"}, "203.0.113.12"},
	}
	for _, tc := range cases {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, proxies); got != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// TestClientAddrIgnoresForwardedForAfterAProxyHeader: a connection that
// came with a PROXY header is the client's, so X-Forwarded-For on it is the
// client's own claim, not read even when the client's address is loopback
// or listed.
func TestClientAddrIgnoresForwardedForAfterAProxyHeader(t *testing.T) {
	proxies, err := ParseProxyFrom("192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"127.0.0.1", "192.0.2.10", "203.0.113.7"} {
		var wire bytes.Buffer
		src := net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(client), 40000))
		dst := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 8080}
		if _, err := proxyproto.HeaderProxyFromAddrs(1, src, dst).WriteTo(&wire); err != nil {
			t.Fatal(err)
		}
		pc := proxyproto.NewConn(&wireConn{r: &wire}, proxyproto.WithPolicy(proxyproto.REQUIRE))
		r := &http.Request{RemoteAddr: pc.RemoteAddr().String(), Header: http.Header{"X-Forwarded-For": {"198.51.100.66"}}}
		r = r.WithContext(withProxyConn(context.Background(), pc))
		if got := clientAddr(r, proxies); got != client {
			t.Errorf("header naming %s, X-Forwarded-For 198.51.100.66: %s, want %s", client, got, client)
		}
	}
}

// wireConn is a connection that reads what r holds, from a balancer.
type wireConn struct {
	net.Conn
	r *bytes.Buffer
}

func (c *wireConn) Read(p []byte) (int, error)      { return c.r.Read(p) }
func (c *wireConn) RemoteAddr() net.Addr            { return &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 1} }
func (c *wireConn) SetReadDeadline(time.Time) error { return nil }
