package ui

import (
	"fmt"
	"strings"
	"unicode"
)

// Visible returns s with every character that would act on a terminal
// instead of printing (C0 and C1 controls, DEL, bidirectional overrides and
// other invisible format characters) replaced by a printable stand-in, so
// text typed or pasted by a user can never move the cursor, recolour the
// screen or reorder what others read. showSpace also marks spaces as "·".
func Visible(s string, showSpace bool) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(VisibleRune(r, showSpace))
	}
	return b.String()
}

// VisibleRune is Visible for one character.
func VisibleRune(r rune, showSpace bool) string {
	switch {
	case r == '\n':
		return "↵"
	case r == '\r':
		return "␍"
	case r == '\t':
		return "⇥"
	case r == ' ':
		if showSpace {
			return "·"
		}
		return " "
	case r < 0x20:
		// The Unicode "control pictures" block mirrors C0: U+2400 + code.
		return string(rune(0x2400 + r))
	case r == 0x7f:
		return "␡"
	case r >= 0x80 && r < 0xa0, isFormat(r):
		// The same escape the tokenizer's chips use (sim.Token.Visible),
		// so one pasted character reads the same in the field and the chips.
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// isFormat reports the invisible characters that change how the text around
// them is shown: bidi marks and overrides and other Cf characters, with the
// zero-width joiner and variation selectors excepted in a text field (they
// hold emoji together; the chips show them escaped, as tokens of their own).
func isFormat(r rune) bool {
	if r == 0x200d || r == 0xfe0f || r == 0xfe0e {
		return false
	}
	return unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
}
