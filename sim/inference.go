package sim

import (
	"hash/fnv"
	"math"
	"strings"
)

// Serving a model fast: four optimisations every production stack uses,
// each with its arithmetic. The KV cache trades memory for compute; grouped
// and latent attention shrink that memory; speculative decoding lets a cheap
// draft model propose tokens the big model checks in one pass; continuous
// batching keeps the GPU's batch slots full; a mixture of experts runs only a
// few of its feed-forward networks per token.

// Bounds that keep every product finite and every loop short, whatever the
// caller passes. They sit far above anything on screen.
const (
	infMaxTokens    = 1 << 24 // context tokens
	infMaxBatch     = 1 << 16 // sequences in a batch
	infMaxBytesElem = 16.0    // bytes per cached number
	infMaxDraft     = 64      // speculative draft length
	infMaxSpecSteps = 1 << 20 // simulated target passes
	infMaxRequests  = 256     // requests in a batching run
	infMaxSlots     = 64      // batch slots
	infMaxReqLength = 1 << 10 // output tokens of one request
	infMaxArrival   = 1 << 12 // arrival step of a request
	infMaxExperts   = 256     // experts in the routing toy
)

// AttentionKind names how a model's attention stores keys and values.
type AttentionKind string

// The three designs the KV-cache view compares.
const (
	// MHA is full multi-head attention: every query head has its own key
	// and value head, all cached.
	MHA AttentionKind = "MHA"
	// GQA is grouped-query attention (Ainslie et al. 2023): groups of query
	// heads share one key/value head, so only the KV heads are cached.
	GQA AttentionKind = "GQA"
	// MLA is multi-head latent attention (DeepSeek-V2, 2024): keys and
	// values are rebuilt from one small latent vector per token, and only
	// that latent (plus a small rotary key) is cached.
	MLA AttentionKind = "MLA"
)

// KVModel is what a model's KV cache depends on.
type KVModel struct {
	// Name labels the model on screen.
	Name string
	// Kind is the attention design.
	Kind AttentionKind
	// Layers is the number of transformer blocks; each caches its own K, V.
	Layers int
	// Heads is the number of query heads.
	Heads int
	// KVHeads is the number of key/value heads (equal to Heads for MHA).
	KVHeads int
	// HeadDim is the width of one key head and of one value head (MHA and
	// GQA; 0 for MLA, whose keys and values differ in width).
	HeadDim int
	// LatentDim is MLA's compressed key/value width (kv_lora_rank) and
	// RopeDim its decoupled rotary key width (qk_rope_head_dim); both 0
	// for MHA and GQA.
	LatentDim, RopeDim int
	// NopeDim (qk_nope_head_dim) and VHeadDim (v_head_dim) are the widths
	// MLA rebuilds from the latent: one head's key is NopeDim + RopeDim
	// wide, its value VHeadDim. They size the uncompressed cache MLA
	// avoids; both 0 for MHA and GQA.
	NopeDim, VHeadDim int
	// Context is the longest context the model was trained for, in
	// tokens: a cache never holds more.
	Context int
}

// KVModels returns the presets of the KV-cache view, freshly built.
// Sources, each the model's config.json on the Hugging Face hub:
// meta-llama/Llama-2-7b-hf (32 layers, 32 heads, 32 key/value heads,
// hidden 4096, max_position_embeddings 4096); meta-llama/Llama-3.1-70B (80
// layers, 64 heads, 8 key/value heads, hidden 8192,
// max_position_embeddings 131072); deepseek-ai/DeepSeek-V3 (61 layers, 128
// heads, kv_lora_rank 512, qk_rope_head_dim 64, qk_nope_head_dim 128,
// v_head_dim 128). DeepSeek-V3's context is the 128K of its model card
// (README, "Context Length 128K"; technical report section 4.3); its
// max_position_embeddings, 163840, is the YaRN limit (40 × 4096), not a
// trained length.
func KVModels() []KVModel {
	return []KVModel{
		{Name: "Llama-2-7B", Kind: MHA, Layers: 32, Heads: 32, KVHeads: 32, HeadDim: 128, Context: 4096},
		{Name: "Llama-3.1-70B", Kind: GQA, Layers: 80, Heads: 64, KVHeads: 8, HeadDim: 128, Context: 131072},
		{Name: "DeepSeek-V3", Kind: MLA, Layers: 61, Heads: 128, KVHeads: 128,
			LatentDim: 512, RopeDim: 64, NopeDim: 128, VHeadDim: 128, Context: 131072},
	}
}

