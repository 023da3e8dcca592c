package main

import (
	"strconv"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/parser"
)

// screen is a lightweight terminal: it reads a program's output and keeps
// the text of a w×h grid, nothing else (no colours, no scrollback, no
// resize). Thousands of them run beside the server being measured, so a cell
// is four bytes and ASCII text never allocates.
//
// What a cell becomes follows github.com/charmbracelet/x/vt, the emulator the
// project's tests read screens with, operation by operation (including its
// quirks, noted where they differ from xterm), so that the two agree on
// every screen the server draws; the x/vt cross-check in client.go is what
// holds the model to that. Sequences are tokenised by x/ansi's parser, the
// one x/vt uses, so both see the same sequences in the same bytes.
//
// Not modelled, because no Bubble Tea renderer emits them: origin mode
// (DECOM), left/right margins (DECSLRM), character sets (SCS, SO/SI) and
// resizing.
type screen struct {
	w, h  int
	pages [2]page // the main screen and the alternate one
	cur   *page

	parser *ansi.Parser

	phantom  bool // pending wrap: the cursor sat on the last column when a character was written
	autowrap bool // DECAWM
	insert   bool // IRM
	newline  bool // LNM: LF also returns the carriage
	sync     bool // inside a synchronized update (mode 2026)
	frames   int  // synchronized updates begun

	lastChar rune   // for REP: the last single-byte character written
	pending  []byte // the grapheme cluster still being composed
	tabs     []bool

	clusters   []string          // multi-rune grapheme clusters, by index
	clusterIDs map[string]uint32 // their indices, so each is kept once

	gen     uint64 // counts changes to the cells, so readers can skip an unchanged screen
	replies []byte // answers to the program's queries, for the client to send
}

// page is one screen buffer with its own cursor and scroll region, as a
// terminal keeps one for the main screen and one for the alternate.
type page struct {
	cells       []cell
	x, y        int
	sx, sy      int // saved cursor (DECSC, SCOSC, mode 1048)
	top, bottom int // scroll region, rows [top, bottom)
}

// cell is a packed grid cell: the low 21 bits hold a rune, or with
// clusterBit the index of a multi-rune grapheme cluster; the two bits from
// widthShift hold the cluster's width in columns. Zero is the column a wide
// character's right half covers.
type cell uint32

const (
	valueMask  = 1<<21 - 1
	clusterBit = 1 << 21
	widthShift = 22

	placeholder cell = 0
	blank       cell = ' ' | 1<<widthShift
)

func (c cell) width() int { return int(c >> widthShift) }

// maxWidth bounds a cell's width (the two bits of the packing); no grapheme
// is wider than 2 columns.
const maxWidth = 3

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h, autowrap: true, clusterIDs: map[string]uint32{}}
	for i := range s.pages {
		s.pages[i] = page{cells: make([]cell, w*h), bottom: h}
		fillCells(s.pages[i].cells, blank)
	}
	s.cur = &s.pages[0]
	s.resetTabs()
	s.parser = ansi.NewParser()
	s.parser.SetParamsSize(parser.MaxParamsSize)
	// OSC, DCS and APC payloads (titles, links) are not kept: a small buffer
	// only bounds what a long one costs.
	s.parser.SetDataSize(256)
	s.parser.SetHandler(ansi.Handler{
		Print:     s.print,
		Execute:   s.execute,
		HandleCsi: s.csi,
		HandleEsc: s.esc,
		HandleDcs: func(ansi.Cmd, ansi.Params, []byte) { s.flush() },
		HandleOsc: func(int, []byte) { s.flush() },
		HandleApc: func([]byte) { s.flush() },
		HandlePm:  func([]byte) { s.flush() },
		HandleSos: func([]byte) { s.flush() },
	})
	return s
}

func fillCells(cells []cell, c cell) {
	for i := range cells {
		cells[i] = c
	}
}

// Write feeds the screen the program's output.
func (s *screen) Write(p []byte) (int, error) {
	for _, b := range p {
		s.parser.Advance(b)
	}
	// x/vt ends a cluster with each write: one that a later write would
	// extend is drawn as two, the same on both.
	s.flush()
	return len(p), nil
}

