package server_test

// One test per attack a hostile student (or a flaky machine) tried against
// the server, each over real SSH. Each failed before the fix it proves.

import (
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
	"github.com/expedition-llm/expedition/session"
	"github.com/expedition-llm/expedition/session/room"
	"github.com/expedition-llm/expedition/store"
)

// TestHugeTerminalIsClampedAndTold: a PTY of 65535×65535 once crashed the
// whole server (the renderer allocated a cell buffer for it). Now it is
// drawn at the clamp with a notice, a later window change is clamped the
// same way, the session's memory stays small, and the class goes on.
func TestHugeTerminalIsClampedAndTold(t *testing.T) {
	r := start(t, t.TempDir())
	other := dial(t, r)
	before := heapInUse()
	huge := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(65535, 65535),
		sshtest.WithScreen(session.MaxWidth, session.MaxHeight))
	huge.WaitFor(fmt.Sprintf("Terminal too large: now 65535×65535, at most %d×%d", session.MaxWidth, session.MaxHeight))
	grew := int64(heapInUse()) - int64(before)
	t.Logf("heap with a 65535×65535 session: %+d KiB", grew/1024)
	if grew > 32<<20 {
		t.Errorf("a 65535×65535 session grew the heap by %d MiB", grew>>20)
	}
	huge.Type("q") // keys are ignored while the size is refused
	huge.ReportSize(100, 30)
	huge.WaitFor("What should the class call you?")
	huge.ReportSize(4096, 256)
	huge.WaitFor("Terminal too large: now 4096×256")
	huge.ReportSize(80, 24)
	huge.WaitFor("What should the class call you?")
	other.Type("1")
	other.WaitFor("From letters to numbers")
}

// TestEnvRequestsAreBounded: a session keeps only the few environment
// variables the program reads, each small, and a handful of them; 200
// requests of 64 KiB leave the server's memory where it was.
func TestEnvRequestsAreBounded(t *testing.T) {
	r := start(t, t.TempDir())
	client := rawStudent(t, r.addr, r.srv.HostKey())
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	before := heapInUse()
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 200; i++ {
		if err := sess.Setenv(fmt.Sprintf("X_%d", i), big); err == nil {
			t.Fatalf("env request %d (X_%d, 64 KiB) accepted", i, i)
		}
	}
	for _, kv := range [][2]string{{"COLUMNS", "65535"}, {"LINES", "65535"}, {"TMUX", "x"}, {"NO_COLOR", big}} {
		if err := sess.Setenv(kv[0], kv[1]); err == nil {
			t.Errorf("env %s (%d bytes) accepted", kv[0], len(kv[1]))
		}
	}
	accepted := 0
	for i := 0; i < 2*server.MaxEnvVars; i++ {
		if sess.Setenv("LANG", "en_GB.UTF-8") == nil {
			accepted++
		}
	}
	if accepted != server.MaxEnvVars {
		t.Errorf("%d of %d allowed env requests accepted, want the cap %d", accepted, 2*server.MaxEnvVars, server.MaxEnvVars)
	}
	grew := int64(heapInUse()) - int64(before)
	t.Logf("heap after 200 env requests of 64 KiB: %+d KiB", grew/1024)
	if grew > 4<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
	// The session itself still works.
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, _ := sess.StdoutPipe()
	_, _ = sess.StdinPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	readUntil(t, out, "call you?")
}

