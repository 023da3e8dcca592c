// Package sshtest drives a real SSH server the way a person at a terminal
// would: a golang.org/x/crypto/ssh client asks for a PTY of a chosen size,
// keys are sent as the bytes a terminal sends, and the server's output is fed
// through a terminal emulator (github.com/charmbracelet/x/vt) so tests can
// assert on the visible screen rather than on the byte stream.
//
// Typical use:
//
//	c := sshtest.Dial(t, addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30))
//	c.WaitFor("Welcome")
//	c.Type("hello")
//	c.Key("enter")
//	c.WaitFor("hello")
package sshtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

const (
	defaultWidth   = 80
	defaultHeight  = 24
	defaultTerm    = "xterm-256color"
	defaultUser    = "tester"
	defaultTimeout = 10 * time.Second
	pollInterval   = 20 * time.Millisecond

	// escPause is how long Key waits after a lone "esc". Bubble Tea v2
	// (ultraviolet) holds a lone ESC for 50ms to see whether it starts an
	// escape sequence; bytes arriving inside that window are decoded together
	// with it (ESC followed by "[A" is alt+up's cousin, not esc then up).
	escPause = 100 * time.Millisecond
)

// NewKey makes a fresh ed25519 client key for a test.
func NewKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate ed25519 key: %v", err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshtest: signer from ed25519 key: %v", err)
	}
	return s
}

type options struct {
	user    string
	key     gossh.Signer
	ki      bool
	answers []string
	width   int
	height  int
	screenW int // the emulator's size when it differs from the PTY's
	screenH int
	term    string
	env     [][2]string
	hostKey gossh.PublicKey
	timeout time.Duration
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	// For DialWeb: the page's key, the instructor token, and an Origin
	// header to send.
	webKey, webToken, origin string
}

// Option configures Dial, Run and DialWeb.
type Option func(*options)

// WithUser sets the SSH user name (default "tester").
func WithUser(name string) Option { return func(o *options) { o.user = name } }

// WithKey authenticates with this key (public-key auth).
func WithKey(s gossh.Signer) Option { return func(o *options) { o.key = s } }

// WithKeyboardInteractive offers keyboard-interactive auth. Each prompt round
// is answered with these answers in order (question i gets answers[i], or ""
// when there are fewer answers than questions). With no answers, every
// question is answered with "". It uses no key unless WithKey is also given,
// in which case public-key auth is tried first.
func WithKeyboardInteractive(answers ...string) Option {
	return func(o *options) {
		o.ki = true
		o.answers = append([]string(nil), answers...)
	}
}

// WithSize sets the PTY and emulator size in columns and rows (default 80x24).
// Zero values are sent to the server as they are (a 0x0 window, as OpenSSH
// sends when run from a non-terminal); the emulator then uses 80x24.
func WithSize(w, h int) Option { return func(o *options) { o.width, o.height = w, h } }

// WithScreen sets the emulator's size apart from the PTY's, for a PTY far
// larger than any real screen (65535×65535): the server draws at most its
// clamp, and the test reads that corner.
func WithScreen(w, h int) Option { return func(o *options) { o.screenW, o.screenH = w, h } }

// WithTerm sets the TERM sent with the PTY request (default xterm-256color).
func WithTerm(term string) Option { return func(o *options) { o.term = term } }

// WithEnv sends an environment variable (an SSH "env" request) before the
// PTY request. It may be given several times.
func WithEnv(k, v string) Option {
	return func(o *options) { o.env = append(o.env, [2]string{k, v}) }
}

// WithHostKey makes the client check that the server presents this host key.
// By default any host key is accepted and recorded (see Client.HostKey).
func WithHostKey(pub gossh.PublicKey) Option { return func(o *options) { o.hostKey = pub } }

// WithTimeout sets how long Dial, Run, WaitFor, WaitForFunc, WaitGone and Wait
// wait before failing the test (default 10s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithDialer opens the connection with dial instead of a plain TCP dial, for
// a client that reaches the server some other way: from a chosen source
// address, or through a load balancer that first writes a PROXY protocol
// header. Dial, Run and DialWeb use it; dial is given the server's address.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = dial }
}

