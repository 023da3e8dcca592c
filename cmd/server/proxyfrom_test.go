package main

import (
	"flag"
	"strings"
	"testing"
)

// TestProxyFromFlag: --proxy-from reads addresses and prefixes, the
// command line replaces the environment's list rather than adding to it,
// and a bad list, from either, exits 2 before anything is served, naming
// where it came from.
func TestProxyFromFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var p proxyFrom
	fs.Var(&p, "proxy-from", "")
	t.Setenv("EXPEDITION_PROXY_FROM", "192.0.2.1")
	if err := envTwins(fs); err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "192.0.2.1/32" {
		t.Errorf("from the environment: %q", got)
	}
	if err := fs.Parse([]string{"--proxy-from", " 10.0.0.5, 10.1.0.0/16,2001:db8::/32 "}); err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "10.0.0.5/32,10.1.0.0/16,2001:db8::/32"; got != want {
		t.Errorf("from the command line: %q, want %q", got, want)
	}

	t.Setenv("EXPEDITION_PROXY_FROM", "")
	for _, bad := range []string{"lb.example.org", "10.0.0.5/24", "10.0.0.5,300.1.1.1"} {
		_, errOut, code := runCmd("serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--web", "", "--proxy-from", bad)
		if code != 2 || !strings.Contains(errOut, "-proxy-from") {
			t.Errorf("--proxy-from %q: exit %d, stderr %q", bad, code, errOut)
		}
	}
	t.Setenv("EXPEDITION_PROXY_FROM", "nonsense")
	if _, errOut, code := runCmd("serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--web", ""); code != 2 || !strings.Contains(errOut, "EXPEDITION_PROXY_FROM") {
		t.Errorf("EXPEDITION_PROXY_FROM=nonsense: exit %d, stderr %q", code, errOut)
	}
}
