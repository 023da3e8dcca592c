package lessons

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

func TestPosttrainViews(t *testing.T) {
	l := chapter(t, "posttrain")
	d := Defaults(l.Controls())
	picks := d.With("step", "reward").With("pick_ab", "a").With("pick_ac", "a").With("pick_bd", "b").With("pick_cd", "c")
	for name, v := range map[string]Values{
		"posttrain-mask-all":  d.With("mask", "all"),
		"posttrain-reward":    picks,
		"posttrain-rlhf":      d.With("step", "rlhf"),
		"posttrain-hacking":   d.With("step", "rlhf").With("beta", "0.02"),
		"posttrain-reasoning": d.With("step", "reasoning"),
	} {
		checkGolden(t, name, l, v)
		checkFitsEverywhere(t, name, l, v)
	}
	for _, v := range []Values{
		d.With("step", "reasoning").With("p", "0.99").With("k", "64").With("seed", "99"),
		d.With("step", "reasoning").With("p", "0.01").With("k", "13"),
		d.With("step", "rlhf").With("beta", "10"),
		d.With("step", "rlhf").With("beta", "0.01"),
	} {
		checkFitsEverywhere(t, "posttrain-"+v["step"], l, v)
	}
	// Spots and a big class tally, at the sizes a session gives.
	class := Tally{"vote:ab:a": 999999, "vote:cd:d": 12, "vote:bd:b": 40}
	for _, step := range []string{"sft", "reward", "rlhf", "reasoning"} {
		v := d.With("step", step)
		for _, s := range append(l.(Spotter).Spots(v), Spot{ID: "nonsense"}) {
			for _, mono := range []bool{false, true} {
				for _, size := range [][2]int{{80, 12}, {80, 24}, {79, 36}, {200, 60}} {
					out := l.Render(Frame{Theme: ui.NewTheme(mono), Values: v, Width: size[0], Height: size[1], Spot: s.ID, Class: class})
					checkFits(t, "posttrain "+step+" "+s.ID, out, size[0], size[1])
				}
			}
		}
	}
}

func TestPosttrainRespondsToEveryControl(t *testing.T) {
	l := chapter(t, "posttrain")
	base := Defaults(l.Controls())
	for _, c := range l.Controls() {
		v := base
		if step, ok := strings.CutPrefix(c.When, "step="); ok {
			v = base.With("step", step)
		}
		other := c.Adjust(v[c.Key], 1)
		if renderPlain(l, v, 120, 40, "") == renderPlain(l, v.With(c.Key, other), 120, 40, "") {
			t.Errorf("changing %s from %q to %q changes nothing", c.Key, v[c.Key], other)
		}
	}
}

// The SFT example is real harmony tokens: o200k_base text between the
// format's special tokens (<|start|> 200006, <|message|> 200008, <|end|>
// 200007, <|return|> 200002, as in gpt-oss's tokenizer config).
func TestPosttrainSFTTokens(t *testing.T) {
	l := chapter(t, "posttrain")
	d := Defaults(l.Controls())
	out := renderPlain(l, d, 120, 40, "")
	for _, want := range []string{"200006", "200008", "200007", "200002", "<|return|>", "Loss on 10 of 32 tokens (31%)"} {
		if !strings.Contains(out, want) {
			t.Errorf("SFT view lacks %q:\n%s", want, out)
		}
	}
	if all := renderPlain(l, d.With("mask", "all"), 120, 40, ""); !strings.Contains(all, "Loss on 32 of 32 tokens (100%)") {
		t.Errorf("mask=all:\n%s", all)
	}
}

// The reward step reads "vote:<pair>:<winner>" from the class tally, in
// preference to the learner's own picks, and ignores anything else.
func TestPosttrainRewardReadsClassVotes(t *testing.T) {
	l := chapter(t, "posttrain")
	v := Defaults(l.Controls()).With("step", "reward")
	render := func(v Values, class Tally) string {
		return ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: v, Width: 120, Height: 40, Class: class}))
	}
	none := render(v, nil)
	if !strings.Contains(none, "no votes yet") || strings.Count(none, "+0.00") != 4 {
		t.Errorf("no votes should leave every score at 0:\n%s", none)
	}
	junk := render(v, Tally{"vote:ab:c": 5, "vote:ab:a": -3, "sample:mat": 9, "vote:zz:a": 4})
	if junk != none {
		t.Errorf("unknown keys or negative counts changed the fit:\n%s", junk)
	}
	mine := render(v.With("pick_ab", "b"), nil)
	if !strings.Contains(mine, "your 1 vote ") || !strings.Contains(mine, "B vs") {
		t.Errorf("own pick not used:\n%s", mine)
	}
	class := Tally{"vote:ab:a": 12, "vote:ab:b": 3, "vote:ad:a": 14, "vote:cd:c": 11, "vote:cd:d": 1}
	got := render(v.With("pick_ab", "b"), class)
	if !strings.Contains(got, "41 class votes") || !strings.Contains(got, "12:3") {
		t.Errorf("class votes not used:\n%s", got)
	}
	// A wins 26 of 29 of its comparisons: it must get the top score.
	re := regexp.MustCompile(`([ABCD]) [ #]*│[# ]* ([+-]\d+\.\d+)\s*$`)
	best, bestScore, n := "", math.Inf(-1), 0
	for _, ln := range strings.Split(got, "\n") {
		m := re.FindStringSubmatch(ln)
		if m == nil {
			continue
		}
		n++
		if s, err := strconv.ParseFloat(m[2], 64); err == nil && s > bestScore {
			best, bestScore = m[1], s
		}
	}
	if n != 4 || best != "A" {
		t.Errorf("%d score rows, top %s (%v), want 4 and A:\n%s", n, best, bestScore, got)
	}
}

func TestPosttrainRLHFBeta(t *testing.T) {
	l := chapter(t, "posttrain")
	v := Defaults(l.Controls()).With("step", "rlhf")
	if out := renderPlain(l, v.With("beta", "0.02"), 120, 40, ""); !strings.Contains(out, "Reward hacking") {
		t.Errorf("β=0.02 should show reward hacking:\n%s", out)
	}
	if out := renderPlain(l, v.With("beta", "10"), 120, 40, ""); !strings.Contains(out, "barely moves") {
		t.Errorf("β=10 should stay at the reference:\n%s", out)
	}
}

func TestPosttrainReasoning(t *testing.T) {
	l := chapter(t, "posttrain")
	v := Defaults(l.Controls()).With("step", "reasoning")
	out := renderPlain(l, v, 120, 40, "")
	// 1 − 0.8^8 = 0.8322.
	if !strings.Contains(out, "83.2%") || !strings.Contains(out, "Chen et al. 2021") {
		t.Errorf("reasoning view:\n%s", out)
	}
	if renderPlain(l, v.With("seed", "2"), 120, 40, "") == out {
		t.Error("a new seed draws the same attempts")
	}
}

func TestPosttrainPolls(t *testing.T) {
	l := chapter(t, "posttrain")
	polls := l.(Poller).Polls(Defaults(l.Controls()).With("p", "0.2").With("k", "8"))
	if len(polls) < 1 || len(polls) > 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		if p.Kind == Estimate {
			if math.Abs(p.Truth-100*(1-math.Pow(0.8, 8))) > 1e-9 {
				t.Errorf("%s truth %v", p.ID, p.Truth)
			}
			continue
		}
		if p.Correct < 0 || p.Correct >= len(p.Choices) || len(p.Choices) > 9 {
			t.Errorf("%s: correct %d of %d", p.ID, p.Correct, len(p.Choices))
		}
	}
}
