package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The floor's slider: the same log scale as the scaling chapter's "Params
// N" (0.1 to 10,000 billion in 75 steps), starting near 70.
const (
	floorSteps = 75
	floorStart = 43
	floorTrack = 20 // the slider's width in cells
)

// floorReady is the line the floor prints once it listens.
const floorReady = "floor listening on "

// floor is the least a server can do for a class: on every key the
// instructor sends it writes one fixed payload, the same bytes, to every
// session, with one write each, over the same SSH library as the real
// server (charm.land/ssh). What the real server costs above it is what its
// rendering costs.
type floor struct {
	payload int    // bytes written to each session per step
	label   string // the control's label

	mu          sync.Mutex
	members     map[*member]struct{}
	index       int // the slider's position, 0 to floorSteps
	hadStudents bool
	empty       chan struct{} // closed when the last session leaves after a run
	emptied     bool
}

// member is one session of the floor's.
type member struct {
	sess       ssh.Session
	instructor bool
	joined     bool
	mail       chan []byte // one slot: the newest payload
}

func newFloor(payload int, label string) *floor {
	return &floor{payload: payload, label: label, members: map[*member]struct{}{}, index: floorStart,
		empty: make(chan struct{})}
}

// serve answers SSH on ln until ctx ends. Any key is let in, and so is any
// answer to the token question of user "instructor".
func (f *floor) serve(ctx context.Context, ln net.Listener) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("floor host key: %w", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return fmt.Errorf("floor host key: %w", err)
	}
	srv := &ssh.Server{
		Handler:          f.handle,
		PublicKeyHandler: func(ssh.Context, ssh.PublicKey) bool { return true },
		KeyboardInteractiveHandler: func(ctx ssh.Context, ask gossh.KeyboardInteractiveChallenge) bool {
			if ctx.User() == "instructor" {
				_, err := ask("instructor", "Expedition floor", []string{"Instructor token: "}, []bool{false})
				return err == nil
			}
			return true
		},
	}
	srv.AddHostKey(signer)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("floor: %w", err)
	case <-ctx.Done():
	}
	_ = srv.Close()
	if err := <-done; err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		return fmt.Errorf("floor: %w", err)
	}
	return nil
}

func (f *floor) handle(sess ssh.Session) {
	_, winch, ok := sess.Pty()
	if !ok {
		_, _ = io.WriteString(sess.Stderr(), "The floor needs a terminal: ssh -t\n")
		_ = sess.Exit(1)
		return
	}
	go func() {
		for range winch { // one payload fits every size
		}
	}()
	m := &member{sess: sess, instructor: sess.User() == "instructor", mail: make(chan []byte, 1)}
	f.enter(m)
	defer f.leave(m)
	if _, err := io.WriteString(sess, f.promptScreen(sess.User())); err != nil {
		return
	}
	go m.writeLoop(sess.Context())
	buf := make([]byte, 512)
	var in []byte
	for {
		n, err := sess.Read(buf)
		in = append(in, buf[:n]...)
		in = f.keys(m, in)
		if err != nil {
			return
		}
	}
}

// writeLoop writes each payload posted to the member, the newest first:
// a slow client skips to the latest, as in the real server.
func (m *member) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-m.mail:
			if _, err := m.sess.Write(p); err != nil {
				return
			}
		}
	}
}

// post leaves p for the writer, replacing what it has not written yet.
// Callers hold f.mu, so posts never race each other.
func (m *member) post(p []byte) {
	for {
		select {
		case m.mail <- p:
			return
		default:
		}
		select {
		case <-m.mail:
		default:
		}
	}
}

// keys acts on the complete keys at the start of in and returns what is
// left (a sequence cut in two by the network).
func (f *floor) keys(m *member, in []byte) []byte {
	for len(in) > 0 {
		switch {
		case in[0] == '\r':
			f.joinMember(m)
			in = in[1:]
		case in[0] == 0x1b:
			if len(in) < 3 {
				return in
			}
			if in[1] != '[' {
				in = in[1:]
				continue
			}
			i := 2
			for i < len(in) && in[i] >= 0x30 && in[i] <= 0x3f {
				i++
			}
			if i == len(in) {
				return in
			}
			if m.instructor {
				switch in[i] {
				case 'C':
					f.move(1)
				case 'D':
					f.move(-1)
				}
			}
			in = in[i+1:]
		default:
			in = in[1:]
		}
	}
	return in
}

func (f *floor) enter(m *member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[m] = struct{}{}
	if !m.instructor {
		f.hadStudents = true
	}
}

func (f *floor) leave(m *member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.members, m)
	if len(f.members) == 0 && f.hadStudents && !f.emptied {
		f.emptied = true
		close(f.empty)
	}
}

