package server_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/expedition-llm/expedition/internal/sshtest"
	"github.com/expedition-llm/expedition/server"
)

// browser joins by the web door with opts and answers the name prompt.
func browser(t *testing.T, r *running, name string, opts ...sshtest.Option) *sshtest.Client {
	t.Helper()
	return joinClass(sshtest.DialWeb(t, r.ws, append([]sshtest.Option{sshtest.WithSize(100, 30)}, opts...)...), name)
}

// TestBrowserStudentFollowsThroughAPoll: a student in a browser follows an
// SSH instructor, answers a poll the instructor reveals, and, back with the
// same page key after a reload, is the same member: no name prompt, their
// answer kept.
func TestBrowserStudentFollowsThroughAPoll(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	key := sshtest.NewWebKey()
	web := browser(t, r, "Wen", sshtest.WithWebKey(key))
	ssh := student(t, r, "Ada")
	in.Type("1")
	web.WaitFor("1  From letters to numbers")
	in.Key("down", "right")
	web.WaitFor("‹ cl100k_base ›")
	in.Type("o")
	web.WaitFor("press 1–4 to answer")
	web.Type("3")
	web.WaitFor("your answer: 3")
	ssh.WaitFor("press 1–4 to answer")
	ssh.Type("1")
	in.WaitFor("2 answered")
	in.Type("r")
	s := web.WaitFor("✓")
	if got, want := pollLines(s), pollLines(ssh.WaitFor("✓")); got != want {
		t.Errorf("the browser sees another distribution:\n%s\nthe SSH student:\n%s", got, want)
	}

	web.Close() // a reload
	again := sshtest.DialWeb(t, r.ws, sshtest.WithWebKey(key), sshtest.WithSize(100, 30))
	s = again.WaitFor("your answer: 3")
	if strings.Contains(s, "What should the class call you?") {
		t.Fatalf("the reloaded page was asked for a name again:\n%s", s)
	}
	// The instructor's dashboard shows both ways in, for the projector.
	in.Type("d")
	s = in.WaitFor("Wen")
	page := strings.TrimPrefix(r.page, "http://127.0.0.1")
	if !strings.Contains(s, "join: ssh -p ") || !strings.Contains(s, "http://localhost"+page) {
		t.Errorf("the dashboard does not show how to join (%s):\n%s", r.page, s)
	}
}

// TestBrowserInstructor: the token makes a page the instructor; a wrong one
// is refused with the reason on screen and a code that keeps the page from
// retrying by itself.
func TestBrowserInstructor(t *testing.T) {
	r := start(t, t.TempDir())
	wrong := sshtest.DialWeb(t, r.ws, sshtest.WithWebToken("not-the-token"), sshtest.WithSize(100, 30))
	wrong.WaitFor("Wrong instructor token")
	if code, _ := wrong.Wait(); code != 4000 {
		t.Errorf("a wrong token closed with %d, want 4000", code)
	}
	in := sshtest.DialWeb(t, r.ws, sshtest.WithWebToken(r.srv.InstructorToken()), sshtest.WithSize(100, 30))
	in.WaitFor("You are the instructor")
	in.Key("enter")
	in.WaitFor("★ instructor")
	ssh := student(t, r, "Ada")
	in.Type("1")
	ssh.WaitFor("1  From letters to numbers")
}

// TestHostileBrowser: what a page (or a script posing as one) sends is
// bounded like what an SSH client sends.
func TestHostileBrowser(t *testing.T) {
	r := start(t, t.TempDir())
	ok := student(t, r, "Ada")

	t.Run("a huge size is clamped", func(t *testing.T) {
		c := sshtest.DialWeb(t, r.ws, sshtest.WithSize(65535, 65535), sshtest.WithScreen(120, 40))
		c.WaitFor("too large: now 65535×65535")
		c.Resize(100, 30)
		c.WaitFor("What should the class call you?")
	})
	t.Run("invalid UTF-8 is read as keys", func(t *testing.T) {
		c := browser(t, r, "Bytes")
		c.Type("\xff\xfe\xc3")
		c.Type("t")
		c.WaitFor("Contents")
	})
	t.Run("a message past the limit ends only that page", func(t *testing.T) {
		c := browser(t, r, "Big")
		conn := rawWeb(t, r, "")
		big := append([]byte{0x00}, strings.Repeat("x", 1<<20)...)
		_ = conn.Write(context.Background(), websocket.MessageBinary, big)
		_, _, err := conn.Read(context.Background())
		if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig && code != -1 {
			t.Errorf("a 1 MB message: closed with %v (%v)", code, err)
		}
		c.Type("t")
		c.WaitFor("Contents")
	})
	t.Run("a bad hello is refused with a reason", func(t *testing.T) {
		conn := rawWeb(t, r, "")
		_ = conn.Write(context.Background(), websocket.MessageBinary, []byte("\x01{\"key\":\"short\"}"))
		_, data, _ := conn.Read(context.Background())
		if !strings.Contains(string(data), "could not join the class") {
			t.Errorf("a bad hello read %q", data)
		}
		_, _, err := conn.Read(context.Background())
		if code := websocket.CloseStatus(err); code != 4000 {
			t.Errorf("a bad hello closed with %v, want 4000", code)
		}
	})
	t.Run("another site's page is turned away", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, resp, err := websocket.Dial(ctx, r.ws, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site WebSocket: %v, %v", resp, err)
		}
	})
	t.Run("a window change of the wrong length is ignored", func(t *testing.T) {
		conn := rawWeb(t, r, sshtest.NewWebKey())
		msg := make([]byte, 3)
		msg[0] = 0x02
		binary.BigEndian.PutUint16(msg[1:], 9)
		if err := conn.Write(context.Background(), websocket.MessageBinary, msg); err != nil {
			t.Fatal(err)
		}
	})
	ok.Type("t")
	ok.WaitFor("Contents")
}

