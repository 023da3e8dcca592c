package sim

import (
	"math"
	"slices"
	"strings"
	"testing"
)

const gib = 1 << 30

func kvModel(t *testing.T, name string) KVModel {
	t.Helper()
	for _, m := range KVModels() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no KV preset %q", name)
	return KVModel{}
}

// TestKVCacheBytes checks the cache formula on the presets' configs
// (Hugging Face config.json of meta-llama/Llama-2-7b-hf and
// meta-llama/Llama-3.1-70B; deepseek-ai/DeepSeek-V3 config.json).
func TestKVCacheBytes(t *testing.T) {
	// Llama-2-7B, full MHA: 2 × 32 layers × 32 heads × 128 × 2 bytes =
	// 512 KiB per token, so its 4,096-token context is exactly 2 GiB.
	l2 := kvModel(t, "Llama-2-7B")
	if got := l2.ElementsPerToken(); got != 262_144 {
		t.Errorf("Llama-2-7B caches %d numbers per token, want 2·32·32·128 = 262,144", got)
	}
	if got := KVCacheBytes(l2, 4096, 1, 2); got != 2*gib {
		t.Errorf("Llama-2-7B at 4,096 tokens: %.0f bytes, want 2 GiB", got)
	}
	if l2.MHAElementsPerToken() != l2.ElementsPerToken() {
		t.Error("Llama-2-7B is MHA: its cache is its own MHA baseline")
	}
	// Llama-3.1-70B, GQA with 8 KV heads: 2 × 80 × 8 × 128 × 2 = 320 KiB
	// per token; a 128K context is 40 GiB, 8× less than with 64 KV heads.
	l3 := kvModel(t, "Llama-3.1-70B")
	if got := KVCacheBytes(l3, 131072, 1, 2); got != 40*gib {
		t.Errorf("Llama-3.1-70B at 128K: %.0f bytes, want 40 GiB", got)
	}
	if r := l3.MHAElementsPerToken() / l3.ElementsPerToken(); r != 8 {
		t.Errorf("GQA saving %d×, want 64/8 = 8×", r)
	}
	// DeepSeek-V3, MLA: 61 layers × (kv_lora_rank 512 + qk_rope_head_dim
	// 64) = 35,136 numbers per token. DeepSeek-V2 (Liu et al. 2024,
	// Table 1) gives MLA's cache as (d_c + d_h^R)·l = 4.5·d_h·l elements
	// with d_h = 128.
	ds := kvModel(t, "DeepSeek-V3")
	if got := ds.ElementsPerToken(); got != 35_136 || float64(got) != 4.5*128*61 {
		t.Errorf("DeepSeek-V3 caches %d numbers per token, want 61·576 = 35,136", got)
	}
	if got := KVCacheBytes(ds, 131072, 1, 2); got != 35_136*2*131072 {
		t.Errorf("DeepSeek-V3 at 128K: %.0f bytes", got)
	}
	// Uncompressed, each of its 128 heads would cache a key of
	// qk_nope_head_dim + qk_rope_head_dim = 128 + 64 = 192 numbers and a
	// value of v_head_dim = 128 (config.json; DeepSeek-V2, Liu et al. 2024,
	// section 2.1.3: the full key concatenates the compressed and the
	// decoupled rotary parts): 61 × 128 × 320 = 2,498,560 per token, 71×
	// the latent cache.
	if ds.KeyDim() != 192 || ds.ValueDim() != 128 {
		t.Errorf("DeepSeek-V3 key %d, value %d wide; want 192 and 128", ds.KeyDim(), ds.ValueDim())
	}
	if got := ds.MHAElementsPerToken(); got != 61*128*(192+128) {
		t.Errorf("DeepSeek-V3 uncompressed: %d numbers per token, want 61·128·320 = 2,498,560", got)
	}
	if r := float64(ds.MHAElementsPerToken()) / float64(ds.ElementsPerToken()); math.Abs(r-71.11) > 0.01 {
		t.Errorf("MLA saving %.2f×, want 2,498,560 / 35,136 = 71.11×", r)
	}
	// Batch scales linearly.
	if KVCacheBytes(l3, 8192, 16, 2) != 16*KVCacheBytes(l3, 8192, 1, 2) {
		t.Error("cache does not scale with the batch")
	}
	// Odd input is clamped, never negative, never NaN.
	for _, b := range []float64{math.NaN(), -1, math.Inf(1)} {
		if got := KVCacheBytes(l2, -5, 3, b); got != 0 {
			t.Errorf("negative tokens gave %v", got)
		}
		if got := KVCacheBytes(l2, 1<<30, 1<<30, b); math.IsNaN(got) || math.IsInf(got, 0) || got < 0 {
			t.Errorf("huge input gave %v", got)
		}
	}
	if got := (KVModel{Layers: -3, KVHeads: 1 << 40, HeadDim: 5}).ElementsPerToken(); got != 0 {
		t.Errorf("negative layers gave %d", got)
	}
}

