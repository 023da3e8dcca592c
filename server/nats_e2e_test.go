package server_test

import (
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/internal/natstest"
	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
)

// startShared runs the real server with its data in dir as one of the
// servers holding the class on the NATS server at url.
func startShared(t *testing.T, dir, url string) *running {
	t.Helper()
	return startConfig(t, server.Config{DataDir: dir, NATS: url, Room: "e2e"})
}

// TestClassAcrossTwoServers: the instructor on A, students on A and B; what
// the instructor does on A reaches B's students; a poll answered through
// both counts each student once, even one who reconnects through the other
// server; a second instructor on B teaches A's students the same way.
func TestClassAcrossTwoServers(t *testing.T) {
	ns := natstest.Start(t)
	a := startShared(t, t.TempDir(), ns.URL())
	b := startShared(t, t.TempDir(), ns.URL())
	in := teacher(t, a)
	ada := student(t, a, "Ada")
	graceKey := sshtest.NewKey(t)
	grace := student(t, b, "Grace", sshtest.WithKey(graceKey))
	in.WaitFor("3 connected")

	in.Type("1")
	in.WaitFor("From letters to numbers")
	grace.WaitFor("From letters to numbers")
	in.Key("down", "right") // cl100k_base
	grace.WaitFor("‹ cl100k_base ›")

	in.Type("o")
	ada.WaitFor("press 1–4")
	grace.WaitFor("press 1–4")
	ada.Type("3")
	ada.WaitFor("your answer: 3")
	grace.Type("2")
	grace.WaitFor("your answer: 2")
	in.WaitFor("2 answered")

	// Grace comes back through A with her key: the same member, her answer
	// is there, and changing it replaces it.
	grace.Close()
	grace = joinedAgain(t, a, graceKey)
	grace.WaitFor("your answer: 2")
	grace.Type("3")
	grace.WaitFor("your answer: 3")
	in.Type("r")
	shown := pollLines(in.WaitFor("✓"))
	if n := answersIn(t, shown); n != 2 {
		t.Fatalf("revealed poll counts %d answers, want 2 (each student once):\n%s", n, shown)
	}
	if s := pollLines(ada.WaitFor("✓")); s != shown {
		t.Errorf("Ada on A sees another distribution:\n%s\nwant:\n%s", s, shown)
	}

	// The instructor also on B (the same instructor seat, so no name
	// prompt, let in by B's own token): Ada, on A, follows them there.
	in2 := sshtest.Dial(t, b.addr, sshtest.WithUser("instructor"),
		sshtest.WithKeyboardInteractive(b.srv.InstructorToken()), sshtest.WithSize(100, 30))
	in2.WaitFor("★ instructor")
	in2.Type("2")
	in2.WaitFor("A stack of identical blocks")
	ada.WaitFor("A stack of identical blocks")
	in.WaitFor("A stack of identical blocks")
}

// joinedAgain connects a returning member with key to r: no name prompt.
func joinedAgain(t *testing.T, r *running, key gossh.Signer) *sshtest.Client {
	t.Helper()
	c := sshtest.Dial(t, r.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	c.WaitFor("following")
	return c
}

// answersIn adds the counts of a revealed poll's bar lines ("1) 3  2").
func answersIn(t *testing.T, lines string) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(lines, "\n") {
		f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(l), "✓"))
		if len(f) == 0 {
			continue
		}
		var c int
		for _, r := range f[len(f)-1] {
			if r < '0' || r > '9' {
				t.Fatalf("no count at the end of %q", l)
			}
			c = c*10 + int(r-'0')
		}
		n += c
	}
	return n
}

// TestRestartedServerCatchesUp: B stops mid-class, the class moves on
// without it, and when B starts again its students find the class where it
// is at once.
func TestRestartedServerCatchesUp(t *testing.T) {
	ns := natstest.Start(t)
	a := startShared(t, t.TempDir(), ns.URL())
	dirB := t.TempDir()
	b := startShared(t, dirB, ns.URL())
	in := teacher(t, a)
	key := sshtest.NewKey(t)
	student(t, b, "Ada", sshtest.WithKey(key))
	in.WaitFor("2 connected")
	b.stop(t)
	in.WaitFor("1 connected")

	in.Type("1")
	in.WaitFor("From letters to numbers")
	in.Key("down", "right")
	in.WaitFor("‹ cl100k_base ›")

	b = startShared(t, dirB, ns.URL())
	ada := joinedAgain(t, b, key)
	s := ada.WaitFor("‹ cl100k_base ›")
	if !strings.Contains(s, "From letters to numbers") {
		t.Fatalf("Ada back on B:\n%s", s)
	}
	in.WaitFor("2 connected")
}

// TestNATSRestartMidClass: NATS stops and starts again mid-class; both
// servers reconnect by themselves, what was acknowledged before is kept,
// and the class goes on through both.
func TestNATSRestartMidClass(t *testing.T) {
	ns := natstest.Start(t)
	a := startShared(t, t.TempDir(), ns.URL())
	b := startShared(t, t.TempDir(), ns.URL())
	in := teacher(t, a)
	ada := student(t, b, "Ada")
	in.Type("1")
	in.WaitFor("From letters to numbers")
	in.Type("o")
	ada.WaitFor("press 1–4")
	ada.Type("3")
	ada.WaitFor("your answer: 3")
	in.WaitFor("1 answered")

	// While NATS is away, a newcomer is told to try again, not that they
	// were removed.
	ns.Stop()
	away := sshtest.Dial(t, a.addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30))
	away.WaitFor("This server cannot reach the class right now")
	ns.Restart()

	late := student(t, a, "Late")
	late.WaitFor("press 1–4")
	late.Type("1")
	late.WaitFor("your answer: 1")
	in.WaitFor("2 answered")
	in.Type("r")
	if n := answersIn(t, pollLines(ada.WaitFor("✓"))); n != 2 {
		t.Fatalf("after NATS restarted the poll counts %d answers, want 2", n)
	}
}
