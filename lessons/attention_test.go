package lessons

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

func TestAttentionShowsFormulaGridAndRow(t *testing.T) {
	l := chapter(t, "attention")
	out := screen(l, Defaults(l.Controls()), 79, 36)
	for _, want := range []string{
		"softmax(QKᵀ/√d_k ÷ T + M)·V", "[illustrative]",
		"The", "trophy", "didn't", "fit", "because", "▸ it",
		"q·k", "÷√d_k", "÷T", "+ mask", "softmax", "Σ 1.00",
		"coreference head:", "previous token head:", "first token head:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	// The "it" row of the coreference head at T = 1: the numbers sim
	// computes, as the screen prints them.
	r := sim.Attention(sim.AttentionHeads()[0], 1, true)[5]
	for j := range r.Weights {
		for _, x := range []float64{r.Raw[j], r.Scaled[j], r.Weights[j]} {
			if s := fmt.Sprintf("%.2f", x); !strings.Contains(out, s) {
				t.Errorf("screen lacks %s:\n%s", s, out)
			}
		}
	}
	if !strings.Contains(out, "▒▒ 0.50") {
		t.Errorf("\"it\" should peak on \"trophy\" at 0.50:\n%s", out)
	}
}

// Every combination of head, row, temperature and mask shows a row that
// sums to 1, with the key figure (the grid and the badge) even at 80×12.
func TestAttentionEveryRowSumsToOne(t *testing.T) {
	l := chapter(t, "attention")
	c, _ := ControlByKey(l, "row")
	h, _ := ControlByKey(l, "head")
	for _, head := range h.Options {
		for _, row := range c.Options {
			for _, temp := range []string{"0.1", "1", "2.5", "5"} {
				for _, mask := range []string{"true", "false"} {
					v := Defaults(l.Controls()).With("head", head.Value).With("row", row.Value).With("temp", temp).With("mask", mask)
					out := screen(l, v, 80, 12)
					for _, want := range []string{"Σ 1.00", "[illustrative]", "▸ " + row.Label, "softmax"} {
						if !strings.Contains(out, want) {
							t.Errorf("%v: 80x12 screen lacks %q:\n%s", v, want, out)
						}
					}
				}
			}
		}
	}
}

func TestAttentionMask(t *testing.T) {
	l := chapter(t, "attention")
	on := screen(l, Defaults(l.Controls()).With("row", "fit"), 79, 36)
	if !strings.Contains(on, "−∞") || !strings.Contains(on, " ·") {
		t.Errorf("mask on: the future should show as · in the grid and −∞ in the mask row:\n%s", on)
	}
	off := screen(l, Defaults(l.Controls()).With("row", "trophy").With("mask", "false"), 79, 36)
	if strings.Contains(off, "−∞") {
		t.Errorf("mask off still masks:\n%s", off)
	}
	for _, line := range strings.Split(off, "\n") {
		if strings.HasPrefix(line, "  The ") && strings.Contains(line, "·") {
			t.Errorf("mask off: the first row still hides the future: %q", line)
		}
	}
	r := sim.Attention(sim.AttentionHeads()[0], 1, false)[1]
	future := 1 - r.Weights[0] - r.Weights[1]
	if want := fmt.Sprintf("\"trophy\" puts %.0f%% of its attention on words that come after it", 100*future); !strings.Contains(flat(off), want) {
		t.Errorf("mask off lacks %q:\n%s", want, off)
	}
}

func TestAttentionTemperatureNote(t *testing.T) {
	l := chapter(t, "attention")
	cold := flat(screen(l, Defaults(l.Controls()).With("temp", "0.1"), 79, 36))
	hot := flat(screen(l, Defaults(l.Controls()).With("temp", "5"), 79, 36))
	if !strings.Contains(cold, "T = 0.1 sharpens") || !strings.Contains(cold, "argmax") {
		t.Errorf("T=0.1 note:\n%s", cold)
	}
	if !strings.Contains(hot, "T = 5.0 flattens") || !strings.Contains(hot, "1/6 = 0.17") {
		t.Errorf("T=5 note:\n%s", hot)
	}
}

func TestAttentionSpotsHighlightRows(t *testing.T) {
	l := chapter(t, "attention")
	spots := l.(Spotter).Spots(Defaults(l.Controls()))
	if len(spots) != 6 || spots[5].ID != "row:it" || spots[2].ID != "row:didnt" {
		t.Fatalf("spots %v", spots)
	}
	out := ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: Defaults(l.Controls()), Width: 79, Height: 36, Spot: "row:trophy"}))
	if !strings.Contains(out, "▸ trophy") || strings.Contains(out, "▸ it") || !strings.Contains(out, `row "trophy"`) {
		t.Errorf("spot row:trophy not highlighted:\n%s", out)
	}
}

