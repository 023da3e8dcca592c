package sshtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

// ---------------------------------------------------------------------------
// A tiny server: wish v2 + one bubbletea v2 program per session.

const wideText = "日本語🙂x" // CJK and an emoji: two columns each

type model struct {
	user   string
	haskey bool
	term   string
	env    string
	count  int
	last   string
	typed  string
	paste  string
	w, h   int
	sizes  int // WindowSizeMsgs seen
}

func (m *model) Init() tea.Cmd { return nil }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		m.count++
		m.last = msg.String()
		if len(msg.Text) > 0 && msg.Mod == 0 {
			m.typed += msg.Text
		}
		if m.last == "ctrl+c" {
			return m, tea.Quit
		}
	case tea.PasteMsg:
		m.paste = strings.ReplaceAll(msg.Content, "\n", "⏎")
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.sizes++
	}
	return m, nil
}

func (m *model) View() tea.View {
	var b strings.Builder
	if m.count == 0 {
		b.WriteString("hint: press any key\n")
	}
	key := "no"
	if m.haskey {
		key = "yes"
	}
	fmt.Fprintf(&b, "user=%s key=%s\n", m.user, key)
	fmt.Fprintf(&b, "term=%s env=[%s]\n", m.term, m.env)
	fmt.Fprintf(&b, "count=%d last=[%s]\n", m.count, m.last)
	fmt.Fprintf(&b, "typed=[%s]\n", m.typed)
	fmt.Fprintf(&b, "paste=[%s]\n", m.paste)
	fmt.Fprintf(&b, "size=%dx%d sizes=%d\n", m.w, m.h, m.sizes)
	fmt.Fprintf(&b, "wide=[%s]   \n", wideText)
	b.WriteString("\n\nbottom")
	return tea.NewView(b.String())
}

type testServer struct {
	addr     string
	hostKey  gossh.PublicKey
	aliceKey gossh.Signer // the key accepted for user "alice"
	close    func()       // stops the server; also run by t.Cleanup
}

const kiPassword = "sesame"

// startServer starts a wish server on 127.0.0.1:0 with an in-memory host key.
// Public-key auth accepts a fresh key (aliceKey) for user "alice"; keyboard-interactive
// accepts user "bob" answering kiPassword. Commands are answered by a small
// handler; shells without a PTY get activeterm's refusal.
func startServer(t *testing.T, extra ...tea.ProgramOption) *testServer {
	t.Helper()
	aliceKey := NewKey(t)
	userKey := aliceKey.PublicKey()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	hostKey := func(s *ssh.Server) error { s.AddHostKey(hostSigner); return nil }

	progHandler := func(sess ssh.Session) *tea.Program {
		pty, _, _ := sess.Pty()
		m := &model{user: sess.User(), haskey: sess.PublicKey() != nil, term: pty.Term, env: strings.Join(sess.Environ(), " ")}
		opts := append(bubbletea.MakeOptions(sess), tea.WithoutSignalHandler())
		opts = append(opts, extra...)
		return tea.NewProgram(m, opts...)
	}
	// Commands (`ssh host cmd`) are answered here, before activeterm.
	commandMW := func(next ssh.Handler) ssh.Handler {
		return func(sess ssh.Session) {
			cmd := sess.Command()
			if len(cmd) == 0 {
				next(sess)
				return
			}
			wish.Println(sess, "out:"+strings.Join(cmd, " "))
			wish.Errorln(sess, "err:"+sess.User())
			_ = sess.Exit(3)
		}
	}
	srv, err := wish.NewServer(
		hostKey,
		wish.WithPublicKeyAuth(func(ctx ssh.Context, key ssh.PublicKey) bool {
			return ctx.User() == "alice" && ssh.KeysEqual(key, userKey)
		}),
		wish.WithKeyboardInteractiveAuth(func(ctx ssh.Context, ch gossh.KeyboardInteractiveChallenge) bool {
			if ctx.User() != "bob" {
				return false
			}
			ans, err := ch(ctx.User(), "", []string{"Password: "}, []bool{false})
			return err == nil && len(ans) == 1 && ans[0] == kiPassword
		}),
		// Last listed runs first: commandMW → activeterm → bubbletea.
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(progHandler),
			activeterm.Middleware(),
			commandMW,
		),
	)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = srv.Close()
			<-served
		})
	}
	t.Cleanup(stop)
	return &testServer{addr: ln.Addr().String(), hostKey: hostSigner.PublicKey(), aliceKey: aliceKey, close: stop}
}

