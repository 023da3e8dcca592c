package sim

// A decoder-only transformer is an embedding table, a stack of identical
// blocks (attention then feed-forward, each behind a norm) and a final norm
// feeding an output head. Everything here counts what those pieces cost, so
// the "stack of identical blocks" screen can show where the parameters live.

// FFNKind names the feed-forward design inside each block.
type FFNKind string

const (
	// FFNGELU is the GPT-2/GPT-3 MLP: up to 4·d, GELU, back down to d. Two
	// weight matrices per block.
	FFNGELU FFNKind = "gelu"
	// FFNSwiGLU is Llama's gated MLP: gate and up projections multiplied
	// together, then a down projection. Three matrices, so the hidden width
	// shrinks to about 8/3·d to cost roughly what the 4·d GELU MLP costs.
	FFNSwiGLU FFNKind = "swiglu"
)

// NormKind names the normalisation used before each sub-layer and at the end.
type NormKind string

const (
	// NormLayer is LayerNorm: a gain and a bias per channel (2·d parameters).
	NormLayer NormKind = "layernorm"
	// NormRMS is RMSNorm: a gain only (d parameters); it skips mean-centring,
	// which Llama found it could do without.
	NormRMS NormKind = "rmsnorm"
)

// PosKind names how the model learns where a token sits in the sequence.
type PosKind string

const (
	// PosLearned is a learned table with one d-vector per position, which is
	// why GPT-2 cannot read past its 1024-token context.
	PosLearned PosKind = "learned"
	// PosRotary rotates queries and keys by an angle set by position; it has
	// no parameters at all.
	PosRotary PosKind = "rotary"
)

// Bounds for Clamp. They sit well above every real model (Llama 3.1 405B has
// d = 16384, 126 layers, a 128K vocabulary) yet keep every product in Params
// far below the int64 limit, so no input can overflow.
const (
	archMaxDModel     = 1 << 16
	archMaxLayers     = 1 << 10
	archMaxVocab      = 1 << 22
	archMaxContext    = 1 << 24
	archMaxFFNHidden  = 1 << 20
	archMaxMultipleOf = 1 << 16
	archMinFFNMult    = 0.05
	archMaxFFNMult    = 16.0
	archMaxBytesParam = 16.0
)

// Arch describes a decoder-only transformer. The zero value is not useful;
// start from ArchPresets or fill the fields and let Clamp repair the rest.
type Arch struct {
	// Name labels the model on screen.
	Name string
	// DModel is the residual-stream width d.
	DModel int
	// Layers is the number of identical blocks.
	Layers int
	// Heads is the number of query heads. Each is DModel / Heads wide here,
	// which is GPT's and Llama's convention, not a law of the architecture:
	// Gemma 7B runs 16 heads of 256 on d = 3072 and gpt-oss 64 heads of 64
	// on d = 2880, with Q and output projections of d × (heads·head_dim).
	// Arch does not model such a split.
	Heads int
	// KVHeads is the number of key/value heads (grouped-query attention);
	// 0 means one per query head, as in GPT-2.
	KVHeads int
	// Vocab is the number of token ids.
	Vocab int
	// Context is the trained context length in tokens.
	Context int
	// FFN selects the feed-forward design.
	FFN FFNKind
	// FFNHidden overrides the feed-forward hidden width; 0 derives it (4·d for
	// GELU, Llama's rounding rule for SwiGLU).
	FFNHidden int
	// FFNMultiplier is Llama's ffn_dim_multiplier for the SwiGLU rule; 0 means 1.
	FFNMultiplier float64
	// MultipleOf is Llama's multiple_of for the SwiGLU rule; 0 means 1.
	MultipleOf int
	// Tied reuses the embedding table as the output head.
	Tied bool
	// Pos selects the position scheme.
	Pos PosKind
	// Norm selects the normalisation.
	Norm NormKind
	// Bias adds bias vectors to every linear layer, as GPT-2 does.
	Bias bool
}

