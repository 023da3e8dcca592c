package sim

import (
	"math"
	"testing"
)

func mustPreset(t *testing.T, name string) Arch {
	t.Helper()
	a, ok := ArchPreset(name)
	if !ok {
		t.Fatalf("no preset %q", name)
	}
	return a
}

// Exact published parameter counts.
//
//   - GPT-2 small/medium/large/XL: model.num_parameters() of the Hugging Face
//     checkpoints openai-community/gpt2, gpt2-medium, gpt2-large, gpt2-xl
//     (also the "params" metadata of the KerasHub GPT-2 presets).
//   - Llama 2 7B: num_parameters() of meta-llama/Llama-2-7b-hf
//     (also KerasHub llama_7b_en "params": 6738415616).
//   - Llama 3 8B, 3.1 70B, 3.1 405B: the "safetensors.total" parameter count
//     the Hugging Face hub reports for meta-llama/Llama-3.1-8B, -70B, -405B;
//     each is exactly half the model.safetensors.index.json "total_size" in
//     bytes (bf16), see TestArchWeightBytesMatchHubCheckpoints.
func TestArchParamsMatchPublishedCounts(t *testing.T) {
	want := map[string]int64{
		"GPT-2 small":    124_439_808,
		"GPT-2 medium":   354_823_168,
		"GPT-2 large":    774_030_080,
		"GPT-2 XL":       1_557_611_200,
		"Llama 2 7B":     6_738_415_616,
		"Llama 3 8B":     8_030_261_248,
		"Llama 3.1 70B":  70_553_706_496,
		"Llama 3.1 405B": 405_853_388_800,
	}
	for name, n := range want {
		if got := mustPreset(t, name).Params().Total; got != n {
			t.Errorf("%s: Params().Total = %d, want %d", name, got, n)
		}
	}
}

// GPT-3 175B: Brown et al. 2020, Table D.1 lists "Params (M)" = 174,600 for
// GPT-3 175B (d_model 12288, 96 layers, 96 heads, context 2048 from Table 2.1;
// vocabulary 50257 shared with GPT-2). The paper rounds to 100M, so we
// assert agreement within 0.1%.
func TestArchGPT3WithinTableD1(t *testing.T) {
	got := float64(mustPreset(t, "GPT-3 175B").Params().Total)
	const want = 174_600e6
	if rel := math.Abs(got-want) / want; rel > 1e-3 {
		t.Errorf("GPT-3 params = %.0f, want within 0.1%% of %.0f (off by %.3f%%)", got, want, 100*rel)
	}
}

// The GPT-2 closed form from the brief: V·d + n_ctx·d + L·(12d² + 13d) + 2d.
// Per block: QKV 3d²+3d, output projection d²+d, MLP 4d²+4d and 4d²+d,
// two LayerNorms 4d; the final LayerNorm adds 2d; the head is tied.
func TestArchGPT2ClosedForm(t *testing.T) {
	for _, name := range []string{"GPT-2 small", "GPT-2 medium", "GPT-2 large", "GPT-2 XL", "GPT-3 175B"} {
		a := mustPreset(t, name)
		V, c, d, L := int64(a.Vocab), int64(a.Context), int64(a.DModel), int64(a.Layers)
		want := V*d + c*d + L*(12*d*d+13*d) + 2*d
		p := a.Params()
		if p.Total != want {
			t.Errorf("%s: total %d, closed form %d", name, p.Total, want)
		}
		if p.Block.Total != 12*d*d+13*d {
			t.Errorf("%s: block %d, want 12d²+13d = %d", name, p.Block.Total, 12*d*d+13*d)
		}
		if p.Head != 0 {
			t.Errorf("%s: tied model has Head = %d", name, p.Head)
		}
	}
}