// dialAlice starts a server and connects to it with public-key auth.
func dialAlice(t *testing.T, opts ...Option) (*testServer, *Client) {
	t.Helper()
	srv := startServer(t)
	opts = append([]Option{WithUser("alice"), WithKey(srv.aliceKey), WithHostKey(srv.hostKey)}, opts...)
	c := Dial(t, srv.addr, opts...)
	c.WaitFor("user=alice key=yes")
	return srv, c
}

// ---------------------------------------------------------------------------
// A fake testing.TB to observe fatal failures.

type fakeTB struct {
	testing.TB // the real one, for everything not overridden
	mu         sync.Mutex
	fatals     []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprint(args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, "error: "+fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// Cleanups registered through the fake go to the real test.
func (f *fakeTB) Cleanup(fn func()) { f.TB.Cleanup(fn) }

// expectFatal runs fn (which uses tb) in its own goroutine and returns the
// fatal message it produced, failing the test if there was none.
func expectFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); fn(f) }()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fatals) == 0 {
		t.Fatalf("expected a fatal failure, got none")
	}
	return f.fatals[0]
}

// fatalOn runs fn with c's testing.TB swapped for a fake and returns the
// fatal message fn produced.
func fatalOn(t *testing.T, c *Client, fn func()) string {
	t.Helper()
	return expectFatal(t, func(tb testing.TB) {
		old := c.t
		c.t = tb
		defer func() { c.t = old }()
		fn()
	})
}

// ---------------------------------------------------------------------------
// Tests.

func TestTypeAndScreen(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.WaitFor("size=80x24")
	c.Type("hello wörld 日本")
	scr := c.WaitFor("typed=[hello wörld 日本]")

	// Screen: plain text, trailing spaces trimmed, no trailing empty lines.
	lines := strings.Split(scr, "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d has trailing spaces: %q", i, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("line %d has escape codes: %q", i, l)
		}
	}
	if last := lines[len(lines)-1]; last != "bottom" {
		t.Errorf("last line = %q, want %q\n%s", last, "bottom", scr)
	}
	if len(lines) > 24 {
		t.Errorf("screen has %d lines, more than the 24 rows", len(lines))
	}
	// Wide characters appear once each, with nothing between them.
	if !strings.Contains(scr, "wide=["+wideText+"]") {
		t.Errorf("wide text not rendered as-is:\n%s", scr)
	}
	// Each typed rune was one key press (14 runes).
	if !strings.Contains(scr, "count=14 last=[本]") {
		t.Errorf("want count=14 last=[本]:\n%s", scr)
	}
}

func TestEnvAndTerm(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.WaitFor("term=xterm-256color env=[]")
	_, c2 := dialAlice(t, WithTerm("vt100"), WithEnv("LANG", "C.UTF-8"), WithEnv("COLORTERM", "truecolor"))
	c2.WaitFor("term=vt100 env=[LANG=C.UTF-8 COLORTERM=truecolor]")
}

func TestWideCharacterColumns(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	// "wide=[" is 6 columns, then 日本語🙂 take 2 columns each.
	c.WaitFor("wide=")
	row := -1
	for y := 0; y < c.emu.Height(); y++ {
		if cell := c.emu.CellAt(0, y); cell != nil && cell.Content == "w" {
			if c2 := c.emu.CellAt(1, y); c2 != nil && c2.Content == "i" {
				row = y
			}
		}
	}
	if row < 0 {
		t.Fatalf("wide row not found:\n%s", c.Screen())
	}
	want := []struct {
		x       int
		content string
		width   int
	}{{6, "日", 2}, {7, "", 0}, {8, "本", 2}, {10, "語", 2}, {12, "🙂", 2}, {14, "x", 1}, {15, "]", 1}}
	for _, w := range want {
		cell := c.emu.CellAt(w.x, row)
		if cell == nil || cell.Content != w.content || cell.Width != w.width {
			t.Errorf("cell (%d,%d) = %+v, want content %q width %d", w.x, row, cell, w.content, w.width)
		}
	}
}

