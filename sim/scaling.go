package sim

import "math"

// The compute economy: how many FLOPs a run takes, how a fixed budget is best
// split between parameters and tokens, and what the budget costs in GPU time
// and money.

// H100BF16DenseFLOPS is the peak dense BF16 tensor throughput of one H100 SXM
// in FLOP/s (NVIDIA H100 Tensor Core GPU Architecture whitepaper: 528 tensor
// cores × 1024 FLOP/clock × 1.83 GHz; the datasheet's 1,979 TFLOPS assumes 2:4
// sparsity, which dense training does not use).
const H100BF16DenseFLOPS = 989.4e12

// Clamp bounds for the scaling functions. They are far outside anything
// trained (the largest runs are near 1e26 FLOPs) but keep every product and
// quotient finite.
const (
	scalingMaxCount       = 1e30 // parameters or tokens
	scalingMaxFLOPs       = 1e40
	scalingMinPeak        = 1e3
	scalingMaxPeak        = 1e21
	scalingMinMFU         = 1e-3
	scalingMaxGPUPrice    = 1e6 // dollars per GPU-hour
	scalingMaxFrontierN   = 10000
	scalingSecondsPerYear = 365.25 * 86400
)

// TrainingFLOPs returns the standard estimate 6·N·D for training N
// parameters on D tokens: 2 FLOPs per parameter per token forward, 4 more for
// the backward pass (Kaplan et al. 2020, section 2.1). Negative or NaN inputs
// count as 0; inputs above 1e30 are clamped.
func TrainingFLOPs(n, d float64) float64 {
	n = clampFloatNaN(n, 0, scalingMaxCount, 0)
	d = clampFloatNaN(d, 0, scalingMaxCount, 0)
	return 6 * n * d
}

// Chinchilla is a parametric loss law L(N, D) = E + A/N^α + B/D^β: an
// irreducible entropy E, a penalty for too few parameters and a penalty for
// too few tokens.
type Chinchilla struct {
	// E is the irreducible loss in nats per token.
	E float64
	// A scales the parameter-count term.
	A float64
	// B scales the token-count term.
	B float64
	// Alpha is the exponent on parameters.
	Alpha float64
	// Beta is the exponent on tokens.
	Beta float64
}

// ChinchillaFit returns the fit as Hoffmann et al. (2022) printed it,
// equation 10 (Approach 3): E = 1.69, A = 406.4, B = 410.7, α = 0.34,
// β = 0.28. Besiroglu et al. (2024, "Chinchilla Scaling: A replication
// attempt", arXiv:2404.10102) show these constants are biased: the
// optimiser stopped before converging and the printed values are rounded
// (the TeX source has α = 0.3392, β = 0.2849). With them the optimum at
// Chinchilla's own budget is about 93 tokens per parameter, against the
// paper's 20 and its Approaches 1 and 2. Kept to show that disagreement;
// ChinchillaRefit is the law to predict with.
func ChinchillaFit() Chinchilla {
	return Chinchilla{E: 1.69, A: 406.4, B: 410.7, Alpha: 0.34, Beta: 0.28}
}

// ChinchillaRefit returns Besiroglu et al.'s (2024) refit of the same
// parametric law to Hoffmann et al.'s data, reconstructed from their
// Figure 4: L = 1.8172 + 482.01/N^0.3478 + 2085.43/D^0.3658 (arXiv:2404.10102
// v2, section 3 and Table 1; the authors' notebook,
// epoch-research/analyzing-chinchilla, gives A = 482.006, B = 2085.434,
// α = 0.34781, β = 0.36585). Its optimum is about 20 tokens per parameter
// at Chinchilla's budget, in line with the paper's Approaches 1 and 2, so it
// is the default law.
func ChinchillaRefit() Chinchilla {
	return Chinchilla{E: 1.8172, A: 482.01, B: 2085.43, Alpha: 0.3478, Beta: 0.3658}
}

