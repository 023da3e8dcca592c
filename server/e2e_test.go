package server_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
)

var catalog = sync.OnceValues(lessons.NewCatalog)

type running struct {
	srv  *server.Server
	addr string
	// page and ws are the browser door's page and WebSocket URLs.
	page, ws string
	done     chan error
	webDone  chan error
	once     sync.Once
}

// serve starts the server's two doors, SSH on ln and the browser door on
// another free loopback port.
func (r *running) serve(t *testing.T, ln net.Listener) {
	t.Helper()
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r.addr, r.done, r.webDone = ln.Addr().String(), make(chan error, 1), make(chan error, 1)
	r.page, r.ws = "http://"+wl.Addr().String()+"/", "ws://"+wl.Addr().String()+"/ws"
	go func() { r.done <- r.srv.Serve(ln) }()
	go func() { r.webDone <- r.srv.ServeWeb(wl) }()
	t.Cleanup(func() { r.stop(t) })
}

// start runs the real server on 127.0.0.1:0 with its data in dir.
func start(t *testing.T, dir string) *running {
	t.Helper()
	return startConfig(t, server.Config{DataDir: dir})
}

// startConfig runs the real server as cfg says, on 127.0.0.1:0.
func startConfig(t *testing.T, cfg server.Config) *running {
	t.Helper()
	cat, err := catalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	srv, err := server.New(cfg, log.New(io.Discard), cat)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r := &running{srv: srv}
	r.serve(t, ln)
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() { r.shutdown(t) })
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for _, done := range []chan error{r.done, r.webDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	}
}

// dial connects a new student with a fresh key and answers the name prompt.
func dial(t *testing.T, r *running, opts ...sshtest.Option) *sshtest.Client {
	t.Helper()
	c := sshtest.Dial(t, r.addr, append([]sshtest.Option{sshtest.WithKey(sshtest.NewKey(t))}, opts...)...)
	enterName(c, "Student")
	return c
}

// enterName answers the name prompt a new member sees first.
func enterName(c *sshtest.Client, name string) {
	c.WaitFor("What should the class call you?")
	c.Key("ctrl+u")
	c.Type(name)
	c.Key("enter")
	c.WaitFor("Contents")
}

// openTokens goes from the contents to chapter 1 and replaces its text,
// ending the edit with enter (TestEscEndsEditing covers esc).
func openTokens(c *sshtest.Client, text string) {
	c.WaitFor("Contents")
	c.Type("1")
	c.WaitFor("From letters to numbers")
	c.Key("enter", "ctrl+u")
	c.Type(text)
	c.WaitFor(text)
	c.Key("enter")
	c.WaitGone("editing ·")
}

func TestEscEndsEditing(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r)
	c.WaitFor("Contents")
	c.Type("1")
	c.WaitFor("From letters to numbers")
	c.Key("enter")
	c.WaitFor("editing ·")
	c.Key("esc")
	c.WaitGone("editing ·")
}

func TestConnectShowsContents(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r)
	s := c.WaitFor("Contents")
	for _, want := range []string{"Expedition", "1  From letters to numbers", "q quit"} {
		if !strings.Contains(s, want) {
			t.Errorf("contents lacks %q:\n%s", want, s)
		}
	}
}

func TestKeylessStudentGetsIn(t *testing.T) {
	r := start(t, t.TempDir())
	c := sshtest.Dial(t, r.addr, sshtest.WithKeyboardInteractive(), sshtest.WithUser("student"))
	enterName(c, "Keyless")
}

func TestTokenizeTypedSentence(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r, sshtest.WithSize(100, 30))
	openTokens(c, "Hello, world!")
	// o200k_base "Hello, world!" = [13225, 11, 2375, 0] (tiktoken).
	s := c.WaitFor("4 tokens · 13 characters · 13 bytes")
	if !strings.Contains(s, "13225") || !strings.Contains(s, "2375") {
		t.Fatalf("o200k_base IDs missing:\n%s", s)
	}
	// Encoding is the control below Text; → switches to cl100k_base, whose
	// IDs for the same text are [9906, 11, 1917, 0].
	c.Key("down", "right")
	s = c.WaitFor("9906")
	if !strings.Contains(s, "1917") || !strings.Contains(s, "cl100k_base") || strings.Contains(s, "13225") {
		t.Fatalf("after switching encoding:\n%s", s)
	}
}

func TestSizeGate(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r)
	c.WaitFor("Contents")
	c.Resize(60, 20)
	c.WaitFor("Terminal too small: now 60×20, need 80×24")
	c.Type("1") // ignored while gated
	// Keys and window changes reach the program by different paths, so
	// give the key a moment to land before the window grows again.
	time.Sleep(300 * time.Millisecond)
	c.Resize(80, 24)
	s := c.WaitFor("Contents")
	if strings.Contains(s, "too small") {
		t.Fatalf("gate still shown:\n%s", s)
	}
}

func TestZeroSizeWindowIsTreatedAs80x24(t *testing.T) {
	r := start(t, t.TempDir())
	// The client asks for a 0×0 PTY (as OpenSSH's ssh -tt does from a
	// script); sshtest's emulator is then 80×24. Resizing at once would race
	// inside charm.land/ssh, which writes the window unlocked.
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(0, 0))
	s := c.WaitFor("What should the class call you?")
	if !strings.Contains(s, "enter to join the class") {
		t.Fatalf("footer missing, so the screen was not drawn at 80×24:\n%s", s)
	}
}