func TestNamedKeys(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	names := []string{
		"up", "down", "left", "right",
		"shift+tab", "tab", "enter", "space", "backspace",
		"pgup", "pgdown", "home", "end",
		"shift+left", "shift+right", "shift+up", "shift+down",
		"ctrl+left", "ctrl+right", "ctrl+up", "ctrl+down",
		"delete", "insert", "f1", "f2", "f3", "f4", "f5",
		"ctrl+u", "ctrl+a", "ctrl+z", "esc", "up",
	}
	for i, name := range names {
		c.Key(name)
		c.WaitFor(fmt.Sprintf("count=%d last=[%s]", i+1, name))
	}
	// Several keys in one call (likely one read on the server) decode as
	// separate presses.
	n := len(names)
	c.Key("down", "pgdown", "shift+left", "esc", "shift+tab")
	c.WaitFor(fmt.Sprintf("count=%d last=[shift+tab]", n+5))
	// "space" carries the text " ".
	if scr := c.Screen(); !strings.Contains(scr, "typed=[ ]") {
		t.Errorf("space should type a blank:\n%s", scr)
	}
}

func TestUnknownKeyIsFatal(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	msg := fatalOn(t, c, func() {
		c.Key("up", "hyper+x")
	})
	if !strings.Contains(msg, `unknown key name "hyper+x"`) {
		t.Errorf("message = %q", msg)
	}
}

func TestPaste(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.Paste("one two\nthree")
	scr := c.WaitFor("paste=[one two⏎three]")
	if !strings.Contains(scr, "typed=[]") || !strings.Contains(scr, "count=0") {
		t.Errorf("a paste should not arrive as key presses:\n%s", scr)
	}
}

func TestResize(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t, WithSize(100, 30))
	// The model gets the initial size twice: from tea.WithWindowSize (in
	// bubbletea.MakeOptions) and from the PTY's first window on the
	// window-change channel.
	c.WaitFor("size=100x30 sizes=2")
	c.Resize(60, 20)
	c.WaitFor("size=60x20 sizes=3")
	c.Resize(120, 40)
	scr := c.WaitFor("size=120x40 sizes=4")
	if got := c.emu.Width(); got != 120 {
		t.Errorf("emulator width = %d, want 120", got)
	}
	if !strings.HasSuffix(scr, "bottom") {
		t.Errorf("screen after resize:\n%s", scr)
	}
}

func TestPublicKeyAuthAndHostKey(t *testing.T) {
	t.Parallel()
	srv, c := dialAlice(t)
	if hk := c.HostKey(); hk == nil || !bytes.Equal(hk.Marshal(), srv.hostKey.Marshal()) {
		t.Errorf("HostKey() = %v, want the server's key", hk)
	}

	// Without WithHostKey any host key is accepted and recorded.
	c2 := Dial(t, srv.addr, WithUser("alice"), WithKey(srv.aliceKey))
	if hk := c2.HostKey(); hk == nil || !bytes.Equal(hk.Marshal(), srv.hostKey.Marshal()) {
		t.Errorf("HostKey() without WithHostKey = %v, want the server's key", hk)
	}
	c2.WaitFor("user=alice key=yes")
	t.Run("unknown key refused", func(t *testing.T) {
		msg := expectFatal(t, func(tb testing.TB) {
			Dial(tb, srv.addr, WithUser("alice"), WithKey(NewKey(t)), WithTimeout(3*time.Second))
		})
		if !strings.Contains(msg, "unable to authenticate") {
			t.Errorf("message = %q", msg)
		}
	})
	t.Run("wrong host key refused", func(t *testing.T) {
		other := NewKey(t).PublicKey()
		msg := expectFatal(t, func(tb testing.TB) {
			Dial(tb, srv.addr, WithUser("alice"), WithKey(NewKey(t)), WithHostKey(other))
		})
		if !strings.Contains(msg, "host key mismatch") {
			t.Errorf("message = %q", msg)
		}
	})
}

func TestKeyboardInteractiveAuth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	c := Dial(t, srv.addr, WithUser("bob"), WithKeyboardInteractive(kiPassword), WithHostKey(srv.hostKey))
	c.WaitFor("user=bob key=no")

	msg := expectFatal(t, func(tb testing.TB) {
		Dial(tb, srv.addr, WithUser("bob"), WithKeyboardInteractive("wrong"))
	})
	if !strings.Contains(msg, "unable to authenticate") {
		t.Errorf("wrong answer: message = %q", msg)
	}
	msg = expectFatal(t, func(tb testing.TB) {
		Dial(tb, srv.addr, WithUser("bob"), WithKeyboardInteractive())
	})
	if !strings.Contains(msg, "unable to authenticate") {
		t.Errorf("empty answer: message = %q", msg)
	}
	// A key plus keyboard-interactive: the key is refused for bob, then
	// keyboard-interactive is tried.
	c2 := Dial(t, srv.addr, WithUser("bob"), WithKey(NewKey(t)), WithKeyboardInteractive(kiPassword))
	c2.WaitFor("user=bob key=no")
}