func buildOptions(opts []Option) options {
	o := options{
		user:    defaultUser,
		width:   defaultWidth,
		height:  defaultHeight,
		term:    defaultTerm,
		timeout: defaultTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		o.timeout = defaultTimeout
	}
	if o.dial == nil {
		o.dial = (&net.Dialer{}).DialContext
	}
	return o
}

// hostKeyRecorder records the key the server presented and, if a key was
// configured, checks it.
type hostKeyRecorder struct {
	mu   sync.Mutex
	want gossh.PublicKey
	got  gossh.PublicKey
}

func (h *hostKeyRecorder) callback(_ string, _ net.Addr, key gossh.PublicKey) error {
	h.mu.Lock()
	h.got = key
	h.mu.Unlock()
	if h.want != nil && !bytes.Equal(h.want.Marshal(), key.Marshal()) {
		return fmt.Errorf("sshtest: host key mismatch: server presented %s %s, want %s %s",
			key.Type(), gossh.FingerprintSHA256(key), h.want.Type(), gossh.FingerprintSHA256(h.want))
	}
	return nil
}

func (h *hostKeyRecorder) key() gossh.PublicKey {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got
}

func (o *options) clientConfig(hk *hostKeyRecorder) *gossh.ClientConfig {
	var auth []gossh.AuthMethod
	if o.key != nil {
		auth = append(auth, gossh.PublicKeys(o.key))
	}
	if o.ki {
		answers := o.answers
		auth = append(auth, gossh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				out := make([]string, len(questions))
				for i := range out {
					if i < len(answers) {
						out[i] = answers[i]
					}
				}
				return out, nil
			}))
	}
	return &gossh.ClientConfig{
		User:            o.user,
		Auth:            auth,
		HostKeyCallback: hk.callback,
		Timeout:         o.timeout,
	}
}

// connect dials addr and does the SSH handshake and auth, all within the
// configured timeout.
func connect(addr string, o *options, hk *hostKeyRecorder) (*gossh.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	nc, err := o.dial(ctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(o.timeout))
	cc, chans, reqs, err := gossh.NewClientConn(nc, addr, o.clientConfig(hk))
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return gossh.NewClient(cc, chans, reqs), nil
}

// Client is one interactive SSH session with a PTY whose output is read by a
// terminal emulator. Its methods must be called from the test goroutine (they
// may call t.Fatal); Screen may also be called from other goroutines.
type Client struct {
	t       testing.TB
	timeout time.Duration
	hk      *hostKeyRecorder

	stdin io.WriteCloser
	emu   *vt.SafeEmulator

	// The door the client came in by: how it tells the server a new
	// size, how it hangs up, and what its ending means as an exit status.
	windowChange func(w, h int) error
	hangUp       func()
	exitOf       func(error) (int, error)

	// Writes to stdin (typed keys and the emulator's answers) are
	// serialised so that one write's bytes are never split by another's.
	stdinMu sync.Mutex

	// emuMu serialises changes to the emulator (writes and resizes, the
	// only ones) against Screen, which reads the cells of the embedded
	// *vt.Emulator directly: one consistent snapshot, without a lock per
	// cell. gen counts those changes; the screen text is cached per
	// generation so that polling an unchanged screen costs nothing.
	emuMu    sync.RWMutex
	gen      uint64 // guarded by emuMu
	cacheMu  sync.Mutex
	cacheGen uint64
	cache    string
	cacheOK  bool

	stopRead chan struct{} // closed by StopReading
	stopOnce sync.Once

	done    chan struct{} // closed when the session has ended and its output is on the screen
	waitErr error         // sess.Wait's result, valid after done

	closeOnce sync.Once
	wg        sync.WaitGroup // the reader, answer and wait goroutines
	readers   sync.WaitGroup // the two reader goroutines
}

