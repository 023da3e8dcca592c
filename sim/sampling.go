package sim

import (
	"math"
	"sort"
)

// The moment of speech: a model ends every step with one score (logit) per
// vocabulary entry, and a sampler turns those scores into the one word that
// is said. The pipeline here is the one serving libraries run, in this order:
//
//  1. temperature: divide the logits by T and take the softmax (T = 0 is
//     greedy: all the probability goes to the top word);
//  2. truncation, each cut reading what the one before left, renormalised:
//     top-k (keep the k most likely), top-p (keep the smallest set whose
//     probability reaches p, Holtzman et al. 2019), min-p (drop words below
//     min-p times the top word's probability);
//  3. renormalise: divide the survivors by their total so they sum to 1;
//
// then draw. The order matters: temperature reshapes the distribution that
// the cuts then measure, so the same top-p keeps fewer words when the
// distribution is sharp and more when it is flat. This is one
// implementation's order, Hugging Face transformers' (its warpers run
// temperature, top-k, top-p, min-p), not the only one: llama.cpp's default
// sampler chain (common_params_sampling in common/common.h) runs top-k,
// top-p and min-p first and temperature last, so there the cuts read the
// model's own probabilities and keep the same words at every T > 0.
// KeptTemperatureLast counts what that order keeps.

// Bounds for SampleParams. Below minSampleTemperature the tempered
// distribution is already one-hot to display precision, and dividing by a
// smaller T could overflow; above maxSampleTemperature it is already flat.
const (
	minSampleTemperature = 1e-4
	maxSampleTemperature = 100
	// maxDraws caps one call of Draw, so a hostile count cannot allocate
	// without bound.
	maxDraws = 1 << 20
)

// Candidate is one word the toy model might say next, with its logit.
type Candidate struct {
	Word  string
	Logit float64
}

// CatSatCandidates returns the toy next-word distribution for "The cat sat
// on the ___", freshly built, most likely first. The logits are hand-set
// (illustrative, not from a trained model) so that the distribution has what
// a real one has: one favourite, a handful of sensible runners-up and a long
// tail of odd choices.
func CatSatCandidates() []Candidate {
	return []Candidate{
		{"mat", 4.2},
		{"floor", 3.3},
		{"sofa", 3.0},
		{"bed", 2.7},
		{"rug", 2.5},
		{"chair", 2.2},
		{"windowsill", 1.9},
		{"couch", 1.8},
		{"table", 1.4},
		{"roof", 1.0},
		{"keyboard", 0.8},
		{"fence", 0.5},
		{"laptop", 0.2},
		{"grass", 0.0},
		{"piano", -0.6},
		{"moon", -1.8},
	}
}

// SampleParams are the sampler's settings.
type SampleParams struct {
	// Temperature divides the logits before the softmax: below 1 sharpens,
	// above 1 flattens. 0 (or less, or NaN) means greedy decoding. Positive
	// values are clamped to [1e-4, 100].
	Temperature float64
	// TopK keeps the k most likely words; 0, a negative value or k at least
	// the number of words turns it off.
	TopK int
	// TopP keeps the smallest set of most likely words whose probability
	// reaches p; values ≥ 1 (or NaN) turn it off. p ≤ 0 keeps only the top
	// word.
	TopP float64
	// MinP drops words whose probability is below MinP times the top word's;
	// 0 (or less, or NaN) turns it off, values above 1 count as 1.
	MinP float64
}

// Cut says which stage removed a word.
type Cut int

// The stages that can remove a word, in pipeline order.
const (
	// Kept words survive every stage.
	Kept Cut = iota
	// CutGreedy marks every word but the top one at temperature 0.
	CutGreedy
	// CutTopK marks words outside the k most likely.
	CutTopK
	// CutTopP marks words after the top-p set is complete.
	CutTopP
	// CutMinP marks words below min-p times the top probability.
	CutMinP
	// CutZero marks words whose probability was already exactly 0: a -Inf
	// or NaN logit, or a tempered probability too small for a float64.
	CutZero
)

// String names the stage as the screen shows it.
func (c Cut) String() string {
	switch c {
	case CutGreedy:
		return "greedy"
	case CutTopK:
		return "top-k"
	case CutTopP:
		return "top-p"
	case CutMinP:
		return "min-p"
	case CutZero:
		return "zero"
	}
	return "kept"
}

