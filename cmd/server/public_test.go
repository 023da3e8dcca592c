package main

import (
	"strings"
	"testing"
)

func TestPublicAddresses(t *testing.T) {
	for addr, ok := range map[string]bool{
		"class.example.org": true, "10.0.0.4:2222": true, "[2001:db8::1]:22": true,
		"": false, "host:0": false, "host:99999": false, "a b": false, "user@host": false, "host:port": false,
	} {
		if err := checkPublicSSH(addr); (err == nil) != ok {
			t.Errorf("checkPublicSSH(%q) = %v, want ok %v", addr, err, ok)
		}
	}
	for u, ok := range map[string]bool{
		"https://class.example.org/": true, "http://10.0.0.4:8080/": true,
		"class.example.org": false, "ftp://x/": false, "https://": false, "%zz": false,
	} {
		if err := checkPublicWeb(u); (err == nil) != ok {
			t.Errorf("checkPublicWeb(%q) = %v, want ok %v", u, err, ok)
		}
	}
	_, errOut, code := runCmd("serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--web", "", "--public-ssh", "a b")
	if code != 2 || !strings.Contains(errOut, "--public-ssh") {
		t.Errorf("a bad --public-ssh: exit %d, stderr %q", code, errOut)
	}
}