// print is the parser's printable character: it joins the cluster being
// composed, as x/vt's handlePrint does, because the characters after it may
// belong to it (an accent, a joiner, a skin tone).
func (s *screen) print(r rune) {
	if r >= ' ' && r < 0x7f {
		// No ASCII character extends a cluster, so one arriving ends the
		// one before; two in a row are the common case and need no
		// segmenting.
		if len(s.pending) == 1 && s.pending[0] >= ' ' && s.pending[0] < 0x7f {
			s.grapheme(s.pending, 1)
			s.pending[0] = byte(r)
			return
		}
		s.flush()
	}
	s.pending = utf8.AppendRune(s.pending, r)
}

// flush draws the clusters composed so far.
func (s *screen) flush() {
	rest := s.pending
	for len(rest) > 0 {
		cluster, width := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		if len(cluster) == 0 {
			break
		}
		s.grapheme(cluster, width)
		rest = rest[len(cluster):]
	}
	s.pending = s.pending[:0]
}

// grapheme writes one cluster at the cursor and advances it (x/vt's
// handleGrapheme).
func (s *screen) grapheme(content []byte, width int) {
	width = min(width, maxWidth)
	p := s.cur
	if s.phantom && s.autowrap {
		s.index()
		p.x = 0
	}
	if s.insert {
		s.insertCells(width)
	}
	var v cell
	switch r, n := utf8.DecodeRune(content); {
	case n == len(content):
		v = cell(r)
	default:
		v = s.intern(content) | clusterBit
	}
	if width == 1 && len(content) == 1 {
		s.lastChar = rune(content[0])
	}
	s.setCell(p.x, p.y, v|cell(width)<<widthShift)
	s.phantom = s.autowrap && p.x >= s.w-1
	if !s.phantom {
		// x/vt clamps rather than wraps: a wide character written on the
		// last two columns leaves the cursor on its right half.
		p.x = min(p.x+width, s.w-1)
	}
}

func (s *screen) intern(cluster []byte) cell {
	if id, ok := s.clusterIDs[string(cluster)]; ok {
		return cell(id)
	}
	id := uint32(len(s.clusters))
	s.clusters = append(s.clusters, string(cluster))
	s.clusterIDs[string(cluster)] = id
	return cell(id)
}

// row is row y of the current page.
func (s *screen) row(y int) []cell { return s.cur.cells[y*s.w : (y+1)*s.w] }

// setCell puts c at (x, y) the way ultraviolet's Line.Set does, which x/vt
// draws with: overwriting either half of a wide character blanks all of it,
// and a wide character that does not fit before the right edge is drawn as
// blanks.
func (s *screen) setCell(x, y int, c cell) {
	if x < 0 || x >= s.w || y < 0 || y >= s.h {
		return
	}
	row := s.row(y)
	s.unwide(row, x)
	s.place(row, x, c)
}

// unwide blanks the wide character that covers column x, before x is
// overwritten.
func (s *screen) unwide(row []cell, x int) {
	prev := row[x]
	if pw := prev.width(); pw > 1 {
		for j := 0; j < pw && x+j < s.w; j++ {
			row[x+j] = blank
		}
	} else if pw == 0 {
		// Line.Set looks further left for ever wider characters; none is
		// wider than maxWidth.
		for j := 1; j < maxWidth+1 && x-j >= 0; j++ {
			if ww := row[x-j].width(); ww > 1 && j < ww {
				for k := 0; k < ww && x-j+k < s.w; k++ {
					row[x-j+k] = blank
				}
				break
			}
		}
	}
}

// place writes c at x after unwide.
func (s *screen) place(row []cell, x int, c cell) {
	s.gen++
	row[x] = c
	cw := c.width()
	if x+cw > s.w {
		for i := 0; i < cw && x+i < s.w; i++ {
			row[x+i] = blank
		}
		return
	}
	for j := 1; j < cw; j++ {
		row[x+j] = placeholder
	}
}

// fill blanks columns [x0, x1) of row y one cell at a time, so that a wide
// character cut at either end is blanked whole.
func (s *screen) fill(y, x0, x1 int) {
	if y < 0 || y >= s.h {
		return
	}
	x0, x1 = max(x0, 0), min(x1, s.w)
	row := s.row(y)
	for x := x0; x < x1; x++ {
		s.unwide(row, x)
		s.place(row, x, blank)
	}
}

