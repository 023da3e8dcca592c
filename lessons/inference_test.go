package lessons

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/expedition-llm/expedition/sim"
)

func TestInferenceParts(t *testing.T) {
	l := chapter(t, "inference")
	d := Defaults(l.Controls())

	// KV cache at Llama 2's full 4,096-token window: 512 KiB, 320 KiB and
	// 68.6 KiB per token (sim's tests check them against the configs).
	kv := siRender(l, d, nil, "", 79, 36)
	siWant(t, "KV part", kv, "2.00 GiB", "1.25 GiB", "274.5 MiB", "512 KiB/token", "68.6 KiB/token", "Llama-3.1-70B",
		"2 × 32 layers × 32 KV heads × 128 dims × 2 bytes × 4,096 × 1 = 2.00 GiB", "without a cache", "with it · 511× more")
	// When "∝ n" holds: Llama 2 7B's step costs 2N = 12.95 GFLOP plus
	// 2·32·4096 = 262,144 FLOPs per cached token, attention is 1.0% of the
	// work at 1,024 tokens and matches the weights at t = N/(L·d) = 49,408
	// (Kaplan et al. 2020, section 2.1: about 12·d_model).
	siWant(t, "KV growth", strings.Join(strings.Fields(kv), " "), "13.0 GFLOP for the weights", "262.1 kFLOP for each of the t cached tokens",
		"∝ n in total while the weights dominate", "attention is 1.0% of the work", "t ≈ 49,408", "∝ n² once attention does", "∝ n² (its attention ∝ n³)")
	long := siRender(l, d.With("context", "131072").With("model", "1"), nil, "", 79, 36)
	siWant(t, "Llama-3.1-70B at 128K", long, "40.0 GiB", "8× more", "window is only 4,096")
	if strings.Contains(long, "64.0 GiB") {
		t.Error("Llama-2-7B is drawn holding 128K tokens, 16× its window")
	}
	// DeepSeek-V3 uncompressed: 128 heads × (192 + 128) × 61 layers × 2
	// bytes = 4.77 MiB per token, 71× its 576-wide latent (config.json).
	mla := siRender(l, d.With("model", "2"), nil, "", 79, 36)
	siWant(t, "DeepSeek-V3 formula", mla, "61 layers × (512 latent + 64 rotary)", "128 heads × (192-wide key + 128-wide value) = 19.1 GiB", "71× more")
	if siRender(l, d.With("gen", "4096"), nil, "", 79, 36) == kv {
		t.Error("the generation length changed nothing")
	}
	if siRender(l, d.With("batch", "8"), nil, "", 79, 36) == kv {
		t.Error("the batch changed nothing")
	}
	// Values that skipped Link still never claim more than the window.
	over := siRender(l, d.With("context", "131072"), nil, "", 79, 36)
	siWant(t, "Llama-2-7B past its window", strings.Join(strings.Fields(over), " "), "× 4,096 (its window) × 1 = 2.00 GiB")

	// Speculative decoding at k = 4, α = 0.8, c = 0.1 (Leviathan et al. 2023).
	spec := siRender(l, d.With("part", "spec"), nil, "", 79, 36)
	siWant(t, "spec part", spec, "3.36", "2.40×", "pass 1", "formula: 3.36")
	// Greedy output is the big model's exactly; sampled output follows its
	// distribution (Leviathan et al. 2023, section 2.3).
	siWant(t, "spec claim", strings.Join(strings.Fields(spec), " "), "Under greedy decoding the text is exactly the big model's own",
		"every token follows the big model's distribution", "not the same words")
	if siRender(l, d.With("part", "spec").With("spec_seed", "9"), nil, "", 79, 36) == spec {
		t.Error("another seed gave the same run")
	}
	slow := siRender(l, d.With("part", "spec").With("alpha", "0").With("cost", "1"), nil, "", 79, 36)
	siWant(t, "spec α=0", slow, "(slower)")
	// α = 0.8, k = 3, c = 0.2: E = 1 + 0.8 + 0.64 + 0.512 = 2.952 and the
	// speed-up 2.952 / 1.6 = 1.845 exactly, whose float sits just below
	// (1.8449999999999995): printed in full, not as 1.84 nor 1.85.
	tie := siRender(l, d.With("part", "spec").With("alpha", "0.8").With("k", "3").With("cost", "0.2"), nil, "", 79, 36)
	siWant(t, "spec tie", tie, "= 2.95", "2.95 / 1.60 = 1.845×", "formula: 2.95")

	// Batching: the figures are the simulation's, and the claim that a
	// batch costs about one conversation says when it stops holding.
	b := d.With("part", "batch")
	batch := siRender(l, b, nil, "", 79, 36)
	reqs := sim.RequestStream(12, 1)
	st, co := sim.SimulateBatching(reqs, 4, false), sim.SimulateBatching(reqs, 4, true)
	siWant(t, "batch part", batch, "static", "continuous",
		fmt.Sprintf("%d steps · %s tokens/step · mean latency %s steps", st.Steps, infDec(st.Throughput, 2), infDec(st.MeanLatency, 1)),
		fmt.Sprintf("%d steps · %s tokens/step · mean latency %s steps", co.Steps, infDec(co.Throughput, 2), infDec(co.MeanLatency, 1)))
	// Llama 2 7B's 13.2 GB of weights equal 25,205 tokens of 512 KiB cache;
	// an H100's 989.4 TFLOP/s over 3.35 TB/s is 295 sequences (sim checks
	// both against the config and the datasheet).
	siWant(t, "batch limits", strings.Join(strings.Fields(batch), " "), "a full batch costs about one conversation",
		"25,205 cached tokens", "295 slots", "[estimate]")
	for _, h := range []int{24, 36} {
		if out := siRender(l, b, nil, "", 80, h); strings.Contains(out, "about one conversation") != strings.Contains(out, "295 slots") {
			t.Errorf("80×%d shows the batching claim without its limit, or the reverse:\n%s", h, out)
		}
	}

	// Mixture of experts: totals and what a token computes with, from the
	// configs, one convention throughout (the input embedding, a lookup,
	// left out): DeepSeek-V3's 36.6B (README_WEIGHTS.md), Mixtral's 12.9B
	// less its 32,000 × 4,096 table; 2 FLOPs each (Kaplan et al. 2020).
	moe := siRender(l, d.With("part", "moe"), nil, "", 79, 36)
	siWant(t, "MoE part", moe, "12.7B of 46.7B", "36.6B of 671.0B", "top-2 of 8", "top-8 of 256 + 1 shared", "E8", "load")
	big := strings.Join(strings.Fields(siRender(l, d.With("part", "moe"), nil, "", 160, 80)), " ")
	siWant(t, "MoE at 160×80", big, "the input embedding, a lookup, is not counted", "25.5 GFLOP for Mixtral 8x7B", "73.3 GFLOP for DeepSeek-V3",
		"12.9B active counts the embedding",
		// Jiang et al. 2024, section 2: Mixtral's experts are Mistral 7B's FFN.
		"each as large as Mistral 7B's whole feed-forward network (hidden width 14,336)", "256 experts are 2,048 wide, 1/9 of its dense layers' 18,432")
	if strings.Contains(big, "smaller ones") {
		t.Error("the MoE prose still says experts are smaller than the FFN they replace")
	}
	wide := siRender(l, d.With("part", "moe").With("experts", "16").With("top_k", "4"), nil, "", 79, 36)
	siWant(t, "16 experts", wide, "E16", "top-4")
}

