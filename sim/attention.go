package sim

import "math"

// The attention toy: six tokens, three hand-set heads. The query and key
// vectors are illustrative (no trained model produced them), but every
// number on screen is real arithmetic: q·k, ÷√d_k, ÷T, causal mask, softmax.

// Temperature bounds for Attention. Below 0.01 the weights are already
// one-hot to display precision; above 100 they are already uniform.
const (
	minAttnTemperature = 0.01
	maxAttnTemperature = 100
)

// AttentionTokens returns the toy sentence, freshly allocated. It is the
// Winograd-style example where resolving "it" needs the model to look back
// at "trophy".
func AttentionTokens() []string {
	return []string{"The", "trophy", "didn't", "fit", "because", "it"}
}

// Head is one attention head on the toy sentence: one query row and one key
// row per token, all rows d_k wide.
type Head struct {
	// Name is the head's short label.
	Name string
	// Role says in one sentence what the head does.
	Role string
	// Q holds one query vector per token: what that token is looking for.
	Q [][]float64
	// K holds one key vector per token: what that token offers to be found by.
	K [][]float64
}

// AttentionHeads returns three heads, freshly built, whose hand-set vectors
// make a familiar pattern appear: coreference, previous-token and
// first-token (attention sink) heads, all documented in trained models.
func AttentionHeads() []Head {
	return []Head{
		{
			Name: "coreference",
			Role: `Links the pronoun "it" back to the noun it stands for, "trophy".`,
			// Dimensions, loosely: [is a concrete noun, is a pronoun,
			// is a function word, late in the sentence]. The query of "it"
			// asks almost only for concrete nouns.
			Q: [][]float64{
				{0.2, 0.0, 0.5, 0.1},
				{0.4, 0.0, 1.2, 0.2},
				{0.7, 0.0, 0.3, 0.2},
				{1.0, 0.0, 0.2, 0.3},
				{0.2, 0.0, 1.0, 0.3},
				{2.0, 0.1, 0.0, 0.2},
			},
			K: [][]float64{
				{0.1, 0.0, 0.9, 0.2},
				{1.8, 0.2, 0.0, 0.3},
				{0.0, 0.1, 0.6, 0.4},
				{0.3, 0.0, 0.2, 0.5},
				{0.0, 0.0, 0.6, 0.6},
				{0.4, 0.9, 0.1, 0.7},
			},
		},
		{
			Name: "previous token",
			Role: "Each token looks at the one just before it, a building block for copying patterns.",
			// Keys are one-hot positions (dims 0-5) plus a shared feature
			// (dims 6-7); each query points at the position one step back,
			// so the score peaks at i-1. Token 0 has nothing before it and
			// looks at itself.
			Q: [][]float64{
				{5, 0, 0, 0, 0, 0, 0.5, 0.2},
				{5, 0, 0, 0, 0, 0, 0.5, 0.2},
				{0, 5, 0, 0, 0, 0, 0.5, 0.2},
				{0, 0, 5, 0, 0, 0, 0.5, 0.2},
				{0, 0, 0, 5, 0, 0, 0.5, 0.2},
				{0, 0, 0, 0, 5, 0, 0.5, 0.2},
			},
			K: [][]float64{
				{1, 0, 0, 0, 0, 0, 0.3, 0.1},
				{0, 1, 0, 0, 0, 0, 0.4, 0.3},
				{0, 0, 1, 0, 0, 0, 0.2, 0.2},
				{0, 0, 0, 1, 0, 0, 0.5, 0.1},
				{0, 0, 0, 0, 1, 0, 0.1, 0.4},
				{0, 0, 0, 0, 0, 1, 0.3, 0.3},
			},
		},
		{
			Name: "first token",
			Role: "Parks spare attention on the first token when nothing else is relevant: an attention sink.",
			// Only the first key has a large component on dim 0, and every
			// query has a steady component there, so every row leans on
			// column 0 whatever else it sees.
			Q: [][]float64{
				{1.5, 0.2, 0.1, 0.0},
				{1.5, 0.0, 0.3, 0.1},
				{1.5, 0.1, 0.0, 0.3},
				{1.5, 0.3, 0.2, 0.0},
				{1.5, 0.0, 0.1, 0.2},
				{1.5, 0.2, 0.0, 0.1},
			},
			K: [][]float64{
				{3.0, 0.1, 0.2, 0.0},
				{0.2, 0.5, 0.1, 0.3},
				{0.1, 0.2, 0.6, 0.1},
				{0.3, 0.1, 0.3, 0.5},
				{0.1, 0.4, 0.2, 0.2},
				{0.2, 0.3, 0.1, 0.4},
			},
		},
	}
}