// blankRows blanks whole rows [y0, y1) of the current page.
func (s *screen) blankRows(y0, y1 int) {
	y0, y1 = max(y0, 0), min(y1, s.h)
	if y0 < y1 {
		fillCells(s.cur.cells[y0*s.w:y1*s.w], blank)
		s.gen++
	}
}

// inRegion reports whether row y is inside the scroll region.
func (s *screen) inRegion(y int) bool { return y >= s.cur.top && y < s.cur.bottom }

// moveTo puts the cursor at (x, y), clamped to the screen, and ends a
// pending wrap (x/vt's setCursor and setCursorPosition, without DECOM).
func (s *screen) moveTo(x, y int) {
	s.cur.x = min(max(x, 0), s.w-1)
	s.cur.y = min(max(y, 0), s.h-1)
	s.phantom = false
}

// moveBy moves the cursor, within the scroll region when it starts inside
// it (x/vt's moveCursor), and ends a pending wrap.
func (s *screen) moveBy(dx, dy int) {
	s.moveWithin(dx, dy)
	s.phantom = false
}

func (s *screen) moveWithin(dx, dy int) {
	p := s.cur
	lo, hi := 0, s.h-1
	if s.inRegion(p.y) {
		lo, hi = p.top, p.bottom-1
	}
	p.x = min(max(p.x+dx, 0), s.w-1)
	p.y = min(max(p.y+dy, lo), hi)
}

// index moves the cursor down a row, scrolling the region up at its bottom
// (IND, LF, and the wrap before a character past the last column).
func (s *screen) index() {
	p := s.cur
	if p.y == p.bottom-1 {
		s.scrollUp(1)
	} else if p.y < p.bottom-1 || !s.inRegion(p.y) {
		s.moveWithin(0, 1)
	}
	s.phantom = false
}

// reverseIndex moves the cursor up a row, scrolling the region down at its
// top (RI). Unlike index it keeps a pending wrap, as x/vt does.
func (s *screen) reverseIndex() {
	if s.cur.y == s.cur.top {
		s.scrollDown(1)
	} else {
		s.moveWithin(0, -1)
	}
}

func (s *screen) carriageReturn() {
	s.cur.x = 0
	s.phantom = false
}

// scrollUp deletes n rows at the top of the scroll region (SU); the cursor
// stays.
func (s *screen) scrollUp(n int) { s.deleteRows(s.cur.top, n) }

// scrollDown inserts n blank rows at the top of the scroll region (SD).
func (s *screen) scrollDown(n int) { s.insertRows(s.cur.top, n) }

// insertRows pushes rows [y, bottom) of the region down by n, the ones
// pushed past its bottom lost, and blanks the n rows from y (IL).
func (s *screen) insertRows(y, n int) bool {
	p := s.cur
	if n <= 0 || !s.inRegion(y) {
		return false
	}
	n = min(n, p.bottom-y)
	copy(p.cells[(y+n)*s.w:p.bottom*s.w], p.cells[y*s.w:(p.bottom-n)*s.w])
	s.blankRows(y, y+n)
	s.gen++
	return true
}

// deleteRows pulls rows below y in the region up by n, blanking the n rows
// at its bottom (DL).
func (s *screen) deleteRows(y, n int) bool {
	p := s.cur
	if n <= 0 || !s.inRegion(y) {
		return false
	}
	n = min(n, p.bottom-y)
	copy(p.cells[y*s.w:(p.bottom-n)*s.w], p.cells[(y+n)*s.w:p.bottom*s.w])
	s.blankRows(p.bottom-n, p.bottom)
	s.gen++
	return true
}

// insertCells shifts the cursor's row right by n from the cursor, blanking
// the gap (ICH). Cells move as they are, so a wide character pushed half
// past the edge keeps its left half, as in x/vt. Outside the scroll region
// x/vt does nothing.
func (s *screen) insertCells(n int) {
	p := s.cur
	if n <= 0 || !s.inRegion(p.y) {
		return
	}
	row := s.row(p.y)
	x := p.x
	n = min(n, s.w-x)
	for i := s.w - 1; i >= x+n && i-n >= 0; i-- {
		row[i] = row[i-n]
	}
	for i := x; i < x+n; i++ {
		s.unwide(row, i)
		s.place(row, i, blank)
	}
}

