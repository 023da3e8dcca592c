package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/x/vt"
)

// crossCheck holds a real terminal emulator, github.com/charmbracelet/x/vt,
// beside a client's screen model: both read the same bytes, and at quiet
// points (outside a synchronized update) their text must be the same. It is
// what proves the lightweight model right on the server's actual output.
type crossCheck struct {
	emu *vt.Emulator
	// compared counts the screens compared, mismatches those that differed;
	// first describes the first difference.
	compared, mismatches int
	first                string
}

func newCrossCheck(w, h int) *crossCheck {
	emu := vt.NewEmulator(w, h)
	emu.SetScrollbackSize(1)
	// The emulator answers queries into a synchronous pipe; the model's
	// answers are the ones sent, these are drained.
	go func() { _, _ = io.Copy(io.Discard, emu) }()
	return &crossCheck{emu: emu}
}

// Write feeds the emulator the same bytes as the model.
func (c *crossCheck) Write(p []byte) { _, _ = c.emu.Write(p) }

// compare checks the model's text against the emulator's; what says when
// and where, for the report.
func (c *crossCheck) compare(model string, what func() string) {
	c.compared++
	want := vtText(c.emu)
	if model == want {
		return
	}
	c.mismatches++
	if c.first == "" {
		c.first = what() + ": " + firstDifference(model, want)
	}
}

// close ends the goroutine draining the emulator's answers. (Not emu.Close,
// which races with Write in x/vt v0.1.0.)
func (c *crossCheck) close() {
	if pw, ok := c.emu.InputPipe().(*io.PipeWriter); ok {
		_ = pw.Close()
	}
}

// vtText reads an x/vt screen as internal/sshtest does: one line per row, a
// wide character once (its right half is a zero placeholder), trailing
// blanks trimmed, trailing empty lines dropped.
func vtText(e *vt.Emulator) string {
	w, h := e.Width(), e.Height()
	out := make([]byte, 0, (w+1)*h)
	end := 0
	for y := range h {
		if y > 0 {
			out = append(out, '\n')
		}
		lineStart := len(out)
		lineEnd := lineStart
		for x := range w {
			c := e.CellAt(x, y)
			switch {
			case c == nil:
				out = append(out, ' ')
			case c.Width == 0 && c.Content == "":
			case c.Content == "" || c.Content == " ":
				out = append(out, ' ')
			default:
				out = append(out, c.Content...)
				lineEnd = len(out)
			}
		}
		out = out[:lineEnd]
		if lineEnd > lineStart {
			end = lineEnd
		}
	}
	return string(out[:end])
}

// firstDifference names the first row where two screens differ, with both
// versions of it.
func firstDifference(model, emu string) string {
	a, b := strings.Split(model, "\n"), strings.Split(emu, "\n")
	for i := range max(len(a), len(b)) {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb {
			return fmt.Sprintf("row %d: model %q, x/vt %q", i+1, la, lb)
		}
	}
	return "same rows, different text"
}