// clamp returns the model with every size in [0, 2^16], so products of them
// stay exact in int64, and its context in [0, 2^24].
func (m KVModel) clamp() KVModel {
	for _, p := range []*int{&m.Layers, &m.Heads, &m.KVHeads, &m.HeadDim, &m.LatentDim, &m.RopeDim, &m.NopeDim, &m.VHeadDim} {
		*p = clampIntTo(*p, 0, 1<<16)
	}
	m.Context = clampIntTo(m.Context, 0, infMaxTokens)
	return m
}

// KeyDim is the width of one head's full key: HeadDim, or for MLA the
// rebuilt NopeDim part plus the rotary RopeDim part (128 + 64 = 192 for
// DeepSeek-V3).
func (m KVModel) KeyDim() int {
	m = m.clamp()
	if m.Kind == MLA {
		return m.NopeDim + m.RopeDim
	}
	return m.HeadDim
}

// ValueDim is the width of one head's value: HeadDim, or VHeadDim for MLA.
func (m KVModel) ValueDim() int {
	m = m.clamp()
	if m.Kind == MLA {
		return m.VHeadDim
	}
	return m.HeadDim
}

// ElementsPerToken is how many numbers one token adds to the cache, summed
// over layers: 2 × layers × KV heads × head dim (a key and a value per KV
// head), or for MLA layers × (latent + rotary width), since one latent
// vector stands in for both keys and values.
func (m KVModel) ElementsPerToken() int64 {
	m = m.clamp()
	if m.Kind == MLA {
		return int64(m.Layers) * int64(m.LatentDim+m.RopeDim)
	}
	return 2 * int64(m.Layers) * int64(m.KVHeads) * int64(m.HeadDim)
}

// MHAElementsPerToken is what the same model would cache with full
// multi-head attention, every query head keeping its own key and value:
// layers × heads × (key width + value width), which is 2 × layers × heads ×
// head dim when keys and values are equally wide. It is the baseline GQA and
// MLA shrink; for MLA it is the keys and values the latent stands in for
// (DeepSeek-V3: 61 × 128 × (192 + 128)).
func (m KVModel) MHAElementsPerToken() int64 {
	m = m.clamp()
	return int64(m.Layers) * int64(m.Heads) * int64(m.KeyDim()+m.ValueDim())
}

// KVCacheBytes is the cache for batch sequences of tokens each at
// bytesPerElem bytes per number (2 for bf16, 1 for fp8):
//
//	2 × layers × KV heads × head dim × bytes × tokens × batch
//
// (for MLA, layers × (latent + rotary) × bytes × tokens × batch). tokens is
// clamped to [0, 2^24], batch to [0, 2^16], bytesPerElem to [0, 16] (NaN
// counts as 0).
func KVCacheBytes(m KVModel, tokens, batch int, bytesPerElem float64) float64 {
	tokens = clampIntTo(tokens, 0, infMaxTokens)
	batch = clampIntTo(batch, 0, infMaxBatch)
	b := clampFloatNaN(bytesPerElem, 0, infMaxBytesElem, 0)
	return float64(m.ElementsPerToken()) * b * float64(tokens) * float64(batch)
}

