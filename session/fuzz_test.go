package session

import (
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/session/room"
)

// FuzzKeysAndPaste drives a session (in a class, as a student and as the
// instructor) with arbitrary keys and pastes: it never panics, never draws
// past the terminal, and never lets a raw control character through.
func FuzzKeysAndPaste(f *testing.F) {
	f.Add("1\tenter\x1b[2J", "paste\x00\xff", uint8(80), uint8(24))
	f.Add("oLrcdsShf123", "\u202eevil", uint8(120), uint8(40))
	f.Add("t↓↓enter", strings.Repeat("x", 3000), uint8(20), uint8(5))
	sgr := regexp.MustCompile(`\x1b\[[0-9;:]*m`)
	f.Fuzz(func(t *testing.T, keys, paste string, w, h uint8) {
		c, err := catalog()
		if err != nil {
			t.Fatal(err)
		}
		r := room.New(room.Config{FirstChapter: c.At(0).ID()})
		for _, role := range []room.Role{room.Student, room.Instructor} {
			seat, err := r.Join(room.Identity{ID: role.String(), Role: role})
			if err != nil {
				t.Fatal(err)
			}
			m := New(Options{Catalog: c, Width: int(w), Height: int(h), Seat: seat, User: paste})
			for _, k := range strings.Split(keys, "") {
				r := []rune(k)
				m.Update(tea.KeyPressMsg{Code: r[0], Text: k})
				m.Update(RoomMsg{Snap: seat.Latest()})
			}
			for _, name := range []string{"enter", "down", "right", "esc", "tab", "backspace"} {
				m.Update(tea.KeyPressMsg{Code: keyCode(name)})
			}
			m.Update(tea.PasteMsg{Content: paste})
			out := m.render()
			width, height := int(w), int(h)
			if width <= 0 || height <= 0 {
				width, height = 80, 24
			}
			lines := strings.Split(out, "\n")
			if len(lines) > height {
				t.Fatalf("%d lines on a %d-line terminal", len(lines), height)
			}
			for _, l := range lines {
				if lipgloss.Width(l) > width {
					t.Fatalf("line %d wide on a %d-wide terminal: %q", lipgloss.Width(l), width, l)
				}
				// The theme writes colour and bold (SGR) and nothing else:
				// with those removed, any escape or control left came from
				// the user.
				for _, r := range sgr.ReplaceAllString(l, "") {
					if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x202e || r == 0x202d || r >= 0x2066 && r <= 0x2069 {
						t.Fatalf("raw control %U on screen: %q", r, l)
					}
				}
			}
		}
	})
}

func keyCode(name string) rune {
	switch name {
	case "enter":
		return tea.KeyEnter
	case "down":
		return tea.KeyDown
	case "right":
		return tea.KeyRight
	case "esc":
		return tea.KeyEscape
	case "tab":
		return tea.KeyTab
	}
	return tea.KeyBackspace
}