// TestKVContexts checks each preset's context window against its config
// (max_position_embeddings: 4096 in meta-llama/Llama-2-7b-hf, 131072 in
// meta-llama/Llama-3.1-70B; DeepSeek-V3's model card: "Context Length 128K")
// and that the Llama presets agree with the stack chapter's architectures.
func TestKVContexts(t *testing.T) {
	for name, want := range map[string]int{"Llama-2-7B": 4096, "Llama-3.1-70B": 131072, "DeepSeek-V3": 131072} {
		if got := kvModel(t, name).Context; got != want {
			t.Errorf("%s context %d, want %d", name, got, want)
		}
	}
	for kv, arch := range map[string]string{"Llama-2-7B": "Llama 2 7B", "Llama-3.1-70B": "Llama 3.1 70B"} {
		m, a := kvModel(t, kv), mustArch(t, arch)
		if m.Layers != a.Layers || m.Heads != a.Heads || m.KVHeads != a.KVHeads || m.HeadDim != a.HeadDim() || m.Context != a.Context {
			t.Errorf("%s %+v disagrees with the %s architecture %+v", kv, m, arch, a)
		}
	}
}

func mustArch(t *testing.T, name string) Arch {
	t.Helper()
	a, ok := ArchPreset(name)
	if !ok {
		t.Fatalf("no architecture %q", name)
	}
	return a
}

// TestDecodeFLOPs checks the closed forms against summing Kaplan et al.'s
// per-token forward cost step by step.
func TestDecodeFLOPs(t *testing.T) {
	a := ArchPresets()[5] // Llama 2 7B
	for _, n := range []int{0, 1, 2, 7, 100, 513} {
		var wantC, wantU float64
		for step := 1; step <= n; step++ {
			f, _ := a.FLOPsPerToken(step)
			wantC += f
			for j := 1; j <= step; j++ {
				g, _ := a.FLOPsPerToken(j)
				wantU += g
			}
		}
		c, u := DecodeFLOPs(a, n)
		if math.Abs(c-wantC) > 1e-9*max(wantC, 1) || math.Abs(u-wantU) > 1e-9*max(wantU, 1) {
			t.Errorf("n=%d: cached %.6g uncached %.6g, want %.6g %.6g", n, c, u, wantC, wantU)
		}
	}
	// The cache turns quadratic work linear: doubling n roughly doubles
	// the cached cost and quadruples the uncached one.
	c1, u1 := DecodeFLOPs(a, 1000)
	c2, u2 := DecodeFLOPs(a, 2000)
	if r := c2 / c1; r < 1.9 || r > 2.2 {
		t.Errorf("cached cost grew %.2f× when n doubled", r)
	}
	if r := u2 / u1; r < 3.9 || r > 4.3 {
		t.Errorf("uncached cost grew %.2f× when n doubled", r)
	}
}

