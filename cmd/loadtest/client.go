package main

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
	"time"
	"unicode/utf8"

	gossh "golang.org/x/crypto/ssh"
)

// size is a terminal's width and height in cells.
type size struct{ w, h int }

func (s size) String() string { return fmt.Sprintf("%dx%d", s.w, s.h) }

// valueEvent is the control's value appearing on a screen, at a time since
// the run's epoch.
type valueEvent struct {
	at    time.Duration
	value string
}

// term is one terminal as a student (or the instructor) sits at it, an SSH
// session with a PTY or a browser door's WebSocket: the server's output
// goes into a screen model, and after every read that does not end inside
// a synchronized update (a frame the terminal would not show yet) the row
// holding the control's label is read, and the time its value changed
// recorded. Either door feeds the same model the same bytes; only where
// they come from and how keys go back differ.
type term struct {
	name  string
	size  size
	label []byte
	epoch time.Time

	stdin   io.Writer // what is typed: the session's stdin, or input messages
	stdinMu sync.Mutex
	hangUp  func() // ends the session: closes the SSH connection, or the WebSocket normally

	// mu guards the screen, the cross-check and what is read from them;
	// the read loop holds it while it parses, waiters while they look.
	mu     sync.Mutex
	scr    *screen
	check  *crossCheck // nil unless this client is cross-checked
	events []valueEvent
	cur    string // the value on screen now ("" when the label is not)
	row    int    // the row the label was last found on, -1 for none
	rowBuf []byte
	raw    []byte // every byte received, when recording
	record bool

	value   atomic.Pointer[string] // cur, for readers without the lock
	bytes   atomic.Int64           // output bytes received
	updated chan struct{}          // a read changed the screen (one slot: a wake-up, not a count)
	notify  chan<- struct{}        // the class's: some client's value changed
	done    chan struct{}          // closed when the read loop has ended
	readErr error                  // why it ended, valid after done
}

// Doors a student may come by.
const (
	doorSSH = "ssh"
	doorWeb = "web"
)

// dialOptions are what a term needs to connect: by SSH to addr as user with
// auth, or, when web is set, by the browser door to the WebSocket at addr
// (user then only names the student in errors).
type dialOptions struct {
	addr    string // HOST:PORT for SSH, ws://HOST:PORT/ws with web
	user    string
	auth    gossh.AuthMethod
	web     *webDoor
	size    size
	label   string
	epoch   time.Time
	timeout time.Duration
	verify  bool
	record  bool // keep every byte received, for replaying in tests
	notify  chan<- struct{}
}

// studentAuth is a fresh ed25519 key: the server lets any key in, and a new
// one makes a new member of the class.
func studentAuth() (gossh.AuthMethod, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return gossh.PublicKeys(signer), nil
}

// tokenAuth answers every keyboard-interactive question with the token, as
// an instructor typing it would.
func tokenAuth(token string) gossh.AuthMethod {
	return gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
		answers := make([]string, len(questions))
		for i := range answers {
			answers[i] = token
		}
		return answers, nil
	})
}

// newTerm is a term that has yet to start reading.
func newTerm(o dialOptions, stdin io.Writer, hangUp func()) *term {
	t := &term{
		name: o.user, size: o.size, label: []byte(o.label), epoch: o.epoch,
		stdin: stdin, hangUp: hangUp,
		scr: newScreen(o.size.w, o.size.h), row: -1, record: o.record,
		updated: make(chan struct{}, 1), notify: o.notify, done: make(chan struct{}),
	}
	t.value.Store(new(string))
	if o.verify {
		t.check = newCrossCheck(o.size.w, o.size.h)
	}
	return t
}

// dial connects by the door o names and starts reading.
func dial(ctx context.Context, o dialOptions) (*term, error) {
	if o.web != nil {
		return dialWeb(ctx, o)
	}
	return dialSSH(ctx, o)
}