// Distribution is one pass through the sampling pipeline, every stage kept so
// the screen can show how the model's scores became what is drawn. Slices
// are indexed like the input logits.
type Distribution struct {
	// Base is the softmax of the logits at temperature 1: the model's own
	// distribution.
	Base []float64
	// Tempered is the softmax of logits / T (one-hot on the top word when
	// greedy): what the cuts measure.
	Tempered []float64
	// Probs is the final distribution the sampler draws from: the survivors
	// of every cut, renormalised to sum to 1; removed words are exactly 0.
	Probs []float64
	// CutBy says which stage removed each word (Kept for survivors).
	CutBy []Cut
	// Rank lists the word indices from the highest logit to the lowest (the
	// order of Tempered too; ties keep input order), the order the bars are
	// drawn in.
	Rank []int
	// TopPMass is, along Rank, the running total that top-p measured: the
	// probability of the words top-k left, renormalised. It is 0 for words
	// it never reached: those an earlier stage removed and those after the
	// total reached p.
	TopPMass []float64
	// Kept is the number of words that can still be drawn.
	Kept int
	// Entropy is the entropy of Probs in bits: 0 when one word is certain,
	// log2(n) when n words are equally likely.
	Entropy float64
	// BaseEntropy is the entropy of Base in bits, for comparison.
	BaseEntropy float64
}

// Sample runs the pipeline (temperature → top-k → top-p → min-p →
// renormalise) over logits. NaN and -Inf logits are treated as words the
// model rules out: they get probability 0 and are never kept unless every
// logit is unusable, in which case the words are equally likely. It never
// panics; an empty input gives an empty distribution.
func Sample(logits []float64, p SampleParams) Distribution {
	n := len(logits)
	d := Distribution{
		Probs:    make([]float64, n),
		CutBy:    make([]Cut, n),
		TopPMass: make([]float64, n),
		Rank:     make([]int, n),
	}
	d.Base = Softmax(logits)
	if n == 0 {
		d.Tempered = []float64{}
		return d
	}

	// Rank by the model's logits, not by tempered probabilities: at a tiny
	// T several words can round to exactly 0, and the logits still order
	// them. Ties keep input order, so the ranking is deterministic. NaN
	// sorts with -Inf, as a word the model rules out.
	for i := range d.Rank {
		d.Rank[i] = i
	}
	key := make([]float64, n)
	for i, x := range logits {
		if math.IsNaN(x) {
			x = math.Inf(-1)
		}
		key[i] = x
	}
	sort.SliceStable(d.Rank, func(a, b int) bool { return key[d.Rank[a]] > key[d.Rank[b]] })
	top := d.Rank[0]

	greedy := !(p.Temperature > 0)
	if greedy {
		d.Tempered = make([]float64, n)
		d.Tempered[top] = 1
	} else {
		t := min(max(p.Temperature, minSampleTemperature), maxSampleTemperature)
		scaled := make([]float64, n)
		for i, x := range logits {
			scaled[i] = x / t
		}
		d.Tempered = Softmax(scaled)
	}

	// A word the model rules out (probability exactly 0) is never kept,
	// whatever the settings: a cut can only remove words.
	alive := make([]bool, n)
	for i := range alive {
		alive[i] = d.Tempered[i] > 0 || greedy && d.Base[i] > 0
	}
	// The top-ranked word always survives the cuts, so there is always at
	// least one word to say.
	alive[top] = true
	if greedy {
		for i := range alive {
			if i != top {
				if alive[i] {
					d.CutBy[i] = CutGreedy
				}
				alive[i] = false
			}
		}
	}

	// Top-k: keep the k best-ranked words.
	if k := p.TopK; k > 0 && k < n {
		for r, i := range d.Rank {
			if r >= k && alive[i] {
				alive[i] = false
				d.CutBy[i] = CutTopK
			}
		}
	}

	// Top-p over what top-k left, renormalised: walk down the ranking and
	// stop as soon as the running total reaches p. The word that crosses p
	// is kept (the set must reach p), the rest are cut. A small tolerance
	// keeps p = 0.9 from missing a total of 0.8999999999 by rounding.
	mass := 0.0
	for _, i := range d.Rank {
		if alive[i] {
			mass += d.Tempered[i]
		}
	}
	topP := p.TopP
	if math.IsNaN(topP) {
		topP = 1
	}
	running, reached := 0.0, false
	for _, i := range d.Rank {
		if !alive[i] {
			continue
		}
		if reached && topP < 1 {
			alive[i] = false
			d.CutBy[i] = CutTopP
			continue
		}
		if mass > 0 {
			running += d.Tempered[i] / mass
		}
		d.TopPMass[i] = running
		if running >= topP-1e-12 {
			reached = true
		}
	}

	// Min-p: the threshold scales with the top word's probability, so the
	// cut is strict when the model is sure and lenient when it is not.
	// Renormalising does not change ratios, so measuring on Tempered is the
	// same as measuring on what top-p left.
	if minP := p.MinP; minP > 0 {
		minP = min(minP, 1)
		floor := minP * d.Tempered[top]
		for _, i := range d.Rank {
			if alive[i] && i != top && d.Tempered[i] < floor {
				alive[i] = false
				d.CutBy[i] = CutMinP
			}
		}
	}

	total := 0.0
	for i, ok := range alive {
		if ok {
			total += d.Tempered[i]
		}
	}
	for i, ok := range alive {
		switch {
		case !ok:
			if d.CutBy[i] == Kept {
				d.CutBy[i] = CutZero
			}
		case total > 0:
			d.Probs[i] = d.Tempered[i] / total
			d.Kept++
		}
	}
	if d.Kept == 0 {
		// Only reachable when the top word's tempered probability
		// underflowed to 0: say the top word.
		d.Probs[top] = 1
		d.CutBy[top] = Kept
		d.Kept = 1
	}
	d.Entropy = EntropyBits(d.Probs)
	d.BaseEntropy = EntropyBits(d.Base)
	return d
}

