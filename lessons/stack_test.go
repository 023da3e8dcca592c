package lessons

import (
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// withLinked sets key=value the way a session does: the value, then Link.
func withLinked(l Lesson, v Values, key, value string) Values {
	v = v.With(key, value)
	if ln, ok := l.(Linker); ok {
		v = ln.Link(v, key)
	}
	return v
}

func screen(l Lesson, v Values, w, h int) string {
	return ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: v, Width: w, Height: h}))
}

// flat joins a screen's wrapped lines, so a sentence can be looked for
// wherever it wrapped.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// The exact counts each preset must put on screen.
//
//   - GPT-2 small/medium/large/XL: num_parameters() of the Hugging Face
//     checkpoints openai-community/gpt2, -medium, -large, -xl; GPT-2 small
//     is V·d + n_ctx·d + L·(12d² + 13d) + 2d = 124,439,808.
//   - GPT-3 175B: Brown et al. 2020, Table D.1, 174,600M; the formula gives
//     174,604,259,328, within 0.003%.
//   - Llama 2 7B: meta-llama/Llama-2-7b-hf, 6,738,415,616.
//   - Llama 3 8B, 3.1 70B, 3.1 405B: the parameter counts the Hugging Face
//     hub reports for meta-llama/Llama-3.1-8B, -70B, -405B.
func TestStackShowsPublishedCounts(t *testing.T) {
	l := chapter(t, "stack")
	want := map[string]string{
		"gpt2-small":    "GPT-2 small · 124,439,808 parameters (124.4M)",
		"gpt2-medium":   "354,823,168",
		"gpt2-large":    "774,030,080",
		"gpt2-xl":       "1,557,611,200",
		"gpt3-175b":     "174,604,259,328 parameters (174.6B)",
		"llama2-7b":     "6,738,415,616",
		"llama3-8b":     "8,030,261,248",
		"llama3.1-70b":  "70,553,706,496",
		"llama3.1-405b": "405,853,388,800",
	}
	for id, w := range want {
		v := withLinked(l, Defaults(l.Controls()), "preset", id)
		for _, size := range [][2]int{{80, 13}, {79, 36}} {
			if out := screen(l, v, size[0], size[1]); !strings.Contains(out, w) {
				t.Errorf("%s at %dx%d: screen lacks %q:\n%s", id, size[0], size[1], w, out)
			}
		}
	}
	// The default screen is GPT-2 small, the worked example.
	if out := screen(l, Defaults(l.Controls()), 80, 13); !strings.Contains(out, "124,439,808 parameters (124.4M)") {
		t.Errorf("default screen lacks GPT-2 small's count:\n%s", out)
	}
}