// DecodeFLOPs is the forward compute to generate n tokens one at a time from
// an empty context, with and without a KV cache, using Kaplan et al.'s
// per-token forward cost 2N + 2·layers·ctx·d (Arch.FLOPsPerToken).
//
// With the cache, step t runs one new token against t cached positions,
// 2N for the weights plus 2·L·t·d of attention, so
//
//	Σ_t (2N + 2·L·t·d) = 2N·n + L·d·n(n+1)
//
// is linear in n while the weights dominate and quadratic once attention
// does (see DecodeAttentionShare and DecodeCrossover). Without it, step t
// re-runs all t tokens of the prefix:
//
//	Σ_t Σ_{j≤t} (2N + 2·L·j·d) = N·n(n+1) + L·d·n(n+1)(n+2)/3
//
// quadratic in the weights' term and cubic in attention's. n is clamped to
// [0, 2^24].
func DecodeFLOPs(a Arch, n int) (cached, uncached float64) {
	a = a.Clamp()
	n = clampIntTo(n, 0, infMaxTokens)
	N := float64(a.Layers) * float64(a.Params().Block.Matrix)
	L, d, x := float64(a.Layers), float64(a.DModel), float64(n)
	cached = 2*N*x + L*d*x*(x+1)
	uncached = N*x*(x+1) + L*d*x*(x+1)*(x+2)/3
	return cached, uncached
}

// DecodeStepFLOPs splits the forward cost of one cached decoding step that
// attends over t tokens (Arch.FLOPsPerToken at ctx = t) into the weights'
// 2N, the same at every step, and attention's 2·L·t·d, which grows with t.
// t is clamped to [0, 2^24].
func DecodeStepFLOPs(a Arch, t int) (weights, attention float64) {
	a = a.Clamp()
	t = clampIntTo(t, 0, infMaxTokens)
	N := float64(a.Layers) * float64(a.Params().Block.Matrix)
	return 2 * N, 2 * float64(a.Layers) * float64(t) * float64(a.DModel)
}

// DecodeAttentionShare is the part of DecodeFLOPs' cached work that is
// attention over the cache, L·d·n(n+1) / (2N·n + L·d·n(n+1)): how far the
// total is from linear in n. It is 0 for n = 0; n is clamped to [0, 2^24].
func DecodeAttentionShare(a Arch, n int) float64 {
	a = a.Clamp()
	n = clampIntTo(n, 0, infMaxTokens)
	cached, _ := DecodeFLOPs(a, n)
	if cached <= 0 {
		return 0
	}
	L, d, x := float64(a.Layers), float64(a.DModel), float64(n)
	return L * d * x * (x + 1) / cached
}

// DecodeCrossover is the context length at which one cached decoding step
// spends as much on attention over the cache (2·L·ctx·d) as on the weights
// (2N): ctx = N / (L·d). Below it a token costs about 2N whatever the
// context; above it attention leads and a token's cost grows with the
// context. For a standard block, N ≈ 12·L·d², so the crossover sits near
// 12·d: Kaplan et al. 2020 (section 2.1) note the context term is small
// while d_model > n_ctx / 12.
func DecodeCrossover(a Arch) float64 {
	a = a.Clamp()
	N := float64(a.Layers) * float64(a.Params().Block.Matrix)
	return N / (float64(a.Layers) * float64(a.DModel))
}

// H100HBMBytesPerSec is one H100 SXM's memory bandwidth, 3.35 TB/s of HBM3
// (NVIDIA H100 Tensor Core GPU datasheet). With H100BF16DenseFLOPS it sets
// the GPU's roofline ridge: about 295 FLOPs per byte read.
const H100HBMBytesPerSec = 3.35e12

