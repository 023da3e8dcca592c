package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

// setupTimeout bounds a connection's dial, key exchange, authentication and
// session requests: a server that stops answering must not hang the tool.
const setupTimeout = 30 * time.Second

// ptyModes are a terminal's with echo off, as internal/sshtest sends them.
var ptyModes = gossh.TerminalModes{
	gossh.ECHO:          0,
	gossh.TTY_OP_ISPEED: 38400,
	gossh.TTY_OP_OSPEED: 38400,
}

// newKey makes a fresh ed25519 key: a student the server has never seen.
func newKey() (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer from ed25519 key: %w", err)
	}
	return s, nil
}

// keyless is keyboard-interactive authentication that answers nothing: a
// student without a key, whom the server lets in with no questions.
func keyless() gossh.AuthMethod {
	return gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
		return make([]string, len(questions)), nil
	})
}

// keyed is public-key authentication with a fresh key.
func keyed() (gossh.AuthMethod, error) {
	s, err := newKey()
	if err != nil {
		return nil, err
	}
	return gossh.PublicKeys(s), nil
}

// clientConfig is a config for user that trusts any host key: the tool is
// pointed at a test server whose key it has no reason to know.
func clientConfig(user string, auth ...gossh.AuthMethod) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         setupTimeout,
	}
}

// dial connects to addr and completes the key exchange and authentication
// within timeout (gossh.Dial bounds only the TCP connect).
func dial(addr string, cfg *gossh.ClientConfig, timeout time.Duration) (*gossh.Client, error) {
	return dialFrom(addr, "", cfg, timeout)
}

// dialFrom is dial from the local IP address from ("" for any): on
// loopback, 127.0.0.2 is another client address to the server.
func dialFrom(addr, from string, cfg *gossh.ClientConfig, timeout time.Duration) (*gossh.Client, error) {
	d := net.Dialer{Timeout: timeout}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	cc, chans, reqs, err := gossh.NewClientConn(nc, addr, cfg)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("ssh handshake as %.20q: %w", cfg.User, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return gossh.NewClient(cc, chans, reqs), nil
}

// term is one SSH session with a shell whose output is read by a terminal
// emulator, so the tool can look at the screen a student would see.
type term struct {
	conn  *gossh.Client
	sess  *gossh.Session
	stdin io.WriteCloser

	// emuMu serialises writes to the emulator against screen, which reads
	// the cells of the embedded *vt.Emulator directly: one consistent
	// snapshot without a lock per cell (as internal/sshtest does).
	emuMu sync.RWMutex
	emu   *vt.SafeEmulator

	stdinMu sync.Mutex // one write's bytes are never split by another's

	received  atomic.Int64 // bytes of output
	lastOut   atomic.Int64 // unix nanoseconds of the newest output
	first     chan struct{}
	firstOnce sync.Once
	ended     chan struct{} // closed when the output has ended
	closeOnce sync.Once
}

// openTerm connects to addr as user, requests a w×h PTY and a shell, and
// reads the output into an emulator of the same size.
func openTerm(addr, user string, auth gossh.AuthMethod, w, h int) (*term, error) {
	return openTermScreen(addr, user, auth, w, h, w, h)
}

// openTermScreen is openTerm with an emulator of its own size, for a PTY far
// larger than any screen the server draws.
func openTermScreen(addr, user string, auth gossh.AuthMethod, w, h, screenW, screenH int) (*term, error) {
	conn, err := dial(addr, clientConfig(user, auth), setupTimeout)
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("new session: %w", err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, ptyModes); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("request pty %dx%d: %w", w, h, err)
	}
	return startShell(conn, sess, screenW, screenH, setupTimeout)
}

