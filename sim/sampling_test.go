package sim

import (
	"math"
	"slices"
	"testing"
)

// The toy logits are illustrative, so there is no published distribution to
// match; these tests check the sampling pipeline against its definitions:
// softmax with temperature (Ackley, Hinton and Sejnowski 1985; as used in
// every LLM API), top-k (Fan, Lewis and Dauphin 2018), nucleus or top-p
// sampling (Holtzman et al. 2019, "The Curious Case of Neural Text
// Degeneration", eq. 2: the smallest V(p) with Σ P(x) ≥ p) and min-p
// (Nguyen et al. 2024), applied in the order Hugging Face transformers uses:
// temperature, top-k, top-p, min-p, then renormalise.

func catLogits() []float64 {
	cs := CatSatCandidates()
	out := make([]float64, len(cs))
	for i, c := range cs {
		out[i] = c.Logit
	}
	return out
}

func sumFloat(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestCatSatCandidates(t *testing.T) {
	cs := CatSatCandidates()
	if len(cs) < 12 || len(cs) > 20 {
		t.Fatalf("%d candidates, want 12 to 20 (issue 5)", len(cs))
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if c.Word == "" || seen[c.Word] {
			t.Errorf("candidate %d: empty or repeated word %q", i, c.Word)
		}
		seen[c.Word] = true
		if i > 0 && c.Logit > cs[i-1].Logit {
			t.Errorf("candidates not most likely first at %q", c.Word)
		}
	}
	cs[0].Word = "changed"
	if CatSatCandidates()[0].Word == "changed" {
		t.Error("CatSatCandidates shares its table between calls")
	}
}

// keptSet returns the kept indices in rank order.
func keptSet(d Distribution) []int {
	var out []int
	for _, i := range d.Rank {
		if d.Probs[i] > 0 {
			out = append(out, i)
		}
	}
	return out
}

func TestTopPKeepsSmallestSetReachingP(t *testing.T) {
	logits := catLogits()
	for _, temp := range []float64{0.3, 0.7, 1, 1.5, 3} {
		tempered := Sample(logits, SampleParams{Temperature: temp, TopP: 1}).Tempered
		for p := 0.05; p <= 1.0001; p += 0.05 {
			d := Sample(logits, SampleParams{Temperature: temp, TopP: p})
			kept := keptSet(d)
			// The kept words are a prefix of the ranking...
			for r, i := range kept {
				if d.Rank[r] != i {
					t.Fatalf("T=%g p=%.2f: kept set %v is not the top of the ranking %v", temp, p, kept, d.Rank)
				}
			}
			// ...whose mass reaches p (Holtzman et al. 2019, eq. 2)...
			mass := 0.0
			for _, i := range kept {
				mass += tempered[i]
			}
			if mass < p-1e-9 {
				t.Errorf("T=%g p=%.2f: kept mass %.6f does not reach p", temp, p, mass)
			}
			// ...and is the smallest such: without its last word it falls short.
			if len(kept) > 1 && mass-tempered[kept[len(kept)-1]] >= p-1e-12 {
				t.Errorf("T=%g p=%.2f: %d words kept but %d already reach p", temp, p, len(kept), len(kept)-1)
			}
			for _, i := range d.Rank[len(kept):] {
				if d.CutBy[i] != CutTopP {
					t.Errorf("T=%g p=%.2f: %d cut by %v, want top-p", temp, p, i, d.CutBy[i])
				}
			}
		}
	}
}

func TestTopPBoundary(t *testing.T) {
	// Probabilities 0.5, 0.3, 0.2: p = 0.8 is reached exactly by two words.
	logits := []float64{math.Log(0.5), math.Log(0.3), math.Log(0.2)}
	if got := Sample(logits, SampleParams{Temperature: 1, TopP: 0.8}).Kept; got != 2 {
		t.Errorf("p=0.8 over 0.5/0.3/0.2 keeps %d words, want 2 (reaching p counts)", got)
	}
	if got := Sample(logits, SampleParams{Temperature: 1, TopP: 0.81}).Kept; got != 3 {
		t.Errorf("p=0.81 keeps %d words, want 3", got)
	}
	if got := Sample(logits, SampleParams{Temperature: 1, TopP: 0.5}).Kept; got != 1 {
		t.Errorf("p=0.5 keeps %d words, want 1", got)
	}
	if got := Sample(logits, SampleParams{Temperature: 1, TopP: 0}).Kept; got != 1 {
		t.Errorf("p=0 keeps %d words, want the top one", got)
	}
}

// TestOrderTemperatureThenTruncation pins the stated order: temperature
// reshapes first and the cuts measure the tempered distribution; the
// survivors are renormalised last.
func TestOrderTemperatureThenTruncation(t *testing.T) {
	logits := catLogits()
	const p = 0.9
	// Truncating first and tempering after would keep the same words at
	// every temperature; tempering first does not.
	sharp := Sample(logits, SampleParams{Temperature: 0.5, TopP: p}).Kept
	flat := Sample(logits, SampleParams{Temperature: 2, TopP: p}).Kept
	if sharp >= flat {
		t.Errorf("top-p %.1f keeps %d words at T=0.5 and %d at T=2; temperature must act before the cut", p, sharp, flat)
	}

	// The final probabilities are softmax(logits/T) restricted to the kept
	// words, divided by their total.
	const temp = 1.3
	d := Sample(logits, SampleParams{Temperature: temp, TopK: 10, TopP: p, MinP: 0.05})
	scaled := make([]float64, len(logits))
	for i, x := range logits {
		scaled[i] = x / temp
	}
	want := Softmax(scaled)
	keptMass := 0.0
	for i := range want {
		if d.Probs[i] > 0 {
			keptMass += want[i]
		}
	}
	for i := range want {
		if d.Probs[i] > 0 && math.Abs(d.Probs[i]-want[i]/keptMass) > 1e-12 {
			t.Errorf("word %d: %.6f, want softmax(l/T)/kept mass = %.6f", i, d.Probs[i], want[i]/keptMass)
		}
	}
	if s := sumFloat(d.Probs); math.Abs(s-1) > 1e-12 {
		t.Errorf("renormalised probabilities sum to %.15f", s)
	}

	// Top-p reads what top-k left, renormalised: over 0.4/0.3/0.2/0.1 with
	// k = 2 the survivors are 4/7 and 3/7, so p = 0.55 keeps one word
	// (4/7 ≈ 0.571 reaches it), though 0.4 alone would not.
	four := []float64{math.Log(0.4), math.Log(0.3), math.Log(0.2), math.Log(0.1)}
	seq := Sample(four, SampleParams{Temperature: 1, TopK: 2, TopP: 0.55})
	if seq.Kept != 1 || seq.CutBy[1] != CutTopP || seq.CutBy[2] != CutTopK {
		t.Errorf("top-k 2 then top-p 0.55: kept %d, cut by %v; want 1 kept, top-p then top-k", seq.Kept, seq.CutBy)
	}
	if math.Abs(seq.TopPMass[0]-4.0/7) > 1e-12 {
		t.Errorf("top-p measured %.6f for the first word, want 4/7", seq.TopPMass[0])
	}
}

func TestTopKAndMinP(t *testing.T) {
	logits := catLogits()
	for k := 1; k <= len(logits); k++ {
		d := Sample(logits, SampleParams{Temperature: 1, TopK: k, TopP: 1})
		if d.Kept != k {
			t.Errorf("top-k %d keeps %d", k, d.Kept)
		}
	}
	if d := Sample(logits, SampleParams{Temperature: 1, TopK: 0, TopP: 1}); d.Kept != len(logits) {
		t.Errorf("top-k 0 (off) keeps %d of %d", d.Kept, len(logits))
	}
	// min-p keeps exactly the words with p ≥ min_p · p_max.
	for _, mp := range []float64{0.01, 0.05, 0.1, 0.3, 0.5} {
		d := Sample(logits, SampleParams{Temperature: 1, TopP: 1, MinP: mp})
		pmax := slices.Max(d.Tempered)
		for i, q := range d.Tempered {
			kept := d.Probs[i] > 0
			if kept != (q >= mp*pmax) {
				t.Errorf("min-p %.2f: word %d (p=%.4f, floor %.4f) kept=%v", mp, i, q, mp*pmax, kept)
			}
			if !kept && d.CutBy[i] != CutMinP {
				t.Errorf("min-p %.2f: word %d cut by %v", mp, i, d.CutBy[i])
			}
		}
	}
}

func TestTemperatureLimits(t *testing.T) {
	logits := catLogits()
	g := Sample(logits, SampleParams{Temperature: 0, TopP: 1})
	if g.Kept != 1 || g.Probs[0] != 1 || g.Entropy != 0 {
		t.Errorf("greedy: kept %d, p(mat)=%v, entropy %v; want only the top word, entropy 0", g.Kept, g.Probs[0], g.Entropy)
	}
	for i := 1; i < len(logits); i++ {
		if g.CutBy[i] != CutGreedy {
			t.Errorf("greedy: word %d cut by %v", i, g.CutBy[i])
		}
	}
	// T = 1 is the model's own distribution.
	one := Sample(logits, SampleParams{Temperature: 1, TopP: 1})
	for i := range logits {
		if math.Abs(one.Probs[i]-one.Base[i]) > 1e-12 {
			t.Fatalf("T=1 without cuts differs from softmax at word %d", i)
		}
	}
	// Entropy rises with T towards log2(16) = 4 bits (uniform).
	prev := -1.0
	for _, temp := range []float64{0.05, 0.3, 0.7, 1, 1.5, 2, 3, 100} {
		h := Sample(logits, SampleParams{Temperature: temp, TopP: 1}).Entropy
		if h <= prev {
			t.Errorf("entropy %.4f at T=%g is not above %.4f", h, temp, prev)
		}
		prev = h
	}
	if want := math.Log2(float64(len(logits))); math.Abs(prev-want) > 0.01 {
		t.Errorf("entropy at T=100 is %.4f, want about log2(n) = %.4f", prev, want)
	}
}

func TestEntropyBits(t *testing.T) {
	for _, c := range []struct {
		ps   []float64
		want float64
	}{
		{[]float64{1}, 0},
		{[]float64{0.5, 0.5}, 1},
		{[]float64{0.5, 0.25, 0.25}, 1.5},
		{[]float64{0.25, 0.25, 0.25, 0.25}, 2},
		{[]float64{0, 1, 0}, 0},
		{[]float64{}, 0},
	} {
		if got := EntropyBits(c.ps); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("EntropyBits(%v) = %v, want %v", c.ps, got, c.want)
		}
	}
}