// TestInferenceLink checks that the context stops at the chosen model's
// window (config.json max_position_embeddings: 4,096 for Llama-2-7b-hf,
// 131,072 for Llama-3.1-70B).
func TestInferenceLink(t *testing.T) {
	l := chapter(t, "inference")
	ln, ok := l.(Linker)
	if !ok {
		t.Fatal("inference does not link its controls")
	}
	d := Defaults(l.Controls())
	if d["context"] != "4096" || d["model"] != "0" {
		t.Fatalf("defaults: %s tokens for model %s, want Llama-2-7B at its 4,096", d["context"], d["model"])
	}
	for _, c := range []struct {
		model, context, changed, want string
	}{
		{"0", "8192", "context", "4096"},     // Llama 2: no further than 4,096
		{"1", "131072", "context", "131072"}, // Llama 3.1: 128K is its window
		{"0", "131072", "model", "4096"},     // switching to Llama 2 pulls the context in
		{"2", "131072", "model", "131072"},   // DeepSeek-V3: 128K
		{"0", "1024", "context", "1024"},
	} {
		got := ln.Link(d.With("model", c.model).With("context", c.context), c.changed)
		if got["context"] != c.want {
			t.Errorf("model %s, context %s, %s changed: context %s, want %s", c.model, c.context, c.changed, got["context"], c.want)
		}
	}
	if got := ln.Link(d.With("context", "131072"), "gen"); got["context"] != "131072" {
		t.Errorf("an unrelated control moved the context to %s", got["context"])
	}
}