// TestDecodeAttention checks when the cached cost is linear in n. Kaplan et
// al. 2020 (section 2.1, Table 1): a token costs 2N + 2·n_layer·n_ctx·d, and
// the context term is small while d_model > n_ctx / 12; with N ≈ 12·L·d² the
// two terms meet at n_ctx = N / (L·d) ≈ 12·d.
func TestDecodeAttention(t *testing.T) {
	a := mustArch(t, "Llama 2 7B")
	x := DecodeCrossover(a)
	// N = 32 × (4·4096² + 3·4096·11008) = 6,476,005,376; / (32 × 4096).
	if want := 6_476_005_376.0 / (32 * 4096); math.Abs(x-want) > 1e-9 {
		t.Errorf("Llama 2 7B crossover %.1f tokens, want %.1f", x, want)
	}
	if r := x / (12 * 4096); math.Abs(r-1) > 0.01 {
		t.Errorf("Llama 2 7B crossover is %.3f × 12·d, want within 1%% of Kaplan's 12·d", r)
	}
	// At the crossover one step's attention equals its weights' cost.
	f, _ := a.FLOPsPerToken(int(math.Round(x)))
	if r := f / (4 * 6_476_005_376.0); math.Abs(r-1) > 1e-4 {
		t.Errorf("at the crossover a token costs %.4f × 4N, want 2N + 2N", r)
	}
	// A step's split adds up to Kaplan's per-token cost.
	for _, ctx := range []int{1, 4096, 49410} {
		w, at := DecodeStepFLOPs(a, ctx)
		f, _ := a.FLOPsPerToken(ctx)
		if w != 2*6_476_005_376.0 || math.Abs(w+at-f) > 1e-6*f {
			t.Errorf("ctx %d: weights %.6g + attention %.6g, want %.6g in all", ctx, w, at, f)
		}
	}
	// The attention share of the cached work: L·d·n(n+1) / (2N·n + L·d·n(n+1)).
	for _, n := range []int{1, 1024, 4096, 1 << 20} {
		c, _ := DecodeFLOPs(a, n)
		want := 131072 * float64(n) * float64(n+1) / c
		if got := DecodeAttentionShare(a, n); math.Abs(got-want) > 1e-12 {
			t.Errorf("n=%d: attention share %v, want %v", n, got, want)
		}
	}
	// Small within the window (about 1% at 1,024 tokens), most of it far
	// past the crossover.
	if s := DecodeAttentionShare(a, 1024); s < 0.009 || s > 0.012 {
		t.Errorf("attention share at 1,024 tokens %.4f, want about 1%%", s)
	}
	if s := DecodeAttentionShare(a, 1<<20); s < 0.9 {
		t.Errorf("attention share at 1M tokens %.3f, want most of the work", s)
	}
	if DecodeAttentionShare(a, 0) != 0 || DecodeAttentionShare(a, -5) != 0 {
		t.Error("no tokens, no attention")
	}
}