// dialSSH connects, authenticates, asks for a PTY and a shell, and starts
// reading. The host key is not checked: the tool only ever talks to the
// addresses it is given, servers on loopback or the project's test hosts,
// so servers with keys of their own (data directories of their own) in one
// run are all let in.
func dialSSH(ctx context.Context, o dialOptions) (*term, error) {
	d := net.Dialer{Timeout: o.timeout}
	nc, err := d.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", o.addr, err)
	}
	// One deadline for the handshake and the session's set-up, which are
	// round trips without deadlines of their own.
	_ = nc.SetDeadline(time.Now().Add(o.timeout))
	cfg := &gossh.ClientConfig{User: o.user, Auth: []gossh.AuthMethod{o.auth},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: o.timeout}
	cc, chans, reqs, err := gossh.NewClientConn(nc, o.addr, cfg)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("ssh handshake as %s: %w", o.user, err)
	}
	conn := gossh.NewClient(cc, chans, reqs)
	fail := func(what string, err error) (*term, error) {
		_ = conn.Close()
		return nil, fmt.Errorf("%s as %s: %w", what, o.user, err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		return fail("new session", err)
	}
	modes := gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 38400, gossh.TTY_OP_OSPEED: 38400}
	if err := sess.RequestPty("xterm-256color", o.size.h, o.size.w, modes); err != nil {
		return fail("pty", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fail("stdin", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail("stdout", err)
	}
	if err := sess.Shell(); err != nil {
		return fail("shell", err)
	}
	_ = nc.SetDeadline(time.Time{})
	t := newTerm(o, stdin, func() {
		_ = sess.Close()
		_ = conn.Close()
	})
	go t.read(stdout)
	return t, nil
}

// read is the read loop. The time of a read is taken as soon as it
// returns, before any parsing: what the client then spends is its own.
func (t *term) read(out io.Reader) {
	defer close(t.done)
	buf := make([]byte, 16<<10)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			at := time.Since(t.epoch)
			t.bytes.Add(int64(n))
			t.consume(buf[:n], at)
		}
		if err != nil {
			t.finish(err)
			return
		}
	}
}

func (t *term) consume(p []byte, at time.Duration) {
	t.mu.Lock()
	if t.record {
		t.raw = append(t.raw, p...)
	}
	t.scr.Write(p)
	if t.check != nil {
		t.check.Write(p)
	}
	replies := t.scr.takeReplies()
	changed := false
	if !t.scr.sync {
		v := t.readValue()
		if string(v) != t.cur {
			cur := string(v) // its own string: readers hold the pointer without the lock
			t.cur = cur
			t.events = append(t.events, valueEvent{at: at, value: cur})
			t.value.Store(&cur)
			changed = true
		}
		if t.check != nil {
			t.check.compare(t.scr.Text(), func() string {
				return fmt.Sprintf("%s (%s) at %.3fs", t.name, t.size, at.Seconds())
			})
		}
	}
	t.mu.Unlock()
	if len(replies) > 0 {
		_ = t.send(string(replies)) // a closed session ends the read loop anyway
	}
	if changed {
		wake(t.notify)
	}
	wake(t.updated)
}

// wake wakes whoever waits on c without ever blocking the sender.
func wake(c chan<- struct{}) {
	if c == nil {
		return
	}
	select {
	case c <- struct{}{}:
	default:
	}
}

// finish records why the read loop ended and checks the final screen.
func (t *term) finish(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.readErr = err
	if t.check != nil {
		t.check.compare(t.scr.Text(), func() string { return fmt.Sprintf("%s (%s) at the end", t.name, t.size) })
		t.check.close()
	}
}

// readValue finds the label's row (where it was last seen first) and
// returns the value shown after its slider, or nil. The caller holds mu.
func (t *term) readValue() []byte {
	if t.row >= 0 {
		if c, ok := t.controlAt(t.row); ok {
			return c.value
		}
	}
	for y := range t.scr.h {
		if c, ok := t.controlAt(y); ok {
			t.row = y
			return c.value
		}
	}
	t.row = -1
	return nil
}

func (t *term) controlAt(y int) (control, bool) {
	t.rowBuf = t.scr.appendRow(t.rowBuf[:0], y)
	return parseControl(t.rowBuf, t.label)
}

