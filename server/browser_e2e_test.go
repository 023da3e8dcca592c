package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium starts headless Chromium (Debian's package, which .ci/run
// installs) for one test. The test fails without it: the browser door is
// only proved in a browser.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatalf("this test needs Chromium (apt-get install chromium; .ci/run installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1000, 700),
		// As root in a container Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		// Headless needs no GPU process; in a container without a GPU it
		// is one more process that can fail to start.
		chromedp.Flag("disable-gpu", true),
		// Should it fail to start, its own account of why is in the error.
		chromedp.Flag("enable-logging", "stderr"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("start Chromium: %v (%s)", err, exit.ProcessState)
		}
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// rowsJS is the page's terminal as text, row by row, as a person reads it
// (xterm.js draws rows as elements; spaces come as no-break spaces).
const rowsJS = `Array.from(document.querySelectorAll('.xterm-rows > div')).map(r => r.textContent.replace(/\u00a0/g, ' ')).join('\n')`

// debianChromium is the browser Debian's /usr/bin/chromium starts: that
// launcher adds flags of its own (an empty --load-extension= among them)
// with which, on a loaded 2-core machine, about one start in ten crashed
// before it listened (5 of 50, against 0 of 50 for the binary itself).
const debianChromium = "/usr/lib/chromium/chromium"

// chromiumPath is the browser to drive: Debian's binary when it is
// installed, else whatever "chromium" is on the PATH.
func chromiumPath() (string, error) {
	if _, err := os.Stat(debianChromium); err == nil {
		return debianChromium, nil
	}
	return exec.LookPath("chromium")
}

// pageText is what the page's terminal shows.
func pageText(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](rowsJS))
}

// waitPageFunc waits, in the page, until ok (a JavaScript function of the
// terminal's text) holds, and returns the text; it fails the test after
// 15 s with what the page shows.
func waitPageFunc(t *testing.T, ctx context.Context, desc, ok string) string {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("("+ok+")("+rowsJS+")",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	text, _ := pageText(ctx)
	if err != nil {
		t.Fatalf("the page never showed %s (%v); it shows:\n%s", desc, err, text)
	}
	return text
}

// waitPage waits until the page's terminal shows want.
func waitPage(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	return waitPageFunc(t, ctx, fmt.Sprintf("%q", want), fmt.Sprintf("text => text.includes(%q)", want))
}

// typeText types s into the page's terminal as a phone keyboard or an
// input method does (an input event with the text). Synthesized key
// presses reach xterm.js for Enter and the arrows but not for letters, so
// letters go this way.
func typeText(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(".xterm-helper-textarea")), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: s})
		return err
	}))
	if err != nil {
		t.Fatalf("type %q: %v", s, err)
	}
}

// press presses a key (kb.Enter, kb.ArrowDown…) in the page's terminal.
func press(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(".xterm-helper-textarea")), chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("press %q: %v", key, err)
	}
}

// widest is the longest row the page's terminal shows.
func widest(text string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		n = max(n, len([]rune(strings.TrimRight(line, " "))))
	}
	return n
}

// TestChromiumStudentJoinsAndFollows: in a real browser, a student loads
// the page, joins, follows an SSH instructor through a poll beside an SSH
// classmate, sees the session laid out again when the window grows, uses
// the on-screen keys, and after a reload is the same student.
func TestChromiumStudentJoinsAndFollows(t *testing.T) {
	r := start(t, t.TempDir())
	in := teacher(t, r)
	ada := student(t, r, "Ada")
	ctx := chromium(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.page)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	waitPage(t, ctx, "What should the class call you?")
	typeText(t, ctx, "Wen")
	waitPage(t, ctx, "Wen")
	press(t, ctx, kb.Enter)
	waitPage(t, ctx, "student · following")

	// A poll: the browser and the SSH student answer, the instructor
	// reveals, both see the same result.
	in.Type("1")
	waitPage(t, ctx, "1  From letters to numbers")
	in.Type("o")
	waitPage(t, ctx, "press 1–4 to answer")
	typeText(t, ctx, "3")
	waitPage(t, ctx, "your answer: 3")
	ada.WaitFor("press 1–4 to answer")
	ada.Type("1")
	in.WaitFor("2 answered")
	in.Type("r")
	text := waitPage(t, ctx, "✓")
	if got, want := pollLines(text), pollLines(ada.WaitFor("✓")); got != want {
		t.Errorf("the browser sees another result:\n%s\nthe SSH student:\n%s", got, want)
	}
	before, _ := pageText(ctx)

	// A wider window: the page fits its terminal and tells the server,
	// which lays the chapter out again.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 900)); err != nil {
		t.Fatalf("resize: %v", err)
	}
	waitPageFunc(t, ctx, "a wider layout", fmt.Sprintf(
		`text => text.includes("From letters to numbers") && Math.max(...text.split("\n").map(l => l.trimEnd().length)) > %d`,
		widest(before)+20))

	// The on-screen keys (shown with "Keys") type too: t opens the contents.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#keys-toggle")), chromedp.Click(chromedp.CSS(`#keys button[data-key="t"]`))); err != nil {
		t.Fatalf("the key bar: %v", err)
	}
	waitPage(t, ctx, "Contents")
	press(t, ctx, kb.Escape)

	// A reload is the same student: no name asked, the answer kept.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	text = waitPage(t, ctx, "your answer: 3")
	if strings.Contains(text, "What should the class call you?") {
		t.Fatalf("the reloaded page asked for a name again:\n%s", text)
	}
	in.Type("d")
	s := in.WaitFor("Wen")
	if strings.Count(s, "Wen") != 1 {
		t.Errorf("the dashboard lists Wen %d times:\n%s", strings.Count(s, "Wen"), s)
	}
}

// TestChromiumInstructor: the instructor teaches from a browser: the page
// at #instructor asks for the token, and with it the session is the
// instructor's.
func TestChromiumInstructor(t *testing.T) {
	r := start(t, t.TempDir())
	ada := student(t, r, "Ada")
	ctx := chromium(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.page+"#instructor"),
		chromedp.SendKeys(chromedp.CSS("#token"), r.srv.InstructorToken()),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`))); err != nil {
		t.Fatalf("the token form: %v", err)
	}
	waitPage(t, ctx, "You are the instructor")
	press(t, ctx, kb.Enter)
	waitPage(t, ctx, "★ instructor")
	typeText(t, ctx, "1")
	ada.WaitFor("1  From letters to numbers")
}
