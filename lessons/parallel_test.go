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
				checkFits(t, "parallel spot "+s.ID, out, 80)
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

// 1F1B keeps at most p micro-batches' activations where GPipe keeps all m
// (Narayanan et al. 2021, §2.2), so the two differ only when m > p; the
// text says which case is on screen instead of "1F1B would keep 8" beside a
// GPipe that also keeps 8.
func TestParallelTimelineMemoryAdapts(t *testing.T) {
	l := chapter(t, "parallel")
	tl := Defaults(l.Controls()).With("view", "timeline")
	for _, c := range []struct {
		stages, micro, sched string
		want, not            []string
	}{
		{"4", "8", "gpipe", []string{"keeps 8", "1F1B would keep 4", "less memory: here 4 micro-batches instead of 8"}, []string{"would too"}},
		{"4", "8", "1f1b", []string{"keeps 4", "GPipe would keep 8"}, []string{"would too"}},
		{"8", "8", "gpipe", []string{"keeps 8", "with m ≤ p, 1F1B would too", "the same memory too"}, []string{"would keep", "less memory:"}},
		{"8", "2", "1f1b", []string{"keeps 2", "with m ≤ p, GPipe would too", "m = 2 ≤ p = 8"}, []string{"would keep"}},
	} {
		out := renderPlain(l, tl.With("stages", c.stages).With("micro", c.micro).With("schedule", c.sched), 120, 40, "")
		flat := strings.Join(strings.Fields(out), " ")
		for _, w := range c.want {
			if !strings.Contains(flat, w) {
				t.Errorf("p=%s m=%s %s lacks %q:\n%s", c.stages, c.micro, c.sched, w, out)
			}
		}
		for _, w := range c.not {
			if strings.Contains(flat, w) {
				t.Errorf("p=%s m=%s %s says %q:\n%s", c.stages, c.micro, c.sched, w, out)
			}
		}
	}
}

// The 3D view says how frontier runs really split their models, from
// sim.PublishedSplits (Llama 3 paper §3.3.2 Table 4; DeepSeek-V3 technical
// report §3.2), instead of claiming the largest models train with DP × PP ×
// TP alone.
func TestParallel3DNamesRealRuns(t *testing.T) {
	l := chapter(t, "parallel")
	out := renderPlain(l, Defaults(l.Controls()).With("mode", "3d"), 160, 60, "")
	flat := strings.Join(strings.Fields(out), " ")
	for _, w := range []string{"Llama 3 405B used 4D parallelism", "TP 8 × CP 1 × PP 16 × DP 64 (FSDP) on 8,192 H100s",
		"went to 16 for its 131,072-token sequences", "DeepSeek-V3 used 16-way pipeline, 64-way expert and ZeRO-1 data parallelism on 2,048 H800s",
		"no tensor parallelism"} {
		if !strings.Contains(flat, w) {
			t.Errorf("3D view lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(flat, "The largest models train this way") {
		t.Errorf("3D view still says the largest models train with 3D alone:\n%s", out)
	}
}

// The training state and tensor parallelism are read off the cluster and
// the bubble off the timeline: each question is offered only in its view.
func TestParallelPollsNameTheirView(t *testing.T) {
	l := chapter(t, "parallel")
	checkPollWhens(t, l, map[string]string{"state": "view=cluster", "bubble": "view=timeline", "tp-node": "view=cluster"})
}

// Each view opens with its idea, draws every tile line, and keeps all it
// says at 80×8; a count of one reads in the singular.
func TestParallelScrollsRatherThanDrops(t *testing.T) {
	l := chapter(t, "parallel")
	d := Defaults(l.Controls())
	for v, idea := range map[string]string{
		"cluster":  "Data parallel: every GPU keeps a whole copy",
		"timeline": "A pipeline cuts the layers into p stages",
	} {
		out := renderPlain(l, d.With("view", v), 80, 8, "")
		if lines := strings.Split(out, "\n"); len(lines) < 3 || !strings.HasPrefix(lines[2], idea) {
			t.Errorf("%s at 80×8 should open with %q:\n%s", v, idea, out)
		}
	}
	// The tiles keep their third line (the copy each GPU holds) and the
	// notes stay, however short the frame.
	flat := strings.Join(strings.Fields(renderPlain(l, d, 80, 8, "")), " ")
	for _, want := range []string{"DP15", "Per step: compute", "Training state is 16 bytes a parameter"} {
		if !strings.Contains(flat, want) {
			t.Errorf("80×8 cluster lacks %q:\n%s", want, flat)
		}
	}
	last := strings.Join(strings.Fields(renderPlain(l, d.With("mode", "pipeline").With("gpu", "15"), 80, 8, "")), " ")
	if !strings.Contains(last, "· 1 micro-batch in flight") {
		t.Errorf("the last stage holds one micro-batch:\n%s", last)
	}
	one := strings.Join(strings.Fields(renderPlain(l, d.With("view", "timeline").With("micro", "1"), 80, 8, "stage:2")), " ")
	for _, want := range []string{"4 stages · 1 micro-batch · 8 time steps", "keeps 1 micro-batch's activations",
		"keeps up to 1 micro-batch."} {
		if !strings.Contains(one, want) {
			t.Errorf("m = 1 lacks %q:\n%s", want, one)
		}
	}
	for _, p := range l.(Poller).Polls(d.With("micro", "1")) {
		if strings.Contains(p.Question, "1 micro-batches") {
			t.Errorf("%s: %q", p.ID, p.Question)
		}
	}
}