func TestNoPTYGetsOneLineAndFailure(t *testing.T) {
	r := start(t, t.TempDir())
	_, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
	if status == 0 {
		t.Errorf("exit status 0 for a session without a terminal")
	}
	if !strings.Contains(stderr, "ssh -t") {
		t.Errorf("stderr does not say how to connect: %q", stderr)
	}
	_, stderr, status = sshtest.Run(t, r.addr, "ls", sshtest.WithKey(sshtest.NewKey(t)))
	if status == 0 || !strings.Contains(stderr, "ssh -t") {
		t.Errorf("exec: status %d, stderr %q", status, stderr)
	}
}

func TestTwoSessionsAreIndependent(t *testing.T) {
	r := start(t, t.TempDir())
	a := dial(t, r)
	b := dial(t, r)
	openTokens(a, "alpha beta")
	a.WaitFor("2 tokens")
	s := b.WaitFor("Contents")
	if strings.Contains(s, "alpha") {
		t.Fatalf("b sees a's text:\n%s", s)
	}
	openTokens(b, "one two three four")
	b.WaitFor("4 tokens")
	if s := a.Screen(); !strings.Contains(s, "2 tokens") {
		t.Fatalf("a changed when b typed:\n%s", s)
	}
}

func TestQuitEndsSession(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r)
	c.WaitFor("Contents")
	c.Type("q")
	if status, err := c.Wait(); err != nil || status != 0 {
		t.Fatalf("after q: status %d, err %v", status, err)
	}
}

func TestHostKeySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	first := dial(t, r).HostKey()
	r.stop(t)
	r2 := start(t, dir)
	// WithHostKey makes the dial fail unless the server presents this key.
	dial(t, r2, sshtest.WithHostKey(first))
}

func TestShutdownTellsEverySession(t *testing.T) {
	r := start(t, t.TempDir())
	a := dial(t, r)
	b := dial(t, r)
	a.WaitFor("Contents")
	b.WaitFor("Contents")
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, c := range []*sshtest.Client{a, b} {
		c.Wait()
		if s := c.Screen(); !strings.Contains(s, "The server is shutting down for a restart — reconnect in a moment") {
			t.Errorf("no shutdown notice on screen:\n%s", s)
		}
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

func TestHugePasteIsCut(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r, sshtest.WithSize(100, 30))
	c.WaitFor("Contents")
	c.Type("1")
	c.WaitFor("From letters to numbers")
	c.Paste(strings.Repeat("lorem ipsum ", 8700)) // ~100 KB
	s := c.WaitFor("capped at 2,000 characters")
	if !strings.Contains(s, "· 2,000 characters ·") {
		t.Fatalf("counts do not show the capped length:\n%s", s)
	}
}

func TestEscapeSequencesAreShownEscaped(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r, sshtest.WithSize(100, 30))
	c.WaitFor("Contents")
	c.Type("1")
	c.WaitFor("From letters to numbers")
	c.Key("enter", "ctrl+u")
	// Escape sequences typed or pasted must never act on the terminal: the
	// screen is not cleared, and what is kept of the text is drawn visibly
	// (tab as ⇥, newline as ↵).
	c.Paste("A\x1b[2J\x1b]0;pwned\x07B\tC\nD")
	c.Type("E\x1b[2JF")
	s := c.WaitFor("⇥")
	for _, want := range []string{"From letters to numbers", "↵", "A", "F"} {
		if !strings.Contains(s, want) {
			t.Fatalf("screen lacks %q after escape sequences were typed:\n%s", want, s)
		}
	}
	// A pasted escape sequence is kept, and drawn escaped: the decoder
	// under Bubble Tea used to drop it ("Ared").
	c.Key("ctrl+u")
	c.Paste("A\x1b[31mred")
	c.WaitFor("A␛[31mred")
}

// TestTallChapterScrolls: at 80×24 a chapter that does not fit keeps all it
// says: a marker shows how much is below, the footer names the key, and
// PgDn brings the rest into view.
func TestTallChapterScrolls(t *testing.T) {
	r := start(t, t.TempDir())
	c := dial(t, r)
	c.Type("2")
	s := c.WaitFor("more below · pgdn")
	if !strings.Contains(s, "pgdn/pgup scroll") {
		t.Errorf("the footer does not say how to scroll:\n%s", s)
	}
	if !strings.Contains(s, "A GPT is three parts") {
		t.Errorf("the chapter's opening idea is not first:\n%s", s)
	}
	c.Key("pgdown")
	s = c.WaitFor("more above · pgup")
	if strings.Contains(s, "A GPT is three parts") {
		t.Errorf("PgDn did not move the chapter:\n%s", s)
	}
	for range 10 {
		c.Key("pgdown")
	}
	c.WaitFor("Weights")
	c.Key("pgup")
	c.WaitFor("more below · pgdn")
}

// TestPublicAddressesAreTheWayIn: behind a load balancer the dashboard and
// the refusal without a terminal give the balancer's address, not this
// server's.
func TestPublicAddressesAreTheWayIn(t *testing.T) {
	r := startConfig(t, server.Config{DataDir: t.TempDir(), PublicSSH: "class.example.org:2222", PublicWeb: "https://class.example.org/"})
	_, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
	if status == 0 || !strings.Contains(stderr, "ssh -t -p 2222 class.example.org") {
		t.Errorf("without a terminal: status %d, stderr %q", status, stderr)
	}
	in := sshtest.Dial(t, r.addr, sshtest.WithUser("instructor"), sshtest.WithKeyboardInteractive(r.srv.InstructorToken()), sshtest.WithSize(100, 30))
	in.WaitFor("What should the class call you?")
	in.Key("enter")
	in.WaitFor("★ instructor")
	in.Type("d")
	in.WaitFor("join: ssh -p 2222 class.example.org  ·  https://class.example.org/")
}