// TestDecodeBatchLimits checks the roofline limits of batching. The ridge
// uses the H100 SXM datasheet's 989.4 TFLOP/s dense BF16 and 3.35 TB/s
// HBM3: 295 FLOPs per byte, so with bf16 weights (2 FLOPs per 2-byte weight
// per sequence) about 295 sequences. The weights are Llama 2 7B's
// (Llama-2-7b-hf config.json: 6,738,415,616 parameters, of which the
// 32,000 × 4,096 input embedding is a lookup), against its 512 KiB of
// cache per token.
func TestDecodeBatchLimits(t *testing.T) {
	a, kv := mustArch(t, "Llama 2 7B"), kvModel(t, "Llama-2-7B")
	if p := a.Params(); p.Total != 6_738_415_616 {
		t.Fatalf("Llama 2 7B has %d parameters, want 6,738,415,616", p.Total)
	}
	l := DecodeBatchLimits(a, kv, 2, H100BF16DenseFLOPS, H100HBMBytesPerSec)
	if want := 2 * float64(6_738_415_616-32_000*4096); l.WeightBytes != want {
		t.Errorf("weights read %.0f bytes, want %.0f", l.WeightBytes, want)
	}
	if want := l.WeightBytes / 524_288; math.Abs(l.KVTokens-want) > 1e-9 || math.Abs(l.KVTokens-25_205.0) > 0.1 {
		t.Errorf("KV tokens matching the weights %.1f, want 25,205.0", l.KVTokens)
	}
	if math.Abs(l.ComputeBatch-989.4/3.35) > 1e-9 || math.Abs(l.ComputeBatch-295.3) > 0.1 {
		t.Errorf("compute-bound from %.2f sequences, want 295.3", l.ComputeBatch)
	}
	// fp8 weights halve the bytes and so the batch the ridge allows.
	if l8 := DecodeBatchLimits(a, kv, 1, H100BF16DenseFLOPS, H100HBMBytesPerSec); math.Abs(2*l8.ComputeBatch-l.ComputeBatch) > 1e-9 {
		t.Errorf("fp8 ridge %.2f, want half of %.2f", l8.ComputeBatch, l.ComputeBatch)
	}
	for _, x := range []float64{math.NaN(), -1, 0, math.Inf(1)} {
		l := DecodeBatchLimits(a, KVModel{}, x, x, x)
		for _, v := range []float64{l.WeightBytes, l.KVTokens, l.ComputeBatch} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("odd input %v gave %+v", x, l)
			}
		}
	}
}

// TestSpeculative checks Leviathan, Kalman and Matias 2023, "Fast Inference
// from Transformers via Speculative Decoding": eq. 1 for the expected tokens
// per target pass and Theorem 3.8 for the wall-time improvement.
func TestSpeculative(t *testing.T) {
	for _, c := range []struct {
		alpha float64
		k     int
		want  float64
	}{
		{0, 4, 1},                    // nothing accepted: the target's own token
		{1, 4, 5},                    // all accepted plus the bonus: k+1
		{0.5, 1, 1.5},                // 1 + α
		{0.8, 4, 3.3616},             // (1 − 0.8^5)/0.2
		{0.6, 3, (1 - 0.1296) / 0.4}, // 2.176
	} {
		if got := SpecExpectedTokens(c.alpha, c.k); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("E[tokens](α=%g, k=%d) = %v, want %v", c.alpha, c.k, got, c.want)
		}
	}
	// Continuity at α → 1.
	if got := SpecExpectedTokens(1-1e-9, 6); math.Abs(got-7) > 1e-6 {
		t.Errorf("α→1 gives %v, want k+1 = 7", got)
	}
	// Theorem 3.8 edge cases: α = 0 costs k·c extra, α = 1 gains (k+1)/(kc+1).
	if got := SpecSpeedup(0, 4, 0.1); math.Abs(got-1/1.4) > 1e-12 {
		t.Errorf("α=0 speed-up %v, want 1/1.4", got)
	}
	if got := SpecSpeedup(1, 4, 0.1); math.Abs(got-5/1.4) > 1e-12 {
		t.Errorf("α=1 speed-up %v, want 5/1.4", got)
	}
	if got := SpecSpeedup(0.8, 4, 0.05); math.Abs(got-3.3616/1.2) > 1e-12 {
		t.Errorf("α=0.8 k=4 c=0.05 speed-up %v, want 2.801", got)
	}
	for _, x := range []float64{math.NaN(), -1, 2, math.Inf(1)} {
		if v := SpecSpeedup(x, 100, x); math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			t.Errorf("SpecSpeedup(%v) = %v", x, v)
		}
	}
}

