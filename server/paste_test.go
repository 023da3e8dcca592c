package server

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/expedition-llm/expedition/session"
)

// TestPasteGuardMarksEscapesInsidePastes, whatever way the bytes are cut
// into reads: outside a paste nothing changes; inside, each ESC becomes
// session.PastedEsc, and the markers pass as they are.
func TestPasteGuardMarksEscapesInsidePastes(t *testing.T) {
	esc := session.PastedEsc
	for in, want := range map[string]string{
		"abc\x1b[A": "abc\x1b[A",
		"\x1b":      "\x1b",
		pasteStart + "A\x1b[31mred" + pasteEnd + "x": pasteStart + "A" + esc + "[31mred" + pasteEnd + "x",
		pasteStart + "\x1b[200~\x1b[201" + pasteEnd:  pasteStart + esc + "[200~" + esc + "[201" + pasteEnd,
		"\x1b\x1b[200~a\x1b" + pasteEnd + "\x1b":     "\x1b\x1b[200~a" + esc + pasteEnd + "\x1b",
		pasteStart + "unfinished\x1b[20":             pasteStart + "unfinished\x1b[20",
	} {
		for name, r := range map[string]io.Reader{
			"whole":    strings.NewReader(in),
			"bytewise": iotest.OneByteReader(strings.NewReader(in)),
			"halves":   iotest.HalfReader(strings.NewReader(in)),
		} {
			got, err := io.ReadAll(newPasteGuard(r))
			if err != nil || string(got) != want {
				t.Errorf("%s %q: got %q (%v), want %q", name, in, got, err, want)
			}
		}
	}
}