// sane replaces unusable coefficients so Loss and Optimal stay finite: any
// non-finite or non-positive A, B, α, β falls back to the refit,
// exponents are kept in [0.01, 5] and scales at most 1e12.
func (c Chinchilla) sane() Chinchilla {
	fit := ChinchillaRefit()
	c.E = clampFloatNaN(c.E, 0, 100, fit.E)
	fix := func(x, lo, hi, def float64) float64 {
		if !(x > 0) || math.IsInf(x, 0) {
			return def
		}
		return clampFloatNaN(x, lo, hi, def)
	}
	c.A = fix(c.A, 1e-12, 1e12, fit.A)
	c.B = fix(c.B, 1e-12, 1e12, fit.B)
	c.Alpha = fix(c.Alpha, 0.01, 5, fit.Alpha)
	c.Beta = fix(c.Beta, 0.01, 5, fit.Beta)
	return c
}

// Loss returns the predicted loss in nats per token for n parameters trained
// on d tokens. n and d are clamped to [1, 1e30] (NaN counts as 1) so the
// power terms stay finite.
func (c Chinchilla) Loss(n, d float64) float64 {
	c = c.sane()
	n = clampFloatNaN(n, 1, scalingMaxCount, 1)
	d = clampFloatNaN(d, 1, scalingMaxCount, 1)
	return c.E + c.A/math.Pow(n, c.Alpha) + c.B/math.Pow(d, c.Beta)
}

// Exponents returns a and b with N_opt ∝ C^a and D_opt ∝ C^b:
// a = β/(α+β), b = α/(α+β). They sum to 1 because 6·N·D = C.
func (c Chinchilla) Exponents() (a, b float64) {
	c = c.sane()
	s := c.Alpha + c.Beta
	return c.Beta / s, c.Alpha / s
}

// Optimal returns the parameter and token counts that minimise Loss for a
// training budget of flops under the constraint 6·N·D = C. Setting the
// derivative along the constraint to zero gives the closed form of Hoffmann
// et al. (2022) equation 4:
//
//	N_opt = G·(C/6)^(β/(α+β)),  G = (αA/(βB))^(1/(α+β)),  D_opt = C/(6·N_opt)
//
// flops is clamped to [6, 1e40] (NaN counts as 6) and N to [1, C/6], so both
// results are at least 1.
func (c Chinchilla) Optimal(flops float64) (n, d float64) {
	c = c.sane()
	budget := clampFloatNaN(flops, 6, scalingMaxFLOPs, 6) / 6 // = N·D
	s := c.Alpha + c.Beta
	g := math.Pow(c.Alpha*c.A/(c.Beta*c.B), 1/s)
	n = g * math.Pow(budget, c.Beta/s)
	n = clampFloatNaN(n, 1, budget, 1)
	return n, budget / n
}

// Frontier returns the compute-optimal (N, D) at n budgets log-spaced from
// cMin to cMax inclusive, ready for a log-log plot. Budgets are clamped to
// [6, 1e40] (NaN counts as 6) and swapped if reversed; n ≤ 0 gives an empty
// slice and n is capped at 10000.
func (c Chinchilla) Frontier(cMin, cMax float64, n int) [][2]float64 {
	if n <= 0 {
		return [][2]float64{}
	}
	n = min(n, scalingMaxFrontierN)
	lo := clampFloatNaN(cMin, 6, scalingMaxFLOPs, 6)
	hi := clampFloatNaN(cMax, 6, scalingMaxFLOPs, 6)
	if lo > hi {
		lo, hi = hi, lo
	}
	out := make([][2]float64, n)
	logLo, logHi := math.Log(lo), math.Log(hi)
	for i := range n {
		budget := lo
		switch {
		case i == n-1 && n > 1:
			budget = hi // exact endpoint, not exp(log(hi)) with rounding
		case i > 0:
			budget = math.Exp(logLo + (logHi-logLo)*float64(i)/float64(n-1))
		}
		N, D := c.Optimal(budget)
		out[i] = [2]float64{N, D}
	}
	return out
}

