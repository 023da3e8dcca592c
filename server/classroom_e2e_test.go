package server_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
)

// teacher logs in with the start-up token and names themself.
func teacher(t *testing.T, r *running, opts ...sshtest.Option) *sshtest.Client {
	t.Helper()
	c := sshtest.Dial(t, r.addr, append([]sshtest.Option{sshtest.WithUser("instructor"),
		sshtest.WithKeyboardInteractive(r.srv.InstructorToken()), sshtest.WithSize(100, 30)}, opts...)...)
	c.WaitFor("What should the class call you?")
	c.Key("enter") // keeps the prefilled "Instructor"
	c.WaitFor("★ instructor")
	return c
}

// student joins with a key of its own (returned so a test can reconnect).
func student(t *testing.T, r *running, name string, opts ...sshtest.Option) *sshtest.Client {
	t.Helper()
	return joinAs(t, r, name, append([]sshtest.Option{sshtest.WithKey(sshtest.NewKey(t))}, opts...)...)
}

// keyless joins a student without a key and names them.
func keyless(t *testing.T, r *running, name string) *sshtest.Client {
	t.Helper()
	return joinAs(t, r, name, sshtest.WithUser(strings.ToLower(name)), sshtest.WithKeyboardInteractive())
}

// joinAs connects at 100×30 with opts and answers the name prompt.
func joinAs(t *testing.T, r *running, name string, opts ...sshtest.Option) *sshtest.Client {
	t.Helper()
	return joinClass(sshtest.Dial(t, r.addr, append([]sshtest.Option{sshtest.WithSize(100, 30)}, opts...)...), name)
}

// joinClass answers a new member's name prompt, by either door, and waits
// until they follow the class.
func joinClass(c *sshtest.Client, name string) *sshtest.Client {
	c.WaitFor("What should the class call you?")
	c.Key("ctrl+u")
	c.Type(name)
	c.Key("enter")
	c.WaitFor("following")
	return c
}

func TestWrongTokenIsRefused(t *testing.T) {
	r := start(t, t.TempDir())
	cfg := &gossh.ClientConfig{
		User: "instructor",
		Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			return make([]string, len(qs)), nil
		})},
		HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey()),
		Timeout:         5 * time.Second,
	}
	for _, answer := range []string{"", "wrong-token"} {
		cfg.Auth = []gossh.AuthMethod{gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			out := make([]string, len(qs))
			for i := range out {
				out[i] = answer
			}
			return out, nil
		})}
		if c, err := gossh.Dial("tcp", r.addr, cfg); err == nil {
			c.Close()
			t.Fatalf("instructor login with token %q got in", answer)
		}
	}
	// A key that is not in an instructors file does not make an instructor.
	signer := sshtest.NewKey(t)
	cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	if c, err := gossh.Dial("tcp", r.addr, cfg); err == nil {
		c.Close()
		t.Fatal("an unlisted key logged in as instructor")
	}
}

// TestInstructorDrivesEveryFollower, with frames shared and with every
// session drawn alone (--share-frames=false): the same screens either way.
func TestInstructorDrivesEveryFollower(t *testing.T) {
	cat, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, alone := range []bool{false, true} {
		t.Run(map[bool]string{false: "shared", true: "alone"}[alone], func(t *testing.T) {
			var logs syncBuffer
			r := startWith(t, server.Config{DrawAlone: alone}, cat, &logs)
			in := teacher(t, r)
			var class []*sshtest.Client
			for _, n := range []string{"Ada", "Grace", "Alan"} {
				class = append(class, student(t, r, n))
			}
			in.Type("1")
			in.WaitFor("From letters to numbers")
			for _, s := range class {
				s.WaitFor("1  From letters to numbers")
			}
			// Encoding is the second control: the instructor switches it.
			in.Key("down", "right")
			in.WaitFor("‹ cl100k_base ›")
			for _, s := range class {
				s.WaitFor("‹ cl100k_base ›")
			}
			s := in.WaitFor("4 connected")
			if !strings.Contains(s, "★ instructor") {
				t.Fatalf("instructor footer:\n%s", s)
			}
		})
	}
}