// ArchPresets returns the real configurations the chapter compares, freshly
// built on each call so callers may edit them. Sources: GPT-2 config.json on
// the Hugging Face hub (openai-community/gpt2*), GPT-3 Table 2.1 (Brown et al.
// 2020), Llama params.json / config.json (meta-llama on the hub and
// meta-llama/llama-models sku_list.py).
func ArchPresets() []Arch {
	gpt2 := func(name string, d, layers, heads int) Arch {
		return Arch{
			Name: name, DModel: d, Layers: layers, Heads: heads, KVHeads: heads,
			Vocab: 50257, Context: 1024, FFN: FFNGELU,
			Tied: true, Pos: PosLearned, Norm: NormLayer, Bias: true,
		}
	}
	llama := func(name string, d, layers, heads, kv, vocab, ctx, hidden int, mult float64, multipleOf int) Arch {
		return Arch{
			Name: name, DModel: d, Layers: layers, Heads: heads, KVHeads: kv,
			Vocab: vocab, Context: ctx, FFN: FFNSwiGLU, FFNHidden: hidden,
			FFNMultiplier: mult, MultipleOf: multipleOf,
			Tied: false, Pos: PosRotary, Norm: NormRMS, Bias: false,
		}
	}
	gpt3 := gpt2("GPT-3 175B", 12288, 96, 96)
	gpt3.Context = 2048
	return []Arch{
		gpt2("GPT-2 small", 768, 12, 12),
		gpt2("GPT-2 medium", 1024, 24, 16),
		gpt2("GPT-2 large", 1280, 36, 20),
		gpt2("GPT-2 XL", 1600, 48, 25),
		gpt3,
		// Llama 2 7B has no ffn_dim_multiplier; 8/3·4096 rounded up to 256 is 11008.
		llama("Llama 2 7B", 4096, 32, 32, 32, 32000, 4096, 11008, 1, 256),
		llama("Llama 3 8B", 4096, 32, 32, 8, 128256, 8192, 14336, 1.3, 1024),
		llama("Llama 3.1 70B", 8192, 80, 64, 8, 128256, 131072, 28672, 1.3, 4096),
		llama("Llama 3.1 405B", 16384, 126, 128, 8, 128256, 131072, 53248, 1.2, 4096),
	}
}

// Clamp returns a copy with every field forced into a range where the
// arithmetic is defined: all sizes at least 1, Heads a divisor of DModel (so
// head_dim = DModel / Heads is a whole number: the convention Arch follows,
// see Heads), KVHeads a divisor of Heads (so query heads share key/value
// heads evenly), unknown kinds replaced by the GPT-2 choice. Divisibility is
// repaired by lowering the head count to the nearest divisor, never by
// changing DModel, because d is the number the user is steering. Clamp is
// idempotent.
func (a Arch) Clamp() Arch {
	a.DModel = clampIntTo(a.DModel, 1, archMaxDModel)
	a.Layers = clampIntTo(a.Layers, 1, archMaxLayers)
	a.Heads = largestDivisorAtMost(a.DModel, clampIntTo(a.Heads, 1, a.DModel))
	if a.KVHeads <= 0 {
		a.KVHeads = a.Heads
	}
	a.KVHeads = largestDivisorAtMost(a.Heads, clampIntTo(a.KVHeads, 1, a.Heads))
	a.Vocab = clampIntTo(a.Vocab, 1, archMaxVocab)
	a.Context = clampIntTo(a.Context, 1, archMaxContext)
	if a.FFN != FFNGELU && a.FFN != FFNSwiGLU {
		a.FFN = FFNGELU
	}
	a.FFNHidden = clampIntTo(a.FFNHidden, 0, archMaxFFNHidden)
	switch {
	case !(a.FFNMultiplier > 0): // also catches NaN
		a.FFNMultiplier = 1
	case a.FFNMultiplier < archMinFFNMult:
		a.FFNMultiplier = archMinFFNMult
	case a.FFNMultiplier > archMaxFFNMult:
		a.FFNMultiplier = archMaxFFNMult
	}
	a.MultipleOf = clampIntTo(a.MultipleOf, 1, archMaxMultipleOf)
	if a.Pos != PosLearned && a.Pos != PosRotary {
		a.Pos = PosLearned
	}
	if a.Norm != NormLayer && a.Norm != NormRMS {
		a.Norm = NormLayer
	}
	return a
}

// HeadDim returns the width of one attention head, DModel / Heads after
// Clamp (the convention described at Heads).
func (a Arch) HeadDim() int {
	a = a.Clamp()
	return a.DModel / a.Heads
}

// FFNDim returns the feed-forward hidden width actually used: the explicit
// FFNHidden if set, otherwise 4·d for GELU or, for SwiGLU, Llama's rule
// (llama/model.py FeedForward): hidden = int(2·4d/3), scaled by
// ffn_dim_multiplier, rounded up to a multiple of multiple_of. The rule keeps
// three SwiGLU matrices near the cost of two 4·d GELU matrices while landing
// on sizes that tile well on GPUs.
func (a Arch) FFNDim() int {
	a = a.Clamp()
	if a.FFNHidden > 0 {
		return a.FFNHidden
	}
	if a.FFN == FFNGELU {
		return clampIntTo(4*a.DModel, 1, archMaxFFNHidden)
	}
	hidden := int(float64(2*4*a.DModel) / 3)
	if a.FFNMultiplier != 1 {
		hidden = int(a.FFNMultiplier * float64(hidden))
	}
	m := a.MultipleOf
	hidden = m * ((hidden + m - 1) / m)
	return clampIntTo(hidden, 1, archMaxFFNHidden)
}