// TestInferenceDigits checks that every expected-tokens and speed-up figure
// the spec part can show is the correctly rounded value of Leviathan et al.
// 2023's eq. 1 and Theorem 3.8, computed exactly in rationals for every α,
// k and c the sliders reach; a value exactly halfway is printed in full.
func TestInferenceDigits(t *testing.T) {
	exact := func(r *big.Rat, prec int) string {
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec+1)), nil)))
		if scaled.IsInt() && new(big.Int).Rem(scaled.Num(), big.NewInt(10)).Int64() == 5 {
			return r.FloatString(prec + 1)
		}
		return r.FloatString(prec)
	}
	ties := 0
	for a := 0; a <= 20; a++ {
		alpha := Values{"a": strconv.FormatFloat(float64(a)*0.05, 'g', 12, 64)}.Float("a")
		for k := 1; k <= 10; k++ {
			e := new(big.Rat) // Σ_{i≤k} α^i
			p := big.NewRat(1, 1)
			for range k + 1 {
				e.Add(e, p)
				p = new(big.Rat).Mul(p, big.NewRat(int64(a), 20))
			}
			if got, want := infDec(sim.SpecExpectedTokens(alpha, k), 2), exact(e, 2); got != want {
				t.Errorf("α=%v k=%d: tokens per pass printed %s, want %s", alpha, k, got, want)
			}
			for c := 0; c <= 20; c++ {
				cost := Values{"c": strconv.FormatFloat(float64(c)*0.05, 'g', 12, 64)}.Float("c")
				sp := new(big.Rat).Quo(e, big.NewRat(int64(20+k*c), 20))
				want := exact(sp, 2)
				if got := infDec(sim.SpecSpeedup(alpha, k, cost), 2); got != want {
					t.Errorf("α=%v k=%d c=%v: speed-up printed %s, want %s", alpha, k, cost, got, want)
				}
				if len(want) > len(exact(sp, 1))+1 {
					ties++
				}
			}
		}
	}
	if ties == 0 {
		t.Error("no halfway speed-up found; the sweep is not testing ties")
	}
	for x, want := range map[float64]string{1.8449999999999995: "1.845", 0.625: "0.625", 3.3616: "3.36", 2.4: "2.40", -1.005: "-1.005", 0: "0.00", 1e-13: "0.00"} {
		if got := infDec(x, 2); got != want {
			t.Errorf("infDec(%v, 2) = %s, want %s", x, got, want)
		}
	}
	if got := infDec(math.NaN(), 1); got != "NaN" {
		t.Errorf("infDec(NaN) = %s", got)
	}
}

func TestInferencePollsAndSpots(t *testing.T) {
	l := chapter(t, "inference")
	d := Defaults(l.Controls())
	polls := l.(Poller).Polls(d)
	if len(polls) < 1 || len(polls) > 3 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, p := range polls {
		switch p.ID {
		case "kvcache":
			// Llama-3.1-70B (config.json: 80 layers, 8 KV heads, head 128,
			// 131,072-token window): 2 × 80 × 8 × 128 × 2 bytes × 131,072
			// tokens = 40 GiB.
			if p.Truth != 40 || p.Unit != "GiB" || !strings.Contains(p.Question, "Llama-3.1-70B") {
				t.Errorf("kvcache %q truth %v %s, want Llama-3.1-70B at 40 GiB", p.Question, p.Truth, p.Unit)
			}
		case "specdecode":
			if p.Choices[p.Correct] != "3.36" {
				t.Errorf("specdecode answer %q, want 3.36", p.Choices[p.Correct])
			}
		case "moeactive":
			// DeepSeek-V3 report: 37B activated.
			if p.Choices[p.Correct] != "37B" || !strings.Contains(p.Explain, "36.6B of arithmetic") {
				t.Errorf("moeactive answer %q (%s), want 37B, 36.6B of arithmetic", p.Choices[p.Correct], p.Explain)
			}
		default:
			t.Errorf("unexpected poll %q", p.ID)
		}
	}
	for _, part := range []string{"kv", "spec", "batch", "moe"} {
		v := d.With("part", part)
		spots := l.(Spotter).Spots(v)
		if len(spots) == 0 {
			t.Fatalf("%s: no spots", part)
		}
		for _, s := range spots {
			if out := siRender(l, v, nil, s.ID, 79, 36); !strings.Contains(out, "▶") {
				t.Errorf("%s: spot %s not marked", part, s.ID)
			}
		}
	}
}

func TestInferenceViews(t *testing.T) {
	l := chapter(t, "inference")
	d := Defaults(l.Controls())
	for _, part := range []string{"spec", "batch", "moe"} {
		checkGolden(t, "inference-"+part, l, d.With("part", part))
	}
	for name, v := range map[string]Values{
		"inference-kv-max":    d.With("context", "131072").With("batch", "64").With("gen", "4096").With("model", "2"),
		"inference-kv-min":    d.With("context", "512").With("gen", "16"),
		"inference-spec":      d.With("part", "spec"),
		"inference-spec-edge": d.With("part", "spec").With("alpha", "1").With("k", "10").With("cost", "0"),
		"inference-spec-zero": d.With("part", "spec").With("alpha", "0").With("k", "1").With("cost", "1"),
		"inference-batch":     d.With("part", "batch"),
		"inference-batch-big": d.With("part", "batch").With("slots", "2").With("requests", "20").With("batch_seed", "100"),
		"inference-moe":       d.With("part", "moe"),
		"inference-moe-wide":  d.With("part", "moe").With("experts", "16").With("top_k", "4"),
		"inference-bad":       Values{"part": "nope", "context": "-1", "batch": "NaN", "gen": "1e99", "model": "9"},
	} {
		checkFitsEverywhere(t, name, l, v)
	}
}