func TestRunWithoutPTY(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	// A shell without a PTY: activeterm refuses it.
	stdout, stderr, status := Run(t, srv.addr, "", WithUser("alice"), WithKey(srv.aliceKey))
	if stdout != "Requires an active PTY\n" || stderr != "" || status != 1 {
		t.Errorf("shell: got stdout %q stderr %q status %d", stdout, stderr, status)
	}
	// A command.
	stdout, stderr, status = Run(t, srv.addr, "say 'hello world'", WithUser("bob"), WithKeyboardInteractive(kiPassword), WithHostKey(srv.hostKey))
	if stdout != "out:say hello world\n" || stderr != "err:bob\n" || status != 3 {
		t.Errorf("command: got stdout %q stderr %q status %d", stdout, stderr, status)
	}
}

func TestWaitAfterQuit(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.Key("ctrl+c")
	start := time.Now()
	status, err := c.Wait()
	if err != nil || status != 0 {
		t.Errorf("Wait() = %d, %v; want 0, nil", status, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}
	// Waiting for text after the session ended fails at once, not after the
	// timeout.
	start = time.Now()
	msg := fatalOn(t, c, func() {
		c.WaitFor("never shown")
	})
	if !strings.Contains(msg, "session ended") || time.Since(start) > time.Second {
		t.Errorf("after end: %v, message %q", time.Since(start), msg)
	}
}

func TestWaitForFailureMessage(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t, WithTimeout(300*time.Millisecond))
	start := time.Now()
	msg := fatalOn(t, c, func() {
		c.WaitFor("no such text")
	})
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("WaitFor gave up after %v, want ~300ms", d)
	}
	for _, want := range []string{`"no such text"`, "timed out after 300ms", "user=alice key=yes", "|bottom", "count=0 last=[]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	msg = fatalOn(t, c, func() {
		c.WaitForFunc("a screen with 99 lines", func(s string) bool { return strings.Count(s, "\n") > 98 })
	})
	if !strings.Contains(msg, "a screen with 99 lines") || !strings.Contains(msg, "|bottom") {
		t.Errorf("WaitForFunc message:\n%s", msg)
	}
	msg = fatalOn(t, c, func() {
		c.WaitGone("bottom")
	})
	if !strings.Contains(msg, `"bottom" to leave the screen`) {
		t.Errorf("WaitGone message:\n%s", msg)
	}
}

func TestWaitGone(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.WaitFor("hint: press any key")
	c.Type("x")
	scr := c.WaitGone("hint:")
	if !strings.Contains(scr, "count=1 last=[x]") {
		t.Errorf("screen:\n%s", scr)
	}
}

func TestStopReading(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t)
	c.Type("a")
	before := c.WaitFor("count=1 last=[a]")
	c.StopReading()
	c.Type("bcd")
	time.Sleep(300 * time.Millisecond)
	if after := c.Screen(); after != before {
		t.Errorf("screen changed after StopReading:\n%s", after)
	}
	// Close still ends everything (checked by Close itself).
	c.Close()
	c.Close() // idempotent
}

// clientGoroutines counts goroutines running this package's client code.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/sshtest.(*Client)") {
			count++
		}
	}
	return count
}