// Dial connects to addr, authenticates, requests a PTY and a shell and starts
// reading the output into a terminal emulator. Any failure is fatal to the
// test. The client is closed by t.Cleanup.
func Dial(t testing.TB, addr string, opts ...Option) *Client {
	t.Helper()
	o := buildOptions(opts)
	hk := &hostKeyRecorder{want: o.hostKey}
	cl, err := connect(addr, &o, hk)
	if err != nil {
		t.Fatalf("sshtest: dial %s as %q: %v", addr, o.user, err)
	}
	// The session set-up below is a series of request/reply round trips
	// with no deadline of their own: a watchdog closes the connection if
	// they take longer than the timeout.
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(o.timeout, func() { timedOut.Store(true); _ = cl.Close() })
	fail := func(what string, err error) {
		t.Helper()
		watchdog.Stop()
		_ = cl.Close()
		if timedOut.Load() {
			t.Fatalf("sshtest: %s: no answer within %v: %v", what, o.timeout, err)
		}
		t.Fatalf("sshtest: %s: %v", what, err)
	}
	sess, err := cl.NewSession()
	if err != nil {
		fail("new session", err)
	}
	for _, kv := range o.env {
		if err := sess.Setenv(kv[0], kv[1]); err != nil {
			fail("setenv "+kv[0], err)
		}
	}
	modes := gossh.TerminalModes{
		gossh.ECHO:          0,
		gossh.TTY_OP_ISPEED: 38400,
		gossh.TTY_OP_OSPEED: 38400,
	}
	if err := sess.RequestPty(o.term, o.height, o.width, modes); err != nil {
		fail("request pty", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		fail("stdin pipe", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		fail("stdout pipe", err)
	}
	// With a PTY the server normally merges stderr into stdout; anything
	// sent on the extended stream is shown on the screen too, like a
	// terminal would.
	stderr, err := sess.StderrPipe()
	if err != nil {
		fail("stderr pipe", err)
	}
	if err := sess.Shell(); err != nil {
		fail("shell", err)
	}
	if !watchdog.Stop() {
		fail("shell", errors.New("connection closed"))
	}

	ew, eh := o.width, o.height
	if o.screenW > 0 && o.screenH > 0 {
		ew, eh = o.screenW, o.screenH
	}
	if ew <= 0 || eh <= 0 {
		ew, eh = defaultWidth, defaultHeight
	}
	c := &Client{
		t:            t,
		timeout:      o.timeout,
		hk:           hk,
		stdin:        stdin,
		windowChange: func(w, h int) error { return sess.WindowChange(h, w) },
		hangUp:       func() { _ = sess.Close(); _ = cl.Close() },
		exitOf:       statusOf,
		emu:          vt.NewSafeEmulator(ew, eh),
		stopRead:     make(chan struct{}),
		done:         make(chan struct{}),
	}
	// A test emulator needs no scrollback; the default one allocates ~4.6MB.
	c.emu.SetScrollbackSize(0)

	c.wg.Add(4)
	c.readers.Add(2)
	go func() { defer c.wg.Done(); defer c.readers.Done(); c.readLoop(stdout) }()
	go func() { defer c.wg.Done(); defer c.readers.Done(); c.readLoop(stderr) }()
	go func() { defer c.wg.Done(); c.answerLoop() }()
	go func() {
		defer c.wg.Done()
		c.waitErr = sess.Wait()
		// The channel is closed, so the readers reach EOF once they have
		// put the last output on the screen: "ended" includes the final
		// screen.
		c.readers.Wait()
		close(c.done)
	}()
	t.Cleanup(c.Close)
	return c
}

// readLoop copies the server's output into the emulator until EOF or
// StopReading.
func (c *Client) readLoop(r io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		select {
		case <-c.stopRead:
			return
		default:
		}
		if n > 0 {
			c.emuMu.Lock()
			_, _ = c.emu.Write(buf[:n])
			c.gen++
			c.emuMu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// answerLoop forwards what the emulator "types" by itself (answers to the
// terminal queries Bubble Tea sends) to the server. The emulator writes those
// answers into a synchronous pipe while holding its lock, so the pipe must
// always be drained: the answers are queued here and sent by a separate
// goroutine, so a slow SSH channel never stalls the emulator (or Screen).
func (c *Client) answerLoop() {
	var (
		mu     sync.Mutex
		queue  [][]byte
		closed bool
		wake   = make(chan struct{}, 1)
		sent   = make(chan struct{})
	)
	go func() {
		defer close(sent)
		for {
			mu.Lock()
			q, done := queue, closed
			queue = nil
			mu.Unlock()
			for _, b := range q {
				c.stdinMu.Lock()
				_, _ = c.stdin.Write(b) // errors: the session is over; keep draining
				c.stdinMu.Unlock()
			}
			if done && len(q) == 0 {
				return
			}
			if len(q) == 0 {
				<-wake
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := c.emu.Read(buf)
		mu.Lock()
		if n > 0 {
			queue = append(queue, append([]byte(nil), buf[:n]...))
		}
		if err != nil {
			closed = true
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
		if err != nil {
			<-sent
			return
		}
	}
}

// HostKey returns the host key the server presented.
func (c *Client) HostKey() gossh.PublicKey { return c.hk.key() }

func (c *Client) write(what string, b []byte) {
	c.t.Helper()
	c.stdinMu.Lock()
	_, err := c.stdin.Write(b)
	c.stdinMu.Unlock()
	if err != nil {
		c.t.Fatalf("sshtest: %s %q: %v", what, b, err)
	}
}

// Type writes the bytes of s to the session, as if typed. Bubble Tea v2
// reports each rune as its own key press. A "\n" in s arrives as ctrl+j, not
// enter: use Key("enter") (which sends "\r").
func (c *Client) Type(s string) {
	c.t.Helper()
	c.write("type", []byte(s))
}

// keyBytes maps key names to the bytes an xterm-like terminal sends for them
// (normal cursor-key mode, no kitty keyboard protocol).
var keyBytes = map[string]string{
	"enter":       "\r",
	"esc":         "\x1b",
	"tab":         "\t",
	"shift+tab":   "\x1b[Z",
	"space":       " ",
	"backspace":   "\x7f",
	"delete":      "\x1b[3~",
	"insert":      "\x1b[2~",
	"up":          "\x1b[A",
	"down":        "\x1b[B",
	"right":       "\x1b[C",
	"left":        "\x1b[D",
	"shift+up":    "\x1b[1;2A",
	"shift+down":  "\x1b[1;2B",
	"shift+right": "\x1b[1;2C",
	"shift+left":  "\x1b[1;2D",
	"ctrl+up":     "\x1b[1;5A",
	"ctrl+down":   "\x1b[1;5B",
	"ctrl+right":  "\x1b[1;5C",
	"ctrl+left":   "\x1b[1;5D",
	"home":        "\x1b[H",
	"end":         "\x1b[F",
	"pgup":        "\x1b[5~",
	"pgdown":      "\x1b[6~",
	"f1":          "\x1bOP",
	"f2":          "\x1bOQ",
	"f3":          "\x1bOR",
	"f4":          "\x1bOS",
	"f5":          "\x1b[15~",
}

// KeyBytes returns the bytes Key sends for a key name, and whether the name
// is known. Besides the fixed names, "ctrl+a" … "ctrl+z" are known.
func KeyBytes(name string) (string, bool) {
	if b, ok := keyBytes[name]; ok {
		return b, true
	}
	if l, ok := strings.CutPrefix(name, "ctrl+"); ok && len(l) == 1 && l[0] >= 'a' && l[0] <= 'z' {
		return string(rune(l[0] - 'a' + 1)), true
	}
	return "", false
}

// Key sends named keys, in order. Names: enter, esc, tab, shift+tab, space,
// backspace, delete, insert, up, down, left, right, shift+up/down/left/right,
// ctrl+up/down/left/right, home, end, pgup, pgdown, f1-f5, ctrl+a … ctrl+z
// (ctrl+c, ctrl+u, …). An unknown name is fatal. After "esc" Key pauses
// briefly so that the server does not read the next bytes as part of an
// escape sequence.
func (c *Client) Key(names ...string) {
	c.t.Helper()
	for _, name := range names {
		b, ok := KeyBytes(name)
		if !ok {
			c.t.Fatalf("sshtest: unknown key name %q", name)
			return
		}
		c.write("key "+name, []byte(b))
		if name == "esc" {
			time.Sleep(escPause)
		}
	}
}

// Paste sends s as a bracketed paste (ESC[200~ s ESC[201~), as a terminal
// does when the application has enabled bracketed paste (Bubble Tea does).
func (c *Client) Paste(s string) {
	c.t.Helper()
	c.write("paste", []byte(ansi.BracketedPasteStart+s+ansi.BracketedPasteEnd))
}

// Resize resizes the emulator and then tells the server (a window-change
// request), in the order a real terminal does.
func (c *Client) Resize(w, h int) {
	c.t.Helper()
	c.emuMu.Lock()
	c.emu.Resize(w, h)
	c.gen++
	c.emuMu.Unlock()
	if err := c.windowChange(w, h); err != nil {
		c.t.Fatalf("sshtest: window change to %dx%d: %v", w, h, err)
	}
}

// ReportSize sends a window-change request for w×h without resizing the
// emulator, as a client lying about its size would.
func (c *Client) ReportSize(w, h int) {
	c.t.Helper()
	if err := c.windowChange(w, h); err != nil {
		c.t.Fatalf("sshtest: window change to %dx%d: %v", w, h, err)
	}
}

// Screen returns the visible screen as plain text: one line per row, trailing
// spaces trimmed, trailing empty lines dropped. A wide character (CJK, most
// emoji) appears once, so a line's rune count can be less than the columns
// it uses. Screen is cached between changes, so it is cheap to poll.
func (c *Client) Screen() string {
	c.emuMu.RLock()
	defer c.emuMu.RUnlock()
	c.cacheMu.Lock()
	defer c.cacheMu.Unlock()
	if c.cacheOK && c.cacheGen == c.gen {
		return c.cache
	}
	s := screenText(c.emu.Emulator) // not c.emu's own (per-cell locking) methods
	c.cache, c.cacheGen, c.cacheOK = s, c.gen, true
	return s
}

// screenText reads the visible cells of e as plain text. The caller must
// keep e from changing meanwhile.
//
// In x/vt a wide character (width 2) sits in its first cell and the cell
// after it is a zero placeholder (Content "", Width 0), which is skipped.
// Blank cells hold " ".
func screenText(e *vt.Emulator) string {
	w, h := e.Width(), e.Height()
	out := make([]byte, 0, (w+1)*h)
	end := 0 // len(out) after the last line with a non-blank character
	for y := 0; y < h; y++ {
		if y > 0 {
			out = append(out, '\n')
		}
		lineStart := len(out)
		lineEnd := lineStart // after the line's last non-blank character
		for x := 0; x < w; x++ {
			cell := e.CellAt(x, y)
			switch {
			case cell == nil:
				out = append(out, ' ')
			case cell.Width == 0 && cell.Content == "":
				// the second half of a wide character
			case cell.Content == "" || cell.Content == " ":
				out = append(out, ' ')
			default:
				out = append(out, cell.Content...)
				lineEnd = len(out)
			}
		}
		out = out[:lineEnd] // trim trailing spaces
		if lineEnd > lineStart {
			end = lineEnd
		}
	}
	return string(out[:end])
}

// WaitFor waits until substr is on the screen and returns the screen. On
// timeout the test fails with the wanted text and the full screen.
func (c *Client) WaitFor(substr string) string {
	c.t.Helper()
	return c.waitUntil(fmt.Sprintf("screen to contain %q", substr),
		func(s string) bool { return strings.Contains(s, substr) })
}

// WaitForFunc waits until ok(screen) is true and returns that screen. desc
// describes what is awaited, for the failure message.
func (c *Client) WaitForFunc(desc string, ok func(screen string) bool) string {
	c.t.Helper()
	return c.waitUntil(desc, ok)
}

// WaitGone waits until substr is no longer on the screen and returns the
// screen.
func (c *Client) WaitGone(substr string) string {
	c.t.Helper()
	return c.waitUntil(fmt.Sprintf("%q to leave the screen", substr),
		func(s string) bool { return !strings.Contains(s, substr) })
}

func (c *Client) waitUntil(desc string, ok func(string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(c.timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		s := c.Screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("sshtest: timed out after %v waiting for %s\n%s", c.timeout, desc, frame(s, c.emu.Width()))
			return s
		}
		select {
		case <-tick.C:
		case <-c.done:
			// The session ended: one last look, then fail without
			// waiting out the timeout.
			s = c.Screen()
			if ok(s) {
				return s
			}
			c.t.Fatalf("sshtest: session ended (%v) while waiting for %s\n%s", c.waitErr, desc, frame(s, c.emu.Width()))
			return s
		}
	}
}

// frame draws a screen inside a box, for failure messages.
func frame(screen string, width int) string {
	var b strings.Builder
	bar := strings.Repeat("-", width)
	fmt.Fprintf(&b, "screen:\n+%s+\n", bar)
	for _, l := range strings.Split(screen, "\n") {
		fmt.Fprintf(&b, "|%s\n", l)
	}
	fmt.Fprintf(&b, "+%s+", bar)
	return b.String()
}

// Wait waits for the session to end and returns its exit status. A clean
// exit is (0, nil), an exit with a status is (status, nil); a session that
// ended without a status (e.g. the connection dropped) is (-1, err). Not
// ending within the timeout is fatal.
func (c *Client) Wait() (exitStatus int, err error) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(c.timeout):
		c.t.Fatalf("sshtest: session did not end within %v\n%s", c.timeout, frame(c.Screen(), c.emu.Width()))
		return -1, errors.New("sshtest: timeout")
	}
	return c.exitOf(c.waitErr)
}

func statusOf(err error) (int, error) {
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), nil
	default:
		return -1, err
	}
}

// StopReading stops draining the session's output, like a client whose
// terminal froze: the server's output piles up until the SSH channel window
// is full and its writes block. The emulator keeps its last screen.
func (c *Client) StopReading() {
	c.stopOnce.Do(func() { close(c.stopRead) })
}

// Close ends the session and the connection and waits for the client's
// goroutines to finish. It is safe to call more than once; Dial registers it
// with t.Cleanup.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.hangUp()
		// Ends answerLoop: emu.Read returns EOF. (Not emu.Close, which
		// races with Read/Write in x/vt v0.1.0.)
		if pw, ok := c.emu.InputPipe().(*io.PipeWriter); ok {
			_ = pw.Close()
		}
		finished := make(chan struct{})
		go func() { c.wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			c.t.Errorf("sshtest: client goroutines did not stop within 5s of Close")
		}
	})
}