// Everything else the chapter promises, on GPT-2 small: the per-component
// bars, the d² and vocabulary shares, the doubling, FLOPs per token with
// every term of Kaplan et al. 2020 Table 1 (2N = 169,869,312 for the blocks,
// the "De-embed" output head 2·d·vocab = 77,194,752, attention
// 2·n_layer·n_ctx·d = 18,874,368 at n_ctx 1,024: 265.9 MFLOP forward),
// training three times that, which is within 7% of 6N with N = all
// 124,439,808 parameters, bf16 and fp8 weight memory.
func TestStackShowsBreakdownAndCosts(t *testing.T) {
	l := chapter(t, "stack")
	out := flat(screen(l, Defaults(l.Controls()), 79, 36))
	for _, want := range []string{
		"Token embeddings", "38,597,376", "Positions", "786,432", "Attention", "28,348,416",
		"Feed-forward", "56,669,184", "Norms", "38,400", "Output head", "tied",
		"Grows with d²", "84.9M (68.3%)", "Grows with vocab", "38.6M (31.0%)",
		"one block 7,087,872 → 28,331,520, ×4.00",
		"forward 265.9 MFLOP = 2 × (84.9M block + 38.6M head weights) + attention at ctx 1,024 (169.9 + 77.2 + 18.9 MFLOP) [computed]",
		"training 3 × forward = 797.8 MFLOP ≈ 6N, N = all 124.4M parameters",
		"248.9 MB in bf16", "124.4 MB in fp8", "12 blocks", "[computed]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	// Llama 3 8B's bf16 checkpoint is 16,060,522,496 bytes (model.safetensors
	// .index.json total_size on the hub).
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama3-8b")
	out = flat(screen(l, v, 79, 36))
	for _, want := range []string{"16.1 GB in bf16", "8 KV heads (4 queries share each)", "FFN 14,336 (SwiGLU)", "rotary"} {
		if !strings.Contains(out, want) {
			t.Errorf("Llama 3 8B screen lacks %q:\n%s", want, out)
		}
	}
}

func TestStackRespondsToEveryControl(t *testing.T) {
	l := chapter(t, "stack")
	base := Defaults(l.Controls()).With("ffn", "swiglu")
	before := screen(l, base, 79, 36)
	for _, c := range l.Controls() {
		if c.Key == "preset" {
			continue
		}
		moved := c.Adjust(base[c.Key], 1)
		if c.Key == "multiple_of" {
			moved = "4096" // 8/3·768 = 2048 is already a multiple of 256 to 2048
		}
		v := withLinked(l, base, c.Key, moved)
		if screen(l, v, 79, 36) == before {
			t.Errorf("moving %s from %s to %s changed nothing on screen", c.Key, base[c.Key], moved)
		}
	}
}

func TestStackLink(t *testing.T) {
	l := chapter(t, "stack")
	ln := l.(Linker)
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama3.1-405b")
	if v["d_model"] != "16384" || v["layers"] != "126" || v["kv_heads"] != "8" || v["ffn"] != "swiglu" ||
		v["ffn_mult"] != "1.2" || v["multiple_of"] != "4096" || v["tied"] != "false" || v["pos"] != "rotary" {
		t.Fatalf("405B preset set %v", v)
	}
	moved := withLinked(l, v, "layers", "125")
	if moved["preset"] != "custom" {
		t.Errorf("moving a dial left preset %q", moved["preset"])
	}
	back := withLinked(l, moved, "layers", "126")
	if back["preset"] != "llama3.1-405b" {
		t.Errorf("dials back on the preset show %q, want llama3.1-405b", back["preset"])
	}
	// Choosing "custom" keeps the dials and stays custom, so ←/→ can pass it.
	c := withLinked(l, v, "preset", "custom")
	if c["preset"] != "custom" || c["d_model"] != "16384" {
		t.Errorf("custom: %v", c)
	}
	// The SwiGLU-only dials do not matter while the FFN is GELU.
	g := withLinked(l, Defaults(l.Controls()), "ffn_mult", "1.5")
	if g["preset"] != "gpt2-small" {
		t.Errorf("a hidden SwiGLU dial made GPT-2 %q", g["preset"])
	}
	// Link never invents keys or leaves invalid values.
	if got := ln.Link(Values{"d_model": "nonsense", "junk": "1"}, "d_model"); got["junk"] != "" || got["d_model"] == "nonsense" {
		t.Errorf("Link kept junk: %v", got)
	}
}

// Walking d_model with the arrow keys must move every press (the snap to a
// head-divisible width never pulls it back) and keep head_dim whole.
func TestStackDModelWalk(t *testing.T) {
	l := chapter(t, "stack")
	c, _ := ControlByKey(l, "d_model")
	for _, heads := range []string{"1", "12", "25", "96", "128"} {
		v := withLinked(l, Defaults(l.Controls()), "heads", heads)
		v = withLinked(l, v, "d_model", "64")
		prev := 64
		for i := 0; i < 60; i++ {
			v = withLinked(l, v, "d_model", c.Adjust(v["d_model"], 1))
			d := v.Int("d_model")
			if d == prev && d > 31000 {
				break // the top: rounding to the head grid may stop short of 32768
			}
			if d <= prev {
				t.Fatalf("heads %s: → from %d went to %d", heads, prev, d)
			}
			if h, _ := strconv.Atoi(heads); h*16 <= d && d%h != 0 {
				t.Errorf("heads %s: d_model %d is not a multiple of the heads", heads, d)
			}
			prev = d
		}
		if prev < 31000 {
			t.Errorf("heads %s: walk stopped at %d", heads, prev)
		}
		for i := 0; i < 60 && prev > 64; i++ {
			v = withLinked(l, v, "d_model", c.Adjust(v["d_model"], -1))
			if d := v.Int("d_model"); d >= prev {
				t.Fatalf("heads %s: ← from %d went to %d", heads, prev, d)
			}
			prev = v.Int("d_model")
		}
		if prev != 64 {
			t.Errorf("heads %s: walk down stopped at %d", heads, prev)
		}
	}
}

// Heads that divide d_model are this chapter's convention, not a law:
// Gemma 7B has 16 heads of 256 on d = 3072 and gpt-oss 64 heads of 64 on
// d = 2880 (hidden_size, num_attention_heads and head_dim in
// google/gemma-7b and openai/gpt-oss-120b config.json). The note under
// clamped heads and the heads control's help must say so, never "must".
func TestStackExplainsClampedHeads(t *testing.T) {
	l := chapter(t, "stack")
	v := withLinked(l, Defaults(l.Controls()), "heads", "13")
	v = withLinked(l, v, "kv_heads", "5")
	out := flat(screen(l, v, 79, 36))
	for _, want := range []string{"13 heads do not divide d 768: using 12.", "convention, not a rule",
		"Gemma 7B and gpt-oss", "heads × head_dim ≠ d", "5 KV heads do not divide 12 heads: using 4.", "12 heads of 64"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	c, _ := ControlByKey(l, "heads")
	if strings.Contains(c.Help, "must") || !strings.Contains(c.Help, "convention") {
		t.Errorf("heads help claims a law: %q", c.Help)
	}
}

// "≈ 6N" only where it holds. Llama 3.1 70B at its 131,072-token context
// (max_position_embeddings in meta-llama/Llama-3.1-70B config.json):
// attention is 2·80·131,072·8,192 = 171.8 GFLOP a token against the
// blocks' 136.9 GFLOP, so training, 932.4 GFLOP, is 2.20 × 6N with N all
// 70.55B parameters, and the screen must say so and why. At the 8,192-token
// sequences of most of its pre-training (Grattafiori et al. 2024, section
// 3.4) the full count is within 10% of 6N again.
func TestStackSixNOnlyWhereItHolds(t *testing.T) {
	l := chapter(t, "stack")
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama3.1-70b")
	for _, size := range [][2]int{{80, 40}, {160, 80}} {
		out := flat(screen(l, v, size[0], size[1]))
		for _, want := range []string{"attention at ctx 131,072 (136.9 + 2.1 + 171.8 GFLOP)",
			"training 3 × forward = 932.4 GFLOP = 2.20 × 6N (N = all 70.6B parameters)",
			"6N leaves out attention, which grows with the context"} {
			if !strings.Contains(out, want) {
				t.Errorf("Llama 3.1 70B at %v lacks %q:\n%s", size, want, out)
			}
		}
		if strings.Contains(out, "≈ 6N") {
			t.Errorf("Llama 3.1 70B at 131,072 tokens claims ≈ 6N:\n%s", out)
		}
	}
	short := withLinked(l, v, "context", "8192")
	if out := flat(screen(l, short, 80, 40)); !strings.Contains(out, "attention at ctx 8,192") ||
		!strings.Contains(out, "≈ 6N, N = all 70.6B parameters") {
		t.Errorf("Llama 3.1 70B at 8,192 tokens should be ≈ 6N:\n%s", out)
	}
}

func TestStackSpots(t *testing.T) {
	l := chapter(t, "stack")
	sp := l.(Spotter).Spots(Defaults(l.Controls()))
	if len(sp) != 6 {
		t.Fatalf("%d spots", len(sp))
	}
	out := ansi.Strip(l.Render(Frame{Theme: ui.NewTheme(true), Values: Defaults(l.Controls()), Width: 79, Height: 36, Spot: "bar:ffn"}))
	if !strings.Contains(out, "▸ Feed-forward") || strings.Contains(out, "▸ Attention") {
		t.Errorf("spot bar:ffn not marked:\n%s", out)
	}
}

func TestStackPolls(t *testing.T) {
	l := chapter(t, "stack")
	polls := l.(Poller).Polls(Defaults(l.Controls()))
	if len(polls) < 1 || len(polls) > 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "double":
			if p.Choices[p.Correct] != "×4" {
				t.Errorf("double: correct %q", p.Choices[p.Correct])
			}
		case "total":
			if p.Truth != 124_439_808 {
				t.Errorf("total truth %v", p.Truth)
			}
		case "largest":
			// GPT-2 small: feed-forward 56.7M > embeddings 38.6M > attention 28.3M.
			if p.Choices[p.Correct] != "The feed-forward networks" {
				t.Errorf("largest: %q", p.Choices[p.Correct])
			}
		default:
			t.Errorf("unknown poll %q", p.ID)
		}
	}
	v := withLinked(l, Defaults(l.Controls()), "preset", "llama2-7b")
	for _, p := range l.(Poller).Polls(v) {
		if p.ID == "total" && p.Truth != 6_738_415_616 {
			t.Errorf("Llama 2 7B total truth %v", p.Truth)
		}
	}
}

func TestStackViews(t *testing.T) {
	l := chapter(t, "stack")
	gpt3 := withLinked(l, Defaults(l.Controls()), "preset", "gpt3-175b")
	checkGolden(t, "stack-gpt3", l, gpt3)
	big := withLinked(l, Defaults(l.Controls()), "preset", "llama3.1-405b")
	checkGolden(t, "stack-llama405b", l, big)
	views := map[string]Values{"gpt3": gpt3, "405b": big}
	for _, p := range l.Controls()[0].Options {
		views[p.Value] = withLinked(l, Defaults(l.Controls()), "preset", p.Value)
	}
	lo, hi := Defaults(l.Controls()), Defaults(l.Controls()).With("ffn", "swiglu")
	for _, c := range l.Controls() {
		if c.Kind == Slider {
			lo, hi = lo.With(c.Key, c.Clamp("-1e9")), hi.With(c.Key, c.Clamp("1e9"))
		}
	}
	views["min"], views["max"] = lo, hi.With("tied", "false").With("bias", "true")
	views["clamped"] = Defaults(l.Controls()).With("heads", "127").With("kv_heads", "3").With("d_model", "1000.7")
	for name, v := range views {
		checkFitsEverywhere(t, "stack-"+name, l, v)
	}
}