// deleteCells shifts the cursor's row left by n onto the cursor, blanking
// the end (DCH). Each cell is moved with setCell, reading its source only
// after the destination's wide character was blanked, which is what x/vt's
// DeleteCellArea does with a pointer into the same row: a wide character
// moved by one column is lost.
func (s *screen) deleteCells(n int) {
	p := s.cur
	if n <= 0 || !s.inRegion(p.y) {
		return
	}
	row := s.row(p.y)
	x := p.x
	n = min(n, s.w-x)
	for i := x; i < s.w-n; i++ {
		s.unwide(row, i)
		s.place(row, i, row[i+n])
	}
	for i := s.w - n; i < s.w; i++ {
		s.unwide(row, i)
		s.place(row, i, blank)
	}
}

func (s *screen) resetTabs() {
	s.tabs = make([]bool, s.w)
	for x := 0; x < s.w; x += 8 {
		s.tabs[x] = true
	}
}

// nextTab moves to the n-th tab stop right of the cursor, or the last
// column. A pending wrap stays (x/vt).
func (s *screen) nextTab(n int) {
	x := s.cur.x
	for range n {
		for x < s.w-1 {
			x++
			if s.tabs[x] {
				break
			}
		}
	}
	s.cur.x = x
}

// prevTab moves to the n-th tab stop left of the cursor, or column 0.
func (s *screen) prevTab(n int) {
	x := s.cur.x
	for range n {
		for x > 0 {
			x--
			if s.tabs[x] {
				break
			}
		}
	}
	s.cur.x = x
}

// altScreen switches between the main and the alternate screen. Entering
// the alternate one clears it and homes its cursor; leaving finds the main
// screen's cursor where it was.
func (s *screen) altScreen(on bool) {
	if on == (s.cur == &s.pages[1]) {
		return
	}
	if !on {
		s.cur = &s.pages[0]
		s.gen++
		return
	}
	s.cur = &s.pages[1]
	fillCells(s.cur.cells, blank)
	s.gen++
	s.moveTo(0, 0)
}

func (s *screen) saveCursor()    { s.cur.sx, s.cur.sy = s.cur.x, s.cur.y }
func (s *screen) restoreCursor() { s.cur.x, s.cur.y = s.cur.sx, s.cur.sy }

// reset is RIS: both screens cleared, every mode at its default.
func (s *screen) reset() {
	for i := range s.pages {
		p := &s.pages[i]
		fillCells(p.cells, blank)
		*p = page{cells: p.cells, bottom: s.h}
	}
	s.cur = &s.pages[0]
	s.resetTabs()
	s.phantom, s.insert, s.newline, s.sync = false, false, false, false
	s.autowrap = true
	s.pending = s.pending[:0]
	s.lastChar = 0
	s.gen++
}

// execute handles a control character.
func (s *screen) execute(b byte) {
	s.flush()
	switch b {
	case ansi.BS:
		s.moveBy(-1, 0)
	case ansi.HT:
		s.nextTab(1)
	case ansi.LF, ansi.VT, ansi.FF:
		s.index()
		if s.newline {
			s.carriageReturn()
		}
	case ansi.CR:
		s.carriageReturn()
	case ansi.IND:
		s.index()
	case ansi.RI:
		s.reverseIndex()
	case ansi.HTS:
		s.tabs[s.cur.x] = true
	case ansi.NEL:
		// x/vt ignores NEL; xterm moves to the next line's start.
		s.index()
		s.carriageReturn()
	}
}

// esc handles an ESC sequence.
func (s *screen) esc(cmd ansi.Cmd) {
	s.flush()
	if cmd.Intermediate() != 0 {
		return // character sets and the like: not drawn
	}
	switch cmd.Final() {
	case 'D':
		s.index()
	case 'E':
		s.index()
		s.carriageReturn()
	case 'M':
		s.reverseIndex()
	case 'H':
		s.tabs[s.cur.x] = true
	case '7':
		s.saveCursor()
	case '8':
		s.restoreCursor()
	case 'c':
		s.reset()
	}
}