// BlockParams counts the parameters of one transformer block. Matrix holds
// the weight-matrix entries, which grow with d² when the widths scale with d;
// Vector holds biases and norm gains, which grow only with d. The split is
// what lets the screen show why big models are almost all matrices.
type BlockParams struct {
	// Attention is Q, K, V and output projections, with their biases.
	Attention int64
	// FFN is the feed-forward matrices with their biases.
	FFN int64
	// Norms is the two pre-sub-layer norms.
	Norms int64
	// Matrix is the weight-matrix entries of the block.
	Matrix int64
	// Vector is the biases and norm parameters of the block.
	Vector int64
	// Total is Attention + FFN + Norms (equally Matrix + Vector).
	Total int64
}

// ParamBreakdown counts a model's parameters by component, summed over all
// layers. Head is zero when the output head is tied to the embedding, since
// that matrix is stored once.
type ParamBreakdown struct {
	// Embedding is the token table, Vocab·d.
	Embedding int64
	// Position is the learned position table, Context·d, or 0 for rotary.
	Position int64
	// Attention is every block's attention parameters.
	Attention int64
	// FFN is every block's feed-forward parameters.
	FFN int64
	// Norms is every block's norms plus the final norm.
	Norms int64
	// Head is the untied output projection, Vocab·d, or 0 when tied.
	Head int64
	// Total is the sum of the components above.
	Total int64
	// Block is the count for a single block.
	Block BlockParams
}

// NonEmbedding returns Total without the embedding, position and head
// tables: the "N" of Kaplan et al. (2020), who found loss scales more cleanly
// with it than with the total.
func (p ParamBreakdown) NonEmbedding() int64 {
	return p.Attention + p.FFN + p.Norms
}

// Params counts the parameters of the clamped architecture.
func (a Arch) Params() ParamBreakdown {
	a = a.Clamp()
	d := int64(a.DModel)
	L := int64(a.Layers)
	kvDim := int64(a.KVHeads) * int64(a.DModel/a.Heads)
	h := int64(a.FFNDim())

	// Q and output projections are d×d; K and V shrink with grouped-query
	// attention because fewer heads carry keys and values.
	attnMatrix := 2*d*d + 2*d*kvDim
	var attnBias int64
	if a.Bias {
		attnBias = 2*d + 2*kvDim
	}

	var ffnMatrix, ffnBias int64
	if a.FFN == FFNSwiGLU {
		ffnMatrix = 3 * d * h
		if a.Bias {
			ffnBias = 2*h + d
		}
	} else {
		ffnMatrix = 2 * d * h
		if a.Bias {
			ffnBias = h + d
		}
	}

	normEach := d
	if a.Norm == NormLayer {
		normEach = 2 * d
	}

	blk := BlockParams{
		Attention: attnMatrix + attnBias,
		FFN:       ffnMatrix + ffnBias,
		Norms:     2 * normEach,
		Matrix:    attnMatrix + ffnMatrix,
		Vector:    attnBias + ffnBias + 2*normEach,
	}
	blk.Total = blk.Attention + blk.FFN + blk.Norms

	p := ParamBreakdown{
		Embedding: int64(a.Vocab) * d,
		Attention: L * blk.Attention,
		FFN:       L * blk.FFN,
		Norms:     L*blk.Norms + normEach,
		Block:     blk,
	}
	if a.Pos == PosLearned {
		p.Position = int64(a.Context) * d
	}
	if !a.Tied {
		p.Head = int64(a.Vocab) * d
	}
	p.Total = p.Embedding + p.Position + p.Attention + p.FFN + p.Norms + p.Head
	return p
}

// FLOPsPerToken is the compute to process one token with ctx tokens of
// context in Kaplan et al.'s (2020) convention, Table 1 exactly:
//
//	forward  = 2·N + 2·n_layer·n_ctx·d_attn
//	training = 3·forward   (the backward pass costs about twice the forward)
//
// N is Kaplan's non-embedding weight-matrix count, Layers·Block.Matrix. The
// convention leaves out biases, norms, nonlinearities, the embedding lookup
// and the output head's 2·d·Vocab; TokenFLOPs counts the head as well.
// d_attn = Heads·HeadDim = DModel. ctx ≤ 0 means the model's own Context;
// ctx is otherwise clamped to [1, 2^24].
func (a Arch) FLOPsPerToken(ctx int) (forward, training float64) {
	t := a.TokenFLOPs(ctx)
	forward = t.Blocks + t.Attention
	return forward, 3 * forward
}