// Run runs command in a session with no PTY (like `ssh host command` from a
// script; an empty command requests a shell, like `ssh host`) and returns what
// it printed on stdout and stderr and its exit status. A session that ends
// without an exit status gives -1. Connection failures and timeouts are fatal.
func Run(t testing.TB, addr string, command string, opts ...Option) (stdout, stderr string, exitStatus int) {
	t.Helper()
	o := buildOptions(opts)
	hk := &hostKeyRecorder{want: o.hostKey}
	cl, err := connect(addr, &o, hk)
	if err != nil {
		t.Fatalf("sshtest: dial %s as %q: %v", addr, o.user, err)
	}
	defer cl.Close()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(o.timeout, func() { timedOut.Store(true); _ = cl.Close() })
	defer watchdog.Stop()
	var outBuf, errBuf bytes.Buffer
	fail := func(what string, err error) {
		t.Helper()
		watchdog.Stop()
		_ = cl.Close()
		if timedOut.Load() {
			t.Fatalf("sshtest: run %q: %s: not done within %v: %v (stdout %q, stderr %q)",
				command, what, o.timeout, err, outBuf.String(), errBuf.String())
		}
		t.Fatalf("sshtest: run %q: %s: %v (stdout %q, stderr %q)", command, what, err, outBuf.String(), errBuf.String())
	}
	sess, err := cl.NewSession()
	if err != nil {
		fail("new session", err)
	}
	defer sess.Close()
	for _, kv := range o.env {
		if err := sess.Setenv(kv[0], kv[1]); err != nil {
			fail("setenv "+kv[0], err)
		}
	}
	sess.Stdout = &outBuf
	sess.Stderr = &errBuf
	if command == "" {
		err = sess.Shell()
		if err != nil {
			fail("shell", err)
		}
		err = sess.Wait()
	} else {
		err = sess.Run(command)
	}
	if timedOut.Load() {
		fail("wait", err)
	}
	status, err := statusOf(err)
	if err != nil {
		var missing *gossh.ExitMissingError
		if !errors.As(err, &missing) {
			fail("wait", err)
		}
	}
	return outBuf.String(), errBuf.String(), status
}
