package server

import (
	"bytes"
	"io"

	"github.com/expedition-llm/expedition/session"
)

// Bracketed paste's markers, as terminals send them around a paste.
const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
)

// pasteGuard keeps escape characters inside a bracketed paste. The input
// decoder under Bubble Tea reads an escape sequence inside a paste as a key
// and leaves it out of the pasted text, so pasting "A␛[31mred" gave "Ared";
// the guard hands it each such ESC as session.PastedEsc, which the session
// turns back into ESC (and draws as ␛). Outside a paste every byte passes
// at once, unchanged: a lone ESC key is never held back.
type pasteGuard struct {
	r       io.Reader
	buf     []byte
	held    []byte // inside a paste: bytes that may begin the end marker
	out     []byte // ready to be read
	err     error
	inPaste bool
	start   int // outside a paste: bytes of pasteStart matched so far
}

// readSize is what one read of a session's input takes at most: keys come a
// few bytes at a time, and a paste just takes more reads. Every session
// holds two such buffers (this guard's and the decoder's) while it waits.
const readSize = 1024

func newPasteGuard(r io.Reader) *pasteGuard { return &pasteGuard{r: r, buf: make([]byte, readSize)} }

func (g *pasteGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 && g.err == nil {
		n, err := g.r.Read(g.buf)
		g.feed(g.buf[:n])
		g.err = err
	}
	if len(g.out) == 0 {
		if len(g.held) > 0 { // the stream ended inside a marker's prefix
			g.out, g.held = g.held, nil
		} else {
			return 0, g.err
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	return n, nil
}

// feed moves b into out, marking escapes inside a paste.
func (g *pasteGuard) feed(b []byte) {
	for _, c := range b {
		if !g.inPaste {
			g.out = append(g.out, c)
			switch {
			case c == pasteStart[g.start]:
				g.start++
			case c == pasteStart[0]:
				g.start = 1
			default:
				g.start = 0
			}
			if g.start == len(pasteStart) {
				g.inPaste, g.start = true, 0
			}
			continue
		}
		g.held = append(g.held, c)
		g.drain()
	}
}

// drain moves out the held bytes that cannot begin the end marker, each
// ESC as session.PastedEsc, and the end marker itself once it is whole.
func (g *pasteGuard) drain() {
	for len(g.held) > 0 {
		if bytes.HasPrefix([]byte(pasteEnd), g.held) {
			if len(g.held) == len(pasteEnd) {
				g.out = append(g.out, g.held...)
				g.held, g.inPaste = g.held[:0], false
			}
			return
		}
		if g.held[0] == '\x1b' {
			g.out = append(g.out, session.PastedEsc...)
		} else {
			g.out = append(g.out, g.held[0])
		}
		g.held = g.held[1:]
	}
}
