package session

import "fmt"

// MinWidth and MinHeight are the smallest terminal a chapter is drawn in;
// below it the screen asks for a bigger window and ignores keys.
const (
	MinWidth  = 80
	MinHeight = 24
)

// MaxWidth and MaxHeight are the largest screen the server draws. The
// terminal's renderer holds a cell buffer for the whole screen, so a size
// the client chooses is clamped to this before anything is allocated for
// it; past it the screen asks for a smaller window and ignores keys, as it
// does below the minimum. docs/RELIABILITY.md has the memory a session
// takes at this size.
const (
	MaxWidth  = 320
	MaxHeight = 100
)

// TerminalSizeMsg is the terminal's size as the client reports it. The
// server sends it before its own tea.WindowSizeMsg, which carries
// the clamped size the screen is drawn at (ClampSize).
type TerminalSizeMsg struct{ Width, Height int }

// ClampSize is the size a screen is drawn at for a terminal of w×h: a size
// of zero or less (what some clients report without a real terminal) is
// taken as 80×24, and nothing goes past MaxWidth×MaxHeight.
func ClampSize(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 80, 24
	}
	return min(w, MaxWidth), min(h, MaxHeight)
}

// offSize reports a terminal too small or too large to draw the tour in.
func (m *Model) offSize() bool { return m.sizeNotice() != "" }

// sizeNotice is what a terminal of a size the tour cannot use reads instead
// of the tour ("" when the size is fine).
func (m *Model) sizeNotice() string {
	tw, th := m.termW, m.termH
	if tw <= 0 || th <= 0 {
		tw, th = m.width, m.height
	}
	switch {
	case tw > MaxWidth || th > MaxHeight:
		return fmt.Sprintf("Terminal too large: now %d×%d, at most %d×%d. Make the window smaller or the font larger.",
			tw, th, MaxWidth, MaxHeight)
	case m.width < MinWidth || m.height < MinHeight:
		return fmt.Sprintf("Terminal too small: now %d×%d, need %d×%d", m.width, m.height, MinWidth, MinHeight)
	}
	return ""
}