func TestWelcomeAndRecap(t *testing.T) {
	c := mustCatalog(t)
	if first := c.At(0); first.ID() != "welcome" || first.Number() != 0 {
		t.Errorf("first chapter is %s (%d), want welcome (0)", first.ID(), first.Number())
	}
	// The recap comes last, numbered one past the chapter before it.
	if last, before := c.At(c.Len()-1), c.At(c.Len()-2); last.ID() != "recap" || last.Number() != before.Number()+1 {
		t.Errorf("last chapter is %s (%d), want recap (%d)", last.ID(), last.Number(), before.Number()+1)
	}
	w := chapter(t, "welcome")
	out := siRender(w, nil, nil, "", 80, 20)
	siWant(t, "welcome at 80×20", out, "next / previous chapter", "follow the instructor again", "raise or lower your hand",
		"answer a poll", "[computed]", "[illustrative]", "[estimate]", "exploring", "1  letters to numbers")
	for _, s := range w.(Spotter).Spots(nil) {
		if out := siRender(w, nil, nil, s.ID, 79, 36); !strings.Contains(out, "▶") {
			t.Errorf("welcome spot %s not marked", s.ID)
		}
	}
	checkFitsEverywhere(t, "welcome", w, nil)

	r := chapter(t, "recap")
	// The figures each chapter's sim tests pin: GPT-2 small 124,439,808
	// (Radford et al. 2019 config); pipeline bubble (p−1)/(m+p−1) = 3/11;
	// o200k_base "strawberry" = 3 tokens; pass@8 at p = 0.2 is 1 − 0.8⁸ =
	// 83.2%; the KV-cache saving at chapter 8's defaults is sim.DecodeFLOPs'.
	full := siRender(r, nil, nil, "", 79, 36)
	siWant(t, "recap", full, "124,439,808", "27.3%", "511×", "3 tokens", "5.88e23", "8 of 16 words", "83.2%")
	brief := siRender(r, nil, nil, "", 80, 20)
	siWant(t, "recap at 80×20", brief, "124,439,808", "27.3%", "511×", "8  The optimizations that make it fast")
	if out := siRender(r, nil, nil, "ch:sampling", 79, 36); !strings.Contains(out, "▶") {
		t.Error("recap spot not marked")
	}
	checkFitsEverywhere(t, "recap", r, nil)
}

// Each question is about one part of the chapter, so it is offered only
// while that part is on screen. Batching has no question: a chapter asks at
// most three.
func TestInferencePollsNameTheirPart(t *testing.T) {
	l := chapter(t, "inference")
	checkPollWhens(t, l, map[string]string{"kvcache": "part=kv", "specdecode": "part=spec", "moeactive": "part=moe"})
}

// Nothing a part says is lost to a short frame: the prose, the claims and
// the figures' notes are all drawn at 80×8, and the body scrolls.
func TestInferenceScrollsRatherThanDrops(t *testing.T) {
	l := chapter(t, "inference")
	d := Defaults(l.Controls())
	for part, wants := range map[string][]string{
		"kv":    {"Each new token attends to every earlier one", "plain MHA", "Work to generate", "∝ n² (its attention ∝ n³)"},
		"spec":  {"A big model generates one token per pass", "speed-up =", "pass 10", "these 10 passes"},
		"batch": {"A GPU decodes conversations together", "static", "continuous", "Continuous batching:", "arrival step + tokens"},
		"moe":   {"A mixture-of-experts layer holds", "Cost per token", "Routing a sentence", "load"},
	} {
		out := flat(siRender(l, d.With("part", part), nil, "", 80, 8))
		siWant(t, part+" at 80×8", out, wants...)
		if strings.Contains(out, "more tokens") {
			t.Errorf("%s at 80×8 leaves tokens out of the routing grid:\n%s", part, out)
		}
	}
	// α = 1, k = 10: eleven words a pass, which wrap under the pass rather
	// than being cut.
	edge := siRender(l, d.With("part", "spec").With("alpha", "1").With("k", "10").With("cost", "0"), nil, "", 80, 24)
	if strings.Contains(edge, "…") {
		t.Errorf("a pass of the run is cut:\n%s", edge)
	}
	siWant(t, "spec at α = 1", flat(edge), "slowly +towards")
}