// BatchLimits says how long decoding a batch costs about what decoding one
// sequence does. A decoding step reads every weight once, whatever the
// batch, and does only 2 FLOPs per weight per sequence, so at small batches
// its time is the weight reading, shared by every slot. That ends when
// something else outgrows the weight reading: the slots' KV caches, read
// in full every step, or the arithmetic.
type BatchLimits struct {
	// WeightBytes is what a step reads for the weights: every parameter
	// but the input embedding, a lookup that reads one row per token.
	WeightBytes float64
	// KVTokens is the number of cached tokens, summed over the batch, whose
	// keys and values take as many bytes as WeightBytes.
	KVTokens float64
	// ComputeBatch is the batch at which the step's 2 FLOPs per weight per
	// sequence take as long at the peak FLOP rate as reading the weights at
	// the memory bandwidth: the roofline's ridge point, in sequences.
	ComputeBatch float64
}

// DecodeBatchLimits works out BatchLimits for the model a with the cache of
// kv, everything stored at bytesPerElem bytes per number (2 for bf16), on a
// GPU doing peakFLOPS with bytesPerSec of memory bandwidth. It is a
// roofline estimate: it ignores attention's own arithmetic and any overlap
// of reading with computing. bytesPerElem is clamped to [1/8, 16], the rates
// to [1, 1e21] (NaN counts as the H100's).
func DecodeBatchLimits(a Arch, kv KVModel, bytesPerElem, peakFLOPS, bytesPerSec float64) BatchLimits {
	b := clampFloatNaN(bytesPerElem, 0.125, infMaxBytesElem, 2)
	peak := clampFloatNaN(peakFLOPS, 1, 1e21, H100BF16DenseFLOPS)
	bw := clampFloatNaN(bytesPerSec, 1, 1e21, H100HBMBytesPerSec)
	p := a.Params()
	read := float64(p.Total-p.Embedding) * b
	out := BatchLimits{WeightBytes: read, ComputeBatch: peak * b / (2 * bw)}
	if perToken := float64(kv.ElementsPerToken()) * b; perToken > 0 {
		out.KVTokens = read / perToken
	}
	return out
}

// SpecExpectedTokens is the expected number of tokens one target pass
// yields in speculative decoding with draft length k and per-token
// acceptance rate α (Leviathan et al. 2023, eq. 1):
//
//	(1 − α^(k+1)) / (1 − α)
//
// Each pass keeps the accepted prefix of the draft and adds one token of
// the target's own (the correction at the first rejection, or a bonus token
// when all k pass). α = 1 gives k + 1, α = 0 gives 1. α is clamped to
// [0, 1] (NaN counts as 0) and k to [0, 64].
func SpecExpectedTokens(alpha float64, k int) float64 {
	alpha = clampFloatNaN(alpha, 0, 1, 0)
	k = clampIntTo(k, 0, infMaxDraft)
	if alpha == 1 {
		return float64(k + 1)
	}
	return (1 - math.Pow(alpha, float64(k+1))) / (1 - alpha)
}

// SpecSpeedup is the expected wall-time improvement of speculative decoding
// over plain decoding (Leviathan et al. 2023, Theorem 3.8):
//
//	(1 − α^(k+1)) / ((1 − α)(k·c + 1))
//
// where c is the draft model's cost per token as a fraction of the target's:
// a pass costs k draft steps and one target step and yields
// SpecExpectedTokens. α = 0 gives 1/(k·c + 1), a slowdown; α = 1 gives
// (k + 1)/(k·c + 1). c is clamped to [0, 1e6] (NaN counts as 0).
func SpecSpeedup(alpha float64, k int, c float64) float64 {
	k = clampIntTo(k, 0, infMaxDraft)
	c = clampFloatNaN(c, 0, 1e6, 0)
	return SpecExpectedTokens(alpha, k) / (float64(k)*c + 1)
}

// SpecPass is one target pass of a simulated speculative decode.
type SpecPass struct {
	// Drafted is the draft length k.
	Drafted int
	// Accepted is how many draft tokens the target accepted, a prefix of
	// the draft: the first rejection ends the pass.
	Accepted int
	// Bonus is set when all k were accepted and the target's pass adds a
	// (k+1)-th token for free; otherwise the pass's own token is the
	// correction that replaces the first rejected draft token.
	Bonus bool
}