// control is a control's row as drawn: "▸ Params N     ━━━━●──── 70 B".
type control struct {
	value   []byte
	knob    float64 // where the slider's knob sits, 0 to 1; -1 without a slider
	focused bool
}

// Slider glyphs, in colour and in the monochrome theme.
const (
	fillGlyphs = "━="
	restGlyphs = "─-"
	knobGlyphs = "●O"
	focusMark  = "▸"
)

// parseControl reads the control labelled label on row: the value is the
// text after its slider up to a gap of two spaces (a side note may follow).
func parseControl(row, label []byte) (control, bool) {
	i := bytes.Index(row, label)
	if i < 0 {
		return control{}, false
	}
	c := control{knob: -1}
	c.focused = bytes.HasSuffix(bytes.TrimRight(row[:i], " "), []byte(focusMark))
	rest := bytes.TrimLeft(row[i+len(label):], " ")
	var fill, after int
	knob := false
scan:
	for len(rest) > 0 {
		r, n := utf8.DecodeRune(rest)
		switch {
		case strings.ContainsRune(fillGlyphs, r) && !knob:
			fill++
		case strings.ContainsRune(knobGlyphs, r) && !knob:
			knob = true
		case strings.ContainsRune(restGlyphs, r) && knob:
			after++
		default:
			break scan
		}
		rest = rest[n:]
	}
	if knob {
		c.knob = 0
		if fill+after > 0 {
			c.knob = float64(fill) / float64(fill+after)
		}
	} else if fill > 0 {
		return control{}, false
	}
	rest = bytes.TrimLeft(rest, " ")
	if j := bytes.Index(rest, []byte("  ")); j >= 0 {
		rest = rest[:j]
	}
	c.value = rest
	return c, true
}

// send types s at the terminal.
func (t *term) send(s string) error {
	t.stdinMu.Lock()
	defer t.stdinMu.Unlock()
	if _, err := io.WriteString(t.stdin, s); err != nil {
		return fmt.Errorf("send to %s: %w", t.name, err)
	}
	return nil
}

// errEnded is a wait cut short because the session ended.
var errEnded = errors.New("the session ended")

// waitFor waits until ok holds for the screen, looking after every read
// that changed it, for at most timeout. Only one goroutine may wait on a
// term at a time.
func (t *term) waitFor(ctx context.Context, timeout time.Duration, what string, ok func(t *term) bool) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		done := ok(t)
		t.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-t.updated:
		case <-timer.C:
			return fmt.Errorf("%s: no %s within %v; screen:\n%s", t.name, what, timeout, t.text())
		case <-t.done:
			t.mu.Lock()
			done := ok(t)
			t.mu.Unlock()
			if done {
				return nil
			}
			return fmt.Errorf("%s: %w (%v) before %s; screen:\n%s", t.name, errEnded, t.readErr, what, t.text())
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %s: %w", t.name, what, ctx.Err())
		}
	}
}

// text is the screen now.
func (t *term) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scr.Text()
}

// contains reports text on the screen. The caller holds mu.
func (t *term) contains(text string) bool {
	needle := []byte(text)
	for y := range t.scr.h {
		t.rowBuf = t.scr.appendRow(t.rowBuf[:0], y)
		if bytes.Contains(t.rowBuf, needle) {
			return true
		}
	}
	return false
}

// current is the control as the screen shows it now. The caller holds mu.
func (t *term) current() (control, bool) {
	if t.row >= 0 {
		if c, ok := t.controlAt(t.row); ok {
			c.value = bytes.Clone(c.value)
			return c, true
		}
	}
	return control{}, false
}

// shows reports whether the control's value on screen is v.
func (t *term) shows(v string) bool {
	p := t.value.Load()
	return p != nil && *p == v
}

// close ends the session and waits (a while) for the read loop, whose last
// act is the final cross-check.
func (t *term) close() {
	t.hangUp()
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
	}
}

// framesSeen is how many synchronized updates the screen has begun.
func (t *term) framesSeen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scr.frames
}