// The components must add up, for every preset, and the per-block split
// into matrices and vectors must agree with the per-component split.
func TestArchParamsBreakdownConsistent(t *testing.T) {
	for _, a := range ArchPresets() {
		p := a.Params()
		sum := p.Embedding + p.Position + p.Attention + p.FFN + p.Norms + p.Head
		if sum != p.Total {
			t.Errorf("%s: components sum to %d, Total %d", a.Name, sum, p.Total)
		}
		b := p.Block
		if b.Attention+b.FFN+b.Norms != b.Total || b.Matrix+b.Vector != b.Total {
			t.Errorf("%s: block split inconsistent: %+v", a.Name, b)
		}
		if p.Attention != int64(a.Layers)*b.Attention || p.FFN != int64(a.Layers)*b.FFN {
			t.Errorf("%s: per-layer totals do not scale with Layers", a.Name)
		}
		if p.NonEmbedding() != p.Total-p.Embedding-p.Position-p.Head {
			t.Errorf("%s: NonEmbedding inconsistent", a.Name)
		}
	}
}

// Llama's FFN width rule (meta-llama llama/model.py FeedForward:
// hidden = int(2·4d/3); hidden = int(ffn_dim_multiplier·hidden);
// round up to multiple_of) with the params.json values in
// meta-llama/llama-models models/sku_list.py (Llama 3 8B: 1.3, 1024;
// 3.1 70B: 1.3, 4096; 3.1 405B: 1.2, 4096; Llama 2 7B: none, 256) must
// reproduce the intermediate_size in each config.json.
func TestArchSwiGLURuleReproducesConfigs(t *testing.T) {
	want := map[string]int{
		"Llama 2 7B":     11008,
		"Llama 3 8B":     14336,
		"Llama 3.1 70B":  28672,
		"Llama 3.1 405B": 53248,
	}
	for name, w := range want {
		a := mustPreset(t, name)
		if a.FFNDim() != w {
			t.Errorf("%s: explicit FFNDim %d, want %d", name, a.FFNDim(), w)
		}
		a.FFNHidden = 0
		if got := a.FFNDim(); got != w {
			t.Errorf("%s: derived FFNDim %d, want %d", name, got, w)
		}
	}
	if got := mustPreset(t, "GPT-2 small").FFNDim(); got != 3072 {
		t.Errorf("GPT-2 small FFNDim %d, want 4·768 = 3072", got)
	}
}

// Head dimensions from the configs: GPT-2 768/12 = 64, GPT-3 12288/96 = 128,
// every Llama here 128 (config.json head_dim).
func TestArchHeadDim(t *testing.T) {
	want := map[string]int{"GPT-2 small": 64, "GPT-2 XL": 64, "GPT-3 175B": 128,
		"Llama 2 7B": 128, "Llama 3 8B": 128, "Llama 3.1 70B": 128, "Llama 3.1 405B": 128}
	for name, w := range want {
		if got := mustPreset(t, name).HeadDim(); got != w {
			t.Errorf("%s: HeadDim %d, want %d", name, got, w)
		}
	}
}

// bf16 weights are 2 bytes per parameter, so WeightBytes(2) must equal the
// "total_size" of model.safetensors.index.json on the Hugging Face hub:
// meta-llama/Llama-3.1-8B 16,060,522,496; -70B 141,107,412,992;
// -405B 811,706,777,600. (Llama-2-7b-hf is left out: its index counts 8 KB
// of fp32 rotary inv_freq buffers that are not parameters.)
func TestArchWeightBytesMatchHubCheckpoints(t *testing.T) {
	want := map[string]float64{
		"Llama 3 8B":     16_060_522_496,
		"Llama 3.1 70B":  141_107_412_992,
		"Llama 3.1 405B": 811_706_777_600,
	}
	for name, w := range want {
		if got := mustPreset(t, name).WeightBytes(2); got != w {
			t.Errorf("%s: WeightBytes(2) = %.0f, want %.0f", name, got, w)
		}
	}
	a := mustPreset(t, "Llama 3 8B")
	if a.WeightBytes(1) != float64(a.Params().Total) {
		t.Error("fp8 should be one byte per parameter")
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(-1)} {
		if got := a.WeightBytes(bad); got != 0 {
			t.Errorf("WeightBytes(%v) = %v, want 0", bad, got)
		}
	}
	if got := a.WeightBytes(math.Inf(1)); got != 16*float64(a.Params().Total) {
		t.Errorf("WeightBytes(+Inf) = %v, want the 16-byte clamp", got)
	}
}

