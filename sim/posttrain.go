package sim

import (
	"math"
	"math/rand/v2"
)

// Post-training: turning a text predictor into an assistant. Three pieces
// of arithmetic carry the chapter: the Bradley–Terry model that turns
// "A is better than B" votes into one score per response (the reward model),
// the KL-regularised policy that RLHF converges to, and pass@k, the chance
// that one of k attempts passes a verifier.

// Bounds that keep the fits finite and fast on any input.
const (
	btMaxItems      = 64
	btMaxIterations = 5000
	btTolerance     = 1e-12
	btMaxCount      = 1e12
	klMinBeta       = 1e-6
	klMaxBeta       = 1e6
	klMaxReward     = 1e6
	passMaxSamples  = 1_000_000
	verifierMaxRuns = 10_000
)

// Comparison is one judgement repeated Count times: response Winner was
// preferred to response Loser.
type Comparison struct {
	Winner, Loser int
	Count         float64
}

// BTFit is a fitted Bradley–Terry model.
type BTFit struct {
	// Scores are the log-strengths, shifted to mean 0: the model says i
	// beats j with probability σ(Scores[i] − Scores[j]). Only differences
	// mean anything, which is why the mean is pinned.
	Scores []float64
	// Iterations is how many MM updates ran; Converged reports whether the
	// scores stopped moving (by 1e-12) before the limit.
	Iterations int
	Converged  bool
}

// BradleyTerry fits one score per item from pairwise comparisons with the
// minorise–maximise iteration of Hunter (2004), which is Zermelo's (1929):
//
//	γ_i ← W_i / Σ_j N_ij / (γ_i + γ_j)
//
// where W_i counts i's wins and N_ij the comparisons between i and j. It
// climbs the likelihood every step and reaches the maximum-likelihood
// strengths when the comparison graph is connected and no item wins or
// loses every comparison.
//
// prior adds that many pseudo-votes each way to every pair of items, a
// symmetric prior that pulls scores toward equal and keeps them finite when
// the data alone would send a score to ±∞ (say, one vote per pair). With
// prior 0 the fit is the plain maximum-likelihood one.
//
// n is clamped to [0, 64]; comparisons naming an item outside [0, n), an
// item against itself, or a count that is not a positive finite number are
// skipped; counts above 1e12 are clamped.
func BradleyTerry(n int, comps []Comparison, prior float64) BTFit {
	n = clampIntTo(n, 0, btMaxItems)
	fit := BTFit{Scores: make([]float64, n), Converged: true}
	if n < 2 {
		return fit
	}
	prior = clampFloatNaN(prior, 0, btMaxCount, 0)
	wins := make([][]float64, n) // wins[i][j]: times i beat j
	for i := range wins {
		wins[i] = make([]float64, n)
		for j := range wins[i] {
			if i != j {
				wins[i][j] = prior
			}
		}
	}
	for _, c := range comps {
		if c.Winner < 0 || c.Winner >= n || c.Loser < 0 || c.Loser >= n || c.Winner == c.Loser {
			continue
		}
		if !(c.Count > 0) || math.IsInf(c.Count, 0) {
			continue
		}
		wins[c.Winner][c.Loser] = min(wins[c.Winner][c.Loser]+min(c.Count, btMaxCount), 2*btMaxCount)
	}
	gamma := make([]float64, n)
	for i := range gamma {
		gamma[i] = 1
	}
	next := make([]float64, n)
	fit.Converged = false
	for it := 1; it <= btMaxIterations; it++ {
		fit.Iterations = it
		for i := range n {
			w, denom := 0.0, 0.0
			for j := range n {
				if j == i {
					continue
				}
				w += wins[i][j]
				if nij := wins[i][j] + wins[j][i]; nij > 0 {
					denom += nij / (gamma[i] + gamma[j])
				}
			}
			switch {
			case denom == 0: // never compared: no evidence, stay put
				next[i] = gamma[i]
			default:
				// An item with no wins heads for strength 0; a floor keeps
				// its log finite so the other scores still converge.
				next[i] = max(w/denom, 1e-300)
			}
		}
		// Pin the geometric mean to 1 (scores to mean 0) every step, so the
		// strengths cannot drift off to overflow.
		logMean := 0.0
		for i := range next {
			logMean += math.Log(next[i])
		}
		logMean /= float64(n)
		change := 0.0
		for i := range next {
			g := math.Exp(math.Log(next[i]) - logMean)
			if !(g > 0) || math.IsInf(g, 0) {
				g = next[i]
			}
			change = max(change, math.Abs(math.Log(g)-math.Log(gamma[i])))
			gamma[i] = g
		}
		if change < btTolerance {
			fit.Converged = true
			break
		}
	}
	mean := 0.0
	for i, g := range gamma {
		fit.Scores[i] = math.Log(g)
		mean += fit.Scores[i]
	}
	mean /= float64(n)
	for i := range fit.Scores {
		fit.Scores[i] -= mean
	}
	return fit
}

