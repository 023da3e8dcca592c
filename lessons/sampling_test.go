package lessons

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

func siRender(l Lesson, v Values, class Tally, spot string, w, h int) string {
	return ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: v, Width: w, Height: h, Class: class, Spot: spot}))
}

func siWant(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

func TestSamplingShowsTheCut(t *testing.T) {
	l := chapter(t, "sampling")
	v := Defaults(l.Controls())
	// Defaults T = 1, top-p 0.9: the eight most likely words reach 0.92
	// (sim's sampling tests check the arithmetic).
	out := siRender(l, v, nil, "", 79, 36)
	siWant(t, "default render", out, "top-p 0.90", "entropy 2.52 bits", "8 of 16 words", "41.0%", "100 draws, seed 1",
		"logits → ÷T → softmax → top-k → top-p → min-p → renormalise → draw", "Hugging Face",
		"llama.cpp's default", "would keep 8 words")

	greedy := siRender(l, v.With("temperature", "0"), nil, "", 79, 36)
	siWant(t, "greedy render", greedy, "100.0%", "entropy 0.00 bits", "1 of 16 words", "greedy")

	one := siRender(l, v.With("draws", "1").With("seed", "5"), nil, "", 79, 36)
	siWant(t, "one draw", one, "◀ drawn", "your draw (seed 5)", "drew “")

	if siRender(l, v.With("seed", "2"), nil, "", 79, 36) == out {
		t.Error("another seed drew exactly the same histogram")
	}
	if siRender(l, v, nil, "", 79, 36) != out {
		t.Error("the same values rendered differently")
	}
	// At 80×13, the body a session leaves under six controls, the kept
	// words and the cut line still show.
	small := siRender(l, v, nil, "", 80, 13)
	siWant(t, "80×13 render", small, "mat", "top-p 0.90", "8 of 16 words")
}

func TestSamplingClassHistogram(t *testing.T) {
	l := chapter(t, "sampling")
	s := l.(*Sampling)
	class := Tally{SampleKey("mat"): 40, SampleKey("floor"): 22, "sample:unicorn": 9, "vote:a": 3, SampleKey("sofa"): -4}
	out := siRender(l, Defaults(l.Controls()), class, "", 79, 36)
	siWant(t, "class render", out, "class: 62 samples", " 40", " 22")
	if strings.Contains(out, "your 100 draws") {
		t.Errorf("class samples should replace the learner's own draws:\n%s", out)
	}
	if SampleKey("mat") != "sample:mat" {
		t.Errorf("SampleKey = %q", SampleKey("mat"))
	}
	words := s.SampleWords()
	if len(words) != 16 || words[0] != "mat" {
		t.Errorf("SampleWords = %v", words)
	}
	// A student's draw is one of the words still allowed.
	v := Defaults(l.Controls()).With("top_k", "2")
	for seed := uint64(0); seed < 50; seed++ {
		if w := s.Draw(v, seed); w != "mat" && w != "floor" {
			t.Fatalf("top-k 2 drew %q", w)
		}
	}
}

func TestSamplingPollsAndSpots(t *testing.T) {
	l := chapter(t, "sampling")
	v := Defaults(l.Controls())
	polls := l.(Poller).Polls(v)
	if len(polls) < 1 || len(polls) > 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "greedy":
			if p.Choices[p.Correct] != "mat" {
				t.Errorf("greedy answer %q, want mat", p.Choices[p.Correct])
			}
		case "kept":
			if p.Truth != 8 {
				t.Errorf("kept truth %v, want 8 at the defaults", p.Truth)
			}
		case "hotter":
			if p.Correct != 0 {
				t.Errorf("hotter correct %d", p.Correct)
			}
		default:
			t.Errorf("unexpected poll %q", p.ID)
		}
		if p.Kind == MultipleChoice && (p.Correct < 0 || p.Correct >= len(p.Choices) || len(p.Choices) > MaxChoices) {
			t.Errorf("%s: correct %d of %d", p.ID, p.Correct, len(p.Choices))
		}
	}
	spots := l.(Spotter).Spots(v)
	if len(spots) < 16 {
		t.Fatalf("%d spots", len(spots))
	}
	for _, id := range []string{"bar:floor", "topp", "entropy"} {
		out := siRender(l, v, nil, id, 79, 36)
		if !strings.Contains(out, "▶") {
			t.Errorf("spot %s not marked:\n%s", id, out)
		}
	}
}

