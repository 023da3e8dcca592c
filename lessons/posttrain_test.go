package lessons

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
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
					checkFits(t, "posttrain "+step+" "+s.ID, out, size[0])
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
// 200007, <|return|> 200002, as in OpenAI's harmony response format guide
// for gpt-oss). The instructions sit in the developer message under
// "# Instructions", as the guide's developer message format has them (the
// system message carries identity, dates and reasoning effort), and the
// heading names the format as gpt-oss's.
func TestPosttrainSFTTokens(t *testing.T) {
	l := chapter(t, "posttrain")
	d := Defaults(l.Controls())
	out := renderPlain(l, d, 120, 40, "")
	for _, want := range []string{"200006", "200008", "200007", "200002", "<|return|>", "Loss on 10 of 35 tokens (29%)",
		"gpt-oss's published chat format (OpenAI's harmony)", " developer ", "<|start|> developer <|message|> # ·Instructions"} {
		if !strings.Contains(out, want) {
			t.Errorf("SFT view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "system") {
		t.Errorf("the instructions belong in the developer message, not a system one:\n%s", out)
	}
	if all := renderPlain(l, d.With("mask", "all"), 120, 40, ""); !strings.Contains(all, "Loss on 35 of 35 tokens (100%)") {
		t.Errorf("mask=all:\n%s", all)
	}
	if small := renderPlain(l, d, 80, 24, ""); !strings.Contains(small, "gpt-oss") || strings.Contains(strings.SplitN(small, "\n", 2)[0], "…") {
		t.Errorf("80×24 heading should name gpt-oss whole:\n%s", small)
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
	// Scores are signed with "+" and "−" (U+2212), as the chapter writes
	// a minus everywhere.
	re := regexp.MustCompile(`([ABCD]) [ #]*│[# ]* ([+−]\d+\.\d+)\s*$`)
	best, bestScore, n := "", math.Inf(-1), 0
	for _, ln := range strings.Split(got, "\n") {
		m := re.FindStringSubmatch(ln)
		if m == nil {
			continue
		}
		n++
		if s, err := strconv.ParseFloat(strings.Replace(m[2], "−", "-", 1), 64); err == nil && s > bestScore {
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

// β is the strength of the KL penalty, so a small β is a long leash (the
// policy may stray far from π_ref) and a large β a short one: the words
// must say so, not the reverse.
func TestPosttrainLeashWording(t *testing.T) {
	l := chapter(t, "posttrain")
	v := Defaults(l.Controls()).With("step", "rlhf")
	for beta, want := range map[string]string{
		"0.02": "on so long a leash (a small β)",
		"10":   "So short a leash (a large β)",
		"1":    "Lower β, a longer leash",
	} {
		out := flat(renderPlain(l, v.With("beta", beta), 120, 40, ""))
		if !strings.Contains(out, want) {
			t.Errorf("β=%s lacks %q:\n%s", beta, want, out)
		}
		for _, wrong := range []string{"so little leash", "So much leash"} {
			if strings.Contains(out, wrong) {
				t.Errorf("β=%s says %q, the leash the wrong way round", beta, wrong)
			}
		}
	}
	c, _ := ControlByKey(l, "beta")
	if !strings.Contains(c.Help, "small β is a long one") {
		t.Errorf("β help %q", c.Help)
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

// pass@k is a test-time figure (best of k with a verifier); training moves
// p. The view shows GRPO's group-relative signal (DeepSeekMath §4.1.2:
// advantage = (r − mean)/std over the group), zero when the whole group
// fails or passes, and a toy run in which p rises (sim.GRPOToy).
func TestPosttrainReasoningSignal(t *testing.T) {
	l := chapter(t, "posttrain")
	v := Defaults(l.Controls()).With("step", "reasoning")
	// Seed 1 at p = 0.2 draws 2 passes of 16: +√7 = +2.65 for each pass,
	// −√(1/7) = −0.38 for each fail; 1 − 0.2¹⁶ − 0.8¹⁶ = 97.2% of groups
	// carry a signal.
	out := flat(renderPlain(l, v, 120, 40, ""))
	for _, want := range []string{"A training group of 16 (seed 1)", "→ 2 pass",
		"advantage (r − mean)/std: each ✓ +2.65, each ✗ −0.38 (mean 0.12, std 0.33)",
		"1 − p^16 − (1 − p)^16 = 97.2%", "Training moves p:", "Test time: best of k with a verifier",
		"GRPO (DeepSeekMath, Shao et al. 2024)"} {
		if !strings.Contains(out, want) {
			t.Errorf("reasoning view lacks %q:\n%s", want, out)
		}
	}
	steps, final := sim.GRPOToy(0.2, 16, ptTrainSteps, ptLearningRate, 1)
	idle := 0
	for _, s := range steps {
		if s.Step == 0 {
			idle++
		}
	}
	if want := fmt.Sprintf("0.20 → %.2f; %d of %d groups had no signal", final, idle, ptTrainSteps); !strings.Contains(out, want) {
		t.Errorf("reasoning view lacks %q:\n%s", want, out)
	}
	if final <= 0.2 {
		t.Errorf("training left p at %v", final)
	}
	// A problem it never solves: the group all fails and teaches nothing.
	hard := flat(renderPlain(l, v.With("p", "0.01"), 120, 40, ""))
	if !strings.Contains(hard, "→ 0 pass") || !strings.Contains(hard, "advantages all 0: every try failed, so this group has no signal") {
		t.Errorf("p = 0.01:\n%s", hard)
	}
	// Find a seed whose group all passes at p = 0.99.
	for seed := 1; seed <= 99; seed++ {
		out := flat(renderPlain(l, v.With("p", "0.99").With("seed", fmt.Sprint(seed)), 120, 40, ""))
		if strings.Contains(out, "→ 16 pass") {
			if !strings.Contains(out, "advantages all 0: every try passed") {
				t.Errorf("all pass, seed %d:\n%s", seed, out)
			}
			return
		}
	}
	t.Error("no seed drew 16 passes at p = 0.99")
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
		if p.Correct < 0 || p.Correct >= len(p.Choices) || len(p.Choices) > MaxChoices {
			t.Errorf("%s: correct %d of %d", p.ID, p.Correct, len(p.Choices))
		}
	}
}

// Each question is about one step and is offered only while that step is
// on screen: the leash question was once opened over the SFT chat.
func TestPosttrainPollsNameTheirStep(t *testing.T) {
	l := chapter(t, "posttrain")
	want := map[string]string{"sft-loss": "step=sft", "beta-zero": "step=rlhf", "passk": "step=reasoning"}
	checkPollWhens(t, l, want)
}

// Every step opens with its idea and keeps all it says at 80×8: the token
// IDs the heading promises, the answers whole, the sweep of β.
func TestPosttrainScrollsRatherThanDrops(t *testing.T) {
	l := chapter(t, "posttrain")
	d := Defaults(l.Controls())
	for step, want := range map[string][]string{
		"sft":       {"A pretrained model continues any text.", "200006", "At answer time the server"},
		"reward":    {"Nobody can write down a score", "you're doing great!", "C vs D", "Each pair also counts"},
		"rlhf":      {"RLHF lets the model try answers", "flattering", "r: the reward model's score"},
		"reasoning": {"Some answers can be checked", "pass@k = 1 − (1 − p)^k", "Why compute moved to answer time"},
	} {
		out := renderPlain(l, d.With("step", step), 80, 8, "")
		if lines := strings.Split(out, "\n"); len(lines) < 3 || !strings.HasPrefix(lines[2], want[0]) {
			t.Errorf("%s at 80×8 should open with %q:\n%s", step, want[0], out)
		}
		for _, w := range want[1:] {
			if !strings.Contains(out, w) {
				t.Errorf("%s at 80×8 lacks %q:\n%s", step, w, out)
			}
		}
	}
}

// The chapter writes a minus as "−" everywhere, the RLHF and reward tables
// included, and counts of one in the singular.
func TestPosttrainMinusAndSingular(t *testing.T) {
	l := chapter(t, "posttrain")
	d := Defaults(l.Controls())
	ascii := regexp.MustCompile(`(^|[^\pL\pN])-\d`)
	for _, v := range []Values{d.With("step", "rlhf"), d.With("step", "rlhf").With("beta", "0.02"),
		d.With("step", "reward").With("pick_ab", "a").With("pick_cd", "d")} {
		if out := renderPlain(l, v, 120, 40, ""); ascii.MatchString(out) || !strings.Contains(out, "−") {
			t.Errorf("%s: an ASCII minus, or no minus at all:\n%s", v["step"], out)
		}
	}
	one := ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: d.With("step", "reward"), Width: 120, Height: 40,
		Class: Tally{"vote:ab:a": 1}}))
	if !strings.Contains(one, "fitted to 1 class vote ") {
		t.Errorf("one class vote:\n%s", one)
	}
	// A group that all passes, read at k = 1.
	for seed := 1; seed <= 99; seed++ {
		out := flat(renderPlain(l, d.With("step", "reasoning").With("p", "0.99").With("k", "1").With("seed", fmt.Sprint(seed)), 120, 40, ""))
		if strings.Contains(out, "→ 16 pass") {
			if !strings.Contains(out, "pass@1 ≈ 1, as every one passed") || strings.Contains(out, "any 1 of them") {
				t.Errorf("all pass at k = 1, seed %d:\n%s", seed, out)
			}
			return
		}
	}
	t.Error("no seed drew 16 passes at p = 0.99")
}
