package frame

import (
	"strconv"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// mergeGap is the widest run of unchanged cells a diff rewrites rather than
// jumps over: a cursor move costs about as many bytes.
const mergeGap = 4

// encoder appends the bytes that draw cells, keeping track of the pen (the
// current style) and of where the cursor is, so that it writes neither a
// style nor a move it does not need. Every encoding starts and ends with
// the pen reset, so encodings can follow each other in any order.
type encoder struct {
	buf  []byte
	pen  uv.Style
	x, y int // the cursor; x < 0 when unknown
}

func newEncoder(buf []byte) *encoder { return &encoder{buf: buf, x: -1} }

// moveTo puts the cursor at column x of row y.
func (e *encoder) moveTo(x, y int) {
	if e.x == x && e.y == y {
		return
	}
	e.buf = append(e.buf, "\x1b["...)
	e.buf = strconv.AppendInt(e.buf, int64(y+1), 10)
	if x > 0 {
		e.buf = append(e.buf, ';')
		e.buf = strconv.AppendInt(e.buf, int64(x+1), 10)
	}
	e.buf = append(e.buf, 'H')
	e.x, e.y = x, y
}

func (e *encoder) style(st *uv.Style) {
	if d := uv.StyleDiff(&e.pen, st); d != "" {
		e.buf = append(e.buf, d...)
		e.pen = *st
	}
}

// cells writes cells x0 to x1 (exclusive) of row y of s on the terminal's
// row at. A placeholder (the second half of a wide character) is skipped:
// writing the character moved the cursor past it.
func (e *encoder) cells(s *Screen, y, at, x0, x1 int) {
	e.moveTo(x0, at)
	row := s.row(y)
	for x := x0; x < x1; x++ {
		c := row[x]
		if c.width == 0 {
			continue
		}
		e.style(&s.styles[c.style])
		e.buf = append(e.buf, s.content(c)...)
		e.x += int(c.width)
	}
	if e.x >= s.w {
		// At the right edge a terminal waits to wrap: where the cursor
		// is then differs between terminals.
		e.x = -1
	}
}

// tail writes row y of s, from column x0 on, on the terminal's row at: the
// cells up to the last one that is not a plain space, then an erase to the
// end of the line.
func (e *encoder) tail(s *Screen, y, at, x0 int) {
	row := s.row(y)
	end := s.w
	for end > x0 && s.blank(row[end-1]) {
		end--
	}
	if end > x0 {
		e.cells(s, y, at, x0, end)
	}
	if end < s.w {
		e.moveTo(end, at)
		e.reset()
		e.buf = append(e.buf, ansi.EraseLineRight...)
	}
}

func (e *encoder) reset() {
	if !e.pen.IsZero() {
		e.buf = append(e.buf, ansi.ResetStyle...)
		e.pen = uv.Style{}
	}
}

// paint appends what draws s on a terminal whose screen is blank, its own
// rows excepted.
func paint(buf []byte, s *Screen) []byte {
	e := newEncoder(buf)
	for y := range s.h {
		if s.own[y] {
			continue
		}
		row := s.row(y)
		end := s.w
		for end > 0 && s.blank(row[end-1]) {
			end--
		}
		if end > 0 {
			e.cells(s, y, y, 0, end)
		}
	}
	e.reset()
	return e.buf
}

// diff appends what turns a terminal showing a into one showing b (same
// size), own rows excepted: b's own rows are left alone, and a row that was
// a's own is drawn whole, since what a terminal drew there is its own.
func diff(buf []byte, a, b *Screen) []byte {
	e := newEncoder(buf)
	p := newMatcher(a, b)
	for y := range b.h {
		switch {
		case b.own[y]:
		case a.own[y]:
			e.tail(b, y, y, 0)
		default:
			diffRow(e, p, y)
		}
	}
	e.reset()
	return e.buf
}

// diffRow writes the cells of row y that differ between a and b, in spans:
// changed cells closer than mergeGap are written as one span, and a span
// from which b's row is blank ends with an erase.
func diffRow(e *encoder, p *matcher, y int) {
	a, b := p.a, p.b
	old, new := a.row(y), b.row(y)
	w := b.w
	x := 0
	for x < w {
		if p.same(old[x], new[x]) {
			x++
			continue
		}
		x0 := x
		x1 := x + 1 // one past the last changed cell
		for i := x1; i < w && i-x1 < mergeGap; i++ {
			if !p.same(old[i], new[i]) {
				x1 = i + 1
			}
		}
		// A span never starts or ends inside a wide character, on either
		// screen: half a wide character cannot be written.
		for x0 > 0 && (old[x0].width == 0 || new[x0].width == 0) {
			x0--
		}
		for x1 < w && (old[x1].width == 0 || new[x1].width == 0) {
			x1++
		}
		if x1 == w || restBlank(b, new, x1) && !restBlank(a, old, x1) {
			e.tail(b, y, y, x0)
			return
		}
		e.cells(b, y, y, x0, x1)
		x = x1
	}
}

// restBlank reports whether row[x:] of s is all plain spaces.
func restBlank(s *Screen, row []cell, x int) bool {
	for ; x < len(row); x++ {
		if !s.blank(row[x]) {
			return false
		}
	}
	return true
}