// Tokens is the number of tokens the pass adds to the text: the accepted
// ones plus the target's own.
func (p SpecPass) Tokens() int { return p.Accepted + 1 }

// SimulateSpeculative runs passes target passes of speculative decoding with
// draft length k, each draft token accepted independently with probability
// α (the i.i.d. model under which eq. 1 of Leviathan et al. holds), drawn
// from a generator seeded by seed. α is clamped to [0, 1] (NaN counts as 0),
// k to [0, 64] and passes to [0, 2^20].
func SimulateSpeculative(alpha float64, k, passes int, seed uint64) []SpecPass {
	alpha = clampFloatNaN(alpha, 0, 1, 0)
	k = clampIntTo(k, 0, infMaxDraft)
	passes = clampIntTo(passes, 0, infMaxSpecSteps)
	r := newSplitMix(seed)
	out := make([]SpecPass, passes)
	for i := range out {
		p := SpecPass{Drafted: k}
		for p.Accepted < k && r.float64() < alpha {
			p.Accepted++
		}
		p.Bonus = p.Accepted == k
		out[i] = p
	}
	return out
}

// Request is one generation request in a batching simulation.
type Request struct {
	// Arrival is the step at which the request reaches the server.
	Arrival int
	// Length is how many tokens it generates, one per step while it holds a
	// batch slot.
	Length int
}

// RequestStream returns n requests, seeded: arrivals come 0 to 2 steps
// apart and lengths run from 2 to 24 tokens, most short and a few long, as
// chat traffic does. The mix of lengths is what separates the two batching
// policies. n is clamped to [0, 256].
func RequestStream(n int, seed uint64) []Request {
	n = clampIntTo(n, 0, infMaxRequests)
	r := newSplitMix(seed)
	out := make([]Request, n)
	t := 0
	for i := range out {
		if i > 0 {
			t += r.intn(3)
		}
		u := r.float64()
		out[i] = Request{Arrival: t, Length: 2 + int(22*u*u*u)}
	}
	return out
}

// BatchRun is the outcome of serving a request stream with a fixed number of
// batch slots.
type BatchRun struct {
	// Continuous says which policy ran.
	Continuous bool
	// Slots is the number of sequences the GPU decodes together.
	Slots int
	// Steps is the makespan: the step at which the last request finishes.
	Steps int
	// Grid[s][t] is the request (an index into the stream) that slot s
	// decodes at step t, or -1 when the slot idles.
	Grid [][]int
	// Start and Finish are, per request, the step it got a slot and the step
	// after its last token.
	Start, Finish []int
	// Tokens is the number of tokens generated.
	Tokens int
	// Throughput is Tokens per step.
	Throughput float64
	// MeanLatency is the mean of Finish − Arrival, in steps.
	MeanLatency float64
	// Busy is the fraction of slot-steps that generated a token.
	Busy float64
}