// startShell starts a shell on sess, a session of conn on which the caller
// has made whatever requests it wanted (env, pty-req), and reads its output
// into an emulator of emuW×emuH: for a PTY far larger than any screen, the
// emulator holds only the top-left corner, which is all the server draws.
// The shell must start within timeout.
func startShell(conn *gossh.Client, sess *gossh.Session, emuW, emuH int, timeout time.Duration) (*term, error) {
	// The session's requests have no deadline of their own: a watchdog
	// closes the connection if the server stops answering.
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(timeout, func() { timedOut.Store(true); _ = conn.Close() })
	fail := func(what string, err error) (*term, error) {
		watchdog.Stop()
		_ = conn.Close()
		if timedOut.Load() {
			return nil, fmt.Errorf("%s: no answer within %v: %w", what, timeout, err)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fail("stdin pipe", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail("stdout pipe", err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		return fail("stderr pipe", err)
	}
	if err := sess.Shell(); err != nil {
		return fail("shell", err)
	}
	if !watchdog.Stop() {
		return fail("shell", errors.New("connection closed"))
	}
	t := &term{
		conn:  conn,
		sess:  sess,
		stdin: stdin,
		emu:   vt.NewSafeEmulator(emuW, emuH),
		first: make(chan struct{}),
		ended: make(chan struct{}),
	}
	// No scrollback: the default one allocates megabytes per emulator.
	t.emu.SetScrollbackSize(0)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); t.read(stdout) }()
	go func() { defer readers.Done(); t.read(stderr) }()
	go func() { readers.Wait(); close(t.ended) }()
	go t.answer()
	return t, nil
}

// read copies the server's output into the emulator until EOF.
func (t *term) read(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.received.Add(int64(n))
			t.lastOut.Store(time.Now().UnixNano())
			t.firstOnce.Do(func() { close(t.first) })
			t.emuMu.Lock()
			_, _ = t.emu.Write(buf[:n])
			t.emuMu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// answer forwards what the emulator "types" by itself (its answers to the
// terminal queries Bubble Tea sends) to the server. The emulator writes
// those into a synchronous pipe while holding its lock, so the pipe must
// always be drained, and never by a goroutine that may block on the SSH
// channel: answers are queued, and dropped if the queue is full (a server
// that stopped reading has no use for them).
func (t *term) answer() {
	queue := make(chan []byte, 64)
	go func() {
		for b := range queue {
			_ = t.write(b) // an error means the session is over; keep draining
		}
	}()
	defer close(queue)
	buf := make([]byte, 4096)
	for {
		n, err := t.emu.Read(buf)
		if n > 0 {
			select {
			case queue <- append([]byte(nil), buf[:n]...):
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// write sends b to the session's input.
func (t *term) write(b []byte) error {
	t.stdinMu.Lock()
	defer t.stdinMu.Unlock()
	_, err := t.stdin.Write(b)
	return err
}

// typeText sends s as typed keys.
func (t *term) typeText(s string) error {
	if err := t.write([]byte(s)); err != nil {
		return fmt.Errorf("type %.20q: %w", s, err)
	}
	return nil
}

// screen returns the visible screen as plain text: one line per row,
// trailing spaces trimmed, trailing empty lines dropped.
func (t *term) screen() string {
	t.emuMu.RLock()
	defer t.emuMu.RUnlock()
	e := t.emu.Emulator // not the SafeEmulator's per-cell locking methods
	w, h := e.Width(), e.Height()
	lines := make([]string, 0, h)
	var b strings.Builder
	for y := range h {
		b.Reset()
		for x := range w {
			cell := e.CellAt(x, y)
			switch {
			case cell == nil:
				b.WriteByte(' ')
			case cell.Width == 0 && cell.Content == "":
				// the second half of a wide character
			case cell.Content == "":
				b.WriteByte(' ')
			default:
				b.WriteString(cell.Content)
			}
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// waitFor waits up to timeout for substr to be on the screen and returns
// the screen and whether it was.
func (t *term) waitFor(substr string, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		s := t.screen()
		if strings.Contains(s, substr) {
			return s, true
		}
		if time.Now().After(deadline) {
			return s, false
		}
		select {
		case <-t.ended:
			s = t.screen()
			return s, strings.Contains(s, substr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitOutput waits up to timeout for the first byte of output.
func (t *term) waitOutput(timeout time.Duration) bool {
	select {
	case <-t.first:
		return true
	case <-time.After(timeout):
		return false
	}
}

// waitQuiet waits until no output has come for quiet, or timeout has
// passed, or the session has ended; it reports whether the output settled.
func (t *term) waitQuiet(quiet, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if last := t.lastOut.Load(); last > 0 && time.Since(time.Unix(0, last)) >= quiet {
			return true
		}
		select {
		case <-t.ended:
			return true
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// hasEnded reports whether the server has ended the session's output.
func (t *term) hasEnded() bool {
	select {
	case <-t.ended:
		return true
	default:
		return false
	}
}

// close ends the session and the connection. It is safe to call twice.
func (t *term) close() {
	t.closeOnce.Do(func() {
		_ = t.sess.Close()
		_ = t.conn.Close()
		// Ends answer: emu.Read returns EOF. Not emu.Close, which races
		// with Read and Write in x/vt v0.1.0.
		if pw, ok := t.emu.InputPipe().(*io.PipeWriter); ok {
			_ = pw.Close()
		}
	})
}

// enterName answers the name prompt a new member sees first, the way
// server/e2e_test.go does, and waits for the contents page.
func (t *term) enterName(name string) error {
	if s, ok := t.waitFor("What should the class call you?", 10*time.Second); !ok {
		return fmt.Errorf("no name prompt within 10 s; screen:\n%s", s)
	}
	// ctrl+u clears the offered name.
	if err := t.typeText("\x15" + name + "\r"); err != nil {
		return err
	}
	if s, ok := t.waitFor("Contents", 10*time.Second); !ok {
		return fmt.Errorf("no contents page within 10 s of naming; screen:\n%s", s)
	}
	return nil
}

// lastLine is the screen's last non-empty line, trimmed: the footer.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// lineWith is the first screen line containing substr, trimmed, or "".
func lineWith(screen, substr string) string {
	for line := range strings.Lines(screen) {
		if strings.Contains(line, substr) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// firstLine is the screen's first non-empty line, trimmed.
func firstLine(screen string) string {
	for line := range strings.Lines(screen) {
		if s := strings.TrimSpace(line); s != "" {
			return s
		}
	}
	return ""
}

// probe types key and waits up to timeout for any output in return: a
// session that answers is still being drawn by a live program.
func (t *term) probe(key string, timeout time.Duration) (time.Duration, bool) {
	before := t.received.Load()
	begin := time.Now()
	if t.write([]byte(key)) != nil {
		return 0, false
	}
	for time.Since(begin) < timeout {
		if t.received.Load() > before {
			return time.Since(begin), true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, false
}

// probeText is a probe's result for a report line.
func probeText(took time.Duration, ok bool) string {
	if !ok {
		return "no"
	}
	return fmt.Sprintf("yes in %v", took.Round(time.Millisecond))
}