func TestDrawIsSeededAndFaithful(t *testing.T) {
	d := Sample(catLogits(), SampleParams{Temperature: 1, TopP: 0.9})
	a := Draw(d.Probs, 42, 1000)
	b := Draw(d.Probs, 42, 1000)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different draws")
	}
	if slices.Equal(a, Draw(d.Probs, 43, 1000)) {
		t.Error("seeds 42 and 43 gave identical draws")
	}
	// A shorter run is a prefix of a longer one with the same seed, so
	// "draw 1" and "draw 100" agree on the first word.
	if !slices.Equal(Draw(d.Probs, 42, 1), a[:1]) {
		t.Error("one draw is not the first of a thousand with the same seed")
	}
	const n = 200_000
	counts := Histogram(Draw(d.Probs, 7, n), len(d.Probs))
	for i, q := range d.Probs {
		got := float64(counts[i]) / n
		if q == 0 && counts[i] > 0 {
			t.Errorf("word %d was cut but drawn %d times", i, counts[i])
		}
		// Five standard errors of a binomial proportion.
		if tol := 5 * math.Sqrt(q*(1-q)/n); math.Abs(got-q) > tol+1e-9 {
			t.Errorf("word %d drawn %.4f of the time, want %.4f ± %.4f", i, got, q, tol)
		}
	}
}

