package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWith runs a server with its own catalog and config, logging to buf.
func startWith(t *testing.T, cfg server.Config, cat *lessons.Catalog, buf *syncBuffer) *running {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	srv, err := server.New(cfg, log.New(buf), cat)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{srv: srv}
	r.serve(t, ln)
	return r
}

// boom is a chapter whose render panics, to prove one broken chapter costs
// one session, not the class.
type boom struct{}

func (boom) ID() string                          { return "boom" }
func (boom) Number() int                         { return 7 }
func (boom) Title() string                       { return "A chapter with a bug" }
func (boom) Summary() string                     { return "panics when drawn" }
func (boom) Controls() []lessons.Control         { return nil }
func (boom) Render(f lessons.Frame) string       { panic("boom: a bug in a chapter") }
func (boom) Polls(lessons.Values) []lessons.Poll { return nil }

func TestPanicEndsOnlyThatSession(t *testing.T) {
	tokens, err := lessons.NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	r := startWith(t, server.Config{}, lessons.NewCatalogOf(tokens, boom{}), &logs)
	a := dial(t, r)
	b := dial(t, r)
	a.Type("7")
	// The session ends; its last words are on the screen once Wait returns.
	if status, _ := a.Wait(); status == 0 {
		t.Error("the broken session exited 0")
	}
	if s := a.Screen(); !strings.Contains(s, "something broke in this session") {
		t.Errorf("the student was not told:\n%s", s)
	}
	b.Type("1")
	b.WaitFor("From letters to numbers")
	if l := logs.String(); !strings.Contains(l, "panic in a session") || !strings.Contains(l, "boom.Render") {
		t.Fatalf("the log lacks the panic and its stack:\n%s", l)
	}
	// A new session still works.
	dial(t, r).Type("1")
}

func TestClassFull(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{MaxSessions: 2}, cat, &logs)
	dial(t, r)
	dial(t, r)
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)))
	c.WaitFor("The class is full (2 students)")
	if status, _ := c.Wait(); status == 0 {
		t.Error("a turned-away session exited 0")
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 3, ConnRate: 0.01}, cat, &logs)
	for i := 0; i < 3; i++ {
		_, _, _ = sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
	}
	_, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
	if status == 0 || !strings.Contains(stderr, "Too many people have just joined from your network") {
		t.Errorf("4th session past a burst of 3: status %d stderr %q", status, stderr)
	}
}

// TestOnlyShellsAreServed: subsystems, port forwarding both ways, agent
// forwarding and X11 are refused.
func TestOnlyShellsAreServed(t *testing.T) {
	r := start(t, t.TempDir())
	client := rawStudent(t, r.addr, r.srv.HostKey())
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("sftp subsystem accepted")
	}
	sess.Close()
	if c, err := client.Dial("tcp", r.addr); err == nil {
		c.Close()
		t.Error("local port forwarding (direct-tcpip) accepted")
	}
	if ln, err := client.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("remote port forwarding (tcpip-forward) accepted")
	}
	s2, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := agent.RequestAgentForwarding(s2); err == nil {
		t.Error("agent forwarding accepted")
	}
	ok, err := s2.SendRequest("x11-req", true, gossh.Marshal(struct {
		Single        bool
		Proto, Cookie string
		Screen        uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0}))
	if err == nil && ok {
		t.Error("X11 forwarding accepted")
	}
}

func TestHostileInputLeavesEveryoneStanding(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	other := student(t, r, "Bystander")
	c := student(t, r, "Hammer")
	c.Type("1")
	c.WaitFor("From letters to numbers")
	// A 1 MB paste: cut to the cap, with a notice.
	c.Paste(strings.Repeat("x", 1<<20))
	c.WaitFor("capped at 2,000 characters")
	c.Key("enter")
	// 10,000 key presses in one burst.
	c.Type(strings.Repeat("jk→←", 2500))
	// Invalid UTF-8, NUL bytes and every class of escape sequence as keys.
	c.Type("\xff\xfe\x00\x00\x1b[6n\x1b]52;c;aGVsbG8=\x07\x1bP+q544e\x1b\\\x1b[?1049l\x1b[2J\x1bc\x9b31m")
	// 1,000 window changes in a burst, through sizes from 1×1 to 500×200.
	sizes := [][2]int{{1, 1}, {20, 5}, {500, 200}, {80, 24}}
	for i := 0; i < 1000; i++ {
		s := sizes[i%len(sizes)]
		c.Resize(s[0], s[1])
	}
	c.Resize(100, 30)
	c.WaitFor("From letters to numbers")
	// The room and the others carry on.
	in.Type("L")
	other.WaitFor("locked")
	c.WaitFor("locked")
}

func TestTinyAndHugeTerminals(t *testing.T) {
	r := start(t, t.TempDir())
	for _, size := range [][2]int{{1, 1}, {20, 5}, {500, 200}, {320, 100}} {
		// The PTY is requested at this size (no resize right after connect:
		// charm.land/ssh writes the window size unlocked while the session
		// starts, which the race detector rightly flags).
		c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(size[0], size[1]))
		switch {
		case size[0] == 20:
			c.WaitFor("small")
		case size[0] == 500:
			c.WaitFor("Terminal too large: now 500×200, at most 320×100")
		case size[0] == 1:
			c.WaitForFunc("something drawn in the one cell", func(s string) bool { return s != "" })
		default:
			c.WaitFor("What should the class call you?")
		}
		c.Close()
	}
	c := dial(t, r) // and an ordinary student still gets in
	c.Type("1")
	c.WaitFor("From letters to numbers")
}