func TestSimulateSpeculative(t *testing.T) {
	a := SimulateSpeculative(0.7, 5, 50, 3)
	if !slices.Equal(a, SimulateSpeculative(0.7, 5, 50, 3)) {
		t.Fatal("same seed, different run")
	}
	for _, p := range a {
		if p.Accepted < 0 || p.Accepted > p.Drafted || p.Bonus != (p.Accepted == p.Drafted) {
			t.Fatalf("malformed pass %+v", p)
		}
	}
	// The simulated mean converges on eq. 1.
	for _, c := range []struct {
		alpha float64
		k     int
	}{{0.3, 2}, {0.8, 4}, {0.9, 10}, {0, 3}, {1, 3}} {
		const n = 200_000
		sum := 0
		for _, p := range SimulateSpeculative(c.alpha, c.k, n, 11) {
			sum += p.Tokens()
		}
		got, want := float64(sum)/n, SpecExpectedTokens(c.alpha, c.k)
		if math.Abs(got-want) > 0.02*want {
			t.Errorf("α=%g k=%d: simulated %.4f tokens per pass, formula %.4f", c.alpha, c.k, got, want)
		}
	}
	if got := SimulateSpeculative(0.5, 3, -1, 1); len(got) != 0 {
		t.Errorf("negative passes gave %d", len(got))
	}
}

// checkBatchRun verifies a schedule: every request runs its tokens in one
// slot, contiguously, never before it arrives; no slot holds two requests at
// once; the figures agree with the grid.
func checkBatchRun(t *testing.T, reqs []Request, run BatchRun) {
	t.Helper()
	seen := make([]int, len(reqs))
	for s, row := range run.Grid {
		if len(row) != run.Steps {
			t.Fatalf("slot %d has %d steps, run has %d", s, len(row), run.Steps)
		}
		for step, q := range row {
			if q < 0 {
				continue
			}
			if step < reqs[q].Arrival {
				t.Fatalf("request %d runs at step %d before arriving at %d", q, step, reqs[q].Arrival)
			}
			if step < run.Start[q] || step >= run.Finish[q] {
				t.Fatalf("request %d runs at %d outside [%d, %d)", q, step, run.Start[q], run.Finish[q])
			}
			seen[q]++
		}
	}
	tokens, lat := 0, 0
	for q, r := range reqs {
		if seen[q] != r.Length || run.Finish[q]-run.Start[q] != r.Length {
			t.Fatalf("request %d ran %d steps in [%d,%d), length %d", q, seen[q], run.Start[q], run.Finish[q], r.Length)
		}
		tokens += r.Length
		lat += run.Finish[q] - r.Arrival
	}
	if run.Tokens != tokens {
		t.Fatalf("%d tokens counted, lengths sum to %d", run.Tokens, tokens)
	}
	if len(reqs) > 0 {
		if math.Abs(run.MeanLatency-float64(lat)/float64(len(reqs))) > 1e-12 {
			t.Fatalf("mean latency %v", run.MeanLatency)
		}
		if math.Abs(run.Throughput-float64(tokens)/float64(run.Steps)) > 1e-12 {
			t.Fatalf("throughput %v", run.Throughput)
		}
	}
}

