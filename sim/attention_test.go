package sim

import (
	"math"
	"slices"
	"testing"
)

// The attention toy is illustrative (hand-set vectors), so there is no
// published figure for its weights; the tests check the arithmetic of
// scaled dot-product attention as defined by Vaswani et al. 2017, eq. 1:
// softmax(QKᵀ/√d_k)·V, with a causal mask as in decoder-only models.

func attentionHead(t *testing.T, name string) Head {
	t.Helper()
	for _, h := range AttentionHeads() {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no head %q", name)
	return Head{}
}

func attnArgmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func TestAttentionHeadsWellFormed(t *testing.T) {
	tokens := AttentionTokens()
	if !slices.Equal(tokens, []string{"The", "trophy", "didn't", "fit", "because", "it"}) {
		t.Fatalf("tokens = %q", tokens)
	}
	heads := AttentionHeads()
	if len(heads) < 3 {
		t.Fatalf("want at least 3 heads, got %d", len(heads))
	}
	for _, h := range heads {
		if h.Name == "" || h.Role == "" {
			t.Errorf("head %+v lacks name or role", h.Name)
		}
		if len(h.Q) != len(tokens) || len(h.K) != len(tokens) {
			t.Errorf("%s: %d queries, %d keys for %d tokens", h.Name, len(h.Q), len(h.K), len(tokens))
		}
		dk := len(h.Q[0])
		if dk != 4 && dk != 8 {
			t.Errorf("%s: d_k = %d, want 4 or 8", h.Name, dk)
		}
		for i := range h.Q {
			if len(h.Q[i]) != dk || len(h.K[i]) != dk {
				t.Errorf("%s: row %d width differs from d_k %d", h.Name, i, dk)
			}
		}
	}
	// Fresh values each call: editing one result must not leak into the next.
	heads[0].Q[0][0] = 99
	tokens[0] = "X"
	if AttentionHeads()[0].Q[0][0] == 99 || AttentionTokens()[0] == "X" {
		t.Error("presets share memory between calls")
	}
}

func TestAttentionArithmetic(t *testing.T) {
	for _, h := range AttentionHeads() {
		for _, causal := range []bool{true, false} {
			for _, T := range []float64{0.01, 0.5, 1, 2, 100} {
				rows := Attention(h, T, causal)
				dk := float64(len(h.Q[0]))
				for i, r := range rows {
					var sum float64
					for j := range r.Weights {
						var dot float64
						for c := range h.Q[i] {
							dot += h.Q[i][c] * h.K[j][c]
						}
						if math.Abs(r.Raw[j]-dot) > 1e-12 ||
							math.Abs(r.Scaled[j]-dot/math.Sqrt(dk)) > 1e-12 ||
							math.Abs(r.Tempered[j]-dot/math.Sqrt(dk)/T) > 1e-9 {
							t.Fatalf("%s row %d col %d: stages wrong: %+v", h.Name, i, j, r)
						}
						if r.Masked[j] != (causal && j > i) {
							t.Fatalf("%s row %d col %d: mask %v", h.Name, i, j, r.Masked[j])
						}
						if r.Masked[j] && r.Weights[j] != 0 {
							t.Fatalf("%s row %d col %d: masked weight %v, want exactly 0", h.Name, i, j, r.Weights[j])
						}
						if !causal && !(r.Weights[j] > 0) && T >= 0.5 {
							t.Fatalf("%s row %d col %d: unmasked weight %v should be positive", h.Name, i, j, r.Weights[j])
						}
						sum += r.Weights[j]
					}
					if math.Abs(sum-1) > 1e-12 {
						t.Fatalf("%s T=%v causal=%v row %d sums to %.15f", h.Name, T, causal, i, sum)
					}
				}
			}
		}
	}
}

func TestAttentionCausalFirstRowIsOneHot(t *testing.T) {
	for _, h := range AttentionHeads() {
		got := Attention(h, 1, true)[0].Weights
		if !slices.Equal(got, []float64{1, 0, 0, 0, 0, 0}) {
			t.Errorf("%s: row 0 = %v, want [1 0 0 0 0 0]", h.Name, got)
		}
	}
}

func TestAttentionNonCausalSeesTheFuture(t *testing.T) {
	for _, h := range AttentionHeads() {
		rows := Attention(h, 1, false)
		var upper float64
		for i := range rows {
			for j := i + 1; j < len(rows); j++ {
				upper += rows[i].Weights[j]
			}
		}
		if !(upper > 0.1) {
			t.Errorf("%s: upper triangle weight %v without the mask", h.Name, upper)
		}
	}
}

func TestAttentionTemperatureLimits(t *testing.T) {
	for _, h := range AttentionHeads() {
		cold := Attention(h, 0.01, true)
		hot := Attention(h, 100, true)
		for i := range cold {
			// T → 0: all weight on the highest score (every row's maximum
			// is unique by at least 0.1 after scaling, so e^(-10) remains).
			if w := cold[i].Weights[attnArgmax(cold[i].Scaled[:i+1])]; w < 0.999 {
				t.Errorf("%s row %d at T=0.01: max weight %v, want ≈1", h.Name, i, w)
			}
			// T → ∞: uniform over the i+1 visible keys.
			for j := 0; j <= i; j++ {
				if d := math.Abs(hot[i].Weights[j] - 1/float64(i+1)); d > 0.01 {
					t.Errorf("%s row %d col %d at T=100: %v, want ≈ 1/%d", h.Name, i, j, hot[i].Weights[j], i+1)
				}
			}
		}
		// Out-of-range temperatures clamp to the bounds.
		if !slices.Equal(Attention(h, 0, true)[3].Weights, cold[3].Weights) ||
			!slices.Equal(Attention(h, -5, true)[3].Weights, cold[3].Weights) ||
			!slices.Equal(Attention(h, 1e9, true)[3].Weights, hot[3].Weights) ||
			!slices.Equal(Attention(h, math.NaN(), true)[3].Weights, Attention(h, 1, true)[3].Weights) {
			t.Errorf("%s: temperature clamping wrong", h.Name)
		}
	}
}

func TestAttentionHeadRolesAppear(t *testing.T) {
	it := 5
	trophy := 1
	coref := Attention(attentionHead(t, "coreference"), 1, true)
	if got := attnArgmax(coref[it].Weights); got != trophy {
		t.Errorf(`coreference: "it" peaks on %q, want "trophy"`, AttentionTokens()[got])
	}
	for _, causal := range []bool{true, false} {
		prev := Attention(attentionHead(t, "previous token"), 1, causal)
		for i := 1; i < len(prev); i++ {
			if got := attnArgmax(prev[i].Weights); got != i-1 {
				t.Errorf("previous token (causal %v): row %d peaks at %d, want %d", causal, i, got, i-1)
			}
		}
		sink := Attention(attentionHead(t, "first token"), 1, causal)
		for i := range sink {
			if got := attnArgmax(sink[i].Weights); got != 0 {
				t.Errorf("first token (causal %v): row %d peaks at %d, want 0", causal, i, got)
			}
		}
	}
}

func TestAttentionMalformedHeads(t *testing.T) {
	if rows := Attention(Head{}, 1, true); rows == nil || len(rows) != 0 {
		t.Errorf("empty head: %v", rows)
	}
	ragged := Head{
		Q: [][]float64{{1, 2, 3}, {1}, nil},
		K: [][]float64{{1, 2}, {3, 4, 5}},
	}
	rows := Attention(ragged, 1, false)
	if len(rows) != 2 {
		t.Fatalf("ragged: %d rows, want min(len Q, len K) = 2", len(rows))
	}
	for _, r := range rows {
		if math.Abs(r.Weights[0]+r.Weights[1]-1) > 1e-12 {
			t.Errorf("ragged row weights %v", r.Weights)
		}
	}
	nan := Head{Q: [][]float64{{math.NaN()}, {math.Inf(1)}}, K: [][]float64{{1}, {math.Inf(-1)}}}
	for _, r := range Attention(nan, 1, true) {
		var sum float64
		for _, w := range r.Weights {
			if math.IsNaN(w) || w < 0 {
				t.Fatalf("non-finite head gave weights %v", r.Weights)
			}
			sum += w
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("non-finite head row sums to %v", sum)
		}
	}
}

func TestSoftmax(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	cases := []struct {
		in, want []float64
	}{
		{[]float64{}, []float64{}},
		{[]float64{0}, []float64{1}},
		{[]float64{3, 3}, []float64{0.5, 0.5}},
		{[]float64{1000, 1000, -inf}, []float64{0.5, 0.5, 0}}, // no overflow at large scores
		{[]float64{-1000, -1000}, []float64{0.5, 0.5}},        // no underflow to 0/0
		{[]float64{inf, 1, inf}, []float64{0.5, 0, 0.5}},
		{[]float64{nan, 2}, []float64{0, 1}},
		{[]float64{-inf, -inf}, []float64{0.5, 0.5}},
		{[]float64{nan, nan, nan, nan}, []float64{0.25, 0.25, 0.25, 0.25}},
		{[]float64{1.7e308, -1.7e308}, []float64{1, 0}},
	}
	for _, c := range cases {
		got := Softmax(c.in)
		if got == nil || len(got) != len(c.want) {
			t.Fatalf("Softmax(%v) = %v", c.in, got)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("Softmax(%v) = %v, want %v", c.in, got, c.want)
				break
			}
		}
	}
	// The textbook values: softmax(1, 2, 3) = e^i / Σe^j.
	got := Softmax([]float64{1, 2, 3})
	z := math.E + math.E*math.E + math.E*math.E*math.E
	for i, x := range []float64{1, 2, 3} {
		if math.Abs(got[i]-math.Exp(x)/z) > 1e-15 {
			t.Errorf("Softmax(1,2,3)[%d] = %v, want %v", i, got[i], math.Exp(x)/z)
		}
	}
	// Input is not modified.
	in := []float64{1, 2}
	Softmax(in)
	if in[0] != 1 || in[1] != 2 {
		t.Error("Softmax modified its input")
	}
}