func TestEscapesInNamesNeverReachOthers(t *testing.T) {
	r := start(t, t.TempDir())
	in := sshtest.Dial(t, r.addr, sshtest.WithUser("instructor"), sshtest.WithKeyboardInteractive(r.srv.InstructorToken()), sshtest.WithSize(100, 30))
	in.WaitFor("What should the class call you?")
	in.Key("ctrl+u")
	in.Paste("Prof\x1b[5m\u202e\u2066 X\x00")
	in.Key("enter")
	s := student(t, r, "Watcher")
	screen := s.WaitFor("class led by")
	if !strings.Contains(screen, "class led by ★ Prof X") {
		t.Fatalf("instructor's name as a student sees it:\n%s", screen)
	}
}

// rawStudent connects a student with a fresh key and no terminal emulator,
// for tests about the SSH layer itself.
func rawStudent(t *testing.T, addr string, hostKey gossh.PublicKey) *gossh.Client {
	t.Helper()
	cfg := &gossh.ClientConfig{User: "student", Auth: []gossh.AuthMethod{gossh.PublicKeys(sshtest.NewKey(t))},
		HostKeyCallback: gossh.FixedHostKey(hostKey), Timeout: 10 * time.Second}
	client, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return client
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestStalledClientMemoryIsBounded: a client that stops reading while the
// class moves on costs the server a bounded amount of memory, and the
// others keep up. The figure is logged for docs/RELIABILITY.md.
func TestStalledClientMemoryIsBounded(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	stuck := student(t, r, "Stuck", sshtest.WithSize(200, 60))
	watcher := student(t, r, "Watcher")
	in.Type("1")
	watcher.WaitFor("From letters to numbers")
	stuck.StopReading()
	before := heapInUse()
	in.Key("enter", "ctrl+u")
	for i := 0; i < 1000; i++ {
		in.Type(fmt.Sprintf("%d ", i%10))
	}
	in.Key("enter")
	watcher.WaitFor("9 0 1 2")
	after := heapInUse()
	grew := int64(after) - int64(before)
	t.Logf("heap in use before %d KiB, after 1,000 changes with a stalled client %d KiB (%+d KiB)", before/1024, after/1024, grew/1024)
	if grew > 32<<20 {
		t.Errorf("heap grew by %d MiB with one stalled client", grew>>20)
	}
}

// churnOnce is one short visit without a terminal emulator (so the test's
// own memory stays flat): connect with a PTY, wait for the first screen,
// then leave with ctrl+c or by dropping the connection.
func churnOnce(t *testing.T, addr string, hostKey gossh.PublicKey, clean bool) {
	t.Helper()
	client := rawStudent(t, addr, hostKey)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	buf := make([]byte, 32<<10)
	var seen []byte
	for !bytes.Contains(seen, []byte("call you?")) {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("read first screen: %v", err)
		}
		seen = append(seen, buf[:n]...)
	}
	if clean {
		stdin.Write([]byte{3}) // ctrl+c
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		sess.Wait()
	}
}

// TestChurnLeavesNoLeaks connects and disconnects many sessions, half
// quitting with ctrl+c and half dropping the connection, and checks that
// goroutines and heap come back to where they were. EXPEDITION_CHURN sets
// the number of cycles (default 200; docs/RELIABILITY.md reports 1,000).
func TestChurnLeavesNoLeaks(t *testing.T) {
	cycles := 200
	if n, err := strconv.Atoi(os.Getenv("EXPEDITION_CHURN")); err == nil && n > 0 {
		cycles = n
	}
	cat, _ := catalog()
	var logs syncBuffer
	// The rate limit would (rightly) stop one address opening a thousand
	// sessions a few seconds apart; this test is about leaks.
	r := startWith(t, server.Config{ConnBurst: 100000, ConnRate: 100000}, cat, &logs)
	hk := r.srv.HostKey()
	churnOnce(t, r.addr, hk, true) // warm up lazily built state
	time.Sleep(200 * time.Millisecond)
	g0, h0 := runtime.NumGoroutine(), heapInUse()
	begin := time.Now()
	for i := 0; i < cycles; i++ {
		churnOnce(t, r.addr, hk, i%2 == 0)
	}
	elapsed := time.Since(begin)
	var g1 int
	deadline := time.Now().Add(10 * time.Second)
	for {
		g1 = runtime.NumGoroutine()
		if (g1 <= g0+2 && r.srv.Sessions() == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	h1 := heapInUse()
	t.Logf("%d cycles in %v: goroutines %d → %d, heap in use %d KiB → %d KiB (%+d KiB)", cycles,
		elapsed.Round(time.Millisecond), g0, g1, h0/1024, h1/1024, (int64(h1)-int64(h0))/1024)
	if g1 > g0+2 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines did not come back: %d → %d\n%s", g0, g1, buf[:n])
	}
	if int64(h1)-int64(h0) > 8<<20 {
		t.Errorf("heap grew by %d MiB over %d cycles", (int64(h1)-int64(h0))>>20, cycles)
	}
}