func TestBatching(t *testing.T) {
	reqs := RequestStream(12, 1)
	if !slices.Equal(reqs, RequestStream(12, 1)) {
		t.Fatal("same seed, different stream")
	}
	lengths := map[int]bool{}
	for i, r := range reqs {
		if r.Length < 2 || r.Length > 24 || (i > 0 && r.Arrival < reqs[i-1].Arrival) {
			t.Fatalf("request %d: %+v", i, r)
		}
		lengths[r.Length] = true
	}
	if len(lengths) < 4 {
		t.Errorf("stream lengths %v are too alike to show the difference", reqs)
	}
	wins := 0
	for seed := uint64(1); seed <= 40; seed++ {
		for _, slots := range []int{2, 4, 8} {
			reqs := RequestStream(16, seed)
			st := SimulateBatching(reqs, slots, false)
			co := SimulateBatching(reqs, slots, true)
			checkBatchRun(t, reqs, st)
			checkBatchRun(t, reqs, co)
			if co.MeanLatency <= st.MeanLatency && co.Throughput >= st.Throughput {
				wins++
			}
		}
	}
	// Continuous batching (Yu et al. 2022, Orca) should beat static on both
	// counts on nearly every stream of mixed lengths.
	if wins < 110 {
		t.Errorf("continuous batching won on both throughput and latency in %d of 120 runs", wins)
	}
	// Equal lengths arriving together: the policies coincide.
	same := []Request{{0, 5}, {0, 5}, {0, 5}, {0, 5}}
	st, co := SimulateBatching(same, 2, false), SimulateBatching(same, 2, true)
	if st.Steps != 10 || co.Steps != 10 || st.MeanLatency != co.MeanLatency {
		t.Errorf("uniform work: static %d steps, continuous %d", st.Steps, co.Steps)
	}
	// Static batching leaves a slot idle while the batch's long request runs.
	mixed := []Request{{0, 1}, {0, 9}, {0, 1}, {0, 1}}
	st, co = SimulateBatching(mixed, 2, false), SimulateBatching(mixed, 2, true)
	if st.Steps != 10 || co.Steps != 9 || st.Grid[0][1] != -1 {
		t.Errorf("mixed: static %d steps (want 10, slot 0 idle at step 1), continuous %d (want 9)", st.Steps, co.Steps)
	}
	// Odd input.
	checkBatchRun(t, nil, SimulateBatching(nil, 0, true))
	odd := []Request{{-4, -1}, {1 << 40, 3}}
	run := SimulateBatching(odd, -2, false)
	if run.Tokens != 4 || run.Slots != 1 {
		t.Errorf("odd requests: %+v", run)
	}
}

