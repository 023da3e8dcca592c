package main

import (
	"strings"
	"testing"
	"time"

	"github.com/expedition-llm/expedition/internal/natstest"
	"github.com/expedition-llm/expedition/internal/sshtest"
)

// TestReportReadsTheSharedRecord: a class on two servers sharing NATS, a
// question answered through both; the report from NATS has both answers
// and both students, and so has either server's own journal.
func TestReportReadsTheSharedRecord(t *testing.T) {
	ns := natstest.Start(t)
	bin := binary(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	shared := []string{"--nats", ns.URL(), "--room", "report"}
	a := launch(t, bin, dirA, shared...)
	b := launch(t, bin, dirB, shared...)

	in := sshtest.Dial(t, a.addr, sshtest.WithUser("instructor"), sshtest.WithKeyboardInteractive(a.token), sshtest.WithSize(100, 30))
	in.WaitFor("What should the class call you?")
	in.Key("enter")
	in.WaitFor("★ instructor")
	join := func(addr, name string) *sshtest.Client {
		c := sshtest.Dial(t, addr, sshtest.WithKey(sshtest.NewKey(t)), sshtest.WithSize(100, 30))
		c.WaitFor("What should the class call you?")
		c.Key("ctrl+u")
		c.Type(name)
		c.Key("enter")
		c.WaitFor("following")
		return c
	}
	ada, grace := join(a.addr, "Ada"), join(b.addr, "Grace")
	in.Type("1")
	in.WaitFor("From letters to numbers")
	in.Type("o")
	ada.WaitFor("press 1–4")
	grace.WaitFor("press 1–4")
	ada.Type("3")
	ada.WaitFor("your answer: 3")
	grace.Type("1")
	grace.WaitFor("your answer: 1")
	in.WaitFor("2 answered")

	wants := []string{
		`1 From letters to numbers · How many tokens does o200k_base make of "strawberry"?`,
		"2 answered · 1 right (50%)",
		"Ada    1 answered · 1 right",
		"Grace  1 answered · 0 right",
		"Chapter now: 1 From letters to numbers",
	}
	missing := func(out string) []string {
		var m []string
		for _, want := range wants {
			if !strings.Contains(out, want) {
				m = append(m, want)
			}
		}
		return m
	}
	// The shared record holds both answers once the instructor sees them:
	// what a server applies, NATS has stored.
	out, errOut, code := runCmd("report", "--nats", ns.URL(), "--room", "report")
	if code != 0 {
		t.Fatalf("report from NATS: exit %d, stderr %q", code, errOut)
	}
	if m := missing(out); m != nil {
		t.Fatalf("report from NATS lacks %q:\n%s", m, out)
	}
	// B's own journal is written a moment after B applies: read it until
	// it has caught up.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errOut, code := runCmd("report", "--data", dirB)
		m := missing(out)
		if code == 0 && m == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("report from B's journal (exit %d, stderr %q) lacks %q after 20 s:\n%s", code, errOut, m, out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if _, errOut, code := runCmd("report", "--nats", ns.URL(), "--room", "nosuch"); code != 1 || !strings.Contains(errOut, `no class "nosuch"`) {
		t.Errorf("report of a class NATS does not hold: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCmd("report", "--data", t.TempDir()); code != 1 || !strings.Contains(errOut, "no class saved") {
		t.Errorf("report of an empty data directory: exit %d, stderr %q", code, errOut)
	}
}