func TestSamplingViews(t *testing.T) {
	l := chapter(t, "sampling")
	d := Defaults(l.Controls())
	checkGolden(t, "sampling-greedy", l, d.With("temperature", "0"))
	checkGolden(t, "sampling-cuts", l, d.With("temperature", "1.5").With("top_k", "10").With("min_p", "0.2").With("draws", "1"))
	for name, v := range map[string]Values{
		"sampling-hot":   d.With("temperature", "3").With("top_p", "1"),
		"sampling-tight": d.With("temperature", "0.05").With("top_p", "0.05").With("top_k", "1").With("min_p", "0.5"),
		"sampling-bad":   Values{"temperature": "NaN", "top_k": "-3", "top_p": "9", "min_p": "x", "draws": "7", "seed": "1e9"},
	} {
		checkFitsEverywhere(t, name, l, v)
	}
	// With class input too.
	class := Tally{SampleKey("mat"): 1_000_000, SampleKey("moon"): 3}
	for _, mono := range []bool{false, true} {
		for _, size := range [][2]int{{80, 8}, {80, 13}, {79, 36}, {250, 80}} {
			out := l.Render(Frame{Theme: ui.NewTheme(mono), Values: d, Width: size[0], Height: size[1], Class: class})
			checkFits(t, "sampling-class", out, size[0])
		}
	}
}

// Each column of the chart is one scale, named in its header: the
// probability after ÷T (what the cuts read), the running total top-p
// measured, what cut the word, and the final probability (the survivors
// rescaled to 100%). At the defaults (T = 1, top-p 0.9) the eight kept
// words hold 92.3% after ÷T, so "mat" goes from 37.8% to 37.8/0.923 =
// 41.0%; "table", the first word past the line, had 2.3% and is cut by
// top-p (sim's sampling tests check the arithmetic).
func TestSamplingColumnsAreOneScaleEach(t *testing.T) {
	l := chapter(t, "sampling")
	v := Defaults(l.Controls())
	out := siRender(l, v, nil, "", 120, 40)
	siWant(t, "header", out, "p after ÷T", "Σ top-p", "cut by", "final", "Columns: p after ÷T is what the cuts read")
	row := func(word string) []string {
		for _, ln := range strings.Split(out, "\n") {
			if f := strings.Fields(ln); len(f) > 0 && f[0] == word {
				return f
			}
		}
		t.Fatalf("no row for %q:\n%s", word, out)
		return nil
	}
	// word, bar, after ÷T, Σ top-p, final, │, draws bar, count.
	if f := row("mat"); f[2] != "37.8%" || f[3] != "37.8%" || f[4] != "41.0%" {
		t.Errorf("mat row %q, want 37.8%% after ÷T, 37.8%% Σ, 41.0%% final", f)
	}
	if f := row("couch"); f[2] != "3.4%" || f[3] != "92.3%" || f[4] != "3.7%" {
		t.Errorf("couch row %q, want 3.4%%, Σ 92.3%%, final 3.7%%", f)
	}
	if f := row("table"); f[2] != "2.3%" || f[3] != "top-p" || f[4] != "0" {
		t.Errorf("table row %q, want 2.3%% after ÷T, cut by top-p, final 0", f)
	}
	// Greedy has nothing to temper: the first column is the model's own
	// distribution, and says so.
	greedy := siRender(l, v.With("temperature", "0"), nil, "", 120, 40)
	siWant(t, "greedy header", greedy, "model's own p (T = 0)", "greedy")
}

// The chapter's idea comes first and nothing is dropped on a short frame:
// at 80×8 the prose opens the body, every word keeps its row (the cut ones
// are what the chart is for), and the column notes follow. A single class
// sample reads in the singular.
func TestSamplingScrollsRatherThanDrops(t *testing.T) {
	l := chapter(t, "sampling")
	s := l.(*Sampling)
	out := siRender(l, Defaults(l.Controls()), Tally{SampleKey("mat"): 1}, "", 80, 8)
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[2], "For every word it knows") {
		t.Errorf("80×8 should open with the idea after the title:\n%s", out)
	}
	for _, w := range s.SampleWords() {
		if !strings.Contains(out, "  "+w+" ") {
			t.Errorf("80×8 lacks the row of %q:\n%s", w, out)
		}
	}
	siWant(t, "80×8 render", out, "Columns: p after ÷T", "class: 1 sample", "8 of 16 words can be said")
	if strings.Contains(out, "1 samples") || strings.Contains(out, "more words") {
		t.Errorf("80×8 says %q or summarises words away:\n%s", "1 samples", out)
	}
}
