package server

import (
	"net/http"
	"testing"
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
		if got := clientAddr(r); got != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