// SixNTolerance is how far the full count may sit from 6·N before a screen
// stops writing "≈ 6N": 10%, the share Brown et al. (2020, Appendix D)
// allow for the attention they leave out of GPT-3's 6·N·D.
const SixNTolerance = 0.10

// TokenFLOPs is the forward compute of one token split by where it goes,
// every weight-matrix multiply counted (one multiply and one add per
// weight). Biases, norms and nonlinearities are left out: they grow with d,
// not d², and are sub-leading (Kaplan et al. 2020, section 2.1).
type TokenFLOPs struct {
	// Context is the sequence length the attention term assumes: the token
	// is one of a full Context-token training sequence.
	Context int
	// Blocks is 2·N with N = Layers·Block.Matrix, the blocks' weight
	// matrices (Kaplan's non-embedding N).
	Blocks float64
	// Head is the output head, 2·d·Vocab, counted tied or not: a tied head
	// is stored once but every token is still multiplied by it. Kaplan et
	// al. (2020) list it in Table 1 ("De-embed") and leave it out of C.
	Head float64
	// Attention is Kaplan's 2·n_layer·n_ctx·d_attn: at position t the
	// scores QKᵀ and the mix of values cost 4·t·d per layer, and the causal
	// mask makes t average n_ctx/2 over a full sequence.
	Attention float64
}

// Forward is the whole forward pass of one token.
func (t TokenFLOPs) Forward() float64 { return t.Blocks + t.Head + t.Attention }

// Training is three forward passes' worth: the backward pass computes
// gradients for both activations and weights, about twice the forward
// (Kaplan et al. 2020, section 2.1).
func (t TokenFLOPs) Training() float64 { return 3 * t.Forward() }

// Over6N is Training over 6·n: 1 when the "6 FLOPs per parameter per token"
// rule is exact for a model of n parameters, above 1 when attention (left
// out of 6N) weighs in, below 1 when n counts tables a token only looks up
// (an untied embedding, learned positions). n < 1 counts as 1.
func (t TokenFLOPs) Over6N(n int64) float64 {
	return t.Training() / (6 * float64(max(n, 1)))
}

// Near6N says whether Over6N(n) is within SixNTolerance of 1, that is
// whether "training ≈ 6N" is a fair sentence for this model and context.
func (t TokenFLOPs) Near6N(n int64) bool {
	r := t.Over6N(n)
	return r >= 1-SixNTolerance && r <= 1+SixNTolerance
}

// TokenFLOPs counts the forward compute of one token in a ctx-token
// sequence. ctx ≤ 0 means the model's own Context; ctx is otherwise
// clamped to [1, 2^24].
func (a Arch) TokenFLOPs(ctx int) TokenFLOPs {
	a = a.Clamp()
	if ctx <= 0 {
		ctx = a.Context
	}
	ctx = clampIntTo(ctx, 1, archMaxContext)
	d := float64(a.DModel)
	return TokenFLOPs{
		Context:   ctx,
		Blocks:    2 * float64(a.Layers) * float64(a.Params().Block.Matrix),
		Head:      2 * d * float64(a.Vocab),
		Attention: 2 * float64(a.Layers) * float64(ctx) * d,
	}
}

// WeightBytes returns the memory the weights alone occupy at bytesPerParam
// (4 for fp32, 2 for bf16, 1 for fp8, 0.5 for 4-bit). Non-positive or NaN
// widths give 0; widths above 16 bytes are clamped to 16.
func (a Arch) WeightBytes(bytesPerParam float64) float64 {
	switch {
	case !(bytesPerParam > 0):
		return 0
	case bytesPerParam > archMaxBytesParam:
		bytesPerParam = archMaxBytesParam
	}
	return float64(a.Params().Total) * bytesPerParam
}

func clampIntTo(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// largestDivisorAtMost returns the largest divisor of n that is ≤ k, for
// n ≥ 1 and 1 ≤ k ≤ n. It always terminates at 1.
func largestDivisorAtMost(n, k int) int {
	for h := k; h > 1; h-- {
		if n%h == 0 {
			return h
		}
	}
	return 1
}

// ArchPreset finds a preset by its name ("GPT-2 small", "Llama 2 7B", …).
func ArchPreset(name string) (Arch, bool) {
	for _, a := range ArchPresets() {
		if a.Name == name {
			return a, true
		}
	}
	return Arch{}, false
}