// joinMember answers the name prompt: the member sees the control and from
// then on every payload.
func (f *floor) joinMember(m *member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.joined {
		return
	}
	screen := "\x1b[H\x1b[2JExpedition floor  ·  " + "the same bytes to everyone\r\n\r\n" +
		f.row(f.index, m.instructor) + "\r\n\r\n" + strconv.Itoa(len(f.members)) + " connected"
	// Written before the member can receive a payload, so the two never
	// cross.
	if _, err := io.WriteString(m.sess, screen); err != nil {
		return
	}
	m.joined = true
}

// move steps the slider and sends every member the step's payload.
func (f *floor) move(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := min(max(f.index+d, 0), floorSteps)
	if next == f.index {
		return
	}
	f.index = next
	p := floorPayload(f.payload, f.row(next, false))
	for m := range f.members {
		if m.joined {
			m.post(p)
		}
	}
}

func (f *floor) promptScreen(user string) string {
	return "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2JExpedition floor\r\n\r\n" + namePrompt + "\r\n\r\n  " +
		strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, user) + "\r\n\r\nenter to join"
}

// row draws the control the way the chapter does:
// "▸ Params N     ━━━━━━━━━━●───────── 70 B".
func (f *floor) row(index int, focused bool) string {
	mark := "  "
	if focused {
		mark = focusMark + " "
	}
	pos := int(float64(index)/floorSteps*(floorTrack-1) + 0.5)
	return mark + fmt.Sprintf("%-12s ", f.label) + strings.Repeat("━", pos) + "●" +
		strings.Repeat("─", floorTrack-1-pos) + " " + floorValue(index)
}

// floorValue is the value at a slider position.
func floorValue(index int) string {
	return fmt.Sprintf("%.3g B", 0.1*math.Pow(10, 5*float64(index)/floorSteps))
}

// floorPayload is one step's frame, size bytes long (or as short as the
// control's row allows): a synchronized update that redraws the control's
// row and then filler rows of styled text, all inside 80×24 so the same
// bytes suit every terminal.
func floorPayload(size int, row string) []byte {
	const end = "\x1b[?2026l"
	b := []byte("\x1b[?2026h\x1b[3;1H" + row + "\x1b[K")
	room := func() int { return size - len(b) - len(end) }
	const filler = "The floor writes the same bytes to every student: what the server spends above it is rendering. "
	for y := 5; y <= 22 && room() > 12; y++ {
		b = fmt.Appendf(b, "\x1b[%d;1H", y)
		for x := 0; x < 78 && room() > 3; x++ {
			b = append(b, filler[(x+y)%len(filler)])
		}
	}
	// Past the rows' room, styles that draw nothing; the last one is as
	// long as the bytes left ("\x1b[0…0m" is plain SGR 0).
	for room() > 16 {
		b = append(b, "\x1b[38;5;60m"...)
	}
	if r := room(); r >= 3 {
		b = append(b, "\x1b["+strings.Repeat("0", r-3)+"m"...)
	}
	return append(b, end...)
}

// runFloor is the floor subcommand: it listens on the address given,
// prints it, and serves until --for is up or its last session leaves after
// a run.
func runFloor(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("floor", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (port 0: any free port, printed)")
	payload := fs.Int("payload", 1200, "bytes written to every session per step")
	label := fs.String("control", "Params N", "the control's label")
	forDur := fs.Duration("for", 10*time.Minute, "stop after this long in any case")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest floor: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, floorReady+ln.Addr().String())
	f := newFloor(*payload, *label)
	ctx, cancel := context.WithTimeout(context.Background(), *forDur)
	defer cancel()
	go func() {
		<-f.empty
		cancel()
	}()
	if err := f.serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "loadtest floor: %v\n", err)
		return 1
	}
	return 0
}

// floorChild is a floor running as this program's child process, so that
// its CPU and memory are its own.
type floorChild struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startFloor starts `loadtest floor` on a free loopback port.
func startFloor(ctx context.Context, payload int, label string, forDur time.Duration, stderr io.Writer) (*floorChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start floor: %w", err)
	}
	cmd := exec.Command(exe, "floor", "--listen", "127.0.0.1:0", "--payload", strconv.Itoa(payload),
		"--control", label, "--for", forDur.String())
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start floor: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start floor: %w", err)
	}
	fc := &floorChild{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), floorReady); ok {
				lines <- addr
			}
		}
		close(lines)
		fc.done <- cmd.Wait()
	}()
	select {
	case addr, ok := <-lines:
		if ok {
			fc.addr = addr
			return fc, nil
		}
		return nil, fmt.Errorf("start floor: it exited: %w", <-fc.done)
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	fc.stop()
	return nil, errors.New("start floor: it did not say where it listens within 30 s")
}

// stop waits for the floor to leave by itself (its last session has gone)
// and ends it if it has not within a few seconds.
func (fc *floorChild) stop() {
	select {
	case <-fc.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = fc.cmd.Process.Kill()
	<-fc.done
}
