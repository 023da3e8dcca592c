package ui

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

func testPlot() LogLogPlot {
	return LogLogPlot{
		Curve: [][2]float64{{1e20, 1e9}, {1e22, 1e10}, {1e24, 1e11}},
		Marks: []PlotMark{
			{X: 3.15e23, Y: 175e9, Glyph: "*", Label: "GPT-3"},
			{X: 5.88e23, Y: 70e9, Glyph: "@", Label: "you", Strong: true},
		},
		XMin: 1e20, XMax: 1e25, YMin: 1e8, YMax: 1e12,
	}
}

func TestLogLogPlotFitsAndLabels(t *testing.T) {
	for _, mono := range []bool{false, true} {
		th := NewTheme(mono)
		for _, w := range []int{0, 5, 20, 40, 79, 160} {
			for _, h := range []int{0, 3, 5, 12, 30} {
				out := th.LogLogPlot(testPlot(), w, h)
				if lines := strings.Split(out, "\n"); len(lines) > max(h, 1) {
					t.Errorf("mono=%v %dx%d: %d lines", mono, w, h, len(lines))
				}
				for i, l := range strings.Split(out, "\n") {
					if lw := lipgloss.Width(l); lw > w {
						t.Errorf("mono=%v %dx%d: line %d is %d wide: %q", mono, w, h, i, lw, ansi.Strip(l))
					}
				}
			}
		}
		out := ansi.Strip(th.LogLogPlot(testPlot(), 79, 14))
		for _, want := range []string{"GPT-3", "you", "1e20", "1e25", "1e8", "1e12"} {
			if !strings.Contains(out, want) {
				t.Errorf("mono=%v: plot lacks %q:\n%s", mono, want, out)
			}
		}
		braille := strings.ContainsFunc(out, func(r rune) bool { return r >= 0x2801 && r <= 0x28ff })
		if braille == mono {
			t.Errorf("mono=%v: braille curve present = %v:\n%s", mono, braille, out)
		}
		if mono && strings.ContainsFunc(out, func(r rune) bool { return r > 0x7e }) {
			t.Errorf("mono plot uses non-ASCII characters:\n%s", out)
		}
	}
}

func TestLogLogPlotHiddenMarkLosesLabel(t *testing.T) {
	p := testPlot()
	p.Marks = append(p.Marks, PlotMark{X: 5.88e23, Y: 70e9, Glyph: "o", Label: "hidden"})
	out := ansi.Strip(NewTheme(true).LogLogPlot(p, 79, 14))
	if strings.Contains(out, "hidden") {
		t.Errorf("a mark under the strong mark kept its label:\n%s", out)
	}
}

func TestLogLogPlotRejectsBadBounds(t *testing.T) {
	th := NewTheme(true)
	for _, p := range []LogLogPlot{{}, {XMin: 1, XMax: 1, YMin: 1, YMax: 10}, {XMin: -1, XMax: 10, YMin: 1, YMax: 10}} {
		if out := th.LogLogPlot(p, 80, 20); out != "" {
			t.Errorf("bounds %+v drew %q", p, out)
		}
	}
}