// SimulateBatching serves reqs with slots batch slots, one token per busy
// slot per step. Static batching forms a batch from the requests waiting
// when the server is idle and runs it until its longest request finishes:
// slots whose request ended early sit empty. Continuous batching (Orca, Yu
// et al. 2022) refills a slot the step after it frees, from the queue in
// arrival order. slots is clamped to [1, 64]; requests beyond the first 256
// are ignored and lengths are clamped to [1, 1024], arrivals to [0, 4096],
// so a run is at most a few hundred thousand slot-steps.
func SimulateBatching(reqs []Request, slots int, continuous bool) BatchRun {
	slots = clampIntTo(slots, 1, infMaxSlots)
	if len(reqs) > infMaxRequests {
		reqs = reqs[:infMaxRequests]
	}
	rs := make([]Request, len(reqs))
	for i, q := range reqs {
		rs[i] = Request{Arrival: clampIntTo(q.Arrival, 0, infMaxArrival), Length: clampIntTo(q.Length, 1, infMaxReqLength)}
	}
	run := BatchRun{Continuous: continuous, Slots: slots, Start: make([]int, len(rs)), Finish: make([]int, len(rs))}
	// Serve in arrival order (stable for equal arrivals).
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && rs[order[j]].Arrival < rs[order[j-1]].Arrival; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	slotReq := make([]int, slots)  // request in each slot, -1 when free
	slotLeft := make([]int, slots) // tokens it still has to generate
	for s := range slotReq {
		slotReq[s] = -1
	}
	grid := make([][]int, slots)
	next, done := 0, 0
	for t := 0; done < len(rs); t++ {
		busy := 0
		for _, q := range slotReq {
			if q >= 0 {
				busy++
			}
		}
		// Static batching admits only when the whole batch has finished.
		if continuous || busy == 0 {
			for s := range slotReq {
				if slotReq[s] < 0 && next < len(order) && rs[order[next]].Arrival <= t {
					q := order[next]
					next++
					slotReq[s], slotLeft[s] = q, rs[q].Length
					run.Start[q] = t
				}
			}
		}
		for s := range slotReq {
			q := slotReq[s]
			grid[s] = append(grid[s], q)
			if q < 0 {
				continue
			}
			run.Tokens++
			slotLeft[s]--
			if slotLeft[s] == 0 {
				run.Finish[q] = t + 1
				done++
				slotReq[s] = -1
			}
		}
		run.Steps = t + 1
	}
	if len(rs) == 0 {
		run.Steps = 0
		for s := range grid {
			grid[s] = []int{}
		}
	}
	run.Grid = grid
	if run.Steps > 0 {
		run.Throughput = float64(run.Tokens) / float64(run.Steps)
		run.Busy = float64(run.Tokens) / float64(run.Steps*slots)
	}
	if len(rs) > 0 {
		sum := 0
		for i, q := range rs {
			sum += run.Finish[i] - q.Arrival
		}
		run.MeanLatency = float64(sum) / float64(len(rs))
	}
	return run
}

// MoEModel is a mixture-of-experts transformer described by its config, for
// counting total against active parameters.
type MoEModel struct {
	// Name labels the model on screen.
	Name string
	// Layers is the number of blocks; the first DenseLayers of them have a
	// plain feed-forward network instead of experts.
	Layers, DenseLayers int
	// DModel is the residual width and Vocab the vocabulary size.
	DModel, Vocab int
	// Attention is the attention parameters of one layer, counted from the
	// config (see MoEPresets).
	Attention int64
	// DenseFFN is the feed-forward hidden width of a dense layer.
	DenseFFN int
	// ExpertFFN is the hidden width of one expert (a SwiGLU MLP: three
	// d × hidden matrices). Mixtral's experts are each as wide as the
	// dense FFN of Mistral 7B (Mistral7BFFNHidden); fine-grained MoEs such
	// as DeepSeek-V3 use many narrower ones (2048 against its dense
	// layers' 18432).
	ExpertFFN int
	// Experts is the number of routed experts per MoE layer, Shared the
	// number of always-on shared experts and TopK how many routed experts
	// each token uses.
	Experts, Shared, TopK int
	// RouterBias adds one bias per expert to the router (DeepSeek-V3's
	// load-balancing correction).
	RouterBias bool
	// Norms is the norm parameters of one layer.
	Norms int64
}

// Mistral7BFFNHidden is the feed-forward hidden width of Mistral 7B, the
// dense model Mixtral 8x7B shares its architecture with (Jiang et al. 2023,
// "Mistral 7B", Table 1: hidden_dim 14336; mistralai/Mistral-7B-v0.1
// config.json: intermediate_size 14336, hidden_size 4096). Each of
// Mixtral's experts is a feed-forward network of this size: "Mixtral has
// the same architecture as Mistral 7B, with the difference that each layer
// is composed of 8 feedforward blocks" (Jiang et al. 2024, "Mixtral of
// Experts", section 2, Table 1: hidden_dim 14336).
const Mistral7BFFNHidden = 14336