// Doubling d_model with widths that scale with d (FFN derived, heads fixed so
// head_dim doubles) must multiply each block's matrix parameters by exactly
// 4 and its vectors (biases, norms) by exactly 2: the d² law the screen shows.
func TestArchDoublingDModelQuadruplesMatrices(t *testing.T) {
	llamaLike := mustPreset(t, "Llama 3 8B")
	llamaLike.FFNHidden, llamaLike.FFNMultiplier, llamaLike.MultipleOf = 0, 1, 1
	llamaLike.DModel = 3072 // 8/3·d stays a whole number at d and 2d
	cases := []Arch{mustPreset(t, "GPT-2 small"), mustPreset(t, "GPT-2 XL"), llamaLike}
	for _, a := range cases {
		b := a
		b.DModel *= 2
		pa, pb := a.Params().Block, b.Params().Block
		if pb.Matrix != 4*pa.Matrix {
			t.Errorf("%s: matrices %d → %d at 2d, want ×4", a.Name, pa.Matrix, pb.Matrix)
		}
		if pb.Vector != 2*pa.Vector {
			t.Errorf("%s: vectors %d → %d at 2d, want ×2", a.Name, pa.Vector, pb.Vector)
		}
	}
	// GPT-2 small's block is 12d² + 13d; at 2d it is 48d² + 26d.
	a := mustPreset(t, "GPT-2 small")
	d := int64(a.DModel)
	a.DModel *= 2
	if got := a.Params().Block.Total; got != 48*d*d+26*d {
		t.Errorf("GPT-2 small at 2d: block %d, want %d", got, 48*d*d+26*d)
	}
}

// Kaplan et al. 2020, Table 1: N = 2·d_model·n_layer·(2·d_attn + d_ff) and
// C_forward = 2N + 2·n_layer·n_ctx·d_attn; section 2.1: training ≈ 3× the
// forward pass (C ≈ 6N per token).
func TestArchFLOPsFollowKaplanTable1(t *testing.T) {
	for _, name := range []string{"GPT-2 small", "GPT-2 XL", "GPT-3 175B"} {
		a := mustPreset(t, name)
		d, L, c := float64(a.DModel), float64(a.Layers), float64(a.Context)
		N := 2 * d * L * (2*d + 4*d)
		wantFwd := 2*N + 2*L*c*d
		fwd, train := a.FLOPsPerToken(0)
		if fwd != wantFwd {
			t.Errorf("%s: forward %.0f, Kaplan %.0f", name, fwd, wantFwd)
		}
		if train != 3*fwd {
			t.Errorf("%s: training %.0f, want 3×forward", name, train)
		}
		if f2, _ := a.FLOPsPerToken(a.Context); f2 != fwd {
			t.Errorf("%s: ctx 0 should mean the model's own context", name)
		}
	}
	// GPT-2 small at n_ctx 1024: 2·84,934,656 + 2·12·1024·768.
	if fwd, _ := mustPreset(t, "GPT-2 small").FLOPsPerToken(1024); fwd != 188_743_680 {
		t.Errorf("GPT-2 small forward = %.0f, want 188,743,680", fwd)
	}
}

// Brown et al. 2020, Table D.1: GPT-3 175B used 3.14e23 training FLOPs for
// 300B tokens, computed as 6 FLOPs per parameter per token (so the paper's
// figure omits the attention term). Our count of 6·N_total·D must round to
// 3.14e23; including Kaplan's attention term adds about 1%, which we allow
// (within 2%).
func TestArchGPT3TrainingCompute(t *testing.T) {
	a := mustPreset(t, "GPT-3 175B")
	const tokens = 300e9
	sixND := 6 * float64(a.Params().Total) * tokens
	if math.Round(sixND/1e21) != 314 {
		t.Errorf("6·N·D = %.4g, want 3.14e23 to three figures", sixND)
	}
	_, perToken := a.FLOPsPerToken(0)
	if rel := math.Abs(perToken*tokens-3.14e23) / 3.14e23; rel > 0.02 {
		t.Errorf("Kaplan training compute %.4g is %.2f%% from 3.14e23", perToken*tokens, 100*rel)
	}
}

