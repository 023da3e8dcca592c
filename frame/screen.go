// Package frame puts sessions' screens on their terminals with the work
// shared. A screen is parsed into cells once; the bytes that turn one screen
// into another are encoded once; and every terminal that shows the first
// and wants the second is written those same bytes. A class of followers
// looking at the same chapter therefore costs one screen and one encoding
// per change, not one per student, and each terminal holds a pointer to the
// screen it shows, not cell buffers of its own.
//
// What differs between the students of a group (their notice, their own
// answer) lives in a few rows a Screen marks as its terminals' own: the
// shared encoding never touches them, and each terminal draws its own
// content there (see Terminal).
//
// The package knows nothing of Bubble Tea or the classroom: it takes styled
// text (what lipgloss draws) and writes bytes.
package frame

import (
	"strings"
	"sync"

	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	ansiparser "github.com/charmbracelet/x/ansi/parser"
)

// width is how a cell's width is measured: wcwidth, as the terminals most
// students use count columns (a terminal that counts graphemes differently
// would misplace a line; wcwidth is also what x/vt and tmux use).
const width = ansi.WcWidth

// Screen is one screen's content as w×h cells, in one colour profile. It is
// never changed once made, so any number of terminals may point at it.
//
// Cells are kept small (8 bytes, their text in one string per screen and
// their styles in a table), since a cache holds hundreds of screens: a
// screen of 100×30 takes about 30 KiB. They are read from the styled text
// the first time a terminal needs them, on the terminal's writer: a screen
// that no terminal gets to draw (a stalled one, or one overtaken by the
// next before its writer was free) is never parsed at all.
type Screen struct {
	w, h int
	prof colorprofile.Profile
	once sync.Once
	src  string // the styled text, until parsed
	// id names a screen shared through a Cache (0 for one that is not), so
	// encodings can be kept by the pair of screens without keeping the
	// screens alive.
	id     uint64
	text   string
	cells  []cell // row after row
	styles []uv.Style
	// own marks the rows each terminal draws for itself.
	own []bool
	// ownRows lists the own rows, top to bottom.
	ownRows []int

	// Info is what the screen's builder wants every terminal that shows it
	// to know about it (the session keeps layout facts its own rows are
	// drawn with). Set it before the screen is shared, never after.
	Info any
}

// cell is one cell of a Screen: its text is the screen's text[off:off+n]
// and its style styles[style]. Width 0 marks the second half of a wide
// character, which has no text of its own.
type cell struct {
	off   uint32
	n     uint16
	width uint8
	style uint16
}

// maxStyles bounds a screen's style table (its index is 16 bits); a screen
// with more styles than that draws the rest plain.
const maxStyles = 1 << 16

// Parse makes a w×h screen of s (lines of styled text, as lipgloss draws
// them) in profile p: colours the terminal cannot show are converted, a
// line longer than w is cut, a missing line is blank. The rows listed in own
// are left blank: each terminal draws its own content there. The text is
// read into cells when first needed.
func Parse(s string, w, h int, p colorprofile.Profile, own ...int) *Screen {
	w, h = max(w, 1), max(h, 1)
	sc := &Screen{w: w, h: h, prof: p, src: s, own: make([]bool, h)}
	for _, y := range own {
		if y >= 0 && y < h {
			sc.own[y] = true
		}
	}
	for y := range h {
		if sc.own[y] {
			sc.ownRows = append(sc.ownRows, y)
		}
	}
	return sc
}

// load reads the screen's text into cells, once.
func (sc *Screen) load() {
	sc.once.Do(func() {
		sc.styles = []uv.Style{{}}
		var b parser
		b.sc, b.prof = sc, sc.prof
		b.text.Grow(sc.w * sc.h)
		sc.cells = make([]cell, 0, sc.w*sc.h)
		lines := strings.SplitN(sc.src, "\n", sc.h+1)
		for y := range sc.h {
			line := ""
			if y < len(lines) && !sc.own[y] {
				line = lines[y]
			}
			b.line(line, sc.w)
		}
		sc.text = b.text.String()
		sc.src = ""
	})
}

// parser builds a Screen's cells, text and style table, straight from the
// styled text: no cell is made twice and nothing is kept per line.
type parser struct {
	sc   *Screen
	prof colorprofile.Profile
	text strings.Builder
	ap   *ansi.Parser

	pen      uv.Style // the style the text has set, before conversion
	penIndex int      // pen converted, in the table; -1 when it changed
	last     int      // the style found last: runs of one style are common
}

