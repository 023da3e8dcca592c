package lessons

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

func renderPlain(l Lesson, v Values, w, h int, spot string) string {
	return ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: v, Width: w, Height: h, Spot: spot}))
}

func TestParallelViews(t *testing.T) {
	l := chapter(t, "parallel")
	d := Defaults(l.Controls())
	for name, v := range map[string]Values{
		"parallel-pipeline-70b": d.With("mode", "pipeline").With("preset", "llama3.1-70b"),
		"parallel-fsdp-70b":     d.With("mode", "fsdp").With("preset", "llama3.1-70b"),
		"parallel-3d":           d.With("mode", "3d").With("preset", "llama3.1-70b").With("split", "dp1-pp2-tp8"),
		"parallel-timeline":     d.With("view", "timeline"),
		"parallel-1f1b":         d.With("view", "timeline").With("schedule", "1f1b").With("stages", "8").With("micro", "32"),
	} {
		checkGolden(t, name, l, v)
		checkFitsEverywhere(t, name, l, v)
	}
	// Every mode and model, at the extremes of the sliders, with every spot.
	for i, mode := range []string{"data", "pipeline", "tensor", "fsdp", "3d"} {
		preset := []string{"gpt2-small", "llama3.1-405b"}[i%2]
		v := d.With("mode", mode).With("preset", preset).With("micro", "32").With("recompute", "false").With("gpu", "15")
		checkFitsEverywhere(t, "parallel-"+mode+"-"+preset, l, v)
	}
	for _, v := range []Values{d, d.With("view", "timeline").With("stages", "8").With("micro", "1")} {
		for _, s := range l.(Spotter).Spots(v) {
			for _, h := range []int{12, 24, 36} {
				out := l.Render(Frame{Theme: ui.NewTheme(false), Values: v, Width: 80, Height: h, Spot: s.ID})
				checkFits(t, "parallel spot "+s.ID, out, 80, h)
			}
		}
	}
}

// Each control changes what is on screen.
func TestParallelRespondsToEveryControl(t *testing.T) {
	l := chapter(t, "parallel")
	base := Defaults(l.Controls())
	timeline := base.With("view", "timeline")
	for _, c := range l.Controls() {
		v := base
		if c.When == "view=timeline" || c.Key == "micro" {
			v = timeline
		}
		if c.When == "mode=3d" {
			v = base.With("mode", "3d")
		}
		other := c.Adjust(v[c.Key], 1)
		if other == v[c.Key] {
			t.Fatalf("%s: Adjust does not move it", c.Key)
		}
		if renderPlain(l, v, 120, 40, "") == renderPlain(l, v.With(c.Key, other), 120, 40, "") {
			t.Errorf("changing %s from %q to %q changes nothing", c.Key, v[c.Key], other)
		}
	}
}

func TestParallelShowsTheNumbers(t *testing.T) {
	l := chapter(t, "parallel")
	d := Defaults(l.Controls())
	// Llama 3.1 70B on a 16-stage pipeline: the first stage holds five
	// blocks and the embedding, 5.33B parameters, 85.3 GB of state.
	out := renderPlain(l, d.With("mode", "pipeline").With("preset", "llama3.1-70b"), 79, 36, "")
	for _, want := range []string{"1.13 TB", "L1-5", "L76-80", "5.33B params", "does not fit", "send to the next stage"} {
		if !strings.Contains(out, want) {
			t.Errorf("70B pipeline lacks %q:\n%s", want, out)
		}
	}
	fsdp := renderPlain(l, d.With("mode", "fsdp").With("preset", "llama3.1-70b"), 79, 36, "")
	for _, want := range []string{"All 16 GPUs fit", "78.8 GB", "all-gather", "reduce-scatter"} {
		if !strings.Contains(fsdp, want) {
			t.Errorf("70B FSDP lacks %q:\n%s", want, fsdp)
		}
	}
	tl := renderPlain(l, d.With("view", "timeline").With("stages", "4").With("micro", "8"), 79, 36, "")
	for _, want := range []string{"27.3%", "3/11", "22 time steps", "keeps 8", "would keep 4"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
}

func TestParallelLinkCarriesStages(t *testing.T) {
	l := chapter(t, "parallel")
	ln := l.(Linker)
	v := Defaults(l.Controls())
	if got := ln.Link(v.With("mode", "pipeline"), "mode")["stages"]; got != "8" {
		t.Errorf("pipeline mode → stages %q, want 8 (16 capped)", got)
	}
	if got := ln.Link(v.With("mode", "3d").With("split", "dp4-pp2-tp2"), "split")["stages"]; got != "2" {
		t.Errorf("3D PP2 → stages %q, want 2", got)
	}
	if got := ln.Link(v.With("mode", "data"), "mode")["stages"]; got != v["stages"] {
		t.Errorf("data mode moved stages to %q", got)
	}
}

func TestParallelPolls(t *testing.T) {
	l := chapter(t, "parallel")
	polls := l.(Poller).Polls(Defaults(l.Controls()).With("preset", "llama3.1-70b").With("stages", "4").With("micro", "8"))
	if len(polls) < 1 || len(polls) > 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "state":
			// 70,553,706,496 parameters × 16 bytes.
			if math.Abs(p.Truth-1128.859303936) > 1e-6 {
				t.Errorf("state truth %v GB", p.Truth)
			}
		case "bubble":
			if math.Abs(p.Truth-300.0/11) > 1e-9 {
				t.Errorf("bubble truth %v%%, want 27.27", p.Truth)
			}
		default:
			if p.Kind != MultipleChoice || p.Correct < 0 || p.Correct >= len(p.Choices) {
				t.Errorf("%s: correct %d of %d", p.ID, p.Correct, len(p.Choices))
			}
		}
	}
}