// TokenFLOPs splits the forward pass into the terms of Kaplan et al. 2020,
// Table 1: 2N for the blocks' weight matrices, "De-embed" 2·d_model·n_vocab
// for the output head (which Kaplan's C_forward leaves out) and
// 2·n_layer·n_ctx·d_attn for attention. GPT-2 small at n_ctx 1024:
// 169,869,312 + 77,194,752 + 18,874,368 = 265,938,432 FLOPs.
func TestArchTokenFLOPsKaplanTerms(t *testing.T) {
	for _, a := range ArchPresets() {
		d, L, V := float64(a.DModel), float64(a.Layers), float64(a.Vocab)
		tf := a.TokenFLOPs(0)
		if tf.Context != a.Context {
			t.Errorf("%s: ctx 0 gave context %d, want the model's %d", a.Name, tf.Context, a.Context)
		}
		if tf.Blocks != 2*L*float64(a.Params().Block.Matrix) || tf.Head != 2*d*V ||
			tf.Attention != 2*L*float64(a.Context)*d {
			t.Errorf("%s: terms %+v", a.Name, tf)
		}
		if tf.Forward() != tf.Blocks+tf.Head+tf.Attention || tf.Training() != 3*tf.Forward() {
			t.Errorf("%s: forward %v training %v", a.Name, tf.Forward(), tf.Training())
		}
		fwd, train := a.FLOPsPerToken(0)
		if fwd != tf.Blocks+tf.Attention || train != 3*fwd {
			t.Errorf("%s: Kaplan's convention %v should be TokenFLOPs without the head", a.Name, fwd)
		}
	}
	tf := mustPreset(t, "GPT-2 small").TokenFLOPs(1024)
	if tf.Blocks != 169_869_312 || tf.Head != 77_194_752 || tf.Attention != 18_874_368 || tf.Forward() != 265_938_432 {
		t.Errorf("GPT-2 small at 1024: %+v, forward %v", tf, tf.Forward())
	}
	for _, bad := range []int{-5, 0} {
		if got := mustPreset(t, "GPT-2 small").TokenFLOPs(bad).Context; got != 1024 {
			t.Errorf("TokenFLOPs(%d) assumed context %d, want the model's 1024", bad, got)
		}
	}
	if got := mustPreset(t, "GPT-2 small").TokenFLOPs(1 << 40).Context; got != 1<<24 {
		t.Errorf("TokenFLOPs(2^40) assumed context %d, want the 2^24 clamp", got)
	}
}

// PaLM (Chowdhery et al. 2022, Appendix B) counts training attention as
// 12·L·H·Q·T per token, every query against all T keys. With the causal
// mask a position attends on average to half the sequence, which is
// Kaplan's term: three times ours (forward and backward) is exactly half
// of PaLM's.
func TestArchAttentionIsHalfPaLMs(t *testing.T) {
	for _, name := range []string{"GPT-3 175B", "Llama 3.1 70B"} {
		a := mustPreset(t, name)
		tf := a.TokenFLOPs(0)
		palm := 12 * float64(a.Layers) * float64(a.Heads) * float64(a.HeadDim()) * float64(a.Context)
		if 3*tf.Attention != palm/2 {
			t.Errorf("%s: training attention %v, want half of PaLM's %v", name, 3*tf.Attention, palm)
		}
	}
}