// FrontierPoints is Frontier for the default law, ChinchillaRefit.
func FrontierPoints(cMin, cMax float64, n int) [][2]float64 {
	return ChinchillaRefit().Frontier(cMin, cMax, n)
}

// RunCost is what a training run costs at a given hardware efficiency.
type RunCost struct {
	// FLOPs is the (clamped) compute of the run.
	FLOPs float64
	// GPUSeconds is the GPU time needed at the given MFU.
	GPUSeconds float64
	// GPUYears is GPUSeconds in Julian years (365.25 days).
	GPUYears float64
	// WallDays is the elapsed time with all GPUs working in parallel.
	WallDays float64
	// Dollars is the rental bill at the given price per GPU-hour.
	Dollars float64
}

// Cost converts a FLOP budget into GPU time and money. mfu (model FLOPs
// utilisation) is the fraction of peak the run actually sustains; real large
// runs reach roughly 0.35–0.45, which is why peak-rate arithmetic
// understates cost by 2–3×. Inputs are clamped so the result is always
// finite and non-negative: flops to [0, 1e40] (NaN → 0); peakFLOPS to
// [1e3, 1e21] with NaN or non-positive meaning H100BF16DenseFLOPS; mfu to
// [0.001, 1] (NaN → 0.001); gpus to at least 1; price to [0, 1e6] (NaN → 0).
func Cost(flops, peakFLOPS, mfu float64, gpus int, dollarsPerGPUHour float64) RunCost {
	flops = clampFloatNaN(flops, 0, scalingMaxFLOPs, 0)
	if !(peakFLOPS > 0) {
		peakFLOPS = H100BF16DenseFLOPS
	}
	peakFLOPS = clampFloatNaN(peakFLOPS, scalingMinPeak, scalingMaxPeak, H100BF16DenseFLOPS)
	mfu = clampFloatNaN(mfu, scalingMinMFU, 1, scalingMinMFU)
	gpus = max(gpus, 1)
	price := clampFloatNaN(dollarsPerGPUHour, 0, scalingMaxGPUPrice, 0)

	sec := flops / (peakFLOPS * mfu)
	return RunCost{
		FLOPs:      flops,
		GPUSeconds: sec,
		GPUYears:   sec / scalingSecondsPerYear,
		WallDays:   sec / float64(gpus) / 86400,
		Dollars:    sec / 3600 * price,
	}
}

// ImpliedMFU inverts Cost: the utilisation at which flops of useful work
// would take gpuHours at peakFLOPS. Applied to a published GPU-hour total it
// gives the run's average MFU, downtime included. Inputs are clamped like
// Cost's; zero or invalid GPU-hours give 0. The result is not capped at 1,
// so inconsistent inputs stay visible.
func ImpliedMFU(flops, gpuHours, peakFLOPS float64) float64 {
	flops = clampFloatNaN(flops, 0, scalingMaxFLOPs, 0)
	if !(gpuHours > 0) || math.IsInf(gpuHours, 1) {
		return 0
	}
	if !(peakFLOPS > 0) {
		peakFLOPS = H100BF16DenseFLOPS
	}
	peakFLOPS = clampFloatNaN(peakFLOPS, scalingMinPeak, scalingMaxPeak, H100BF16DenseFLOPS)
	gpuHours = clampFloatNaN(gpuHours, 1e-9, scalingMaxFLOPs, 1e-9)
	return flops / (gpuHours * 3600 * peakFLOPS)
}

// ScalingPreset is a published training run to place on the compute plots.
type ScalingPreset struct {
	// Name labels the run.
	Name string
	// Arch names the ArchPresets model the run trained, whose exact count
	// Params then is, so a model has one parameter count in every chapter;
	// "" when the model is not among ArchPresets.
	Arch string
	// Params is the total parameter count.
	Params float64
	// Tokens is the number of training tokens.
	Tokens float64
	// ActiveParams is the parameters used per token for a mixture of
	// experts; 0 for dense models, where every parameter is active.
	ActiveParams float64
	// Note gives the run's context in one line.
	Note string
}

