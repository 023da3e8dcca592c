package session

import (
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons"
)

var catalog = sync.OnceValues(lessons.NewCatalog)

func newModel(t *testing.T, w, h int) *Model {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return New(Options{Catalog: c, Width: w, Height: h, Mono: true})
}

// press sends keys by their Bubble Tea names; a single printable character
// is sent as text, the way a terminal's key press arrives.
func press(m *Model, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "up":
			msg = tea.KeyPressMsg{Code: tea.KeyUp}
		case "right":
			msg = tea.KeyPressMsg{Code: tea.KeyRight}
		case "left":
			msg = tea.KeyPressMsg{Code: tea.KeyLeft}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "ctrl+u":
			msg = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
		default:
			r := []rune(k)
			msg = tea.KeyPressMsg{Code: r[0], Text: k}
		}
		m.Update(msg)
	}
}

func screen(m *Model) string { return ansi.Strip(m.render()) }

func TestOpensOnContentsAndNavigates(t *testing.T) {
	m := newModel(t, 80, 24)
	if s := screen(m); !strings.Contains(s, "Contents") || !strings.Contains(s, "From letters to numbers") {
		t.Fatalf("first screen is not the contents:\n%s", s)
	}
	press(m, "down", "enter")
	if s := screen(m); !strings.Contains(s, "1  From letters to numbers") || !strings.Contains(s, "tokens ·") {
		t.Fatalf("enter did not open chapter 1:\n%s", s)
	}
	press(m, "t")
	if s := screen(m); !strings.Contains(s, "Contents") {
		t.Fatalf("t did not open the contents:\n%s", s)
	}
	press(m, "3")
	if s := screen(m); !strings.Contains(s, "3  The act of looking back") {
		t.Fatalf("3 did not jump to chapter 3:\n%s", s)
	}
	press(m, "n")
	if s := screen(m); !strings.Contains(s, "4  The scaling laws") {
		t.Fatalf("n did not go to chapter 4:\n%s", s)
	}
	press(m, "1", "?")
	if s := screen(m); !strings.Contains(s, "next chapter") || !strings.Contains(s, "page 1 of 3") || !strings.Contains(s, "key closes this") {
		t.Fatalf("? did not show the help:\n%s", s)
	}
	press(m, "right", "right")
	if s := screen(m); !strings.Contains(s, "page 3 of 3") || !strings.Contains(s, "hand-set toy") {
		t.Fatalf("→ did not turn the help's page:\n%s", s)
	}
	press(m, "x")
	if s := screen(m); strings.Contains(s, "closes this") {
		t.Fatalf("a key did not close the help:\n%s", s)
	}
}

func TestTypingIntoTheTextField(t *testing.T) {
	m := newModel(t, 80, 24)
	press(m, "1", "enter", "ctrl+u")
	for _, r := range "Hello, world!" {
		press(m, string(r))
	}
	press(m, "esc")
	s := screen(m)
	if !strings.Contains(s, "4 tokens") || !strings.Contains(s, "13 characters") {
		t.Fatalf("typed text not tokenized:\n%s", s)
	}
	// q typed while editing is text, not quit.
	press(m, "enter", "q")
	if _, editing := m.mode.(*editor); !editing || !strings.HasSuffix(m.values[m.chapter]["text"], "q") {
		t.Fatalf("q while editing should be typed, value %q", m.values[m.chapter]["text"])
	}
}

func TestPasteIsCappedWithNotice(t *testing.T) {
	m := newModel(t, 100, 30)
	press(m, "1")
	big := strings.Repeat("abc ", 25_000) // 100 KB
	m.Update(tea.PasteMsg{Content: big})
	got := m.values[m.chapter]["text"]
	if n := len([]rune(got)); n != lessons.MaxText {
		t.Fatalf("after a 100 KB paste the text holds %d characters, want the cap %d", n, lessons.MaxText)
	}
	if s := screen(m); !strings.Contains(s, "capped at 2,000 characters") {
		t.Fatalf("no notice of the cut:\n%s", s)
	}
}