func TestExploreFollowAndLock(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	a := student(t, r, "Ada")
	in.Type("1")
	a.WaitFor("1  From letters to numbers")
	// Ada changes the encoding herself: she is exploring, and sees how she
	// differs from the instructor.
	a.Key("down", "right")
	s := a.WaitFor("exploring")
	if !strings.Contains(s, "f to follow · instructor: Encoding o200k_base (you: cl100k_base)") {
		t.Fatalf("no difference line:\n%s", s)
	}
	in.Type("d")
	in.WaitFor("exploring 1 tokens")
	in.Type("d") // d again closes the dashboard
	// f snaps back.
	a.Type("f")
	s = a.WaitFor("following")
	if !strings.Contains(s, "‹ o200k_base ›") {
		t.Fatalf("after f the instructor's values are not back:\n%s", s)
	}
	// Locked, her change does nothing.
	in.Type("L")
	a.WaitFor("locked")
	a.Key("down", "right") // f put the focus back on the first control
	s = a.WaitFor("has locked the class")
	if !strings.Contains(s, "‹ o200k_base ›") {
		t.Fatalf("a locked student changed a control:\n%s", s)
	}
	in.Type("L")
	a.WaitFor("unlocked the class")
	a.Key("right")
	a.WaitFor("exploring")
	a.WaitFor("‹ cl100k_base ›")
}

func TestPollHiddenUntilRevealSameEverywhere(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	students := []*sshtest.Client{student(t, r, "Ada"), student(t, r, "Grace"), student(t, r, "Alan")}
	in.Type("1")
	in.WaitFor("From letters to numbers")
	in.Type("o")
	in.WaitFor(`Question: How many tokens does o200k_base make of "strawberry"?`)
	for _, s := range students {
		s.WaitFor("press 1–4 to answer")
	}
	// Ada answers 2 then changes her mind to 3; the others answer 3 and 1.
	students[0].Type("2")
	students[0].WaitFor("your answer: 2")
	students[0].Type("3")
	students[0].WaitFor("your answer: 3")
	students[1].Type("3")
	students[2].Type("1")
	in.WaitFor("3 answered")
	s := students[1].WaitFor("3 answered")
	if strings.Contains(s, "✓") {
		t.Fatalf("a student sees results before the reveal:\n%s", s)
	}
	in.Type("r")
	var screens []string
	for _, c := range append(students, in) {
		sc := c.WaitFor("✓")
		screens = append(screens, pollLines(sc))
	}
	want := screens[len(screens)-1]
	if !strings.Contains(want, "3) 3 ✓") || !strings.Contains(want, "1) 1") {
		t.Fatalf("distribution wrong (want choice 3 twice, choice 1 once):\n%s", want)
	}
	for i, sc := range screens[:len(screens)-1] {
		if sc != want {
			t.Errorf("student %d sees another distribution:\n%s\nwant:\n%s", i, sc, want)
		}
	}
}

// pollLines are the bar lines of a revealed poll: label, bar, count.
func pollLines(screen string) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "█") || strings.Contains(l, "✓") {
			out = append(out, strings.TrimSpace(strings.Join(strings.Fields(strings.Map(func(r rune) rune {
				if r == '█' {
					return -1
				}
				return r
			}, l)), " ")))
		}
	}
	return strings.Join(out, "\n")
}

