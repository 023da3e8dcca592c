package frame

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/vt"
)

// randomText is h lines of styled text at most w cells wide, with wide
// characters, colours and attributes, from seed: screens unlike each other
// in every way a diff must get right.
func randomText(r *rand.Rand, w, h int) string {
	words := []string{"tokens", "🍓", "東京", "x", "  ", "━━━●───", "héllo", "a\u0301", "|", "70 B", "·"}
	styles := []lipgloss.Style{
		lipgloss.NewStyle(),
		lipgloss.NewStyle().Bold(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("#ff8800")),
		lipgloss.NewStyle().Background(lipgloss.Color("4")).Underline(true),
		lipgloss.NewStyle().Reverse(true),
	}
	var lines []string
	for range h {
		var b strings.Builder
		n := 0
		for n < w && r.IntN(8) != 0 {
			word := words[r.IntN(len(words))]
			ww := lipgloss.Width(word)
			if n+ww > w {
				break
			}
			b.WriteString(styles[r.IntN(len(styles))].Render(word))
			n += ww
		}
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// mutate changes a few lines of text, as a slider step changes a screen.
func mutate(r *rand.Rand, text string, w int) string {
	lines := strings.Split(text, "\n")
	for range 1 + r.IntN(3) {
		i := r.IntN(len(lines))
		lines[i] = randomText(r, w, 1)
	}
	return strings.Join(lines, "\n")
}

// emulated is what a terminal shows after reading out.
func emulated(t *testing.T, w, h int, out []byte) *vt.Emulator {
	t.Helper()
	e := vt.NewEmulator(w, h)
	if _, err := e.Write(out); err != nil {
		t.Fatal(err)
	}
	return e
}

// sameScreen fails t where the emulator's cells differ from want's: content,
// width and style.
func sameScreen(t *testing.T, e *vt.Emulator, want *Screen, what string) {
	t.Helper()
	want.load()
	for y := range want.h {
		for x, exp := range want.row(y) {
			got := e.CellAt(x, y)
			if got == nil {
				t.Fatalf("%s: no cell at %d,%d", what, x, y)
			}
			if exp.width == 0 {
				if got.Width != 0 {
					t.Fatalf("%s: %d,%d should be a wide character's second half, is %q", what, x, y, got.Content)
				}
				continue
			}
			content := got.Content
			if content == "" {
				content = " "
			}
			st := want.styles[exp.style]
			if content != want.content(exp) || !got.Style.Equal(&st) {
				t.Fatalf("%s: cell %d,%d is %q %+v, want %q %+v\nrow:  %q\nwant: %q", what, x, y,
					content, got.Style, want.content(exp), st, emuText(e, y, want.w), strings.Split(want.Text(), "\n")[y])
			}
		}
	}
}

func emuText(e *vt.Emulator, y, w int) string {
	var b strings.Builder
	for x := range w {
		if c := e.CellAt(x, y); c != nil && c.Width > 0 {
			b.WriteString(c.Content)
		} else if c == nil || c.Content == "" && c.Width != 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// TestEncodingsDrawTheScreen: whatever two screens are, painting the first
// and then its encoding to the second leaves a terminal (x/vt) showing the
// second, cell for cell, style for style.
func TestEncodingsDrawTheScreen(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		w, h := 20+r.IntN(60), 3+r.IntN(10)
		a := Parse(randomText(r, w, h), w, h, colorprofile.TrueColor)
		var b *Screen
		if r.IntN(3) == 0 {
			b = Parse(randomText(r, w, h), w, h, colorprofile.TrueColor)
		} else {
			b = Parse(mutate(r, strings.Join(strings.Split(a.Text(), "\n"), "\n"), w), w, h, colorprofile.TrueColor)
		}
		out := append(encode(nil, a), encode(a, b)...)
		sameScreen(t, emulated(t, w, h, out), b, fmt.Sprintf("seed %d", seed))
	}
}

// TestEncodingIsSmall: one changed number costs a few bytes, not a screen.
func TestEncodingIsSmall(t *testing.T) {
	text := strings.Repeat("a line of text that does not change at all\n", 20)
	a := Parse(text+"  Params N ━━━━━●──── 70 B", 80, 24, colorprofile.TrueColor)
	b := Parse(text+"  Params N ━━━━━━●─── 80 B", 80, 24, colorprofile.TrueColor)
	full, d := encode(nil, b), encode(a, b)
	if len(d) > 40 || len(d)*10 > len(full) {
		t.Errorf("a one-number change encodes to %d bytes (%q); the whole screen is %d", len(d), d, len(full))
	}
	if got := encode(b, b); len(got) != 0 {
		t.Errorf("no change encodes to %q", got)
	}
}

// TestOwnRows: a terminal shows the shared screen with its own rows drawn
// on top; the shared encoding never touches them, and a row that stops
// being own is drawn from the shared screen.
func TestOwnRows(t *testing.T) {
	const w, h = 40, 6
	base := "header\nbody one\nbody two\npoll row\nrule\nfooter"
	var out syncBuffer
	cache := NewCache()
	term := NewTerminal(&out, cache, colorprofile.TrueColor, "t")
	s1 := Parse(base, w, h, colorprofile.TrueColor, 3, 5)
	term.Show(Target{Screen: s1, Own: []string{"your answer: 3", "Welcome, ada!"}})
	s2 := Parse(strings.Replace(base, "body two", "body 2", 1), w, h, colorprofile.TrueColor, 5)
	term.Show(Target{Screen: s2, Own: []string{"Welcome, ada!"}})
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}
	e := emulated(t, w, h, out.Bytes())
	_ = e
	// After Close the terminal is back on its main screen; read what the
	// alternate screen showed by replaying without the teardown.
	raw := out.Bytes()
	raw = raw[:bytes.LastIndex(raw, []byte(teardown()))]
	e = emulated(t, w, h, raw)
	want := "header\nbody one\nbody 2\npoll row\nrule\nWelcome, ada!"
	if got := screenText(e, w, h); got != want {
		t.Errorf("terminal shows\n%s\nwant\n%s", got, want)
	}
}

func screenText(e *vt.Emulator, w, h int) string {
	var lines []string
	for y := range h {
		lines = append(lines, strings.TrimRight(emuText(e, y, w), " "))
	}
	return strings.Join(lines, "\n")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// TestParseCuts: a line wider than the screen is cut, a wide character that
// would cross the edge is left out, and every row still has w cells.
func TestParseCuts(t *testing.T) {
	s := Parse("abcde🍓\nxy\n"+strings.Repeat("東", 10), 6, 3, colorprofile.TrueColor)
	s.load()
	if len(s.cells) != 18 {
		t.Fatalf("%d cells, want 18", len(s.cells))
	}
	if got, want := s.Text(), "abcde\nxy\n東東東"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}