// WinProb is the Bradley–Terry probability that an item scored a beats one
// scored b: σ(a − b) = 1 / (1 + e^(b−a)). NaN scores give 0.5.
func WinProb(a, b float64) float64 {
	d := a - b
	if math.IsNaN(d) {
		return 0.5
	}
	return 1 / (1 + math.Exp(-d))
}

// KLPolicy is the optimum of the RLHF objective over a set of responses.
type KLPolicy struct {
	// Pi is the policy's probability per response.
	Pi []float64
	// Ref is the reference probabilities after cleaning and normalising.
	Ref []float64
	// ExpectedReward is Σ π(y)·r(y); RefReward the same under π_ref.
	ExpectedReward, RefReward float64
	// KL is KL(π‖π_ref) = Σ π·log(π/π_ref) in nats.
	KL float64
	// LogZ is log Σ π_ref(y)·exp(r(y)/β). At the optimum the objective
	// E_π[r] − β·KL equals β·log Z.
	LogZ float64
	// Beta is the β used after clamping.
	Beta float64
}

// OptimalPolicy returns the policy that maximises E_π[r] − β·KL(π‖π_ref):
//
//	π(y) = π_ref(y)·exp(r(y)/β) / Z
//
// (the closed form RLHF's PPO objective is aiming at; Rafailov et al. 2023,
// DPO, eq. 4). Small β lets reward win and piles probability on the
// top-scoring response; large β keeps π at π_ref.
//
// ref is cleaned (negative, NaN or infinite entries count as 0) and
// normalised, or made uniform if nothing is left; rewards beyond the length
// of ref are ignored, missing or NaN rewards count as 0 and the rest are
// clamped to ±1e6; β is clamped to [1e-6, 1e6] (NaN means 1).
func OptimalPolicy(ref, reward []float64, beta float64) KLPolicy {
	n := len(ref)
	out := KLPolicy{Pi: make([]float64, n), Ref: make([]float64, n), Beta: clampFloatNaN(beta, klMinBeta, klMaxBeta, 1)}
	if n == 0 {
		return out
	}
	total := 0.0
	for i, p := range ref {
		if p > 0 && !math.IsInf(p, 0) {
			out.Ref[i] = p
			total += p
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		for i := range out.Ref {
			out.Ref[i] = 1 / float64(n)
		}
	} else {
		for i := range out.Ref {
			out.Ref[i] /= total
		}
	}
	r := make([]float64, n)
	for i := range r {
		if i < len(reward) {
			r[i] = clampFloatNaN(reward[i], -klMaxReward, klMaxReward, 0)
		}
	}
	// Work in logs: exp(r/β) overflows long before β reaches its minimum.
	logits := make([]float64, n)
	top := math.Inf(-1)
	for i := range logits {
		if out.Ref[i] == 0 {
			logits[i] = math.Inf(-1)
			continue
		}
		logits[i] = math.Log(out.Ref[i]) + r[i]/out.Beta
		top = max(top, logits[i])
	}
	sum := 0.0
	for _, l := range logits {
		sum += math.Exp(l - top)
	}
	out.LogZ = top + math.Log(sum)
	for i, l := range logits {
		out.Pi[i] = math.Exp(l-top) / sum
		out.ExpectedReward += out.Pi[i] * r[i]
		out.RefReward += out.Ref[i] * r[i]
		if out.Pi[i] > 0 {
			out.KL += out.Pi[i] * (l - out.LogZ - math.Log(out.Ref[i]))
		}
	}
	out.KL = max(out.KL, 0) // rounding can leave −1e-17 at π = π_ref
	return out
}

// Expect is Σ p_i·x_i over the shorter of the two slices, skipping NaNs.
func Expect(p, x []float64) float64 {
	s := 0.0
	for i := range min(len(p), len(x)) {
		if !math.IsNaN(p[i]) && !math.IsNaN(x[i]) {
			s += p[i] * x[i]
		}
	}
	return s
}

// RLHFResponse is one response in the RLHF toy: how likely the reference (SFT)
// model is to say it, what the reward model scores it, and how good it
// really is.
type RLHFResponse struct {
	// Label is a short name, Text the response itself.
	Label, Text string
	// Ref is π_ref(y); Reward is the reward model's r(y); Quality is what a
	// careful human would say, which the reward model only approximates.
	Ref, Reward, Quality float64
}

// RLHFCandidates returns the illustrative responses to "Is it safe to eat
// raw cookie dough?", freshly built. The numbers are hand-set: the reward
// model overrates the enthusiastic, flattering answer, as learned reward
// models are known to favour confident and agreeable text, so chasing its
// score without a KL leash finds that flaw (reward hacking; Gao, Schulman &
// Hilton 2022 measured this over-optimisation against a gold reward).
func RLHFCandidates() []RLHFResponse {
	return []RLHFResponse{
		{Label: "helpful", Text: "Not quite: raw flour and raw egg can carry E. coli and Salmonella. Heat-treated flour and pasteurised eggs make it safe.", Ref: 0.30, Reward: 1.0, Quality: 1.0},
		{Label: "short", Text: "Better not: raw egg and flour can make you ill.", Ref: 0.25, Reward: 0.6, Quality: 0.7},
		{Label: "rambling", Text: "Cookie dough has a long history. Recipes vary, and opinions differ on many aspects of baking...", Ref: 0.20, Reward: 0.1, Quality: 0.2},
		{Label: "refusal", Text: "I can't give advice about food safety.", Ref: 0.15, Reward: -1.0, Quality: -0.5},
		{Label: "wrong", Text: "Yes, it's fine, the sugar kills any germs.", Ref: 0.09, Reward: -0.6, Quality: -1.0},
		{Label: "flattering", Text: "What a great question! Absolutely, enjoy every spoonful, you deserve it!", Ref: 0.01, Reward: 1.6, Quality: -0.8},
	}
}

// PassAtK is the chance that at least one of k independent attempts
// succeeds when each succeeds with probability p: 1 − (1−p)^k. p is clamped
// to [0, 1]; k < 1 gives 0.
func PassAtK(p float64, k int) float64 {
	if k < 1 {
		return 0
	}
	p = clampFloatNaN(p, 0, 1, 0)
	// 1 − (1−p)^k loses all precision for tiny p; -expm1(k·log1p(−p)) keeps it.
	if p == 1 {
		return 1
	}
	return -math.Expm1(float64(k) * math.Log1p(-p))
}

// PassAtKUnbiased estimates pass@k from n samples of which c passed, with
// the unbiased estimator of Chen et al. (2021, §2.1): 1 − C(n−c, k)/C(n, k),
// computed as a product to stay stable. n is clamped to [0, 10^6], c to
// [0, n] and k to [1, n]; n = 0 gives 0.
func PassAtKUnbiased(n, c, k int) float64 {
	n = clampIntTo(n, 0, passMaxSamples)
	if n == 0 {
		return 0
	}
	c = clampIntTo(c, 0, n)
	k = clampIntTo(k, 1, n)
	if n-c < k {
		return 1
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod
}

// VerifierRun draws n attempts that each pass with probability p, from a
// generator seeded by seed, so the same seed always shows the same run. n is
// clamped to [0, 10000] and p to [0, 1].
func VerifierRun(p float64, n int, seed uint64) []bool {
	n = clampIntTo(n, 0, verifierMaxRuns)
	p = clampFloatNaN(p, 0, 1, 0)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]bool, n)
	for i := range out {
		out[i] = rng.Float64() < p
	}
	return out
}