// Where "training ≈ 6N" holds, with N the model's whole parameter count
// (the N of chapter 4's C = 6·N·D) and SixNTolerance = 10%, the share Brown
// et al. 2020 (Appendix D) allow for the attention their 6·N·D leaves out.
//
//   - GPT-3 175B at its 2,048-token context (Table 2.1): the full count is
//     within 2% of 6N, and 300B tokens of it (Table D.1) land within 2% of
//     the paper's 3.14e23 FLOPs.
//   - Llama 3.1 70B at 131,072 tokens (max_position_embeddings in
//     meta-llama/Llama-3.1-70B config.json): attention, 2·80·131072·8192 =
//     171.8 GFLOP a token, outweighs the blocks' 2N = 136.9 GFLOP, and
//     training is 2.2 × 6N. At the 8,192-token sequences most of its
//     pre-training used (Grattafiori et al. 2024, section 3.4) 6N holds.
//   - An untied table a token only looks up makes 6N too big: a 64-wide
//     model with a 262,144-token vocabulary has half its parameters in an
//     embedding that costs no FLOPs.
func TestArchWhereSixNHolds(t *testing.T) {
	gpt3 := mustPreset(t, "GPT-3 175B")
	n := gpt3.Params().Total
	tf := gpt3.TokenFLOPs(0)
	if !tf.Near6N(n) || math.Abs(tf.Over6N(n)-1) > 0.02 {
		t.Errorf("GPT-3: Over6N %.4f, want within 2%%", tf.Over6N(n))
	}
	if total := tf.Training() * 300e9; math.Abs(total-3.14e23)/3.14e23 > 0.02 {
		t.Errorf("GPT-3 full count %.4g, want within 2%% of Table D.1's 3.14e23", total)
	}

	l70 := mustPreset(t, "Llama 3.1 70B")
	n = l70.Params().Total
	long := l70.TokenFLOPs(0)
	if long.Context != 131072 || long.Attention != 2*80*131072*8192 || long.Attention <= long.Blocks {
		t.Errorf("Llama 3.1 70B at 131,072: %+v", long)
	}
	if long.Near6N(n) || long.Over6N(n) < 2.1 || long.Over6N(n) > 2.3 {
		t.Errorf("Llama 3.1 70B at 131,072: Over6N %.3f, want about 2.2 and not near", long.Over6N(n))
	}
	if short := l70.TokenFLOPs(8192); !short.Near6N(n) {
		t.Errorf("Llama 3.1 70B at 8,192: Over6N %.3f, want within 10%%", short.Over6N(n))
	}

	lookup := Arch{DModel: 64, Layers: 1, Heads: 1, Vocab: 262144, Context: 128, Tied: false, Pos: PosRotary, Norm: NormRMS}
	lt := lookup.TokenFLOPs(0)
	if r := lt.Over6N(lookup.Params().Total); lt.Near6N(lookup.Params().Total) || r > 0.6 {
		t.Errorf("untied lookup-heavy model: Over6N %.3f, want about 0.5", r)
	}
	if r := lt.Over6N(0); math.IsInf(r, 0) || math.IsNaN(r) {
		t.Errorf("Over6N(0) = %v, want finite", r)
	}
}

func TestArchClampRepairsBadInput(t *testing.T) {
	cases := []Arch{
		{},
		{DModel: -5, Layers: -1, Heads: -3, KVHeads: -2, Vocab: -1, Context: -9},
		{DModel: 768, Heads: 7, KVHeads: 5},    // 7 does not divide 768
		{DModel: 13, Heads: 100, KVHeads: 100}, // prime width
		{DModel: 1 << 40, Layers: 1 << 40, Heads: 1 << 40, Vocab: 1 << 40, Context: 1 << 40, FFNHidden: 1 << 40},
		{DModel: 64, Heads: 8, FFN: "relu²", Pos: "alibi", Norm: "batchnorm"},
		{DModel: 64, Heads: 8, FFN: FFNSwiGLU, FFNMultiplier: math.NaN(), MultipleOf: -7},
		{DModel: 64, Heads: 8, FFN: FFNSwiGLU, FFNMultiplier: math.Inf(1), MultipleOf: 1 << 40},
		{DModel: 1, Heads: 1, FFN: FFNSwiGLU, FFNMultiplier: 1e-9},
	}
	for i, in := range cases {
		a := in.Clamp()
		if a.DModel < 1 || a.Layers < 1 || a.Heads < 1 || a.KVHeads < 1 || a.Vocab < 1 || a.Context < 1 || a.MultipleOf < 1 {
			t.Errorf("case %d: non-positive field after Clamp: %+v", i, a)
		}
		if a.DModel%a.Heads != 0 || a.Heads%a.KVHeads != 0 {
			t.Errorf("case %d: divisibility broken: d=%d heads=%d kv=%d", i, a.DModel, a.Heads, a.KVHeads)
		}
		if a.Clamp() != a {
			t.Errorf("case %d: Clamp not idempotent", i)
		}
		if a.FFNDim() < 1 || a.HeadDim() < 1 {
			t.Errorf("case %d: FFNDim %d HeadDim %d", i, a.FFNDim(), a.HeadDim())
		}
	}
	if a := (Arch{DModel: 768, Heads: 7}).Clamp(); a.Heads != 6 {
		t.Errorf("heads 7 on d=768 should drop to the divisor 6, got %d", a.Heads)
	}
	if a := (Arch{DModel: 4096, Heads: 32, KVHeads: 0}).Clamp(); a.KVHeads != 32 {
		t.Errorf("KVHeads 0 should mean one per query head, got %d", a.KVHeads)
	}
}

