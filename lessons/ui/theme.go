// Package ui holds the look of Expedition: the theme, the key map and the
// widgets (slider, choice, toggle, text field, bars, token chips, heatmap)
// that lessons and the session draw with.
//
// Every widget is a pure function from its inputs and a width to a string, so
// a screen is the same for the same values and size. Nothing here keeps
// package-level mutable state: a KeyMap is built per session, and a Theme
// is never changed once built, so a server builds its two (Themes) once and
// every session points at one of them.
package ui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme is a set of styles, never changed once built. Colours are written as
// full RGB; what draws a session's screen downsamples them to what its
// terminal can show.
type Theme struct {
	// Mono is set when the terminal shows no colour (NO_COLOR, a dumb
	// terminal): widgets then add separators that colour alone carried.
	Mono bool

	Title    lipgloss.Style
	Header   lipgloss.Style
	Text     lipgloss.Style
	Subtle   lipgloss.Style
	Strong   lipgloss.Style
	Accent   lipgloss.Style
	Warn     lipgloss.Style
	Focus    lipgloss.Style
	Key      lipgloss.Style
	Selected lipgloss.Style
	Rule     lipgloss.Style

	// Badges mark what a figure is: exact computation, hand-set toy, or guess.
	BadgeComputed     lipgloss.Style
	BadgeIllustrative lipgloss.Style
	BadgeEstimate     lipgloss.Style

	// ChipColors are the backgrounds that tell neighbouring tokens apart.
	ChipColors []color.Color
	ChipText   color.Color

	// Bar and Track draw sliders and bar charts; Muted greys out what is cut.
	Bar   lipgloss.Style
	Track lipgloss.Style
	Muted lipgloss.Style

	// Heat is the ramp of a heatmap, coolest first.
	Heat []color.Color
}

// Themes are the two themes, in colour and without, built once and shared
// by every session that draws with them: a theme is some 14 KiB of styles,
// a large share of what a student costs the server.
type Themes struct{ colour, mono *Theme }

// NewThemes builds both themes.
func NewThemes() *Themes { return &Themes{colour: NewTheme(false), mono: NewTheme(true)} }

// For is the theme for a terminal with colour or without (mono).
func (t *Themes) For(mono bool) *Theme {
	if mono {
		return t.mono
	}
	return t.colour
}

// NewTheme builds a theme. mono drops colour-only cues in
// favour of characters.
func NewTheme(mono bool) *Theme {
	accent := lipgloss.Color("#7aa2f7")
	pink := lipgloss.Color("#ff79c6")
	grey := lipgloss.Color("#6c7086")
	return &Theme{
		Mono:              mono,
		Title:             lipgloss.NewStyle().Bold(true).Foreground(pink),
		Header:            lipgloss.NewStyle().Bold(true),
		Text:              lipgloss.NewStyle(),
		Subtle:            lipgloss.NewStyle().Foreground(grey),
		Strong:            lipgloss.NewStyle().Bold(true),
		Accent:            lipgloss.NewStyle().Foreground(accent),
		Warn:              lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ffb86c")),
		Focus:             lipgloss.NewStyle().Bold(true).Foreground(pink),
		Key:               lipgloss.NewStyle().Bold(true).Foreground(accent),
		Selected:          lipgloss.NewStyle().Bold(true).Reverse(true),
		Rule:              lipgloss.NewStyle().Foreground(grey),
		BadgeComputed:     lipgloss.NewStyle().Foreground(lipgloss.Color("#50fa7b")),
		BadgeIllustrative: lipgloss.NewStyle().Foreground(lipgloss.Color("#f1fa8c")),
		BadgeEstimate:     lipgloss.NewStyle().Foreground(lipgloss.Color("#ffb86c")),
		ChipColors: []color.Color{
			lipgloss.Color("#a6e3a1"), lipgloss.Color("#f9e2af"), lipgloss.Color("#89b4fa"),
			lipgloss.Color("#f5c2e7"), lipgloss.Color("#94e2d5"), lipgloss.Color("#fab387"),
		},
		ChipText: lipgloss.Color("#1e1e2e"),
		Bar:      lipgloss.NewStyle().Foreground(accent),
		Track:    lipgloss.NewStyle().Foreground(lipgloss.Color("#45475a")),
		Muted:    lipgloss.NewStyle().Foreground(lipgloss.Color("#585b70")),
		Heat: []color.Color{
			lipgloss.Color("#313244"), lipgloss.Color("#45475a"), lipgloss.Color("#5c5f99"),
			lipgloss.Color("#7aa2f7"), lipgloss.Color("#b4befe"), lipgloss.Color("#f5e0dc"),
		},
	}
}

// Badge is what a figure on screen is.
type Badge int

// The three kinds of figure, as DESIGN.md §1 names them.
const (
	// Computed is an exact formula or the real tokenizer.
	Computed Badge = iota
	// Illustrative is a hand-set toy whose arithmetic is real.
	Illustrative
	// Estimate is a guess, such as the size of a GPT-5-class model.
	Estimate
)

// Badge renders a badge such as "[computed]".
func (t *Theme) Badge(b Badge) string {
	switch b {
	case Illustrative:
		return t.BadgeIllustrative.Render("[illustrative]")
	case Estimate:
		return t.BadgeEstimate.Render("[estimate]")
	default:
		return t.BadgeComputed.Render("[computed]")
	}
}