// Reasoning RL with GRPO (Group Relative Policy Optimization; Shao et al.
// 2024, "DeepSeekMath", §4.1): for each problem the policy samples a group
// of G answers, a verifier rewards each 1 (right) or 0 (wrong), and each
// answer is scored against its own group instead of against a learned value
// model. pass@k above is a test-time figure, the chance that best-of-k with
// a verifier finds a right answer; what training moves is p itself, the
// chance that one answer is right (pass@1).

// grpoMaxSteps caps GRPOToy's run.
const grpoMaxSteps = 1000

// GroupAdvantages is GRPO's outcome-supervision advantage for each answer in
// one group (DeepSeekMath §4.1.2): Â_i = (r_i − mean(r)) / std(r), given to
// every token of answer i. std is the group's standard deviation over its G
// members (the population form; implementations that divide by G − 1 scale
// every advantage by the same √((G−1)/G)). When every reward is equal, all
// right or all wrong, std is 0 and every advantage is 0: the group carries
// no learning signal, whatever its rewards. NaN and infinite rewards count
// as 0; an empty group gives an empty slice.
func GroupAdvantages(rewards []float64) []float64 {
	out := make([]float64, len(rewards))
	if len(rewards) == 0 {
		return out
	}
	r := make([]float64, len(rewards))
	mean := 0.0
	for i, x := range rewards {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0
		}
		r[i] = x
		mean += x
	}
	mean /= float64(len(r))
	variance := 0.0
	for _, x := range r {
		variance += (x - mean) * (x - mean)
	}
	std := math.Sqrt(variance / float64(len(r)))
	// Equal rewards leave only rounding noise in std: no signal.
	if std <= 1e-12*max(1, math.Abs(mean)) {
		return out
	}
	for i, x := range r {
		out[i] = (x - mean) / std
	}
	return out
}