// FuzzArch: for any input, Clamp yields a valid architecture and Params,
// FLOPsPerToken and WeightBytes never panic, go negative or produce NaN/Inf.
func FuzzArch(f *testing.F) {
	f.Add(768, 12, 12, 0, 50257, 1024, "gelu", 0, 0.0, 0, true, "learned", "layernorm", true, 1024, 2.0)
	f.Add(16384, 126, 128, 8, 128256, 131072, "swiglu", 53248, 1.2, 4096, false, "rotary", "rmsnorm", false, 0, 1.0)
	f.Add(0, 0, 0, 0, 0, 0, "", 0, 0.0, 0, false, "", "", false, 0, 0.0)
	f.Add(-1, -1, -1, -1, -1, -1, "x", -1, -1.0, -1, true, "y", "z", true, -1, -1.0)
	f.Add(1<<62, 1<<62, 1<<62, 1<<62, 1<<62, 1<<62, "swiglu", 1<<62, math.Inf(1), 1<<62, false, "rotary", "rmsnorm", true, 1<<62, math.Inf(1))
	f.Add(13, 3, 100, 99, 7, 5, "swiglu", 0, math.NaN(), 3, false, "learned", "rmsnorm", true, 3, math.NaN())
	f.Fuzz(func(t *testing.T, d, layers, heads, kv, vocab, ctx int, ffn string, hidden int, mult float64,
		multipleOf int, tied bool, pos, norm string, bias bool, flopCtx int, bpp float64) {
		a := Arch{DModel: d, Layers: layers, Heads: heads, KVHeads: kv, Vocab: vocab, Context: ctx,
			FFN: FFNKind(ffn), FFNHidden: hidden, FFNMultiplier: mult, MultipleOf: multipleOf,
			Tied: tied, Pos: PosKind(pos), Norm: NormKind(norm), Bias: bias}
		c := a.Clamp()
		if c.Clamp() != c {
			t.Fatalf("Clamp not idempotent: %+v", c)
		}
		if c.DModel < 1 || c.Heads < 1 || c.KVHeads < 1 || c.DModel%c.Heads != 0 || c.Heads%c.KVHeads != 0 {
			t.Fatalf("invalid clamp: %+v", c)
		}
		p := a.Params()
		for _, v := range []int64{p.Embedding, p.Position, p.Attention, p.FFN, p.Norms, p.Head,
			p.Block.Attention, p.Block.FFN, p.Block.Norms, p.Block.Matrix, p.Block.Vector} {
			if v < 0 {
				t.Fatalf("negative count in %+v", p)
			}
		}
		if p.Total <= 0 || p.Total != p.Embedding+p.Position+p.Attention+p.FFN+p.Norms+p.Head {
			t.Fatalf("bad total in %+v", p)
		}
		fwd, train := a.FLOPsPerToken(flopCtx)
		wb := a.WeightBytes(bpp)
		tf := a.TokenFLOPs(flopCtx)
		for _, v := range []float64{fwd, train, wb, tf.Forward(), tf.Training(), tf.Over6N(p.Total)} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("bad float %v (fwd %v train %v bytes %v)", v, fwd, train, wb)
			}
		}
		if fwd <= 0 {
			t.Fatalf("forward FLOPs %v", fwd)
		}
	})
}