// AttentionRow is one query's pass through attention, every stage kept so
// the screen can show how a raw score becomes a weight. All slices have one
// entry per key.
type AttentionRow struct {
	// Raw is q·k.
	Raw []float64
	// Scaled is Raw / √d_k, which keeps score spread independent of width.
	Scaled []float64
	// Tempered is Scaled / T.
	Tempered []float64
	// Weights is the softmax of Tempered over visible keys; masked keys are
	// exactly 0 and the visible weights sum to 1.
	Weights []float64
	// Masked marks keys hidden by the causal mask (key after query). Their
	// Raw, Scaled and Tempered values are still computed so the screen can
	// show what the mask throws away.
	Masked []bool
}

// Attention runs scaled dot-product attention for one head at temperature
// T, which is clamped to [0.01, 100] (NaN counts as 1). With causal set,
// query i sees keys 0..i only, as in a decoder. Malformed heads never panic:
// only the first min(len(Q), len(K)) tokens are used and only the first d_k
// columns, d_k being the shortest row; an empty head gives an empty result.
func Attention(h Head, temperature float64, causal bool) []AttentionRow {
	n := min(len(h.Q), len(h.K))
	rows := make([]AttentionRow, 0, n)
	if n == 0 {
		return rows
	}
	dk := -1
	for i := range n {
		for _, r := range [][]float64{h.Q[i], h.K[i]} {
			if dk < 0 || len(r) < dk {
				dk = len(r)
			}
		}
	}
	scale := 1.0
	if dk > 0 {
		scale = 1 / math.Sqrt(float64(dk))
	}
	t := temperature
	switch {
	case math.IsNaN(t):
		t = 1
	case t < minAttnTemperature:
		t = minAttnTemperature
	case t > maxAttnTemperature:
		t = maxAttnTemperature
	}

	for i := range n {
		row := AttentionRow{
			Raw:      make([]float64, n),
			Scaled:   make([]float64, n),
			Tempered: make([]float64, n),
			Weights:  make([]float64, n),
			Masked:   make([]bool, n),
		}
		visible := make([]float64, 0, n)
		for j := range n {
			var dot float64
			for c := range dk {
				dot += h.Q[i][c] * h.K[j][c]
			}
			row.Raw[j] = dot
			row.Scaled[j] = dot * scale
			row.Tempered[j] = row.Scaled[j] / t
			row.Masked[j] = causal && j > i
			if !row.Masked[j] {
				visible = append(visible, row.Tempered[j])
			}
		}
		w := Softmax(visible)
		k := 0
		for j := range n {
			if !row.Masked[j] {
				row.Weights[j] = w[k]
				k++
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Softmax turns scores into probabilities that sum to 1, subtracting the
// maximum first so large scores cannot overflow exp. Empty input gives an
// empty (non-nil) slice. Non-finite inputs follow the limits a real model
// would reach:
//
//   - +Inf entries share all the weight equally; everything else gets 0.
//   - -Inf and NaN entries get 0 (NaN is treated as a masked score).
//   - If no entry is finite or +Inf, the weight is spread uniformly, since
//     the scores carry no information.
func Softmax(xs []float64) []float64 {
	out := make([]float64, len(xs))
	if len(xs) == 0 {
		return out
	}
	posInf := 0
	maxFinite := math.Inf(-1)
	finite := 0
	for _, x := range xs {
		switch {
		case math.IsInf(x, 1):
			posInf++
		case math.IsNaN(x) || math.IsInf(x, -1):
		default:
			finite++
			if x > maxFinite {
				maxFinite = x
			}
		}
	}
	if posInf > 0 {
		share := 1 / float64(posInf)
		for i, x := range xs {
			if math.IsInf(x, 1) {
				out[i] = share
			}
		}
		return out
	}
	if finite == 0 {
		u := 1 / float64(len(xs))
		for i := range out {
			out[i] = u
		}
		return out
	}
	var sum float64
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, -1) {
			continue
		}
		out[i] = math.Exp(x - maxFinite)
		sum += out[i]
	}
	// sum ≥ 1 because the maximum contributes exp(0).
	for i := range out {
		out[i] /= sum
	}
	return out
}
