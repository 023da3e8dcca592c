package lessons

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current renders")

// catalog is built once for the package's tests: loading the vocabularies
// takes a moment and the catalog is read-only.
var catalog = sync.OnceValues(NewCatalog)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

// chapter finds a chapter of the test catalog by ID.
func chapter(t testing.TB, id string) Lesson {
	t.Helper()
	c := mustCatalog(t)
	i, ok := c.Index(id)
	if !ok {
		t.Fatalf("no %s chapter", id)
	}
	return c.At(i)
}

// TestGolden pins every chapter's body at its defaults at 80×24 and 120×40.
// Views that a control switches to are pinned by each chapter's own test
// with checkGolden.
func TestGolden(t *testing.T) {
	c := mustCatalog(t)
	for i := 0; i < c.Len(); i++ {
		l := c.At(i)
		checkGolden(t, l.ID(), l, Defaults(l.Controls()))
	}
}

// checkGolden compares l's render of v at 80×24 and 120×40 (mono, colour
// stripped) with testdata/NAME-WxH.golden; -update rewrites the files.
func checkGolden(t *testing.T, name string, l Lesson, v Values) {
	t.Helper()
	th := ui.NewTheme(true)
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		file := fmt.Sprintf("%s-%dx%d", name, size[0], size[1])
		t.Run(file, func(t *testing.T) {
			got := ansi.Strip(l.Render(Frame{Theme: th, Values: v, Width: size[0], Height: size[1]}))
			got = trimRight(got) + "\n"
			path := filepath.Join("testdata", file+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./lessons -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (go test ./lessons -update refreshes it)\n--- got:\n%s\n--- want:\n%s", file, path, got, want)
			}
		})
	}
}

// checkFitsEverywhere renders v at every size from 80×24 to 250×80, with
// and without colour, and fails on any line wider than it was given; and,
// at 80 columns, on a line of prose that a short frame (the body a session
// gives a chapter at 80×24 with its panel below, 8 to 16 rows) loses: a
// body that does not fit scrolls, it does not drop what it says.
func checkFitsEverywhere(t *testing.T, name string, l Lesson, v Values) {
	t.Helper()
	for _, mono := range []bool{false, true} {
		th := ui.NewTheme(mono)
		// The edges (80, 250), the sidebar threshold's neighbours and an odd
		// width; the smallest, a common and the largest height.
		for _, w := range []int{80, 109, 137, 250} {
			for _, h := range []int{24, 41, 80} {
				out := l.Render(Frame{Theme: th, Values: v, Width: w, Height: h})
				checkFits(t, fmt.Sprintf("%s %dx%d mono=%v", name, w, h, mono), out, w)
			}
		}
	}
	th := ui.NewTheme(true)
	tall := ansi.Strip(l.Render(Frame{Theme: th, Values: v, Width: 80, Height: 200}))
	for _, h := range []int{8, 12, 16} {
		out := ansi.Strip(l.Render(Frame{Theme: th, Values: v, Width: 80, Height: h}))
		checkFits(t, fmt.Sprintf("%s 80x%d", name, h), out, 80)
		have := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			have[strings.TrimSpace(line)] = true
		}
		for _, line := range strings.Split(tall, "\n") {
			if prose(line) && !have[strings.TrimSpace(line)] {
				t.Errorf("%s at 80×%d loses a line of prose it shows at 80×200: %q", name, h, strings.TrimSpace(line))
			}
		}
	}
}

// prose reports a line of running text: eight or more words of letters.
// Figures (bars, grids, numbers) may stretch or shrink with the height; what
// a chapter says may not go.
func prose(line string) bool {
	words := 0
	for _, w := range strings.Fields(line) {
		letters := 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters >= 2 && letters*2 >= len([]rune(w)) {
			words++
		}
	}
	return words >= 8
}

func trimRight(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// checkFits fails on any line of out wider than w.
func checkFits(t *testing.T, name, out string, w int) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%s: line %d is %d cells wide, more than %d: %q", name, i, lw, w, ansi.Strip(l))
		}
	}
}

// TestPollsAreWellFormed checks what every chapter's questions owe the
// classroom, at the chapter's defaults: one to three of them, a correct
// choice that exists (or -1 for an opinion), at most MaxChoices choices (a
// digit answers), and a finite truth for estimates. Chapters test their own
// answers beside their code.
func TestPollsAreWellFormed(t *testing.T) {
	c := mustCatalog(t)
	for i := 0; i < c.Len(); i++ {
		l := c.At(i)
		p, ok := l.(Poller)
		if !ok {
			continue
		}
		polls := p.Polls(Defaults(l.Controls()))
		if len(polls) < 1 || len(polls) > 3 {
			t.Errorf("%s: %d polls, want 1 to 3", l.ID(), len(polls))
		}
		ids := map[string]bool{}
		for _, q := range polls {
			if q.ID == "" || ids[q.ID] || q.Question == "" {
				t.Errorf("%s: poll %q has no question, or an empty or repeated ID", l.ID(), q.ID)
			}
			ids[q.ID] = true
			switch q.Kind {
			case MultipleChoice:
				if len(q.Choices) < 2 || len(q.Choices) > MaxChoices || q.Correct < -1 || q.Correct >= len(q.Choices) {
					t.Errorf("%s/%s: %d choices, correct %d", l.ID(), q.ID, len(q.Choices), q.Correct)
				}
			case Estimate:
				if math.IsNaN(q.Truth) || math.IsInf(q.Truth, 0) {
					t.Errorf("%s/%s: truth %v", l.ID(), q.ID, q.Truth)
				}
			}
		}
	}
}

// TestEveryChapterScrollsRatherThanDrops runs checkFitsEverywhere on every
// chapter at its defaults, the welcome and recap among them.
func TestEveryChapterScrollsRatherThanDrops(t *testing.T) {
	c := mustCatalog(t)
	for i := 0; i < c.Len(); i++ {
		l := c.At(i)
		checkFitsEverywhere(t, l.ID(), l, Defaults(l.Controls()))
	}
}

// checkPollWhens checks a chapter's questions against want (poll ID → its
// When, "" for a question about the whole chapter): each When names a
// choice control and a value it offers, and holds in that view and no other.
func checkPollWhens(t *testing.T, l Lesson, want map[string]string) {
	t.Helper()
	polls := l.(Poller).Polls(Defaults(l.Controls()))
	if len(polls) != len(want) {
		t.Errorf("%s: %d polls, want %d", l.ID(), len(polls), len(want))
	}
	for _, p := range polls {
		if w, ok := want[p.ID]; !ok || p.When != w {
			t.Errorf("%s/%s: When %q, want %q", l.ID(), p.ID, p.When, w)
		}
		if p.When == "" {
			continue
		}
		key, value, _ := strings.Cut(p.When, "=")
		c, found := ControlByKey(l, key)
		if !found || c.Kind != Choice {
			t.Errorf("%s/%s: When %q names no choice control", l.ID(), p.ID, p.When)
			continue
		}
		offered := false
		for _, o := range c.Options {
			offered = offered || o.Value == value
			if holds := p.Holds(Defaults(l.Controls()).With(key, o.Value)); holds != (o.Value == value) {
				t.Errorf("%s/%s: When %q holds at %s=%s: %v", l.ID(), p.ID, p.When, key, o.Value, holds)
			}
		}
		if !offered {
			t.Errorf("%s/%s: When %q names a value %s does not offer", l.ID(), p.ID, p.When, key)
		}
	}
}
