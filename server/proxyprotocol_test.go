package server

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestParseProxyFrom: addresses become single-address prefixes, prefixes
// are kept, and anything that would have the server believe someone it
// was not told to is refused with the item named.
func TestParseProxyFrom(t *testing.T) {
	good := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"10.0.0.5", []string{"10.0.0.5/32"}},
		{"10.0.0.5, 10.0.1.0/24,2001:db8::1 ,2001:db8:1::/48", []string{"10.0.0.5/32", "10.0.1.0/24", "2001:db8::1/128", "2001:db8:1::/48"}},
		{"::ffff:192.0.2.1", []string{"192.0.2.1/32"}}, // as the address it is
		{"0.0.0.0/0", []string{"0.0.0.0/0"}},           // every client comes by the balancer
	}
	for _, tc := range good {
		got, err := ParseProxyFrom(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if !slices.Equal(gotS, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, gotS, tc.want)
		}
	}
	bad := []struct{ in, says string }{
		{"nonsense", `"nonsense" is neither an IP address nor a CIDR prefix`},
		{"10.0.0.5, 10.0.0.300", `"10.0.0.300"`},
		{"10.0.0.5/24", "write 10.0.0.0/24 for the network or 10.0.0.5 for the one address"},
		{"10.0.0.0/33", `"10.0.0.0/33" is not a CIDR prefix`},
		{"10.0.0.0/", `"10.0.0.0/"`},
		{"lb.example.org", `"lb.example.org"`}, // names are not resolved
		{"fe80::1%eth0", "zone"},
		{"10.0.0.5:2222", `"10.0.0.5:2222"`},
	}
	for _, tc := range bad {
		got, err := ParseProxyFrom(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: %v, %v; want an error saying %q", tc.in, got, err, tc.says)
		}
	}
}

// TestProxied: a peer is matched whichever way its address is written.
func TestProxied(t *testing.T) {
	from, err := ParseProxyFrom("192.0.2.1, 10.0.0.0/8, fe80::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To16(), Port: 1}, true}, // 16-byte form, as a dual-stack socket gives
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.9.8.7"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "eth0"}, true},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("11.0.0.1"), Port: 1}, false},
		{&net.UnixAddr{Name: "/tmp/sock", Net: "unix"}, false},
	} {
		if got := proxied(from, addrOf(tc.addr)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.addr, got, tc.want)
		}
	}
	if proxied(nil, netip.MustParseAddr("127.0.0.1")) {
		t.Error("no balancers, yet one was trusted")
	}
}