// KeptTemperatureLast is how many words survive the cuts when temperature
// comes last, as in llama.cpp's default sampler chain (top-k, top-p, min-p,
// then temperature): the cuts measure the untempered softmax, so for any
// T > 0 the count is the one Sample gives at T = 1, whatever p.Temperature
// is. T = 0 (or less, or NaN) is greedy in both orders: one word.
func KeptTemperatureLast(logits []float64, p SampleParams) int {
	if !(p.Temperature > 0) {
		return min(len(logits), 1)
	}
	p.Temperature = 1
	return Sample(logits, p).Kept
}

// EntropyBits returns −Σ p·log2 p over the positive entries of ps: how many
// yes/no questions it takes on average to guess the outcome. Non-finite and
// non-positive entries are skipped.
func EntropyBits(ps []float64) float64 {
	h := 0.0
	for _, q := range ps {
		if q > 0 && !math.IsInf(q, 1) {
			h -= q * math.Log2(q)
		}
	}
	return max(h, 0) // -0 and rounding below 0 read as 0
}

// Draw draws count indices from probs with a generator seeded by seed, so the
// same seed always gives the same draws. An index whose probability is not
// positive is never drawn. count is capped at 2^20; a count ≤ 0 or a
// distribution with no positive entry gives an empty slice. probs need not
// sum exactly to 1: each draw is a uniform number in [0, total).
func Draw(probs []float64, seed uint64, count int) []int {
	count = min(max(count, 0), maxDraws)
	total := 0.0
	last := -1
	for i, q := range probs {
		if q > 0 && !math.IsInf(q, 1) {
			total += q
			last = i
		}
	}
	if last < 0 || count == 0 || math.IsInf(total, 1) {
		return []int{}
	}
	r := newSplitMix(seed)
	out := make([]int, count)
	for k := range out {
		u := r.float64() * total
		out[k] = last // rounding can leave u just above the running sum
		acc := 0.0
		for i, q := range probs {
			if !(q > 0) || math.IsInf(q, 1) {
				continue
			}
			acc += q
			if u < acc {
				out[k] = i
				break
			}
		}
	}
	return out
}

// Histogram counts how often each of n indices appears in draws; indices
// outside [0, n) are ignored.
func Histogram(draws []int, n int) []int {
	counts := make([]int, max(n, 0))
	for _, i := range draws {
		if i >= 0 && i < len(counts) {
			counts[i]++
		}
	}
	return counts
}

// splitMix is SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast
// generator whose whole state is one number, so every draw is a pure
// function of the seed. sim may not use math/rand's global source, and a
// local generator keeps the stream identical across Go releases.
type splitMix struct{ state uint64 }

func newSplitMix(seed uint64) *splitMix { return &splitMix{state: seed} }

func (s *splitMix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (s *splitMix) float64() float64 {
	return float64(s.next()>>11) / (1 << 53)
}

// intn returns a uniform integer in [0, n); n ≤ 0 gives 0.
func (s *splitMix) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(s.next() % uint64(n))
}