// TestMoEParams counts Mixtral 8x7B and DeepSeek-V3 from their configs and
// checks the published totals: Mixtral 46.7B total, 12.9B active (Jiang et
// al. 2024, "Mixtral of Experts", section 2: "47B ... 13B active", and the
// model card's 46.7B / 12.9B); DeepSeek-V3 671B total, 37B activated
// (DeepSeek-AI 2024, technical report abstract), 36.6B activated without
// the embedding table (README_WEIGHTS.md: "36.6B (including 0.9B for the
// output Head)").
func TestMoEParams(t *testing.T) {
	ps := MoEPresets()
	mix, ds := ps[0].Params(), ps[1].Params()
	near := func(name string, got int64, want, tol float64) {
		t.Helper()
		if r := float64(got) / want; math.Abs(r-1) > tol {
			t.Errorf("%s = %d (%.2fB), want %.1fB within %.1f%%", name, got, float64(got)/1e9, want/1e9, tol*100)
		}
	}
	// Mixtral, exactly from its config.json.
	if mix.Total != 46_702_792_704 {
		t.Errorf("Mixtral total %d, want 46,702,792,704", mix.Total)
	}
	near("Mixtral total", mix.Total, 46.7e9, 0.001)
	near("Mixtral active", mix.Active, 12.9e9, 0.002)
	near("DeepSeek-V3 total", ds.Total, 671e9, 0.001)
	near("DeepSeek-V3 active", ds.Active, 37e9, 0.02)
	near("DeepSeek-V3 active without the embedding", ds.Active-ds.Embedding, 36.6e9, 0.002)
	near("DeepSeek-V3 embedding", ds.Embedding, 0.9e9, 0.05)
	if ds.PerExpert != 3*7168*2048 {
		t.Errorf("DeepSeek-V3 expert = %d", ds.PerExpert)
	}
	// What a token computes with leaves out the input embedding, as
	// DeepSeek's 36.6B does; Mixtral's 12.9B counts its 32,000 × 4,096
	// table, so without it 12.75B. Kaplan et al. 2020 (Table 1): 2 FLOPs
	// per parameter per token.
	near("DeepSeek-V3 computing", ds.Computing(), 36.6e9, 0.002)
	if mix.Computing() != mix.Active-32000*4096 {
		t.Errorf("Mixtral computes with %d, want %d", mix.Computing(), mix.Active-32000*4096)
	}
	if ds.FLOPsPerToken() != 2*float64(ds.Computing()) || math.Abs(ds.FLOPsPerToken()/73.2e9-1) > 0.002 {
		t.Errorf("DeepSeek-V3 forward %.4g FLOPs per token, want 2 × 36.6B", ds.FLOPsPerToken())
	}
	if got := ds.FLOPsPerTokenAllExperts(); got != 2*float64(ds.Total-ds.Embedding) {
		t.Errorf("DeepSeek-V3 with every expert %.4g FLOPs", got)
	}
	// Mixtral's experts are Mistral 7B's feed-forward network (Jiang et al.
	// 2024, section 2 and Table 1; Mistral 7B, Jiang et al. 2023, Table 1:
	// hidden_dim 14336); DeepSeek-V3's are fine-grained, a ninth of its
	// dense layers' width (config.json: moe_intermediate_size 2048,
	// intermediate_size 18432).
	if ps[0].ExpertFFN != Mistral7BFFNHidden || Mistral7BFFNHidden != 14336 || mix.PerExpert != 3*4096*14336 {
		t.Errorf("Mixtral expert width %d, want Mistral 7B's 14336", ps[0].ExpertFFN)
	}
	if ps[1].DenseFFN != 9*ps[1].ExpertFFN {
		t.Errorf("DeepSeek-V3 dense FFN %d, experts %d: want 9×", ps[1].DenseFFN, ps[1].ExpertFFN)
	}
	// Odd configs stay finite and ordered.
	for _, m := range []MoEModel{{}, {Layers: -1, Experts: -5, TopK: 9}, {Layers: 1 << 30, DModel: 1 << 30, Experts: 1 << 30, TopK: 1 << 30, Attention: -7}} {
		p := m.Params()
		if p.Total < 0 || p.Active < 0 || p.Active > p.Total {
			t.Errorf("%+v gave %+v", m, p)
		}
	}
}

func TestRouteTokens(t *testing.T) {
	words := MoESentence()
	rt := RouteTokens(words, 8, 2)
	if len(rt.Gate) != len(words) || len(rt.Load) != 8 {
		t.Fatalf("routing shape %d×%d", len(rt.Gate), len(rt.Load))
	}
	total := 0
	for i, g := range rt.Gate {
		if len(rt.Chosen[i]) != 2 {
			t.Fatalf("token %d uses %d experts", i, len(rt.Chosen[i]))
		}
		s := sumFloat(g)
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("token %d gates sum to %v", i, s)
		}
		nz := 0
		for _, w := range g {
			if w > 0 {
				nz++
			}
		}
		if nz != 2 || g[rt.Chosen[i][0]] < g[rt.Chosen[i][1]] {
			t.Errorf("token %d: %d experts weighted, chosen %v", i, nz, rt.Chosen[i])
		}
	}
	for _, l := range rt.Load {
		total += l
	}
	if total != 2*len(words) {
		t.Errorf("load sums to %d, want %d", total, 2*len(words))
	}
	// The same word always goes to the same experts.
	if !slices.Equal(rt.Chosen[0], rt.Chosen[4]) {
		t.Errorf("\"The\" and \"the\" routed to %v and %v", rt.Chosen[0], rt.Chosen[4])
	}
	// k = experts uses everything; odd sizes are clamped.
	if all := RouteTokens(words[:1], 4, 9); len(all.Chosen[0]) != 4 {
		t.Errorf("k clamped to experts: %v", all.Chosen[0])
	}
	if none := RouteTokens(nil, -1, -1); none.Experts != 1 || none.TopK != 1 || len(none.Gate) != 0 {
		t.Errorf("empty routing %+v", none)
	}
}

