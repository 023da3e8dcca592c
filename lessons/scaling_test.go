package lessons

import (
	"strconv"
	"strings"
	"testing"

	"github.com/expedition-llm/expedition/sim"
)

// The published compute figures each run must put on screen, as 6·N·D:
//
//   - GPT-3: 175B on 300B tokens → 3.15e23 (Brown et al. 2020 Table D.1
//     reports 3.14e23 from the exact 174.6B).
//   - Chinchilla: 70B on 1.4T → 5.88e23 (Hoffmann et al. 2022).
//   - Llama 3 8B: 8B on 15T → 7.20e23 (Meta model card: 15T tokens).
//   - Llama 3.1 405B: 405B on 15.6T → 3.79e25 (the Llama 3 paper, section
//     3.2.1, rounds to 3.8e25).
//   - DeepSeek-V3: 37B active on 14.8T → 3.29e24 (DeepSeek-V3 technical
//     report: 37B activated of 671B, 14.8T tokens).
func TestScalingShowsPublishedCompute(t *testing.T) {
	l := chapter(t, "scaling")
	want := map[string][]string{
		"gpt3":          {"175.0B × 1.71 = 300.0B tokens", "C = 6·N·D = 3.15e23 FLOPs"},
		"chinchilla":    {"70.0B × 20 = 1.40T tokens", "C = 6·N·D = 5.88e23 FLOPs"},
		"llama3-8b":     {"8.00B × 1,875 = 15.0T tokens", "C = 6·N·D = 7.20e23 FLOPs"},
		"llama3.1-405b": {"405.0B × 38.5 = 15.6T tokens", "C = 6·N·D = 3.79e25 FLOPs"},
		"deepseek-v3":   {"37.0B × 400 = 14.8T tokens", "C = 6·N·D = 3.29e24 FLOPs"},
	}
	for id, ws := range want {
		v := withLinked(l, Defaults(l.Controls()), "preset", id)
		for _, size := range [][2]int{{80, 12}, {79, 36}} {
			out := screen(l, v, size[0], size[1])
			for _, w := range ws {
				if !strings.Contains(out, w) {
					t.Errorf("%s at %dx%d lacks %q:\n%s", id, size[0], size[1], w, out)
				}
			}
		}
	}
}

// GPU time from first principles. Chinchilla's 5.88e23 FLOPs at 40% of the
// H100's 989.4 TFLOP/s dense BF16 peak (NVIDIA H100 whitepaper) is
// 5.88e23 / 395.76e12 = 1.486e9 GPU-seconds = 47.1 GPU-years (Julian), or
// 8.4 days on 2,048 GPUs, and 412,722 GPU-hours at $2 = $825.4K.
// Llama 3.1 405B at 40%: 3,035 GPU-years; its model card's 30.84M H100
// GPU-hours are 3,518 years, i.e. an average MFU of about 34.5%.
func TestScalingShowsCostAndLoss(t *testing.T) {
	l := chapter(t, "scaling")
	out := screen(l, Defaults(l.Controls()), 79, 36)
	for _, want := range []string{
		"H100 at 40% MFU (peak 989.4 TFLOP/s): 47.1 GPU-years",
		"= 8.4 days on 2,048 GPUs · $825.4K at $2.00 per GPU-hour",
		"L(N,D) = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 = 1.937",
		"Same C, best split: N 32.5B × D 3.02T",
		"Chinchilla's rule ≈20",
		"[computed]", "[estimate]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama3.1-405b")
	if out := screen(l, v, 79, 36); !strings.Contains(out, "3,035 GPU-years") {
		t.Errorf("405B screen lacks 3,035 GPU-years:\n%s", out)
	}
	// More GPUs: fewer days, the same GPU-years and dollars.
	more := screen(l, Defaults(l.Controls()).With("gpus", "4096"), 79, 36)
	if !strings.Contains(more, "4.2 days on 4,096 GPUs · $825.4K") || !strings.Contains(more, "47.1 GPU-years") {
		t.Errorf("4,096 GPUs:\n%s", more)
	}
}

// The plot marks every published run and this one on the frontier.
func TestScalingPlot(t *testing.T) {
	l := chapter(t, "scaling")
	out := screen(l, Defaults(l.Controls()), 79, 36)
	for _, want := range []string{"GPT-3", "Llama 3 8B", "Llama 3.1 405B", "DeepSeek-V3 (active)", "@ Chinchilla",
		"best N for this C", "1e23", "1e26", "100B", "1T"} {
		if !strings.Contains(out, want) {
			t.Errorf("plot lacks %q:\n%s", want, out)
		}
	}
	custom := withLinked(l, Defaults(l.Controls()), "params", "0.1")
	custom = withLinked(l, custom, "tpp", "1")
	out = screen(l, custom, 79, 36)
	for _, want := range []string{"@ this run", "Chinchilla", "1e17", "100M"} {
		if !strings.Contains(out, want) {
			t.Errorf("custom plot lacks %q:\n%s", want, out)
		}
	}
}

