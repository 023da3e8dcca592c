package server

import (
	"io"
	"sync"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

// escTimeout is how long the start of an escape sequence waits for the rest
// before it is read as what it is so far: a lone ESC is the escape key.
// Bubble Tea's reader waits as long.
const escTimeout = 50 * time.Millisecond

// maxInputHeld bounds what a client can make the reader hold while it waits
// for a sequence or a paste to end: past it, what is held is read as it is.
// A paste longer than this arrives in pieces, each capped by the session.
const maxInputHeld = 1 << 20

// input reads what a client types and hands it on as input events, in place
// of Bubble Tea's own reader: that one builds a table of some 130 KiB of
// key sequences for every program, and takes three goroutines; this one
// decodes with ultraviolet's decoder (the same one, without the table) on
// the session's reading goroutine, with a timer only while a sequence is
// incomplete. Events go to send in the order they were typed.
type input struct {
	send func(uv.Event)

	mu      sync.Mutex
	dec     uv.EventDecoder
	held    []byte // read but not yet decoded: an incomplete sequence
	paste   []byte // inside a bracketed paste: the text so far
	pasting bool
	timer   *time.Timer
	closed  bool
}

// readInput reads r until it ends, sending each event to send; it returns
// the read error (io.EOF when the client closed its side).
func readInput(r io.Reader, send func(uv.Event)) error {
	in := &input{send: send}
	in.timer = time.AfterFunc(time.Hour, in.expire)
	in.timer.Stop()
	defer func() {
		in.mu.Lock()
		in.closed = true
		in.timer.Stop()
		in.mu.Unlock()
	}()
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			in.mu.Lock()
			in.held = append(in.held, buf[:n]...)
			in.scan(len(in.held) > maxInputHeld)
			in.mu.Unlock()
		}
		if err != nil {
			in.mu.Lock()
			in.scan(true)
			in.mu.Unlock()
			return err
		}
	}
}

// expire reads what is held as it is, once nothing more came in time.
func (in *input) expire() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.scan(true)
	}
}

// scan decodes the events at the start of what is held and sends them; an
// incomplete sequence at the end waits for more, or for the timer, unless
// expired. Callers hold in.mu.
func (in *input) scan(expired bool) {
	in.timer.Stop()
	buf := in.held
	for len(buf) > 0 {
		esc := buf[0] == '\x1b'
		n, ev := in.dec.Decode(buf)
		if n <= 0 {
			break
		}
		if in.pasting {
			switch ev := ev.(type) {
			case uv.PasteEndEvent:
				in.pasting = false
				in.send(uv.PasteEvent{Content: string(in.paste)})
				in.paste = nil
			case uv.KeyPressEvent:
				switch {
				case ev.Text != "":
					in.paste = append(in.paste, ev.Text...)
				case esc && n <= 2 && !expired:
					in.wait(buf)
					return
				default:
					// Enter, tab and the like: their own bytes.
					in.paste = append(in.paste, buf[:n]...)
				}
			case uv.UnknownEvent:
				if !expired {
					in.wait(buf)
					return
				}
			}
			buf = buf[n:]
			if len(in.paste) > maxInputHeld {
				in.send(uv.PasteEvent{Content: string(in.paste)})
				in.paste = in.paste[:0]
			}
			continue
		}
		switch ev.(type) {
		case uv.UnknownEvent:
			if !expired {
				in.wait(buf)
				return
			}
			// A sequence nobody knows: dropped.
		case uv.PasteStartEvent:
			in.pasting, in.paste = true, in.paste[:0]
		default:
			if esc && n <= 2 && !expired {
				// ESC, or ESC and one byte: maybe the start of a sequence.
				in.wait(buf)
				return
			}
			if m, ok := ev.(uv.MultiEvent); ok {
				for _, e := range m {
					in.send(e)
				}
			} else if ev != nil {
				in.send(ev)
			}
		}
		buf = buf[n:]
	}
	in.held = append(in.held[:0], buf...)
}

// wait keeps buf for the next read, or for the timer.
func (in *input) wait(buf []byte) {
	in.held = append(in.held[:0], buf...)
	in.timer.Reset(escTimeout)
}