func TestTooSmallGateIgnoresKeys(t *testing.T) {
	m := newModel(t, 60, 20)
	if s := screen(m); !strings.Contains(s, "Terminal too small: now 60×20, need 80×24") {
		t.Fatalf("no size gate:\n%s", s)
	}
	press(m, "1")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if s := screen(m); !strings.Contains(s, "Contents") {
		t.Fatalf("a key pressed while gated took effect:\n%s", s)
	}
	m.Update(tea.WindowSizeMsg{Width: 0, Height: 0})
	if m.width != 80 || m.height != 24 {
		t.Fatalf("0×0 should read as 80×24, got %d×%d", m.width, m.height)
	}
}

func TestAdjustControls(t *testing.T) {
	m := newModel(t, 120, 40)
	press(m, "1", "down") // Text → Encoding
	press(m, "right")
	if got := m.values[m.chapter]["encoding"]; got != "cl100k_base" {
		t.Fatalf("→ on Encoding gave %q", got)
	}
	press(m, "down", "enter") // Spaces toggles with enter
	if !m.values[m.chapter].Bool("spaces") {
		t.Fatal("enter did not toggle Spaces")
	}
	press(m, "down", "right") // View → BPE
	if s := screen(m); !strings.Contains(s, "Merges (most frequent pair first)") {
		t.Fatalf("View → BPE did not switch:\n%s", s)
	}
}

// TestScreenFits checks the whole screen, frame included, at many sizes.
func TestScreenFits(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {109, 30}, {110, 30}, {120, 40}, {250, 80}, {20, 5}, {1, 1}} {
		for _, setup := range [][]string{nil, {"1"}, {"1", "?"}, {"1", "down", "down", "down", "right"}} {
			m := newModel(t, size[0], size[1])
			press(m, setup...)
			out := m.render()
			lines := strings.Split(out, "\n")
			if len(lines) > size[1] {
				t.Errorf("%v %v: %d lines", size, setup, len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w > size[0] {
					t.Errorf("%v %v: line %d is %d wide: %q", size, setup, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestShutdownMessage(t *testing.T) {
	m := newModel(t, 80, 24)
	_, cmd := m.Update(EndMsg{Text: "The server is shutting down."})
	if cmd == nil {
		t.Fatal("shutdown did not schedule the end of the session")
	}
	if s := screen(m); !strings.Contains(s, "The server is shutting down.") {
		t.Fatalf("shutdown text not shown:\n%s", s)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 2000: "2,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// twelfth is a stand-in chapter numbered past 9.
type twelfth struct{}

func (twelfth) ID() string                    { return "twelfth" }
func (twelfth) Number() int                   { return 12 }
func (twelfth) Title() string                 { return "A twelfth chapter" }
func (twelfth) Summary() string               { return "past nine" }
func (twelfth) Controls() []lessons.Control   { return nil }
func (twelfth) Render(f lessons.Frame) string { return "the twelfth chapter's body" }

// TestJumpPastNine: with chapters past 9, a digit that could begin a longer
// number waits for the next digit or enter; one that cannot goes at once.
func TestJumpPastNine(t *testing.T) {
	tokens, err := lessons.NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := lessons.NewStack()
	if err != nil {
		t.Fatal(err)
	}
	cat := lessons.NewCatalogOf(tokens, stack, twelfth{})
	m := New(Options{Catalog: cat, Width: 80, Height: 24, Mono: true})
	press(m, "1")
	if s := screen(m); !strings.Contains(s, "Chapter 1… · another digit, or enter") {
		t.Fatalf("1 did not wait for a second digit:\n%s", s)
	}
	press(m, "2")
	if s := screen(m); !strings.Contains(s, "12  A twelfth chapter") {
		t.Fatalf("1, 2 did not open chapter 12:\n%s", s)
	}
	press(m, "1", "enter")
	if s := screen(m); !strings.Contains(s, "1  From letters to numbers") {
		t.Fatalf("1, enter did not open chapter 1:\n%s", s)
	}
	press(m, "2")
	if s := screen(m); !strings.Contains(s, "2  A stack of identical blocks") {
		t.Fatalf("2 (no chapter 20 or more) did not go at once:\n%s", s)
	}
}