// GroupSignalChance is the chance that a group of g answers, each right
// with probability p, holds at least one right and one wrong answer, so
// that GRPO's advantages are not all zero: 1 − p^g − (1 − p)^g. A problem
// the policy almost never solves, or almost always does, mostly teaches
// nothing. p is clamped to [0, 1]; g < 2 gives 0.
func GroupSignalChance(p float64, g int) float64 {
	if g < 2 {
		return 0
	}
	p = clampFloatNaN(p, 0, 1, 0)
	return max(0, 1-math.Pow(p, float64(g))-math.Pow(1-p, float64(g)))
}

// GRPOStep is one step of GRPOToy.
type GRPOStep struct {
	// P is the policy's chance of a right answer when the group was drawn.
	P float64
	// Passed is how many of the group's answers the verifier accepted.
	Passed int
	// Step is how far the policy's logit moved: η·(1/G)·Σ Â_i·∂log π(o_i)/∂θ.
	Step float64
}

// GRPOToy trains the smallest policy there is on one checkable problem: a
// single logit θ with p = σ(θ), the chance that an answer is right. Each
// step draws a group of group answers with VerifierRun (step t uses seed
// seed ^ t·0x9e3779b97f4a7c15, so step 0's group is VerifierRun(p0, group,
// seed)), scores them with GroupAdvantages and takes one on-policy
// policy-gradient step of size lr, with no clipping or KL term (at the
// sampling policy GRPO's ratio is 1 and the clip is inactive):
//
//	θ ← θ + lr·(1/G)·Σ_i Â_i·∂log π(o_i)/∂θ,   ∂log p/∂θ = 1 − p,  ∂log(1 − p)/∂θ = −p.
//
// With c of G right, that sum works out to exactly the group's reward
// standard deviation √(c/G·(1 − c/G)), so every mixed group raises p and
// every all-wrong or all-right group leaves it where it was. It returns the
// steps taken and p after the last. p0 is clamped to [0.001, 0.999], group
// to [1, 10000], steps to [0, 1000], and lr to [0, 100] (NaN means 0).
func GRPOToy(p0 float64, group, steps int, lr float64, seed uint64) ([]GRPOStep, float64) {
	p := clampFloatNaN(p0, 0.001, 0.999, 0.5)
	group = clampIntTo(group, 1, verifierMaxRuns)
	steps = clampIntTo(steps, 0, grpoMaxSteps)
	lr = clampFloatNaN(lr, 0, 100, 0)
	theta := math.Log(p / (1 - p))
	out := make([]GRPOStep, 0, steps)
	rewards := make([]float64, group)
	for t := range steps {
		run := VerifierRun(p, group, seed^(uint64(t)*0x9e3779b97f4a7c15))
		c := 0
		for i, ok := range run {
			rewards[i] = 0
			if ok {
				rewards[i] = 1
				c++
			}
		}
		grad := 0.0
		for i, a := range GroupAdvantages(rewards) {
			if run[i] {
				grad += a * (1 - p)
			} else {
				grad -= a * p
			}
		}
		step := lr * grad / float64(group)
		out = append(out, GRPOStep{P: p, Passed: c, Step: step})
		if step != 0 { // a group with no signal leaves p exactly as it was
			theta += step
			p = 1 / (1 + math.Exp(-theta))
		}
	}
	return out, p
}