// The over-training trade in words and numbers: Llama 3 8B costs about
// twice the training compute of the equal-loss optimal model and under a
// third of its serving compute (sim.CompareToOptimal); GPT-3 is too big.
func TestScalingTrade(t *testing.T) {
	l := chapter(t, "scaling")
	llama := flat(screen(l, withLinked(l, Defaults(l.Controls()), "preset", "llama3-8b"), 79, 36))
	tr := sim.ChinchillaFit().CompareToOptimal(8e9, 15e12)
	for _, want := range []string{"Over-trained", "26.1B on 2.31T tokens", "×1.99 its training compute", "×0.31 its compute per generated token"} {
		if !strings.Contains(llama, want) {
			t.Errorf("Llama 3 8B trade lacks %q (%+v):\n%s", want, tr, llama)
		}
	}
	gpt3 := flat(screen(l, withLinked(l, Defaults(l.Controls()), "preset", "gpt3"), 79, 36))
	if !strings.Contains(gpt3, "Under-trained") || !strings.Contains(gpt3, "more parameters than its data can feed") {
		t.Errorf("GPT-3 trade:\n%s", gpt3)
	}
}

func TestScalingLink(t *testing.T) {
	l := chapter(t, "scaling")
	v := withLinked(l, Defaults(l.Controls()), "preset", "deepseek-v3")
	if v["params"] != "37" || v["tpp"] != "400" {
		t.Fatalf("DeepSeek-V3 preset: %v", v)
	}
	if got := withLinked(l, v, "mfu", "55"); got["preset"] != "deepseek-v3" {
		t.Errorf("a hardware dial changed the preset to %q", got["preset"])
	}
	c, _ := ControlByKey(l, "params")
	moved := withLinked(l, v, "params", c.Adjust(v["params"], 1))
	if moved["preset"] != "custom" {
		t.Errorf("moving N left preset %q", moved["preset"])
	}
	if n := moved.Float("params"); n <= 37 || moved["params"] != strconv.FormatFloat(n, 'g', 3, 64) {
		t.Errorf("N one step up from 37 is %q, want a larger value to three figures", moved["params"])
	}
	back := withLinked(l, moved, "params", "37")
	if back["preset"] != "deepseek-v3" {
		t.Errorf("N back on 37 shows %q", back["preset"])
	}
	if c := withLinked(l, v, "preset", "custom"); c["preset"] != "custom" || c["params"] != "37" {
		t.Errorf("custom: %v", c)
	}
	// Every press of N and tokens/param moves, and reaches the ends.
	for _, key := range []string{"params", "tpp", "gpus"} {
		c, _ := ControlByKey(l, key)
		v := withLinked(l, Defaults(l.Controls()), key, c.Clamp("0"))
		prev := v.Float(key)
		for i := 0; i < 200 && prev < c.Max; i++ {
			v = withLinked(l, v, key, c.Adjust(v[key], 1))
			if v.Float(key) <= prev {
				t.Fatalf("%s: → from %v went to %v", key, prev, v[key])
			}
			prev = v.Float(key)
		}
		if prev != c.Max {
			t.Errorf("%s stopped at %v", key, prev)
		}
	}
}

func TestScalingPolls(t *testing.T) {
	l := chapter(t, "scaling")
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama3.1-405b").With("mfu", "40")
	polls := l.(Poller).Polls(v)
	if len(polls) != 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "gpu-years":
			want := sim.Cost(sim.TrainingFLOPs(405e9, 405e9*v.Float("tpp")), sim.H100BF16DenseFLOPS, 0.4, 1, 0).GPUYears
			if p.Truth != want || p.Truth < 3000 || p.Truth > 3100 {
				t.Errorf("gpu-years truth %v, want %v", p.Truth, want)
			}
		case "split":
			if p.Choices[p.Correct] != "Smaller, on more tokens" {
				t.Errorf("405B split: %q", p.Choices[p.Correct])
			}
		case "rule":
			if p.Choices[p.Correct] != "About 20" {
				t.Errorf("rule: %q", p.Choices[p.Correct])
			}
		default:
			t.Errorf("unknown poll %q", p.ID)
		}
	}
	small := withLinked(l, Defaults(l.Controls()), "preset", "llama3-8b")
	for _, p := range l.(Poller).Polls(small) {
		if p.ID == "split" && p.Choices[p.Correct] != "Bigger, on fewer tokens" {
			t.Errorf("Llama 3 8B split: %q", p.Choices[p.Correct])
		}
	}
}

func TestScalingViews(t *testing.T) {
	l := chapter(t, "scaling")
	ds := withLinked(l, Defaults(l.Controls()), "preset", "deepseek-v3")
	checkGolden(t, "scaling-deepseek", l, ds)
	llama := withLinked(l, Defaults(l.Controls()), "preset", "llama3-8b")
	checkGolden(t, "scaling-llama8b", l, llama)
	views := map[string]Values{}
	for _, o := range l.Controls()[0].Options {
		views[o.Value] = withLinked(l, Defaults(l.Controls()), "preset", o.Value)
	}
	lo, hi := Defaults(l.Controls()), Defaults(l.Controls())
	for _, c := range l.Controls() {
		if c.Kind == Slider {
			lo, hi = lo.With(c.Key, c.Clamp("-1e99")), hi.With(c.Key, c.Clamp("1e99"))
		}
	}
	views["min"], views["max"] = lo, hi
	views["mixed"] = lo.With("params", "10000").With("gpus", "8")
	for name, v := range views {
		checkFitsEverywhere(t, "scaling-"+name, l, v)
	}
}

func TestScalingRespondsToEveryControl(t *testing.T) {
	l := chapter(t, "scaling")
	base := Defaults(l.Controls())
	before := screen(l, base, 79, 36)
	for _, c := range l.Controls() {
		v := withLinked(l, base, c.Key, c.Adjust(base[c.Key], 1))
		if screen(l, v, 79, 36) == before {
			t.Errorf("moving %s changed nothing on screen", c.Key)
		}
	}
}