func TestManyClientsNoLeaks(t *testing.T) {
	// Not parallel: it counts goroutines. (Parallel tests wait until the
	// sequential ones have finished.)
	baseline := runtime.NumGoroutine()
	srv := startServer(t)
	const n = 20
	clients := make([]*Client, n)
	for i := range clients {
		clients[i] = Dial(t, srv.addr, WithUser("alice"), WithKey(srv.aliceKey), WithSize(40+i, 20))
	}
	for i, c := range clients {
		c.Key("up")
		c.WaitFor(fmt.Sprintf("size=%dx20", 40+i))
	}
	for _, c := range clients {
		c.WaitFor("count=1 last=[up]")
	}
	if got := clientGoroutines(); got < n {
		t.Errorf("only %d client goroutines for %d clients; is the counter broken?", got, n)
	}
	// Half end their sessions, half are closed while the program runs.
	for i, c := range clients {
		if i%2 == 0 {
			c.Key("ctrl+c")
			if _, err := c.Wait(); err != nil {
				t.Errorf("client %d: Wait: %v", i, err)
			}
		}
		c.Close()
	}
	if got := clientGoroutines(); got != 0 {
		t.Errorf("%d client goroutines left after Close", got)
	}
	srv.close()
	// Everything else (x/crypto/ssh on both sides, wish, bubbletea) winds
	// down asynchronously.
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after closing everything, %d before:\n%s", got, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestZeroSizeWindow(t *testing.T) {
	t.Parallel()
	// A 0x0 window (what OpenSSH's `ssh -tt` sends from a non-terminal):
	// the emulated-PTY program renders nothing at all...
	srv := startServer(t)
	c := Dial(t, srv.addr, WithUser("alice"), WithKey(srv.aliceKey), WithSize(0, 0))
	time.Sleep(300 * time.Millisecond)
	if scr := c.Screen(); scr != "" {
		t.Errorf("expected an empty screen with a 0x0 window, got:\n%s", scr)
	}
	// ...until the window gets a size.
	c.Resize(70, 20)
	c.WaitFor("size=70x20")

	// A filter that replaces 0x0 sizes (keeping MakeOptions' SuspendMsg
	// filter, which a second WithFilter would replace) fixes it.
	srv2 := startServer(t, tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
		switch m := msg.(type) {
		case tea.SuspendMsg:
			return tea.ResumeMsg{}
		case tea.WindowSizeMsg:
			if m.Width <= 0 || m.Height <= 0 {
				return tea.WindowSizeMsg{Width: 80, Height: 24}
			}
		}
		return msg
	}))
	c2 := Dial(t, srv2.addr, WithUser("alice"), WithKey(srv2.aliceKey), WithSize(0, 0))
	c2.WaitFor("size=80x24 sizes=2")
	c2.Resize(60, 20)
	c2.WaitFor("size=60x20 sizes=3")
}

func TestScreenIsCheap(t *testing.T) {
	t.Parallel()
	_, c := dialAlice(t, WithSize(200, 50))
	start := time.Now()
	for i := 0; i < 1000; i++ {
		_ = c.Screen()
	}
	cached := time.Since(start)
	start = time.Now()
	for i := 0; i < 200; i++ {
		c.emuMu.Lock()
		c.gen++ // force a re-render
		c.emuMu.Unlock()
		_ = c.Screen()
	}
	fresh := time.Since(start) / 200
	t.Logf("Screen(): 1000 cached calls %v; uncached 200x50 render %v each", cached, fresh)
	if cached > 100*time.Millisecond || fresh > 20*time.Millisecond {
		t.Errorf("Screen too slow: cached x1000 %v, fresh %v", cached, fresh)
	}
}

// screenText must agree with the emulator's own rendering, stripped.
func TestScreenTextMatchesRender(t *testing.T) {
	t.Parallel()
	e := vt.NewSafeEmulator(60, 12)
	var b strings.Builder
	for y := 2; y < 9; y++ {
		fmt.Fprintf(&b, "\x1b[%d;%dH\x1b[38;5;%dm line %d 日本 \x1b[1m bold\x1b[m %s  ", y+1, y, y, y, strings.Repeat("ab ", y))
	}
	b.WriteString("\x1b[5;1H\x1b[2K")                                        // an empty line in the middle
	b.WriteString("\x1b[11;1Ha❤️b|👍🏽c|👨‍👩‍👧d|é|🇩🇪f|☺g|⚠️i\x1b[44m   \x1b[m") // graphemes, blank styled tail
	_, _ = e.Write([]byte(b.String()))

	lines := strings.Split(ansi.Strip(e.Render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	want := strings.Join(lines, "\n")
	if got := screenText(e.Emulator); got != want {
		t.Errorf("screenText:\n%q\nwant (Render, stripped):\n%q", got, want)
	}
	if !strings.HasPrefix(want, "\n\n") || !strings.HasSuffix(want, "a❤️b|👍🏽c|👨‍👩‍👧d|é|🇩🇪f|☺g|⚠️i") {
		t.Errorf("unexpected screen:\n%s", want)
	}
}

func BenchmarkScreenText(b *testing.B) {
	e := vt.NewSafeEmulator(200, 50)
	var sb strings.Builder
	for y := 0; y < 50; y++ {
		fmt.Fprintf(&sb, "\x1b[%d;1H\x1b[38;5;%dm line %d 日本 \x1b[1m bold\x1b[m %s", y+1, y, y, strings.Repeat("ab ", 40))
	}
	_, _ = e.Write([]byte(sb.String()))
	for b.Loop() {
		_ = screenText(e.Emulator)
	}
}