func TestDrawEdgeCases(t *testing.T) {
	for _, ps := range [][]float64{nil, {}, {0, 0}, {-1, math.NaN()}} {
		if got := Draw(ps, 1, 10); len(got) != 0 {
			t.Errorf("Draw(%v) = %v, want nothing to draw", ps, got)
		}
	}
	if got := Draw([]float64{0, 1, 0}, 9, 50); slices.ContainsFunc(got, func(i int) bool { return i != 1 }) {
		t.Errorf("only index 1 is possible, drew %v", got)
	}
	if got := Draw([]float64{1}, 1, -5); len(got) != 0 {
		t.Errorf("negative count drew %v", got)
	}
	if got := Histogram([]int{0, 2, 2, 5, -1}, 3); !slices.Equal(got, []int{1, 0, 2}) {
		t.Errorf("Histogram = %v", got)
	}
}

func TestSampleOddInputs(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, logits := range [][]float64{
		nil,
		{},
		{3},
		{nan, nan},
		{math.Inf(-1), 2, nan},
		{inf, 1, inf},
		{1e308, -1e308, 0},
		{5, 5, 5, 5},
	} {
		for _, p := range []SampleParams{
			{Temperature: 0},
			{Temperature: 1, TopP: 1},
			{Temperature: 1e-300, TopK: 1, TopP: 0.5, MinP: 0.5},
			{Temperature: inf, TopK: -3, TopP: nan, MinP: nan},
			{Temperature: nan, TopP: -1, MinP: 7},
		} {
			d := Sample(logits, p)
			checkDistribution(t, logits, p, d)
		}
	}
	// Ruled-out words stay out even with every cut off.
	d := Sample([]float64{math.Inf(-1), 2, nan}, SampleParams{Temperature: 1, TopP: 1})
	if d.Probs[0] != 0 || d.Probs[2] != 0 || d.CutBy[0] != CutZero {
		t.Errorf("-Inf/NaN logits got %v, cut by %v", d.Probs, d.CutBy)
	}
}