func TestLateJoinerAndReconnect(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	key := sshtest.NewKey(t)
	a := student(t, r, "Ada", sshtest.WithKey(key))
	in.Type("1")
	in.Key("down", "right") // cl100k_base
	in.Type("o")
	a.WaitFor("press 1–4")
	a.Type("3")
	a.WaitFor("your answer: 3")
	a.Close()

	// A late joiner lands on the class's chapter, values and open poll.
	late := student(t, r, "Late")
	s := late.WaitFor("press 1–4")
	if !strings.Contains(s, "1  From letters to numbers") || !strings.Contains(s, "‹ cl100k_base ›") {
		t.Fatalf("late joiner:\n%s", s)
	}
	// Ada reconnects with the same key: no name prompt, her answer is back.
	a2 := sshtest.Dial(t, r.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	s = a2.WaitFor("your answer: 3")
	if strings.Contains(s, "What should the class call you?") {
		t.Fatalf("reconnect asked for the name again:\n%s", s)
	}
	in.Type("d")
	in.WaitFor("Ada")
}

func TestStudentCannotDriveTheRoom(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	a := student(t, r, "Mallory")
	b := student(t, r, "Bob")
	in.Type("1")
	b.WaitFor("1  From letters to numbers")
	// Every instructor key, and some crafted bytes, from a student.
	for _, k := range []string{"o", "r", "c", "L", "d", "s", "S", "x", "B"} {
		a.Type(k)
	}
	a.Type("\x1b[201~\x1b]0;owned\x07\x00\xff")
	a.Paste("instructor\x1b[2J")
	a.Key("pgdown", "pgup", "right", "down", "right")
	time.Sleep(300 * time.Millisecond)
	s := b.Screen()
	for _, bad := range []string{"Question:", "locked", "exploring"} {
		if strings.Contains(s, bad) {
			t.Fatalf("a student changed the room (%q on another student's screen):\n%s", bad, s)
		}
	}
	if !strings.Contains(s, "‹ o200k_base ›") || !strings.Contains(s, "following") {
		t.Fatalf("bystander's screen changed:\n%s", s)
	}
}

// TestStalledStudentDoesNotDelayOthers: a client that stops reading, by
// either door, holds up only itself.
func TestStalledStudentDoesNotDelayOthers(t *testing.T) {
	doors := map[string]func(*testing.T, *running, string, ...sshtest.Option) *sshtest.Client{
		"ssh": student, "web": browser,
	}
	for door, join := range doors {
		t.Run(door, func(t *testing.T) {
			r := start(t, t.TempDir())
			in := teacher(t, r)
			stuck := join(t, r, "Stuck")
			ok := student(t, r, "Fine")
			stuck.StopReading()
			in.Type("1")
			ok.WaitFor("1  From letters to numbers")
			// Many changes: the stalled client's window fills, the others
			// keep up.
			for range 30 {
				in.Key("down", "right")
			}
			in.Type("o")
			ok.WaitFor("press 1–4")
			in.Type("L")
			ok.WaitFor("locked")
		})
	}
}

func TestNamesAreCleanedForEveryone(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30))
	c.WaitFor("What should the class call you?")
	c.Key("ctrl+u")
	c.Paste("Eve\x1b[31m\nRed\u202eevil★")
	c.Key("enter")
	c.WaitFor("Welcome, Eve Redevil!")
	in.Type("d")
	s := in.WaitFor("Eve Redevil")
	if strings.Contains(s, "★ Eve") || strings.Contains(s, "evil★") || strings.Contains(s, "\u202e") {
		t.Fatalf("name not cleaned on the dashboard:\n%s", s)
	}
}

