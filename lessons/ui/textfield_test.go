package ui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// rawControl reports a byte or rune that would act on a terminal.
func rawControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return true
		}
	}
	return false
}

// keyName is a key press by its Bubble Tea name.
type keyName string

func (k keyName) String() string { return string(k) }

func TestTextFieldEditing(t *testing.T) {
	keys := NewKeyMap().Field
	f := NewTextField("hello", 10)
	f.Key(keyName("home"), keys)
	f.Insert(">")
	f.Key(keyName("end"), keys)
	if n := f.Insert(" world, and more"); n != 12 {
		t.Errorf("insert past the cap dropped %d characters, want 12", n)
	}
	if got := f.Value(); got != ">hello wor" {
		t.Errorf("value %q", got)
	}
	f.Key(keyName("ctrl+w"), keys)
	if got := f.Value(); got != ">hello " {
		t.Errorf("after ctrl+w: %q", got)
	}
	f.Key(keyName("backspace"), keys)
	f.Key(keyName("left"), keys)
	f.Key(keyName("delete"), keys)
	if got := f.Value(); got != ">hell" {
		t.Errorf("after backspace, left, delete: %q", got)
	}
	f.Key(keyName("left"), keys)
	f.Key(keyName("ctrl+u"), keys)
	if f.Value() != "l" || f.Cursor() != 0 {
		t.Errorf("ctrl+u left %q at %d", f.Value(), f.Cursor())
	}
}

func TestVisibleEscapesEverything(t *testing.T) {
	in := "a\x1b[31mred\x07\x00\x7f\u0085\u202e\u2066b\r\n\t"
	out := Visible(in, true)
	if rawControl(out) || strings.ContainsAny(out, "\u202e\u2066") {
		t.Fatalf("Visible(%q) = %q still holds control characters", in, out)
	}
	if !strings.Contains(out, "␛[31mred") {
		t.Errorf("escape not drawn as ␛: %q", out)
	}
}

// FuzzTextField feeds any bytes to the field as a paste and as key names;
// the field never panics, holds valid UTF-8 within its cap, and its view is
// never wider than asked and never carries a raw control character.
func FuzzTextField(f *testing.F) {
	for _, seed := range []string{"", "hello", "\x1b[2J\x1b]0;x\x07", "🍓東京\u202e", "\xff\xfe\x00", strings.Repeat("ab", 300)} {
		f.Add(seed, "left", 7)
	}
	f.Fuzz(func(t *testing.T, paste, key string, width int) {
		th := NewTheme(false)
		keys := NewKeyMap().Field
		field := NewTextField("seed text", 50)
		field.Insert(paste)
		field.Key(keyName(key), keys)
		field.Insert(paste)
		if !utf8.ValidString(field.Value()) {
			t.Fatalf("value not UTF-8: %q", field.Value())
		}
		if n := utf8.RuneCountInString(field.Value()); n > 50 {
			t.Fatalf("value holds %d characters, cap 50", n)
		}
		width = width%200 + 2
		if width < 2 {
			width = -width + 2
		}
		for _, editing := range []bool{false, true} {
			view := th.TextFieldView(field, width, true, editing)
			if w := lipgloss.Width(view); w > width {
				t.Fatalf("view %d cells wide, want ≤ %d: %q", w, width, view)
			}
			if rawControl(ansi.Strip(view)) {
				t.Fatalf("view carries a raw control character: %q", view)
			}
		}
	})
}