// line lays one line of styled text out on w cells: a wide character takes
// its cell and a placeholder after it, as a terminal's grid does; one that
// would cross the right edge ends the line; the rest of the row is blank.
// Only SGR sequences (styles) are read; anything else is dropped.
func (b *parser) line(s string, w int) {
	if b.ap == nil {
		// Its own small parser: the pooled ones hold a megabyte each, and
		// NewParser 64 KiB, for string sequences a screen never needs.
		b.ap = new(ansi.Parser)
		b.ap.SetParamsSize(ansiparser.MaxParamsSize)
		b.ap.SetDataSize(0)
	}
	b.pen, b.penIndex = uv.Style{}, 0
	x, first := 0, len(b.sc.cells)
	var state byte
	for len(s) > 0 && x < w {
		seq, cw, n, next := ansi.DecodeSequenceWc(s, state, b.ap)
		// The decoder's ASCII fast path does not fold a combining mark that
		// follows: re-decode as one grapheme when one may.
		if n == 1 && seq[0] > 0x1f && seq[0] < 0x7f && len(s) > 1 && s[1] >= 0xc0 {
			if cluster, ccw := ansi.FirstGraphemeCluster(s, width); len(cluster) > 1 {
				seq, cw, n = cluster, ccw, len(cluster)
			}
		}
		switch {
		case cw > 0:
			if x+cw > w {
				// Cut: a character that does not fit is not drawn at
				// all, and nothing after it.
				s, n = "", 0
				break
			}
			b.add(seq, cw, b.style())
			for range cw - 1 {
				b.sc.cells = append(b.sc.cells, cell{})
			}
			x += cw
		case ansi.HasCsiPrefix(seq) && b.ap.Command() == 'm':
			uv.ReadStyle(b.ap.Params(), &b.pen)
			b.penIndex = -1
		case len(seq) > 0 && seq[0] >= 0xc0 && len(b.sc.cells) > first:
			// A mark that could not be folded (a style change between it
			// and its letter): it belongs to the cell before.
			b.extend(seq)
		}
		state = next
		s = s[n:]
	}
	for ; x < w; x++ {
		b.add(" ", 1, 0)
	}
}

func (b *parser) add(content string, w int, style uint16) {
	off := b.text.Len()
	b.text.WriteString(content)
	b.sc.cells = append(b.sc.cells, cell{off: uint32(off), n: uint16(len(content)), width: uint8(w), style: style})
}

// extend adds text to the last cell written with a width (the text of a
// cell is the end of the screen's text while the cell is the newest).
func (b *parser) extend(text string) {
	for i := len(b.sc.cells) - 1; i >= 0; i-- {
		if c := &b.sc.cells[i]; c.width > 0 {
			if int(c.off)+int(c.n) == b.text.Len() && int(c.n)+len(text) < 1<<16 {
				b.text.WriteString(text)
				c.n += uint16(len(text))
			}
			return
		}
	}
}

// style is the pen's index in the screen's table, converted to the
// profile and added if new.
func (b *parser) style() uint16 {
	if b.penIndex >= 0 {
		return uint16(b.penIndex)
	}
	st := uv.ConvertStyle(b.pen, b.prof)
	t := b.sc.styles
	i := -1
	if t[b.last].Equal(&st) {
		i = b.last
	} else {
		for j := range t {
			if t[j].Equal(&st) {
				i = j
				break
			}
		}
	}
	if i < 0 {
		if len(t) >= maxStyles {
			i = 0
		} else {
			b.sc.styles = append(t, st)
			i = len(b.sc.styles) - 1
		}
	}
	b.last, b.penIndex = i, i
	return uint16(i)
}

// Size is the screen's width and height in cells.
func (s *Screen) Size() (w, h int) { return s.w, s.h }

// OwnRows lists the rows each terminal draws for itself, top to bottom.
func (s *Screen) OwnRows() []int { return s.ownRows }

// Text is the screen as plain text, one line per row with trailing blanks
// trimmed: what a person reads, for tests.
func (s *Screen) Text() string {
	s.load()
	var b strings.Builder
	for y := range s.h {
		if y > 0 {
			b.WriteByte('\n')
		}
		var row strings.Builder
		for _, c := range s.row(y) {
			row.WriteString(s.content(c))
		}
		b.WriteString(strings.TrimRight(row.String(), " "))
	}
	return b.String()
}

func (s *Screen) row(y int) []cell { return s.cells[y*s.w : (y+1)*s.w] }

func (s *Screen) content(c cell) string { return s.text[c.off : c.off+uint32(c.n)] }

// Bytes is about how much memory the screen holds once parsed.
func (s *Screen) Bytes() int { return s.w*s.h*9 + s.h*9 + 1024 }

// matcher compares the cells of one screen with another's. Styles are
// matched table to table once, so a cell costs two small comparisons
// rather than a style's field by field.
type matcher struct {
	a, b   *Screen
	styles []int32 // a's style i is b's styles[i], or -1 if b has none like it
}

func newMatcher(a, b *Screen) *matcher {
	p := &matcher{a: a, b: b, styles: make([]int32, len(a.styles))}
	for i := range a.styles {
		p.styles[i] = -1
		if a == b {
			p.styles[i] = int32(i)
			continue
		}
		for j := range b.styles {
			if a.styles[i].Equal(&b.styles[j]) {
				p.styles[i] = int32(j)
				break
			}
		}
	}
	return p
}

// same reports whether cell c of a looks like cell d of b on a terminal.
func (p *matcher) same(c, d cell) bool {
	if c.width != d.width || c.n != d.n || p.styles[c.style] != int32(d.style) {
		return false
	}
	if c.n == 1 {
		return p.a.text[c.off] == p.b.text[d.off]
	}
	return p.a.content(c) == p.b.content(d)
}

// blank reports whether c is a plain space: what erasing to the end of a
// line leaves behind.
func (s *Screen) blank(c cell) bool {
	return c.width == 1 && c.style == 0 && c.n == 1 && s.text[c.off] == ' '
}