// checkDistribution is the invariant the fuzz test and the odd-input test
// share: the kept probabilities sum to 1, cut words are 0, and a draw never
// lands on a cut word.
func checkDistribution(t *testing.T, logits []float64, p SampleParams, d Distribution) {
	t.Helper()
	n := len(logits)
	if len(d.Probs) != n || len(d.CutBy) != n || len(d.Rank) != n || len(d.Tempered) != n {
		t.Fatalf("%v %+v: slice lengths %d %d %d %d for %d logits", logits, p, len(d.Probs), len(d.CutBy), len(d.Rank), len(d.Tempered), n)
	}
	if n == 0 {
		return
	}
	kept := 0
	for i, q := range d.Probs {
		if math.IsNaN(q) || q < 0 || q > 1 {
			t.Fatalf("%v %+v: probability %v at %d", logits, p, q, i)
		}
		if (q > 0) != (d.CutBy[i] == Kept) {
			t.Fatalf("%v %+v: word %d has p=%v but cut by %v", logits, p, i, q, d.CutBy[i])
		}
		if q > 0 {
			kept++
		}
	}
	if kept != d.Kept || kept < 1 {
		t.Fatalf("%v %+v: %d words kept, Kept says %d", logits, p, kept, d.Kept)
	}
	if s := sumFloat(d.Probs); math.Abs(s-1) > 1e-9 {
		t.Fatalf("%v %+v: kept probabilities sum to %.15f", logits, p, s)
	}
	if math.IsNaN(d.Entropy) || d.Entropy < 0 || d.Entropy > math.Log2(float64(n))+1e-9 {
		t.Fatalf("%v %+v: entropy %v", logits, p, d.Entropy)
	}
	for _, i := range Draw(d.Probs, 1, 64) {
		if d.Probs[i] == 0 {
			t.Fatalf("%v %+v: drew cut word %d", logits, p, i)
		}
	}
}