// TestLongUserNamesAreCutInTheLog: whatever a client calls itself reaches
// the log cut and escaped, so 20 sessions with 200 KiB user names write a
// few lines, not megabytes.
func TestLongUserNamesAreCutInTheLog(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{}, cat, &logs)
	long := "\x1b[2J" + strings.Repeat("é", 100<<10) // 200 KiB and an escape
	for i := 0; i < 20; i++ {
		c := sshtest.Dial(t, r.addr, sshtest.WithUser(long), sshtest.WithKeyboardInteractive())
		c.WaitFor("What should the class call you?")
		c.Close()
	}
	waitFor(t, "20 disconnect lines", func() bool { return strings.Count(logs.String(), "disconnect") >= 20 })
	l := logs.String()
	t.Logf("log after 20 sessions with 200 KiB user names: %d bytes", len(l))
	if len(l) > 20<<10 {
		t.Errorf("log is %d KiB", len(l)>>10)
	}
	for _, line := range strings.Split(l, "\n") {
		if len(line) > 1024 {
			t.Fatalf("a log line of %d bytes: %.200q…", len(line), line)
		}
		if strings.Contains(line, "\x1b") {
			t.Fatalf("a raw escape reached the log: %q", line)
		}
	}
	if !strings.Contains(l, fmt.Sprintf("…(%d bytes)", len(long))) || !strings.Contains(l, `\x1b[2J`) {
		t.Errorf("the log does not show the name cut and escaped:\n%s", l)
	}
}

// TestRefusalsAreLoggedOncePerAddress: sessions past the rate limit read
// the project's own words, and the log gets one line for the lot.
func TestRefusalsAreLoggedOncePerAddress(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 2, ConnRate: 0.01}, cat, &logs)
	for i := 0; i < 2; i++ {
		_, _, _ = sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
	}
	for i := 0; i < 20; i++ {
		_, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(sshtest.NewKey(t)))
		if status != 1 || !strings.Contains(stderr, "Too many people have just joined from your network") {
			t.Fatalf("refused session %d: status %d, stderr %q", i, status, stderr)
		}
	}
	// With a terminal the words are on the screen.
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)))
	c.WaitFor("Too many people have just joined from your network")
	if n := strings.Count(logs.String(), "too many new sessions"); n != 1 {
		t.Errorf("21 refusals from one address logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "connect ") && strings.Count(logs.String(), "msg=connect") > 2 {
		t.Errorf("refused sessions were logged as connections:\n%s", logs.String())
	}
}

// TestHandshakeFloodIsCutBeforeKeyExchange: one address opening handshakes
// as fast as it can is turned away before the key exchange once past its
// burst, while another address joins as usual, and the flooder gets in
// again once it stops.
func TestHandshakeFloodIsCutBeforeKeyExchange(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 5}, cat, &logs)
	var refused, handshook atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				nc, err := net.Dial("tcp", r.addr)
				if err != nil {
					refused.Add(1)
					continue
				}
				_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
				// No auth method: the handshake is the whole visit.
				_, _, _, err = gossh.NewClientConn(nc, r.addr, &gossh.ClientConfig{User: "flood",
					HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey())})
				switch {
				case err == nil:
				case strings.Contains(err.Error(), "unable to authenticate"):
					handshook.Add(1)
				default:
					refused.Add(1)
				}
				nc.Close()
			}
		}()
	}
	wg.Wait()
	t.Logf("200 handshakes from one address: %d completed the key exchange, %d turned away", handshook.Load(), refused.Load())
	if refused.Load() < 100 {
		t.Errorf("only %d of 200 flood connections were turned away", refused.Load())
	}
	if n := strings.Count(logs.String(), "connection refused before the handshake"); n < 1 || n > 3 {
		t.Errorf("the flood was logged %d times, want once or twice per kind:\n%s", n, logs.String())
	}
	// Another address is not held up by the flood.
	elsewhere := dialFrom(t, r, "127.0.0.2")
	elsewhere.Close()
	// The flooder's own address gets in again once its budget refills.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := gossh.Dial("tcp", r.addr, &gossh.ClientConfig{User: "student",
			Auth:            []gossh.AuthMethod{gossh.PublicKeys(sshtest.NewKey(t))},
			HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey()), Timeout: 5 * time.Second})
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flooding address was still refused 10 s after the flood: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dialFrom opens an SSH connection to the server from a given loopback
// source address (Linux routes all of 127/8 to lo).
func dialFrom(t *testing.T, r *running, source string) *gossh.Client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", r.addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", source, err)
	}
	cc, chans, reqs, err := gossh.NewClientConn(nc, r.addr, &gossh.ClientConfig{User: "student",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(sshtest.NewKey(t))},
		HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey())})
	if err != nil {
		t.Fatalf("handshake from %s: %v", source, err)
	}
	return gossh.NewClient(cc, chans, reqs)
}