func TestKickAndBan(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	key := sshtest.NewKey(t)
	a := student(t, r, "Troll", sshtest.WithKey(key))
	in.Type("d")
	in.WaitFor("Troll")
	in.Type("x")
	a.WaitFor("The instructor removed you from the class.")
	// Once the connection closes, the words stay on the terminal.
	if status, _ := a.Wait(); status != 1 {
		t.Errorf("a removed student's session ended with status %d, want 1", status)
	}
	if s := a.Screen(); !strings.Contains(s, server.RemovedText) {
		t.Errorf("after the connection closed the removed student reads:\n%s", s)
	}
	// A kick is not a ban: the same key may come back.
	a2 := sshtest.Dial(t, r.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	a2.WaitFor("following")
	in.WaitFor("Troll")
	in.Type("B")
	a2.WaitFor("The instructor removed you from the class.")
	a2.Wait()
	_, stderr, status := sshtest.Run(t, r.addr, "", sshtest.WithKey(key))
	if status == 0 {
		t.Errorf("banned key got a session (stderr %q)", stderr)
	}
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	c.WaitFor("removed from this class by the instructor and cannot rejoin")
}

func TestEstimatePoll(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	a := student(t, r, "Ada")
	b := student(t, r, "Bob")
	in.Type("1")
	in.Type("o") // strawberry
	in.WaitFor("strawberry")
	in.Type("o") // the token count estimate
	in.WaitFor("How many o200k_base tokens is the text on screen")
	a.WaitFor("type a number to answer")
	a.Type("20")
	a.Key("enter")
	a.WaitFor("your answer: 20")
	b.Type("1k")
	b.Key("enter")
	b.WaitFor("your answer: 1,000")
	in.WaitFor("2 answered")
	in.Type("r")
	// The default text is 21 o200k_base tokens (see the chapter's counts).
	s := a.WaitFor("answer: 21 tokens")
	// Bars fine around the truth: Ada's 20 is in a bar of its own beside
	// the truth's, Bob's 1,000 gathered at the top.
	if !strings.Contains(s, "median guess") || !strings.Contains(s, "20–22 ✓") || !regexp.MustCompile(`18\.2–20\s+█+ 1`).MatchString(s) ||
		!regexp.MustCompile(`above 29\.3\s+█+ 1`).MatchString(s) {
		t.Fatalf("revealed estimate:\n%s", s)
	}
}

// TestClassPoolsSamplesAndVotes: students add draws to the sampling
// chapter's class histogram and vote on the reward model's pairs; every
// screen shows the pooled tally, and a changed vote moves, not adds.
func TestClassPoolsSamplesAndVotes(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	a := student(t, r, "Ada")
	b := student(t, r, "Bob")
	in.Type("7")
	a.WaitFor("7  The moment of speech")
	a.Type("s")
	a.WaitFor("Sent to the class")
	b.Type("s")
	b.Type("s")
	in.WaitFor("class: 3 samples")
	s := a.WaitFor("class: 3 samples")
	if strings.Contains(s, "exploring") {
		t.Fatalf("sending a sample made the student explore:\n%s", s)
	}
	in.Type("C")
	in.WaitGone("class: 3 samples")

	// Reward model: the instructor opens step 2; Ada votes A over B, then
	// changes her mind; the class column counts her once.
	in.Type("6")
	in.Key("right") // step: sft → reward
	a.WaitFor("pair")
	a.Key("down", "right") // pick A vs B: — → A
	a.WaitFor("following")
	in.WaitFor("A vs B  —    1:0")
	a.Key("right") // → B
	s = in.WaitFor("A vs B  —    0:1")
	if !strings.Contains(s, "fitted to 1 class vote") || strings.Contains(s, "1 class votes") {
		t.Fatalf("a changed vote counted twice:\n%s", s)
	}
}

func TestSpotlightReachesFollowers(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	a := student(t, r, "Ada")
	in.Type("3")
	a.WaitFor("3  The act of looking back")
	in.Type("s")
	in.WaitFor("spotlight on")
	s := a.WaitFor("the instructor is pointing at")
	line := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "pointing at") {
			line = l
		}
	}
	in.Type("s")
	a.WaitForFunc("the spotlight moves on", func(s string) bool { return !strings.Contains(s, line) && strings.Contains(s, "pointing at") })
	in.Type("S")
	a.WaitGone("pointing at")
}

// unsigned offers a public key it cannot sign with, as a client holding
// only someone's published public key would.
type unsigned struct{ pub gossh.PublicKey }

func (u unsigned) PublicKey() gossh.PublicKey { return u.pub }
func (u unsigned) Sign(io.Reader, []byte) (*gossh.Signature, error) {
	return nil, errors.New("no private key")
}

