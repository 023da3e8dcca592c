package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// TextField is a one-line editor over a value that may hold anything a user
// can type or paste, control characters included: they are kept (a tokenizer
// should see them) but always drawn escaped. The value never grows past Max
// characters.
type TextField struct {
	runes  []rune
	cursor int
	// Max is the most characters the field holds.
	Max int
}

// NewTextField starts a field holding value (cut to max characters), with
// the cursor at the end.
func NewTextField(value string, maxLen int) TextField {
	f := TextField{Max: maxLen}
	f.Insert(value)
	return f
}

// Value is the field's text.
func (f TextField) Value() string { return string(f.runes) }

// Cursor is the cursor's position in characters.
func (f TextField) Cursor() int { return f.cursor }

// Insert puts s at the cursor. It reports how many characters had to be
// dropped because the field was full, so the caller can say so.
func (f *TextField) Insert(s string) (dropped int) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	in := []rune(s)
	room := f.Max - len(f.runes)
	if f.Max <= 0 {
		room = len(in)
	}
	if room < 0 {
		room = 0
	}
	if len(in) > room {
		dropped = len(in) - room
		in = in[:room]
	}
	if len(in) == 0 {
		return dropped
	}
	next := make([]rune, 0, len(f.runes)+len(in))
	next = append(next, f.runes[:f.cursor]...)
	next = append(next, in...)
	next = append(next, f.runes[f.cursor:]...)
	f.runes = next
	f.cursor += len(in)
	return dropped
}

// Key applies an editing key, as keys reads it, and reports whether it was
// one. msg is anything that names a key the way Bubble Tea does
// ("backspace", "left", "ctrl+u", …): a key press.
func (f *TextField) Key(msg fmt.Stringer, keys FieldKeys) bool {
	switch {
	case key.Matches(msg, keys.Backspace):
		if f.cursor > 0 {
			f.runes = append(f.runes[:f.cursor-1], f.runes[f.cursor:]...)
			f.cursor--
		}
	case key.Matches(msg, keys.Delete):
		if f.cursor < len(f.runes) {
			f.runes = append(f.runes[:f.cursor], f.runes[f.cursor+1:]...)
		}
	case key.Matches(msg, keys.Left):
		f.cursor = max(0, f.cursor-1)
	case key.Matches(msg, keys.Right):
		f.cursor = min(len(f.runes), f.cursor+1)
	case key.Matches(msg, keys.Home):
		f.cursor = 0
	case key.Matches(msg, keys.End):
		f.cursor = len(f.runes)
	case key.Matches(msg, keys.ClearBefore):
		f.runes = append([]rune(nil), f.runes[f.cursor:]...)
		f.cursor = 0
	case key.Matches(msg, keys.ClearAfter):
		f.runes = f.runes[:f.cursor]
	case key.Matches(msg, keys.DeleteWord):
		i := f.cursor
		for i > 0 && f.runes[i-1] == ' ' {
			i--
		}
		for i > 0 && f.runes[i-1] != ' ' {
			i--
		}
		f.runes = append(f.runes[:i], f.runes[f.cursor:]...)
		f.cursor = i
	default:
		return false
	}
	return true
}

// TextFieldView draws the field f in width cells. While editing, the part around the
// cursor is shown and the cursor is drawn as a reversed cell; otherwise the
// start of the text is shown.
func (t *Theme) TextFieldView(f TextField, width int, focused, editing bool) string {
	if width < 2 {
		return ""
	}
	cells := make([]string, len(f.runes))
	widths := make([]int, len(f.runes))
	for i, r := range f.runes {
		cells[i] = VisibleRune(r, false)
		widths[i] = max(lipgloss.Width(cells[i]), 1)
	}
	if !editing {
		var b strings.Builder
		used := 0
		for i := range cells {
			if used+widths[i] > width-1 && i < len(cells)-1 || used+widths[i] > width {
				b.WriteString("…")
				break
			}
			b.WriteString(cells[i])
			used += widths[i]
		}
		s := b.String()
		if focused {
			return t.Focus.Render(s)
		}
		return t.Text.Render(s)
	}
	// Scroll so the cursor (one cell past the end at most) stays in view.
	start := 0
	span := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			n += widths[i]
		}
		return n
	}
	for start < f.cursor && span(start, f.cursor)+1 > width {
		start++
	}
	var b strings.Builder
	used := 0
	for i := start; i <= len(cells); i++ {
		var c string
		w := 1
		if i < len(cells) {
			c, w = cells[i], widths[i]
		} else {
			c = " "
		}
		if used+w > width {
			break
		}
		if i == f.cursor {
			b.WriteString(t.Selected.Render(c))
		} else {
			b.WriteString(c)
		}
		used += w
	}
	return b.String()
}