func FuzzSample(f *testing.F) {
	f.Add([]byte{10, 20, 30, 40}, 1.0, 0, 0.9, 0.0, uint64(1))
	f.Add([]byte{0, 0, 0}, 0.0, 2, 0.5, 0.1, uint64(7))
	f.Add([]byte{255, 1, 128, 7, 7, 7}, 3.0, 16, 1.0, 0.5, uint64(99))
	f.Add([]byte{}, -1.0, -1, -1.0, -1.0, uint64(0))
	f.Fuzz(func(t *testing.T, raw []byte, temp float64, topK int, topP, minP float64, seed uint64) {
		if len(raw) > 256 {
			raw = raw[:256]
		}
		// Bytes become logits from -12.8 to 12.7; 0xff is -Inf and 0xfe
		// NaN, so ruled-out words get fuzzed too.
		logits := make([]float64, len(raw))
		for i, b := range raw {
			switch b {
			case 0xff:
				logits[i] = math.Inf(-1)
			case 0xfe:
				logits[i] = math.NaN()
			default:
				logits[i] = float64(int8(b)) / 10
			}
		}
		p := SampleParams{Temperature: temp, TopK: topK, TopP: topP, MinP: minP}
		d := Sample(logits, p)
		checkDistribution(t, logits, p, d)
		for _, i := range Draw(d.Probs, seed, 200) {
			if i < 0 || i >= len(logits) || d.Probs[i] == 0 {
				t.Fatalf("drew %d, which was removed", i)
			}
		}
	})
}

// TestKeptTemperatureLast pins the other order: llama.cpp's default sampler
// chain (common_params_sampling::samplers in common/common.h: penalties,
// DRY, top-n-sigma, top-k, typical-p, top-p, min-p, XTC, temperature) cuts
// before it tempers, so top-p 0.9 keeps the same eight words of the toy at
// every T > 0 (0.92 is reached at the eighth, as at T = 1), while Hugging
// Face's order (temperature first, which Sample follows) keeps fewer when
// the distribution is sharp and more when it is flat.
func TestKeptTemperatureLast(t *testing.T) {
	logits := catLogits()
	for _, temp := range []float64{0.05, 0.5, 1, 2, 3} {
		if got := KeptTemperatureLast(logits, SampleParams{Temperature: temp, TopP: 0.9}); got != 8 {
			t.Errorf("temperature last, T=%g, top-p 0.9: %d words, want 8", temp, got)
		}
	}
	if first, last := Sample(logits, SampleParams{Temperature: 0.5, TopP: 0.9}).Kept, KeptTemperatureLast(logits, SampleParams{Temperature: 0.5, TopP: 0.9}); first >= last {
		t.Errorf("T=0.5: temperature first keeps %d, temperature last %d; a sharper distribution should reach p sooner", first, last)
	}
	if first := Sample(logits, SampleParams{Temperature: 2, TopP: 0.9}).Kept; first <= 8 {
		t.Errorf("T=2: temperature first keeps %d, want more than 8", first)
	}
	// Top-k and min-p also read the untempered distribution.
	if got := KeptTemperatureLast(logits, SampleParams{Temperature: 3, TopK: 3, TopP: 1}); got != 3 {
		t.Errorf("top-k 3: %d", got)
	}
	if got, want := KeptTemperatureLast(logits, SampleParams{Temperature: 3, TopP: 1, MinP: 0.2}),
		Sample(logits, SampleParams{Temperature: 1, TopP: 1, MinP: 0.2}).Kept; got != want {
		t.Errorf("min-p 0.2 at T=3: %d, want the T=1 count %d", got, want)
	}
	// Greedy in both orders; no words, no draw.
	if got := KeptTemperatureLast(logits, SampleParams{Temperature: 0, TopP: 0.9}); got != 1 {
		t.Errorf("T=0: %d", got)
	}
	if got := KeptTemperatureLast(nil, SampleParams{Temperature: 1}); got != 0 {
		t.Errorf("no logits: %d", got)
	}
}