// csi handles a CSI sequence; what it does to the cells and the cursor is
// x/vt's, handler by handler.
func (s *screen) csi(cmd ansi.Cmd, params ansi.Params) {
	s.flush()
	param := func(i, def int) int { n, _, _ := params.Param(i, def); return n }
	p := s.cur
	switch cmd.Prefix() {
	case 0:
	case '?':
		if cmd.Intermediate() == 0 {
			switch cmd.Final() {
			case 'h', 'l':
				s.decModes(params, cmd.Final() == 'h')
			case 'W':
				if len(params) == 1 && params[0] == 5 {
					s.resetTabs()
				}
			}
		} else if cmd.Intermediate() == '$' && cmd.Final() == 'p' {
			s.reportMode(param(0, 0), true)
		}
		return
	default:
		return // kitty keyboard, modifyOtherKeys, secondary DA: nothing drawn
	}
	switch cmd.Intermediate() {
	case 0:
	case '$':
		if cmd.Final() == 'p' {
			s.reportMode(param(0, 0), false)
		}
		return
	default:
		return
	}
	switch cmd.Final() {
	case '@': // ICH
		s.insertCells(param(0, 1))
	case 'A': // CUU
		s.moveBy(0, -param(0, 1))
	case 'B': // CUD
		s.moveBy(0, param(0, 1))
	case 'C': // CUF
		s.moveBy(param(0, 1), 0)
	case 'D': // CUB
		s.moveBy(-param(0, 1), 0)
	case 'E': // CNL
		s.moveBy(0, param(0, 1))
		s.carriageReturn()
	case 'F': // CPL
		s.moveBy(0, -param(0, 1))
		s.carriageReturn()
	case 'G': // CHA
		s.moveTo(param(0, 1)-1, p.y)
	case 'H': // CUP
		row, col := max(param(0, 1), 1), max(param(1, 1), 1)
		s.moveTo(min(s.w-1, col-1), min(s.h-1, row-1))
	case 'f': // HVP
		s.moveTo(min(s.w-1, param(1, 1)-1), min(s.h-1, param(0, 1)-1))
	case 'I': // CHT
		s.nextTab(param(0, 1))
	case 'Z': // CBT
		s.prevTab(param(0, 1))
	case 'J': // ED
		switch param(0, 0) {
		case 0:
			s.fill(p.y, p.x, s.w)
			s.blankRows(p.y+1, s.h)
		case 1:
			// x/vt erases the cursor's whole row, not only up to the cursor.
			s.blankRows(0, p.y+1)
		case 2, 3:
			s.blankRows(0, s.h)
		}
	case 'K': // EL
		switch param(0, 0) {
		case 0:
			s.fill(p.y, p.x, s.w)
			s.phantom = false
		case 1:
			s.fill(p.y, 0, p.x+1)
		case 2:
			s.fill(p.y, 0, s.w)
		}
	case 'L': // IL
		if s.insertRows(p.y, param(0, 1)) {
			s.homeInRegion()
		}
	case 'M': // DL
		if s.deleteRows(p.y, param(0, 1)) {
			s.homeInRegion()
		}
	case 'P': // DCH
		s.deleteCells(param(0, 1))
	case 'S': // SU
		s.scrollUp(param(0, 1))
	case 'T': // SD
		s.scrollDown(param(0, 1))
	case 'X': // ECH
		n := param(0, 1)
		if n <= 0 {
			n = 1
		}
		s.fill(p.y, p.x, p.x+n)
		s.phantom = false
	case '`': // HPA
		s.moveTo(min(s.w-1, param(0, 1)-1), p.y)
	case 'a': // HPR
		s.moveTo(min(s.w-1, p.x+param(0, 1)), p.y)
	case 'b': // REP
		if s.lastChar != 0 {
			for range param(0, 1) {
				s.print(s.lastChar)
			}
		}
	case 'd': // VPA
		s.moveTo(p.x, min(s.h-1, param(0, 1)-1))
	case 'e': // VPR
		s.moveTo(p.x, min(s.h-1, p.y+param(0, 1)))
	case 'g': // TBC
		switch param(0, 0) {
		case 0:
			s.tabs[p.x] = false
		case 3:
			clear(s.tabs)
		}
	case 'h', 'l': // SM, RM
		on := cmd.Final() == 'h'
		for _, m := range params {
			switch m.Param(-1) {
			case 4:
				s.insert = on
			case 20:
				s.newline = on
			}
		}
	case 'n': // DSR
		if param(0, 0) == 6 {
			s.replies = append(s.replies, ansi.CursorPositionReport(p.y+1, p.x+1)...)
		}
	case 'r': // DECSTBM
		top := max(param(0, 1), 1)
		bottom := param(1, s.h)
		if bottom < 1 || bottom > s.h {
			// x/vt keeps a bottom past the screen, and its cursor then
			// leaves the screen; xterm clamps it.
			bottom = s.h
		}
		if top >= bottom {
			return
		}
		p.top, p.bottom = top-1, bottom
		s.moveTo(0, 0)
	case 's': // SCOSC
		s.saveCursor()
	}
}

