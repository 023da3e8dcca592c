package lessons

import (
	"fmt"
	"strings"
	"testing"

	"github.com/expedition-llm/expedition/sim"
)

func TestInferenceParts(t *testing.T) {
	l := chapter(t, "inference")
	d := Defaults(l.Controls())

	// KV cache at 8K tokens: 512 KiB, 320 KiB and 68.6 KiB per token (sim's
	// tests check them against the configs).
	kv := siRender(l, d, nil, "", 79, 36)
	siWant(t, "KV part", kv, "4.00 GiB", "2.50 GiB", "549 MiB", "512 KiB/token", "68.6 KiB/token",
		"2 × 32 layers × 32 KV heads × 128 dims × 2 bytes × 8,192 × 1 = 4.00 GiB", "without a cache (∝ n²)", "with it (∝ n)")
	long := siRender(l, d.With("context", "131072").With("model", "1"), nil, "", 79, 36)
	siWant(t, "Llama-3-70B at 128K", long, "40.0 GiB", "8× more")
	mla := siRender(l, d.With("model", "2"), nil, "", 79, 36)
	siWant(t, "DeepSeek-V3 formula", mla, "61 layers × (512 latent + 64 rotary)", "57× more")
	if siRender(l, d.With("gen", "4096"), nil, "", 79, 36) == kv {
		t.Error("the generation length changed nothing")
	}
	if siRender(l, d.With("batch", "8"), nil, "", 79, 36) == kv {
		t.Error("the batch changed nothing")
	}

	// Speculative decoding at k = 4, α = 0.8, c = 0.1 (Leviathan et al. 2023).
	spec := siRender(l, d.With("part", "spec"), nil, "", 79, 36)
	siWant(t, "spec part", spec, "3.36", "2.40×", "pass 1", "formula: 3.36")
	if siRender(l, d.With("part", "spec").With("spec_seed", "9"), nil, "", 79, 36) == spec {
		t.Error("another seed gave the same run")
	}
	slow := siRender(l, d.With("part", "spec").With("alpha", "0").With("cost", "1"), nil, "", 79, 36)
	siWant(t, "spec α=0", slow, "(slower)")

	// Batching: the figures are the simulation's.
	b := d.With("part", "batch")
	batch := siRender(l, b, nil, "", 79, 36)
	reqs := sim.RequestStream(12, 1)
	st, co := sim.SimulateBatching(reqs, 4, false), sim.SimulateBatching(reqs, 4, true)
	siWant(t, "batch part", batch, "static", "continuous",
		fmt.Sprintf("%d steps · %.2f tokens/step · mean latency %.1f steps", st.Steps, st.Throughput, st.MeanLatency),
		fmt.Sprintf("%d steps · %.2f tokens/step · mean latency %.1f steps", co.Steps, co.Throughput, co.MeanLatency))

	// Mixture of experts: totals and actives from the configs.
	moe := siRender(l, d.With("part", "moe"), nil, "", 79, 36)
	siWant(t, "MoE part", moe, "12.9B of 46.7B", "37.6B of 671.0B", "top-2 of 8", "top-8 of 256 + 1 shared", "E8", "load")
	wide := siRender(l, d.With("part", "moe").With("experts", "16").With("top_k", "4"), nil, "", 79, 36)
	siWant(t, "16 experts", wide, "E16", "top-4")
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
			// 2 × 80 × 8 × 128 × 2 bytes × 131,072 tokens = 40 GiB.
			if p.Truth != 40 || p.Unit != "GiB" {
				t.Errorf("kvcache truth %v %s, want 40 GiB", p.Truth, p.Unit)
			}
		case "specdecode":
			if p.Choices[p.Correct] != "3.36" {
				t.Errorf("specdecode answer %q, want 3.36", p.Choices[p.Correct])
			}
		case "moeactive":
			// DeepSeek-V3 report: 37B activated.
			if p.Choices[p.Correct] != "37B" {
				t.Errorf("moeactive answer %q, want 37B", p.Choices[p.Correct])
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
	if last := c.At(c.Len() - 1); last.ID() != "recap" || last.Number() != 9 {
		t.Errorf("last chapter is %s (%d), want recap (9)", last.ID(), last.Number())
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
