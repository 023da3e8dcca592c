package ui

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestColumnDropsNothing: a column keeps every block however many lines
// they take, skipping only empty ones; the session scrolls what is taller
// than the screen.
func TestColumnDropsNothing(t *testing.T) {
	if got := Column("idea", "", "figure\nfigure", "details"); got != "idea\n\nfigure\nfigure\n\ndetails" {
		t.Fatalf("Column = %q", got)
	}
	if got := FitWidth("abcdef\nxy", 4); got != "abc…\nxy" {
		t.Fatalf("FitWidth = %q", got)
	}
}

func TestWidgetsFitTheirWidth(t *testing.T) {
	for _, mono := range []bool{false, true} {
		th := NewTheme(mono)
		for _, w := range []int{10, 20, 33, 80} {
			bars := th.Bars([]BarItem{{Label: "embeddings", Value: 38.6e6, Text: "38.6M"}, {Label: "blocks", Value: 85e6, Text: "85.0M"}, {Label: "cut", Value: 1, Text: "0.01", Muted: true}}, w)
			chips, _ := th.Chips([]Chip{{Text: "Hello", Sub: "9906"}, {Text: ",", Sub: "11"}, {Text: " world", Sub: "1917"}, {Text: strings.Repeat("x", 200), Sub: "1"}}, w, 10)
			heat := th.Heatmap([]string{"The", "trophy"}, []string{"The", "trophy"}, [][]HeatCell{{{Value: 1}, {Masked: true}}, {{Value: 0.3}, {Value: 0.7}}}, w, 1)
			for name, out := range map[string]string{"bars": bars, "chips": chips, "heatmap": heat, "slider": th.Slider(0.4, w, true)} {
				for i, l := range strings.Split(out, "\n") {
					if lw := lipgloss.Width(l); lw > w {
						t.Errorf("%s mono=%v width %d: line %d is %d wide: %q", name, mono, w, i, lw, ansi.Strip(l))
					}
				}
			}
		}
	}
}

func TestChipsKeepIDsApart(t *testing.T) {
	th := NewTheme(false)
	out, shown := th.Chips([]Chip{{Text: "a", Sub: "123"}, {Text: "b", Sub: "456"}}, 40, 2)
	if shown != 2 {
		t.Fatalf("shown %d", shown)
	}
	if !strings.Contains(ansi.Strip(out), "123 456") {
		t.Fatalf("IDs run together: %q", ansi.Strip(out))
	}
}