// TestTokenGuessesAreCountedBeforeChecked: 60 simultaneous wrong tokens
// from one address get exactly the ten tries the lockout allows; the rest,
// and the instructor after them, read why they are locked out.
func TestTokenGuessesAreCountedBeforeChecked(t *testing.T) {
	r := start(t, t.TempDir())
	var asked, told atomic.Int32
	var instruction atomic.Value
	login := func() {
		cfg := &gossh.ClientConfig{User: "instructor", HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey()), Timeout: 30 * time.Second,
			Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(_, inst string, qs []string, _ []bool) ([]string, error) {
				if len(qs) > 0 {
					asked.Add(1)
				} else if strings.Contains(inst, "locked") {
					told.Add(1)
					instruction.Store(inst)
				}
				return make([]string, len(qs)), nil
			})}}
		if c, err := gossh.Dial("tcp", r.addr, cfg); err == nil {
			c.Close()
			t.Error("a wrong token logged in")
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); login() }()
	}
	wg.Wait()
	if asked.Load() != 10 || told.Load() != 50 {
		t.Errorf("60 guesses at once: %d had a token checked (want 10), %d were told of the lockout (want 50)", asked.Load(), told.Load())
	}
	login()
	inst, _ := instruction.Load().(string)
	if !strings.Contains(inst, "Instructor login is locked for your address until") || !strings.Contains(inst, "--instructors") {
		t.Errorf("the locked-out instructor reads %q", inst)
	}
	// Students from the same address still join.
	dial(t, r)
}

// TestStudentCannotFloodTheClass: a student hammering the hand key is
// slowed down with a notice, and one student's draws stop at their share of
// the class's histogram.
func TestStudentCannotFloodTheClass(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	s := student(t, r, "Hammer")
	// Each burst ends past the budget, so its last key shows the notice.
	until(t, s, "slow down", func() { s.Type(strings.Repeat("h", 50)) })
	in.Type("d")
	in.WaitFor("Hammer") // the instructor's screen still answers
	in.Key("esc")
	// Another student, with a fresh budget: their draws stop at the share.
	d := student(t, r, "Drawer")
	d.Type("7")
	d.WaitFor("The moment of speech")
	share := fmt.Sprintf("you have drawn your share (%d)", room.MaxSamplesPerMember)
	until(t, d, share, func() { d.Type(strings.Repeat("s", 10)) })
	d.WaitFor(fmt.Sprintf("class: %d samples", room.MaxSamplesPerMember))
}

// until does act, again and again, until the screen shows want (the room
// paces a student's actions, so what they lead to takes a few seconds).
func until(t *testing.T, c *sshtest.Client, want string, act func()) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(c.Screen(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never showed:\n%s", want, c.Screen())
		}
		act()
		time.Sleep(200 * time.Millisecond) // the pace refills by the second
	}
}

// TestDashboardListsPresentFirstAndJoiners: students who are here come
// before those who left; someone still at the name prompt reads
// "(joining)", never a blank row; a name of invisible letters is refused.
func TestDashboardListsPresentFirstAndJoiners(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	gone := student(t, r, "Aaron")
	gone.Type("q")
	gone.Wait()
	student(t, r, "Zoe")
	joining := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30))
	joining.WaitFor("What should the class call you?")
	joining.Key("ctrl+u")
	joining.Type("\u3164\u3164\u2800")
	joining.Key("enter")
	joining.WaitFor("Please type a name the class will see")
	in.Type("d")
	screen := in.WaitFor("(joining)")
	zoe, aaron, join := strings.Index(screen, "Zoe"), strings.Index(screen, "Aaron"), strings.Index(screen, "(joining)")
	if zoe < 0 || aaron < 0 || join > aaron || zoe > aaron {
		t.Errorf("dashboard order: present (Zoe, joining) before away (Aaron):\n%s", screen)
	}
}