// TestInstructorKeyMustBeProven: with an instructors file, offering the
// instructor's public key without its private key and then getting in as a
// keyless student does not make an instructor; the real key does.
func TestInstructorKeyMustBeProven(t *testing.T) {
	teacherKey := sshtest.NewKey(t)
	file := filepath.Join(t.TempDir(), "instructors")
	if err := os.WriteFile(file, gossh.MarshalAuthorizedKey(teacherKey.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{Instructors: file}, cat, &logs)

	mallory := sshtest.Dial(t, r.addr, sshtest.WithUser("mallory"), sshtest.WithKey(unsigned{teacherKey.PublicKey()}),
		sshtest.WithKeyboardInteractive())
	s := mallory.WaitFor("What should the class call you?")
	if strings.Contains(s, "You are the instructor") {
		t.Fatalf("an unproven instructor key made an instructor:\n%s", s)
	}
	mallory.Key("ctrl+u")
	mallory.Type("Mallory")
	mallory.Key("enter")
	mallory.WaitFor("student · following")
	mallory.Type("L") // an instructor key, from a student: nothing happens

	real := sshtest.Dial(t, r.addr, sshtest.WithUser("anyone"), sshtest.WithKey(teacherKey), sshtest.WithSize(100, 30))
	real.WaitFor("You are the instructor")
	real.Key("enter")
	real.WaitFor("★ instructor")
	if s := mallory.Screen(); strings.Contains(s, "locked") {
		t.Fatalf("the student's L locked the class:\n%s", s)
	}
}

// TestClosedChannelEndsTheSession: a client that closes its session channel
// but keeps the connection (ssh ControlMaster does) must not leave a program
// spinning on a closed window-change channel.
func TestClosedChannelEndsTheSession(t *testing.T) {
	r := start(t, t.TempDir())
	client := rawStudent(t, r.addr, r.srv.HostKey())
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, _ := sess.StdoutPipe()
	go io.Copy(io.Discard, out)
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.srv.Sessions() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sess.Close() // the channel goes; the connection stays
	for r.srv.Sessions() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := r.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions still running after the client closed its channel", n)
	}
}

// TestWrongTokenSaysSo: a wrong token is named as such at the prompt, not
// left to a bare "Permission denied".
func TestWrongTokenSaysSo(t *testing.T) {
	r := start(t, t.TempDir())
	var said []string
	cfg := &gossh.ClientConfig{User: "instructor", HostKeyCallback: gossh.FixedHostKey(r.srv.HostKey()), Timeout: 10 * time.Second,
		Auth: []gossh.AuthMethod{gossh.RetryableAuthMethod(gossh.KeyboardInteractive(func(_, inst string, qs []string, _ []bool) ([]string, error) {
			if len(qs) == 0 {
				said = append(said, inst)
			}
			out := make([]string, len(qs))
			for i := range out {
				out[i] = "not-the-token"
			}
			return out, nil
		}), 1)}}
	if c, err := gossh.Dial("tcp", r.addr, cfg); err == nil {
		c.Close()
		t.Fatal("a wrong token got in")
	}
	if len(said) == 0 || !strings.Contains(said[0], "Wrong instructor token") {
		t.Errorf("the wrong token was not named: %q", said)
	}
}

// TestBanningAKeylessStudentSparesTheirClassmates: behind one address (a
// school's NAT), banning one keyless student keeps every other keyless
// student, and anyone new, able to join.
func TestBanningAKeylessStudentSparesTheirClassmates(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	troll := keyless(t, r, "Troll")
	mate := keyless(t, r, "Mate")
	in.Type("d")
	in.WaitFor("Troll")
	in.Key("down") // the dashboard lists Mate, then Troll
	in.Type("B")
	in.WaitFor("without a key they may come back as someone new")
	troll.WaitFor("The instructor removed you from the class.")
	troll.Wait()
	// A new keyless student from the same address joins, and Mate stays.
	keyless(t, r, "Late")
	mate.Type("h")
	mate.WaitFor("Hand raised")
}

// TestStudentBackBeforeTheInstructorGoesToTheClass: after a restart, a
// student who reconnects lands on the class's chapter, following, before
// the instructor is back; so does a new keyless student once named.
func TestStudentBackBeforeTheInstructorGoesToTheClass(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	in := teacher(t, r)
	key := sshtest.NewKey(t)
	a := student(t, r, "Ada", sshtest.WithKey(key))
	in.Type("3")
	a.WaitFor("3  The act of looking back")
	r.stop(t)

	r2 := start(t, dir)
	back := sshtest.Dial(t, r2.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	s := back.WaitFor("3  The act of looking back")
	if !strings.Contains(s, "following") {
		t.Errorf("the student is back but not following:\n%s", s)
	}
	fresh := sshtest.Dial(t, r2.addr, sshtest.WithUser("bo"), sshtest.WithKeyboardInteractive(), sshtest.WithSize(100, 30))
	fresh.WaitFor("What should the class call you?")
	fresh.Key("enter")
	fresh.WaitFor("3  The act of looking back")
}
