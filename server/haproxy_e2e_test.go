package server_test

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
)

// haproxyConfig puts HAProxy in TCP mode in front of both doors, as in front
// of several servers: the PROXY protocol's version 2 to the SSH door and
// version 1 to the browser door, so both are proved against the real thing.
const haproxyConfig = `global
    maxconn 200

defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

frontend ssh
    bind %s
    default_backend expedition_ssh

backend expedition_ssh
    server a %s send-proxy-v2

frontend web
    bind %s
    default_backend expedition_web

backend expedition_web
    server a %s send-proxy
`

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// haproxy starts HAProxy (Debian's package, which .ci/run installs) in
// front of r for one test and returns the addresses of its two doors. The
// test fails without it: what the PROXY protocol is for is proved behind
// the balancer people run.
func haproxy(t *testing.T, r *running) (sshAddr, webAddr string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		bin, err = exec.LookPath("/usr/sbin/haproxy")
	}
	if err != nil {
		t.Fatalf("this test needs HAProxy (apt-get install haproxy; .ci/run installs it): %v", err)
	}
	page, err := url.Parse(r.page)
	if err != nil {
		t.Fatal(err)
	}
	// A port found free may be taken before HAProxy binds it: then it
	// exits, and another pair is tried.
	var why string
	for range 3 {
		sshAddr, webAddr = freeAddr(t), freeAddr(t)
		if why = startHAProxy(t, bin, fmt.Sprintf(haproxyConfig, sshAddr, r.addr, webAddr, page.Host), sshAddr, webAddr); why == "" {
			return sshAddr, webAddr
		}
	}
	t.Fatal(why)
	return "", ""
}

// startHAProxy runs bin with config until the test ends, and waits until
// it listens on addrs; it says why not when it exits first.
func startHAProxy(t *testing.T, bin, config string, addrs ...string) (why string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-f", cfg, "-db") // -db: in the foreground
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start HAProxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				return fmt.Sprintf("HAProxy exited: %v\n%s", err, out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("HAProxy does not listen on %s after 20 s: %v\n%s", addr, err, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return ""
}

// from dials from a given loopback source address (Linux routes all of
// 127/8 to lo): one student's machine.
func from(source string) sshtest.Option {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	return sshtest.WithDialer(d.DialContext)
}

// TestBehindHAProxy: students reaching both doors through HAProxy are told
// apart by their own addresses, not HAProxy's (127.0.0.1, the one listed):
// one student's allowance spent, by either door, leaves the next student's
// whole, and the log names each.
func TestBehindHAProxy(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 1, ConnRate: 0.001,
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, cat, &logs)
	sshAddr, webAddr := haproxy(t, r)

	joinClass(sshtest.Dial(t, sshAddr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30), from("127.0.0.2")), "Ada")
	if _, stderr, status := sshtest.Run(t, sshAddr, "", sshtest.WithKey(sshtest.NewKey(t)), from("127.0.0.2")); status == 0 || !strings.Contains(stderr, tooManyText) {
		t.Errorf("a second session from 127.0.0.2 past a burst of 1: status %d, stderr %q", status, stderr)
	}
	if _, stderr, _ := sshtest.Run(t, sshAddr, "", sshtest.WithKey(sshtest.NewKey(t)), from("127.0.0.3")); !strings.Contains(stderr, admittedText) {
		t.Errorf("a session from 127.0.0.3 was not admitted: stderr %q", stderr)
	}
	ws := "ws://" + webAddr + "/ws"
	joinClass(sshtest.DialWeb(t, ws, sshtest.WithSize(100, 30), from("127.0.0.4")), "Wen")
	c := sshtest.DialWeb(t, ws, sshtest.WithSize(100, 30), from("127.0.0.2"))
	c.WaitFor(tooManyText)

	l := logs.String()
	for _, want := range []string{"addr=127.0.0.2:", "addr=127.0.0.3:", "addr=127.0.0.4"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %s:\n%s", want, l)
		}
	}
	for line := range strings.Lines(l) {
		if strings.Contains(line, "connect") && strings.Contains(line, "addr=127.0.0.1") {
			t.Errorf("the log names HAProxy as a client: %s", line)
		}
	}
}
