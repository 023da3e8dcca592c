package main

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expedition-llm/expedition/internal/sshtest"
)

// binary is the real server, built once for the tests that kill it.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "expedition")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd   *exec.Cmd
	addr  string
	token string
}

var (
	addrRE  = regexp.MustCompile(`serving addr=(\S+)`)
	tokenRE = regexp.MustCompile(`token=(\S+)`)
)

// launch starts the binary on a free port with its data in dir (and any
// more serve flags) and waits until it serves.
func launch(t *testing.T, bin, dir string, flags ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--data", dir}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &proc{cmd: cmd}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := addrRE.FindStringSubmatch(line); m != nil {
				p.addr = m[1]
			}
			if m := tokenRE.FindStringSubmatch(line); m != nil {
				p.token = m[1]
				close(ready)
				break
			}
		}
		io.Copy(logSink(t), stderr)
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	return p
}

// TestClassSurvivesKill9: a class in progress, the server killed without
// warning, started again: the class resumes where it was.
func TestClassSurvivesKill9(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	p := launch(t, bin, dir)
	key := sshtest.NewKey(t)

	in := sshtest.Dial(t, p.addr, sshtest.WithUser("instructor"), sshtest.WithKeyboardInteractive(p.token), sshtest.WithSize(100, 30))
	in.WaitFor("What should the class call you?")
	in.Key("ctrl+u")
	in.Type("Ms Hopper")
	in.Key("enter")
	st := sshtest.Dial(t, p.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	st.WaitFor("What should the class call you?")
	st.Key("ctrl+u")
	st.Type("Ada")
	st.Key("enter")
	st.WaitFor("following")

	in.Type("1")
	in.Key("down", "right") // cl100k_base
	in.Type("o")
	st.WaitFor("press 1–4")
	st.Type("3")
	st.WaitFor("your answer: 3)")
	in.WaitFor("1 answered")
	// The writer commits within milliseconds; give it a moment before the
	// kill, as a real crash would not wait at all.
	time.Sleep(500 * time.Millisecond)
	p.cmd.Process.Kill()
	p.cmd.Wait()
	in.Close()
	st.Close()

	p2 := launch(t, bin, dir)
	back := sshtest.Dial(t, p2.addr, sshtest.WithKey(key), sshtest.WithSize(100, 30))
	s := back.WaitFor("your answer: 3)")
	for _, want := range []string{"1  From letters to numbers", "‹ cl100k_base ›", "following"} {
		if !strings.Contains(s, want) {
			t.Errorf("after restart the student's screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "What should the class call you?") {
		t.Error("the student was asked for a name again")
	}
	teacher := sshtest.Dial(t, p2.addr, sshtest.WithUser("instructor"), sshtest.WithKeyboardInteractive(p2.token), sshtest.WithSize(100, 30))
	s = teacher.WaitFor("1 answered")
	if !strings.Contains(s, "class led by ★ Ms Hopper") {
		t.Errorf("the instructor's name was not kept:\n%s", s)
	}
	teacher.Type("d")
	teacher.WaitFor("Ada")
}

type tlog struct{ t *testing.T }

func (w tlog) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }
func logSink(t *testing.T) io.Writer       { return tlog{t} }