// Routed reports whether the run is a mixture of experts. A dense loss law
// says nothing about its loss: routed models reach a lower loss than dense
// ones at equal compute per token (Clark et al. 2022, "Unified Scaling Laws
// for Routed Language Models"), so only its cost is computed.
func (p ScalingPreset) Routed() bool { return p.ActiveParams > 0 }

// ComputeParams returns the parameters that cost FLOPs per token: the active
// ones for a mixture of experts, all of them otherwise. A token only passes
// through the experts it is routed to, so a 671B MoE with 37B active trains
// at the cost of a 37B dense model per token.
func (p ScalingPreset) ComputeParams() float64 {
	if p.ActiveParams > 0 {
		return p.ActiveParams
	}
	return p.Params
}

// TrainingFLOPs returns 6·N·D for the run with N = ComputeParams.
func (p ScalingPreset) TrainingFLOPs() float64 {
	return TrainingFLOPs(p.ComputeParams(), p.Tokens)
}

// ScalingPresets returns the runs the chapter compares, freshly built. A
// model that is also an ArchPresets entry takes its exact parameter count
// from there (GPT-3's 174.6B reproduces Table D.1's 3.14e23 FLOPs, where the
// rounded 175B gives 3.15e23). Sources: GPT-3, Brown et al. 2020 (Table
// D.1, 300B tokens); Chinchilla, Hoffmann et al. 2022 (section 4.1, 70B on
// 1.4T; its exact count is not published and it is not an ArchPresets
// model); Llama 3 8B, Meta model card (15T tokens); Llama 3.1 405B, Llama 3
// paper (Grattafiori et al. 2024, section 3, 15.6T tokens); DeepSeek-V3,
// DeepSeek-AI 2024 technical report (abstract: 671B total, 37B active,
// 14.8T tokens; a mixture of experts with latent attention, which Arch does
// not model).
func ScalingPresets() []ScalingPreset {
	exact := func(name string) float64 {
		a, _ := ArchPreset(name)
		return float64(a.Params().Total)
	}
	return []ScalingPreset{
		{Name: "GPT-3", Arch: "GPT-3 175B", Params: exact("GPT-3 175B"), Tokens: 300e9,
			Note: "2020: 175B parameters on 300B tokens, under 2 tokens per parameter."},
		{Name: "Chinchilla", Params: 70e9, Tokens: 1.4e12,
			Note: "2022: Gopher's compute spent on a 4x smaller model and 4x more data, about 20 tokens per parameter."},
		{Name: "Llama 3 8B", Arch: "Llama 3 8B", Params: exact("Llama 3 8B"), Tokens: 15e12,
			Note: "2024: trained far past compute-optimal, about 1,900 tokens per parameter, because a small model is cheap to serve."},
		{Name: "Llama 3.1 405B", Arch: "Llama 3.1 405B", Params: exact("Llama 3.1 405B"), Tokens: 15.6e12,
			Note: "2024: 3.8e25 FLOPs on up to 16K H100s, the largest dense open model."},
		{Name: "DeepSeek-V3", Params: 671e9, ActiveParams: 37e9, Tokens: 14.8e12,
			Note: "2024: mixture of experts, 37B of 671B parameters active per token; 2.788M H800 GPU-hours."},
	}
}

// clampFloatNaN clamps x to [lo, hi], mapping NaN to nan. ±Inf clamp to the
// nearer bound.
func clampFloatNaN(x, lo, hi, nan float64) float64 {
	switch {
	case math.IsNaN(x):
		return nan
	case x < lo:
		return lo
	case x > hi:
		return hi
	}
	return x
}