// MoEPresets returns the mixtures of experts the chapter compares, freshly
// built from their configs. Sources: Mixtral-8x7B-v0.1 config.json
// (mistralai on the Hugging Face hub: hidden 4096, 32 layers, 32 heads, 8 KV
// heads, intermediate 14336, 8 experts, 2 per token, vocab 32000) and the
// DeepSeek-V3 config (deepseek-ai/DeepSeek-V3 inference/configs/
// config_671B.json and config.json: dim 7168, 61 layers of which 3 dense,
// inter 18432, moe_inter 2048, 256 routed + 1 shared experts, 8 per token,
// q_lora_rank 1536, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head 128,
// vocab 129280).
func MoEPresets() []MoEModel {
	// Mixtral: grouped-query attention, Q and O are d×d, K and V d×(8·128).
	const md, mkv = 4096, 8 * 128
	mixtralAttn := int64(2*md*md + 2*md*mkv)

	// DeepSeek-V3: multi-head latent attention, every matrix of its
	// reference model.py MLA block, with the two low-rank norms.
	const (
		dd, heads          = 7168, 128
		qLora, kvLora      = 1536, 512
		nope, rope, vHead  = 128, 64, 128
		qHead              = nope + rope
		wqA, wqB           = dd * qLora, qLora * heads * qHead
		wkvA, wkvB         = dd * (kvLora + rope), kvLora * heads * (nope + vHead)
		wo                 = heads * vHead * dd
		qNorm, kvNorm      = qLora, kvLora
		deepseekAttnParams = wqA + wqB + wkvA + wkvB + wo + qNorm + kvNorm
	)
	return []MoEModel{
		{Name: "Mixtral 8x7B", Layers: 32, DModel: md, Vocab: 32000, Attention: mixtralAttn,
			ExpertFFN: 14336, Experts: 8, TopK: 2, Norms: 2 * md},
		{Name: "DeepSeek-V3", Layers: 61, DenseLayers: 3, DModel: dd, Vocab: 129280, Attention: deepseekAttnParams,
			DenseFFN: 18432, ExpertFFN: 2048, Experts: 256, Shared: 1, TopK: 8, RouterBias: true, Norms: 2 * dd},
	}
}

// MoEParams is a mixture of experts' parameter count, split the way the
// screen shows it.
type MoEParams struct {
	// Total is every stored parameter (embeddings, attention, all experts,
	// router, norms, output head; multi-token-prediction modules excluded).
	Total int64
	// Active is what one token uses: Total minus the routed experts it was
	// not sent to. The embedding table counts, as in Mixtral's "12.9B".
	Active int64
	// Embedding is the input table; DeepSeek-V3's "37B activated" (36.6B
	// exactly) leaves it out, since a lookup does no arithmetic.
	Embedding int64
	// Experts is the routed experts' share of Total.
	Experts int64
	// PerExpert is one expert's parameters.
	PerExpert int64
}

// Computing is the parameters one token computes with: Active without the
// input embedding, since looking up a row of a table is no arithmetic. The
// output head stays: it is a d × vocab matrix product. DeepSeek-V3's
// "36.6B activated (including 0.9B for the output Head)" counts this way;
// Mixtral's "12.9B active" counts the embedding too.
func (p MoEParams) Computing() int64 { return max(p.Active-p.Embedding, 0) }

// FLOPsPerToken is the forward arithmetic of one token, 2 FLOPs (a multiply
// and an add) per parameter it computes with: Kaplan et al. 2020's C ≈ 2N
// (Table 1), which leaves out attention over the context, 2·layers·ctx·d,
// small beside it at short contexts.
func (p MoEParams) FLOPsPerToken() float64 { return 2 * float64(p.Computing()) }

// FLOPsPerTokenAllExperts is what a token would cost if it ran through every
// expert: 2 FLOPs per stored parameter but the input embedding.
func (p MoEParams) FLOPsPerTokenAllExperts() float64 {
	return 2 * float64(max(p.Total-p.Embedding, 0))
}