// FuzzInference throws arbitrary numbers at every inference entry point:
// none may panic, and every figure must stay finite and non-negative.
func FuzzInference(f *testing.F) {
	f.Add(8192, 1, 2.0, 0.8, 4, 0.1, 12, 4, uint64(1), "The cat")
	f.Add(-1, -1, math.NaN(), math.Inf(1), -7, -1.0, -3, -2, uint64(0), "")
	f.Add(1<<30, 1<<30, 1e300, 1e-300, 1<<30, 1e300, 1<<20, 1<<20, uint64(1<<63), "a b c d e f g h i j k")
	f.Fuzz(func(t *testing.T, tokens, batch int, bytes, alpha float64, k int, c float64, n, slots int, seed uint64, text string) {
		bad := func(name string, x float64) {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				t.Fatalf("%s = %v", name, x)
			}
		}
		for _, m := range append(KVModels(), KVModel{Kind: MLA, Layers: tokens, LatentDim: batch, RopeDim: k}) {
			bad("KVCacheBytes", KVCacheBytes(m, tokens, batch, bytes))
		}
		a := Arch{DModel: tokens, Layers: batch, Heads: k, Vocab: n, Context: slots}
		cached, uncached := DecodeFLOPs(a, n)
		bad("cached", cached)
		bad("uncached", uncached)
		if s := DecodeAttentionShare(a, n); s > 1 {
			t.Fatalf("attention share %v", s)
		} else {
			bad("DecodeAttentionShare", s)
		}
		bad("DecodeCrossover", DecodeCrossover(a))
		w, at := DecodeStepFLOPs(a, n)
		bad("DecodeStepFLOPs weights", w)
		bad("DecodeStepFLOPs attention", at)
		mla := KVModel{Kind: MLA, Layers: tokens, Heads: batch, LatentDim: k, RopeDim: n, NopeDim: slots, VHeadDim: k}
		bad("MHAElementsPerToken", float64(mla.MHAElementsPerToken()))
		l := DecodeBatchLimits(a, mla, bytes, alpha, c)
		bad("WeightBytes", l.WeightBytes)
		bad("KVTokens", l.KVTokens)
		bad("ComputeBatch", l.ComputeBatch)
		bad("SpecExpectedTokens", SpecExpectedTokens(alpha, k))
		bad("SpecSpeedup", SpecSpeedup(alpha, k, c))
		for _, p := range SimulateSpeculative(alpha, k, min(max(n, 0), 2000), seed) {
			if p.Accepted < 0 || p.Accepted > p.Drafted {
				t.Fatalf("pass %+v", p)
			}
		}
		reqs := RequestStream(n, seed)
		reqs = append(reqs, Request{Arrival: tokens % 1000, Length: batch % 2000})
		run := SimulateBatching(reqs, slots, seed%2 == 0)
		bad("throughput", run.Throughput)
		bad("latency", run.MeanLatency)
		words := strings.Fields(text)
		rt := RouteTokens(words, slots, k)
		for i := range rt.Gate {
			if len(rt.Chosen[i]) != rt.TopK {
				t.Fatalf("token %d routed to %v", i, rt.Chosen[i])
			}
		}
		p := MoEModel{Layers: tokens, DenseLayers: batch, DModel: k, Vocab: n, Experts: slots, TopK: k, ExpertFFN: n, Attention: int64(tokens)}.Params()
		if p.Active < 0 || p.Active > p.Total || p.Computing() > p.Active {
			t.Fatalf("MoE params %+v", p)
		}
		bad("FLOPsPerToken", p.FLOPsPerToken())
		bad("FLOPsPerTokenAllExperts", p.FLOPsPerTokenAllExperts())
	})
}