// TestIdleStudentIsToldWhy: a session with nothing crossing its terminal
// for the idle timeout ends with words on the student's screen.
func TestIdleStudentIsToldWhy(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{IdleTimeout: time.Second}, cat, &logs)
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)))
	c.WaitFor("What should the class call you?")
	if status, _ := c.Wait(); status != 0 {
		t.Errorf("idle session exit status %d", status)
	}
	if s := c.Screen(); !strings.Contains(s, "Closed after 1 second with no key pressed and nothing new on screen") {
		t.Errorf("the idle student was not told:\n%s", s)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readUntil reads r until want has appeared.
func readUntil(t *testing.T, r interface{ Read([]byte) (int, error) }, want string) {
	t.Helper()
	var seen []byte
	buf := make([]byte, 32<<10)
	for !strings.Contains(string(seen), want) {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("reading for %q: %v (got %q)", want, err, seen)
		}
		seen = append(seen, buf[:n]...)
	}
}

// TestSavingTroubleReachesTheInstructor: when writes to the database start
// failing mid-class (here another process holds its write lock), the
// instructor reads it on screen; when they work again the warning goes, and
// nothing the class did meanwhile is lost.
func TestSavingTroubleReachesTheInstructor(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	in := teacher(t, r)
	s := student(t, r, "Ada")

	lock, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	lock.SetMaxOpenConns(1)
	if _, err := lock.Exec("BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	in.Type("2") // the class moves on; the save of it fails
	s.WaitFor("A stack of identical blocks")
	in.WaitFor("Saving failed: database is locked · check the disk")
	if strings.Contains(s.Screen(), "Saving failed") {
		t.Error("a student sees the instructor's alert")
	}
	if _, err := lock.Exec("COMMIT"); err != nil {
		t.Fatal(err)
	}
	in.WaitGone("Saving failed")

	// What happened while the disk was locked was saved after all.
	r.stop(t)
	r2 := start(t, dir)
	back := sshtest.Dial(t, r2.addr, sshtest.WithUser("instructor"),
		sshtest.WithKeyboardInteractive(r2.srv.InstructorToken()), sshtest.WithSize(100, 30))
	back.WaitFor("A stack of identical blocks")
}

// cpuTime is the CPU this process (server and test clients) has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestWindowChangeStormIsCoalesced: 4,000 window changes sent in a burst
// once cost the server a redraw each (7 CPU-seconds); now the newest size is
// drawn and the ones in between are skipped.
func TestWindowChangeStormIsCoalesced(t *testing.T) {
	r := start(t, t.TempDir())
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithScreen(session.MaxWidth, session.MaxHeight))
	c.WaitFor("What should the class call you?")
	before := cpuTime(t)
	sizes := [][2]int{{4096, 256}, {65535, 65535}, {1, 1}, {500, 200}}
	for i := 0; i < 1000; i++ {
		for _, s := range sizes {
			c.ReportSize(s[0], s[1])
		}
	}
	c.ReportSize(100, 30)
	c.WaitFor("What should the class call you?")
	used := cpuTime(t) - before
	t.Logf("4,001 window changes: %v of CPU (server and client together)", used.Round(time.Millisecond))
	if used > 3*time.Second {
		t.Errorf("a window-change storm cost %v of CPU", used)
	}
}

// TestKeyFloodIsPaced: keys far past any typist's pace are dropped with a
// word to the student, and ctrl+c still quits at once.
func TestKeyFloodIsPaced(t *testing.T) {
	r := start(t, t.TempDir())
	other := dial(t, r)
	c := dial(t, r)
	c.Type(strings.Repeat("j", 5000))
	c.WaitFor("Too many keys at once: the extra were ignored")
	c.Key("ctrl+c")
	if status, _ := c.Wait(); status != 0 {
		t.Errorf("ctrl+c after a flood: exit status %d", status)
	}
	other.Type("1")
	other.WaitFor("From letters to numbers")
}