// Params counts the model's parameters. Sizes are clamped to [0, 2^20] and
// TopK to [0, Experts], so the arithmetic stays exact.
func (m MoEModel) Params() MoEParams {
	c := func(x int) int64 { return int64(clampIntTo(x, 0, 1<<20)) }
	layers, d, vocab := c(m.Layers), c(m.DModel), c(m.Vocab)
	dense := min(c(m.DenseLayers), layers)
	moe := layers - dense
	experts := min(c(m.Experts), 1<<12)
	topK := min(c(m.TopK), experts)
	attn := min(max(m.Attention, 0), 1<<40)
	norms := min(max(m.Norms, 0), 1<<40)

	perExpert := 3 * d * c(m.ExpertFFN)
	router := experts * d
	if m.RouterBias {
		router += experts
	}
	moeFFN := (experts+c(m.Shared))*perExpert + router
	denseFFN := 3 * d * c(m.DenseFFN)

	emb := vocab * d
	total := 2*emb + d + layers*(attn+norms) + dense*denseFFN + moe*moeFFN
	return MoEParams{
		Total:     total,
		Active:    total - moe*(experts-topK)*perExpert,
		Embedding: emb,
		Experts:   moe * experts * perExpert,
		PerExpert: perExpert,
	}
}

// Routing is where an illustrative router sends each token of a sentence.
type Routing struct {
	// Tokens are the words routed.
	Tokens []string
	// Experts is the number of experts and TopK how many each token uses.
	Experts, TopK int
	// Gate[i][e] is the weight token i gives expert e: the softmax of the
	// router's scores over the chosen top-k, renormalised to sum to 1, and 0
	// for experts not chosen.
	Gate [][]float64
	// Chosen[i] lists token i's experts, highest weight first.
	Chosen [][]int
	// Load[e] counts the tokens sent to expert e.
	Load []int
}

// MoESentence is the sentence the routing view sends through the experts,
// freshly built.
func MoESentence() []string {
	return strings.Fields("The cat sat on the mat , then 42 dogs ran in .")
}

// RouteTokens routes tokens to the top k of experts. The router's scores
// are illustrative: a fixed hash of the word and the expert, standing in for
// the learned d × experts matrix, so the same word always goes to the same
// experts (as in a real router, where routing depends on the token's hidden
// state). Mixtral's gate is used: softmax over the top-k scores. experts is
// clamped to [1, 256] and k to [1, experts].
func RouteTokens(tokens []string, experts, k int) Routing {
	experts = clampIntTo(experts, 1, infMaxExperts)
	k = clampIntTo(k, 1, experts)
	rt := Routing{
		Tokens:  append([]string(nil), tokens...),
		Experts: experts, TopK: k,
		Gate:   make([][]float64, len(tokens)),
		Chosen: make([][]int, len(tokens)),
		Load:   make([]int, experts),
	}
	for i, tok := range tokens {
		h := fnv.New64a()
		h.Write([]byte(strings.ToLower(tok)))
		r := newSplitMix(h.Sum64())
		scores := make([]float64, experts)
		for e := range scores {
			scores[e] = 4*r.float64() - 2
		}
		// Pick the k best scores (ties to the lower expert number).
		chosen := make([]int, 0, k)
		taken := make([]bool, experts)
		for range k {
			best := -1
			for e, s := range scores {
				if !taken[e] && (best < 0 || s > scores[best]) {
					best = e
				}
			}
			taken[best] = true
			chosen = append(chosen, best)
		}
		top := make([]float64, k)
		for j, e := range chosen {
			top[j] = scores[e]
		}
		w := Softmax(top)
		rt.Gate[i] = make([]float64, experts)
		for j, e := range chosen {
			rt.Gate[i][e] = w[j]
			rt.Load[e]++
		}
		rt.Chosen[i] = chosen
	}
	return rt
}