// homeInRegion is what x/vt does after IL and DL: the cursor goes to column
// 0 of row top+y, clamped to the region (xterm keeps the row; the two agree
// whenever the region starts at the top of the screen).
func (s *screen) homeInRegion() {
	p := s.cur
	p.x = 0
	p.y = min(max(p.top+p.y, p.top), p.bottom-1)
}

// decModes sets or resets DEC private modes.
func (s *screen) decModes(params ansi.Params, on bool) {
	for _, m := range params {
		switch m.Param(-1) {
		case 7:
			s.autowrap = on
		case 1047:
			s.altScreen(on)
		case 1048:
			if on {
				s.saveCursor()
			} else {
				s.restoreCursor()
			}
		case 1049:
			if on {
				s.saveCursor()
			}
			s.altScreen(on)
		case 2026:
			if on && !s.sync {
				s.frames++
			}
			s.sync = on
		}
	}
}

// reportMode answers DECRQM. Synchronized output (2026) is reported as
// supported and off, as most terminals students use do, so Bubble Tea frames
// its output as it would for them; every other mode as not recognised, which
// keeps the width measure and key encoding of a plain xterm.
func (s *screen) reportMode(mode int, dec bool) {
	value := 0
	if dec && mode == 2026 {
		value = 2
		if s.sync {
			value = 1
		}
	}
	prefix := "\x1b["
	if dec {
		prefix = "\x1b[?"
	}
	s.replies = append(s.replies, prefix+strconv.Itoa(mode)+";"+strconv.Itoa(value)+"$y"...)
}

// takeReplies returns the answers to queries since the last call.
func (s *screen) takeReplies() []byte {
	r := s.replies
	s.replies = nil
	return r
}

// content appends cell c's text to b.
func (s *screen) content(b []byte, c cell) []byte {
	v := c & valueMask
	if c&clusterBit != 0 {
		return append(b, s.clusters[v]...)
	}
	if v < utf8.RuneSelf {
		return append(b, byte(v))
	}
	return utf8.AppendRune(b, rune(v))
}

// appendRow appends row y's text to b the way the project's tests read an
// x/vt screen: a wide character once, trailing blanks trimmed.
func (s *screen) appendRow(b []byte, y int) []byte {
	start := len(b)
	end := start
	for _, c := range s.row(y) {
		switch c {
		case placeholder:
		case blank:
			b = append(b, ' ')
		default:
			b = s.content(b, c)
			end = len(b)
		}
	}
	return b[:end]
}

// Text is the whole screen as text: one line per row, trailing blanks
// trimmed and trailing empty lines dropped, exactly as internal/sshtest
// reads an x/vt screen.
func (s *screen) Text() string {
	b := make([]byte, 0, (s.w+1)*s.h)
	end := 0
	for y := range s.h {
		if y > 0 {
			b = append(b, '\n')
		}
		lineStart := len(b)
		b = s.appendRow(b, y)
		if len(b) > lineStart {
			end = len(b)
		}
	}
	return string(b[:end])
}