func TestAttentionPolls(t *testing.T) {
	l := chapter(t, "attention")
	polls := l.(Poller).Polls(Defaults(l.Controls()).With("temp", "2"))
	if len(polls) != 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "cold":
			if p.Choices[p.Correct] != "trophy" {
				t.Errorf("cold: %q", p.Choices[p.Correct])
			}
		case "trophy":
			want := sim.Attention(sim.AttentionHeads()[0], 2, true)[5].Weights[1]
			if p.Truth != want || p.Kind != Estimate {
				t.Errorf("trophy truth %v, want %v", p.Truth, want)
			}
		case "first":
			if p.Correct != 0 {
				t.Errorf("first: %d", p.Correct)
			}
		default:
			t.Errorf("unknown poll %q", p.ID)
		}
	}
}

func TestAttentionViews(t *testing.T) {
	l := chapter(t, "attention")
	off := Defaults(l.Controls()).With("mask", "false").With("row", "trophy")
	prev := Defaults(l.Controls()).With("head", "previous").With("row", "fit")
	sink := Defaults(l.Controls()).With("head", "first").With("temp", "0.1")
	checkGolden(t, "attention-maskoff", l, off)
	checkGolden(t, "attention-previous", l, prev)
	checkGolden(t, "attention-sink-cold", l, sink)
	for name, v := range map[string]Values{"maskoff": off, "previous": prev, "sink": sink,
		"hot": Defaults(l.Controls()).With("temp", "5").With("row", "the")} {
		checkFitsEverywhere(t, "attention-"+name, l, v)
	}
}

func TestAttentionRespondsToEveryControl(t *testing.T) {
	l := chapter(t, "attention")
	base := Defaults(l.Controls())
	before := screen(l, base, 79, 36)
	for _, c := range l.Controls() {
		v := withLinked(l, base, c.Key, c.Adjust(base[c.Key], 1))
		if screen(l, v, 79, 36) == before {
			t.Errorf("moving %s changed nothing on screen", c.Key)
		}
	}
}

// The mask is a step of its own, as in softmax(QKᵀ/√d_k + M) with M = 0 on
// visible keys and −∞ on later ones (Vaswani et al. 2017, §3.2.3: "masking
// out (setting to −∞) all values in the input of the softmax which
// correspond to illegal connections"): the ÷T row keeps every computed
// score, and only the "+ mask" row holds −∞, under exactly the keys that
// come after the query.
func TestAttentionMaskHasItsOwnRow(t *testing.T) {
	l := chapter(t, "attention")
	rowOf := func(out, label string) []string {
		for _, ln := range strings.Split(out, "\n") {
			if rest, ok := strings.CutPrefix(ln, label+" "); ok {
				return strings.Fields(rest)
			}
		}
		t.Fatalf("no %q row:\n%s", label, out)
		return nil
	}
	for _, mask := range []string{"true", "false"} {
		out := screen(l, Defaults(l.Controls()).With("row", "fit").With("mask", mask), 79, 36)
		r := sim.Attention(sim.AttentionHeads()[0], 1, mask == "true")[3]
		temp, m := rowOf(out, "÷T"), rowOf(out, "+ mask")
		if len(temp) != 6 || len(m) != 6 {
			t.Fatalf("mask=%s: ÷T %q, + mask %q", mask, temp, m)
		}
		for j := range 6 {
			if want := fmt.Sprintf("%.2f", r.Tempered[j]); temp[j] != want {
				t.Errorf("mask=%s key %d: ÷T shows %q, want the score %s", mask, j, temp[j], want)
			}
			want := "0"
			if mask == "true" && j > 3 {
				want = "−∞"
			}
			if m[j] != want {
				t.Errorf("mask=%s key %d: + mask shows %q, want %q", mask, j, m[j], want)
			}
		}
	}
}