// rawWeb opens the WebSocket without the test client, and says hello with
// key unless it is "".
func rawWeb(t *testing.T, r *running, key string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, r.ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	if key != "" {
		hello := []byte(`{"key":"` + key + `","cols":100,"rows":30}`)
		if err := conn.Write(ctx, websocket.MessageBinary, append([]byte{0x01}, hello...)); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// TestClassFullCountsBothDoors: --max-sessions counts SSH and browser
// sessions together, and the browser reads the same refusal.
func TestClassFullCountsBothDoors(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{MaxSessions: 2}, cat, &logs)
	student(t, r, "Ada")
	browser(t, r, "Wen")
	c := sshtest.DialWeb(t, r.ws, sshtest.WithSize(100, 30))
	c.WaitFor("The class is full (2 students)")
	if code, _ := c.Wait(); code != 4100 {
		t.Errorf("a full class closed with %d, want 4100 (come back later)", code)
	}
}

// TestShutdownTellsBrowsers: a restart reaches the browser as it reaches an
// SSH student, with a code that brings the page back by itself.
func TestShutdownTellsBrowsers(t *testing.T) {
	r := start(t, t.TempDir())
	c := browser(t, r, "Wen")
	r.stop(t)
	c.WaitFor(server.ShutdownText)
	if code, _ := c.Wait(); code != 4101 {
		t.Errorf("a restart closed with %d, want 4101", code)
	}
}

// TestPageIsServedWithItsOwnFilesOnly: the page, its script and xterm.js are
// served with a policy that allows nothing from elsewhere, and nothing else
// of the embedded tree is.
func TestPageIsServedWithItsOwnFilesOnly(t *testing.T) {
	r := start(t, t.TempDir())
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(strings.TrimSuffix(r.page, "/") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, "app.js") || !strings.Contains(body, "vendor/xterm.js") {
		t.Fatalf("the page: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("policy %q", csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " on") && strings.Contains(body, "=\"") && strings.Contains(body, "onclick") {
		t.Errorf("the page has inline script:\n%s", body)
	}
	for _, p := range []string{"/app.js", "/app.css", "/vendor/xterm.js", "/vendor/xterm.css", "/vendor/addon-fit.js", "/vendor/LICENSE-xterm"} {
		if resp, _ := get(p); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/vendor/package.json", "/vendor/refresh.sh", "/ws/../index.html", "/nothing"} {
		if resp, _ := get(p); resp.StatusCode != 404 && resp.StatusCode != 400 {
			t.Errorf("%s: %d, want it not served", p, resp.StatusCode)
		}
	}
}

// TestRateLimitCountsBothDoors: one network's allowance of new sessions is
// spent by SSH and browser joins alike, and the browser reads the same
// refusal.
func TestRateLimitCountsBothDoors(t *testing.T) {
	cat, _ := catalog()
	var logs syncBuffer
	r := startWith(t, server.Config{ConnBurst: 2, ConnRate: 0.001}, cat, &logs)
	student(t, r, "Ada")
	browser(t, r, "Wen")
	c := sshtest.DialWeb(t, r.ws, sshtest.WithSize(100, 30))
	c.WaitFor("Too many people have just joined from your network")
	if code, _ := c.Wait(); code != 4100 {
		t.Errorf("a spent allowance closed with %d, want 4100 (come back later)", code)
	}
}
