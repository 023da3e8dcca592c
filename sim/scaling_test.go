package sim

import (
	"math"
	"testing"
)

func scalingRelErr(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

func scalingPreset(t *testing.T, name string) ScalingPreset {
	t.Helper()
	for _, p := range ScalingPresets() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no scaling preset %q", name)
	return ScalingPreset{}
}

// 6·N·D for the headline runs.
//   - Chinchilla: 70B parameters, 1.4T tokens (Hoffmann et al. 2022,
//     section 4.1) → 5.88e23. The paper gives Chinchilla and Gopher the same
//     budget, 5.76e23 (Table 3), using its fuller FLOP count (Appendix F);
//     6ND lands within 3% of it.
//   - GPT-3: 175B on 300B tokens (Brown et al. 2020, Table D.1) → 3.15e23
//     from the rounded 175B; the paper's own 3.14e23 comes from its 174,600M
//     parameter count, which 6ND reproduces to three figures.
//   - Llama 3.1 405B: 405B on 15.6T tokens → 3.79e25; the Llama 3 paper
//     (Grattafiori et al. 2024, section 3.2.1) states 3.8e25 FLOPs.
func TestScalingTrainingFLOPsPublished(t *testing.T) {
	if got := TrainingFLOPs(70e9, 1.4e12); scalingRelErr(got, 5.88e23) > 1e-12 {
		t.Errorf("Chinchilla 6ND = %g, want 5.88e23", got)
	}
	if got := TrainingFLOPs(70e9, 1.4e12); scalingRelErr(got, 5.76e23) > 0.03 {
		t.Errorf("Chinchilla 6ND = %g, want within 3%% of the paper's 5.76e23", got)
	}
	if got := TrainingFLOPs(175e9, 300e9); scalingRelErr(got, 3.15e23) > 1e-12 {
		t.Errorf("GPT-3 6ND = %g, want 3.15e23", got)
	}
	if got := TrainingFLOPs(174_600e6, 300e9); math.Round(got/1e21) != 314 {
		t.Errorf("GPT-3 6ND with Table D.1's 174,600M params = %g, want 3.14e23", got)
	}
	if got := TrainingFLOPs(405e9, 15.6e12); scalingRelErr(got, 3.8e25) > 0.01 {
		t.Errorf("Llama 3.1 405B 6ND = %g, want ≈3.8e25", got)
	}
	for _, bad := range [][2]float64{{-1, 1e9}, {math.NaN(), 1}, {1, math.Inf(-1)}} {
		if got := TrainingFLOPs(bad[0], bad[1]); got != 0 {
			t.Errorf("TrainingFLOPs(%v) = %v, want 0", bad, got)
		}
	}
	if got := TrainingFLOPs(math.Inf(1), math.Inf(1)); math.IsInf(got, 0) || math.IsNaN(got) {
		t.Errorf("TrainingFLOPs(+Inf, +Inf) = %v, want a finite clamp", got)
	}
}

// Presets carry the published sizes, and a mixture of experts is charged for
// its active parameters only: DeepSeek-V3 technical report (DeepSeek-AI 2024,
// abstract): 671B total, 37B activated per token, 14.8T tokens. A model that
// is also an ArchPresets entry has that entry's exact count, so 6·N·D is
// the published figure: GPT-3's 174.6B on 300B tokens gives Brown et al.
// 2020 Table D.1's 3.14e23 (the rounded 175B would give 3.15e23), and Llama
// 3.1 405B's 405.85B on 15.6T gives the Llama 3 paper's 3.8e25 (section
// 3.2.1) to 0.1%.
func TestScalingPresets(t *testing.T) {
	want := map[string][3]float64{ // params, active, tokens
		"GPT-3":          {174_604_259_328, 0, 300e9},
		"Chinchilla":     {70e9, 0, 1.4e12},
		"Llama 3 8B":     {8_030_261_248, 0, 15e12},
		"Llama 3.1 405B": {405_853_388_800, 0, 15.6e12},
		"DeepSeek-V3":    {671e9, 37e9, 14.8e12},
	}
	ps := ScalingPresets()
	if len(ps) != len(want) {
		t.Fatalf("%d presets, want %d", len(ps), len(want))
	}
	for _, p := range ps {
		w, ok := want[p.Name]
		if !ok || p.Params != w[0] || p.ActiveParams != w[1] || p.Tokens != w[2] || p.Note == "" {
			t.Errorf("preset %+v", p)
		}
		if p.Routed() != (w[1] > 0) {
			t.Errorf("%s: Routed() = %v", p.Name, p.Routed())
		}
		// One count per model: the exact one chapter 2 computes.
		if p.Arch != "" {
			a, ok := ArchPreset(p.Arch)
			if !ok || float64(a.Params().Total) != p.Params {
				t.Errorf("%s: %g parameters, but ArchPreset(%q) counts %d", p.Name, p.Params, p.Arch, a.Params().Total)
			}
		}
	}
	if got := scalingPreset(t, "GPT-3").TrainingFLOPs(); math.Round(got/1e21) != 314 {
		t.Errorf("GPT-3 6ND = %.4g, want Table D.1's 3.14e23", got)
	}
	if got := scalingPreset(t, "Llama 3.1 405B").TrainingFLOPs(); scalingRelErr(got, 3.8e25) > 1e-3 {
		t.Errorf("Llama 3.1 405B 6ND = %.4g, want 3.8e25", got)
	}
	ds := scalingPreset(t, "DeepSeek-V3")
	if got := ds.TrainingFLOPs(); got != 6*37e9*14.8e12 {
		t.Errorf("DeepSeek-V3 FLOPs %g, want 6·37e9·14.8e12 (active params)", got)
	}
	if got := scalingPreset(t, "Chinchilla").TrainingFLOPs(); got != TrainingFLOPs(70e9, 1.4e12) {
		t.Errorf("dense preset should use total params, got %g", got)
	}
	ps[0].Params = 1
	if ScalingPresets()[0].Params == 1 {
		t.Error("ScalingPresets shares memory between calls")
	}
}

// Besiroglu et al. 2024 ("Chinchilla Scaling: A replication attempt",
// arXiv:2404.10102, section 3 and Table 1) refit Hoffmann et al.'s law to
// the data of their Figure 4: E = 1.8172, A = 482.01, B = 2085.43,
// α = 0.3478, β = 0.3658 (the authors' notebook, epoch-research/
// analyzing-chinchilla, prints A 482.006, B 2085.434, α 0.34781,
// β 0.36585). The refit's a = β/(α+β) is 0.513 (their Table 1: 0.512 ±
// 0.02), close to Hoffmann et al.'s Approaches 1 and 2 (Table 2: 0.50, 0.49).
func TestChinchillaRefitConstants(t *testing.T) {
	c := ChinchillaRefit()
	if c != (Chinchilla{E: 1.8172, A: 482.01, B: 2085.43, Alpha: 0.3478, Beta: 0.3658}) {
		t.Fatalf("ChinchillaRefit() = %+v", c)
	}
	want := 1.8172 + 482.01/math.Pow(70e9, 0.3478) + 2085.43/math.Pow(1.4e12, 0.3658)
	if got := c.Loss(70e9, 1.4e12); scalingRelErr(got, want) > 1e-15 {
		t.Errorf("Loss(70B, 1.4T) = %v, want %v", got, want)
	}
	if a, _ := c.Exponents(); math.Abs(a-0.512) > 0.005 {
		t.Errorf("refit a = %.4f, want ≈0.512", a)
	}
}

// The compute-optimal split at Chinchilla's budget, 5.76e23 FLOPs
// (Hoffmann et al. 2022, Table 3: 67B parameters on 1.5T tokens by
// Approach 1; Chinchilla itself is 70B on 1.4T, section 4.1, the paper's
// "about 20 tokens per parameter"). The refit gives 72.2B on 1.33T, 18.4
// tokens per parameter: within 10% of 20 and within 10% of Table 3's
// parameters and tokens. The printed constants give 32.2B on 2.98T, 92.6
// tokens per parameter: the disagreement Besiroglu et al. trace to an
// optimiser stopped early and to rounding.
func TestChinchillaRefitOptimumNearTwenty(t *testing.T) {
	n, d := ChinchillaRefit().Optimal(5.76e23)
	if tpp := d / n; math.Abs(tpp-20)/20 > 0.10 {
		t.Errorf("refit optimum at 5.76e23: %.1f tokens per parameter, want within 10%% of 20", tpp)
	}
	if scalingRelErr(n, 67e9) > 0.10 || scalingRelErr(d, 1.5e12) > 0.15 {
		t.Errorf("refit optimum at 5.76e23: N %.4g, D %.4g; Table 3 has 67B on 1.5T", n, d)
	}
	pn, pd := ChinchillaFit().Optimal(5.76e23)
	if tpp := pd / pn; tpp < 90 || tpp > 95 {
		t.Errorf("printed fit at 5.76e23: %.1f tokens per parameter, want about 93", tpp)
	}
}

// Hoffmann et al. 2022, equation 10 (Approach 3).
func TestChinchillaFitConstants(t *testing.T) {
	c := ChinchillaFit()
	if c != (Chinchilla{E: 1.69, A: 406.4, B: 410.7, Alpha: 0.34, Beta: 0.28}) {
		t.Fatalf("ChinchillaFit() = %+v", c)
	}
	// L(N, D) written out for Chinchilla itself, 70B on 1.4T tokens.
	want := 1.69 + 406.4/math.Pow(70e9, 0.34) + 410.7/math.Pow(1.4e12, 0.28)
	if got := c.Loss(70e9, 1.4e12); scalingRelErr(got, want) > 1e-15 {
		t.Errorf("Loss(70B, 1.4T) = %v, want %v", got, want)
	}
	// More of either resource lowers the loss, never below E.
	if !(c.Loss(140e9, 1.4e12) < c.Loss(70e9, 1.4e12) && c.Loss(70e9, 2.8e12) < c.Loss(70e9, 1.4e12)) {
		t.Error("loss should fall with N and with D")
	}
	if got := c.Loss(1e30, 1e30); got <= c.E || got > c.E+1e-5 {
		t.Errorf("Loss at the clamp = %v, want just above E", got)
	}
}

// Table 2 of Hoffmann et al. 2022 reports a = 0.46, b = 0.54 for Approach 3
// (N_opt ∝ C^a, D_opt ∝ C^b). The rounded equation-10 constants give
// a = 0.28/0.62 = 0.452; we assert agreement to within 0.01 and exactness of
// the closed form.
func TestChinchillaExponentsTable2(t *testing.T) {
	a, b := ChinchillaFit().Exponents()
	if math.Abs(a-0.46) > 0.01 || math.Abs(b-0.54) > 0.01 {
		t.Errorf("exponents a=%v b=%v, want ≈0.46 and ≈0.54", a, b)
	}
	if a != 0.28/0.62 || math.Abs(a+b-1) > 1e-15 {
		t.Errorf("a=%v b=%v, want β/(α+β) and summing to 1", a, b)
	}
	// The exponent is visible in Optimal: 10× the compute → 10^a × the params.
	c := ChinchillaFit()
	n1, _ := c.Optimal(1e22)
	n2, _ := c.Optimal(1e23)
	if scalingRelErr(n2/n1, math.Pow(10, a)) > 1e-12 {
		t.Errorf("N_opt grows %v× per decade, want 10^a = %v", n2/n1, math.Pow(10, a))
	}
}

// Optimal must actually minimise Loss along the iso-FLOP curve 6·N·D = C.
// Check against a brute-force search over log N: a coarse grid, then a fine
// one around the best point, to 1e-3 relative in N.
func TestChinchillaOptimalMatchesBruteForce(t *testing.T) {
	for _, c := range []Chinchilla{ChinchillaRefit(), ChinchillaFit()} {
		chinchillaOptimalMatchesBruteForce(t, c)
	}
}

func chinchillaOptimalMatchesBruteForce(t *testing.T, c Chinchilla) {
	t.Helper()
	for _, C := range []float64{1e18, 1e21, 5.76e23, 3.8e25, 1e28} {
		n, d := c.Optimal(C)
		if scalingRelErr(6*n*d, C) > 1e-12 {
			t.Errorf("C=%g: 6·N·D = %g", C, 6*n*d)
		}
		loss := func(logN float64) float64 {
			N := math.Exp(logN)
			return c.Loss(N, C/(6*N))
		}
		lo, hi := 0.0, math.Log(C/6)
		best, step := lo, (hi-lo)/2000
		for x := lo; x <= hi; x += step {
			if loss(x) < loss(best) {
				best = x
			}
		}
		// The loss along the curve is convex in log N, so zooming in around
		// the best grid point cannot miss the minimum.
		for step > 1e-7 {
			from, to := max(lo, best-2*step), min(hi, best+2*step)
			step /= 20
			for x := from; x <= to; x += step {
				if loss(x) < loss(best) {
					best = x
				}
			}
		}
		if scalingRelErr(math.Exp(best), n) > 1e-3 {
			t.Errorf("C=%g: closed form N=%g, brute force N=%g", C, n, math.Exp(best))
		}
		if l := c.Loss(n, d); l > loss(best)+1e-12 {
			t.Errorf("C=%g: closed-form loss %v above brute-force %v", C, l, loss(best))
		}
		for _, f := range []float64{0.9, 0.99, 1.01, 1.1} {
			if c.Loss(n*f, d/f) < c.Loss(n, d) {
				t.Errorf("C=%g: moving N by ×%v along the iso-FLOP curve lowers the loss", C, f)
			}
		}
	}
}

// At Gopher's budget (5.76e23 FLOPs) Hoffmann et al. 2022 Figure 4's caption
// gives about 40B parameters as Approach 3's optimum. The rounded equation-10
// constants give about 32B: Besiroglu et al. 2024 ("Chinchilla Scaling: A
// replication attempt") attribute such gaps to that rounding. We assert the
// value our closed form gives (32.2B) and only that it lies within 25% of the
// published 40B and below Chinchilla's actual 70B.
func TestChinchillaOptimalAtGopherBudget(t *testing.T) {
	n, d := ChinchillaFit().Optimal(5.76e23)
	if scalingRelErr(n, 32.19e9) > 1e-3 {
		t.Errorf("N_opt(5.76e23) = %g, want 32.19e9", n)
	}
	if scalingRelErr(n, 40e9) > 0.25 || n >= 70e9 {
		t.Errorf("N_opt(5.76e23) = %g, want near the paper's 40B and below 70B", n)
	}
	if d/n < 20 {
		t.Errorf("tokens per parameter %v; the rounded fit favours data more than 20:1", d/n)
	}
}

func TestChinchillaOptimalNeverBreaks(t *testing.T) {
	cs := []Chinchilla{
		ChinchillaFit(),
		ChinchillaRefit(),
		{},
		{E: math.NaN(), A: math.Inf(1), B: -4, Alpha: math.NaN(), Beta: 0},
		{E: 1, A: 1e-300, B: 1e300, Alpha: 5, Beta: 1e-9},
		{E: 1, A: 1e300, B: 1e-300, Alpha: 1e-9, Beta: 5},
	}
	for _, c := range cs {
		for _, C := range []float64{math.NaN(), math.Inf(-1), -1, 0, 1, 6, 1e24, 1e50, math.Inf(1)} {
			n, d := c.Optimal(C)
			l := c.Loss(n, d)
			for _, v := range []float64{n, d, l} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%+v Optimal(%v) = (%v, %v), loss %v", c, C, n, d, l)
				}
			}
			if n < 1 || d < 1 {
				t.Fatalf("%+v Optimal(%v) = (%v, %v), want both ≥ 1", c, C, n, d)
			}
		}
	}
}

// GPU time from first principles for Llama 3.1 405B, whose training the
// Llama 3 paper puts at 3.8e25 FLOPs (section 3.2.1) and the Llama 3.1 model
// card at 30.84M H100-80GB GPU-hours.
//
// At 100% of the 989.4 TFLOPS dense BF16 peak: 3.8e25 / 989.4e12 s
// = 3.8407e10 GPU-seconds = 10.67M GPU-hours = 1217.0 GPU-years.
//
// Against the card's 30.84M hours that is an average MFU of 34.6%. The paper
// reports 38–43% BF16 MFU for the steady pre-training configurations
// (Table 4). We assert the derived figure lies in [0.33, 0.36], i.e. below
// that range: the card's hours also cover interruptions (effective training
// time "higher than 90%", section 3.3.4), long-context and annealing stages.
// Divided by 0.9 it reaches 38.4%, the bottom of the paper's range.
func TestCostLlama405B(t *testing.T) {
	r := Cost(3.8e25, H100BF16DenseFLOPS, 1, 1, 0)
	if scalingRelErr(r.GPUSeconds, 3.8e25/989.4e12) > 1e-12 {
		t.Errorf("GPU-seconds %g", r.GPUSeconds)
	}
	if math.Abs(r.GPUYears-1217.0) > 0.1 {
		t.Errorf("GPU-years at peak = %.2f, want 1217.0", r.GPUYears)
	}
	if math.Abs(r.GPUSeconds/3600-10.67e6) > 0.01e6 {
		t.Errorf("GPU-hours at peak = %.4g, want 10.67M", r.GPUSeconds/3600)
	}

	// 6·N·D with the exact 405B count from ArchPresets and the paper's 15.6T.
	var n float64
	for _, a := range ArchPresets() {
		if a.Name == "Llama 3.1 405B" {
			n = float64(a.Params().Total)
		}
	}
	flops := TrainingFLOPs(n, 15.6e12)
	mfu := ImpliedMFU(flops, 30.84e6, H100BF16DenseFLOPS)
	if mfu < 0.33 || mfu > 0.36 {
		t.Errorf("implied MFU %.4f, want in [0.33, 0.36]", mfu)
	}
	if mfu >= 0.38 || mfu/0.9 < 0.38 || mfu/0.9 > 0.43 {
		t.Errorf("implied MFU %.4f vs the paper's 38–43%% at ≥90%% effective time", mfu)
	}
	// Round trip: at that MFU, Cost gives back the card's GPU-hours.
	back := Cost(flops, H100BF16DenseFLOPS, mfu, 16384, 2)
	if scalingRelErr(back.GPUSeconds/3600, 30.84e6) > 1e-12 {
		t.Errorf("round trip GPU-hours %g", back.GPUSeconds/3600)
	}
	if scalingRelErr(back.WallDays, 30.84e6/16384/24) > 1e-12 {
		t.Errorf("wall days %g, want %g on 16,384 GPUs", back.WallDays, 30.84e6/16384/24)
	}
	if scalingRelErr(back.Dollars, 2*30.84e6) > 1e-12 {
		t.Errorf("dollars %g at $2/GPU-hour", back.Dollars)
	}
}

func TestCostClamps(t *testing.T) {
	base := Cost(1e24, H100BF16DenseFLOPS, 0.4, 1024, 2)
	if got := Cost(1e24, math.NaN(), 0.4, 1024, 2); got != base {
		t.Errorf("NaN peak should mean the H100 figure: %+v", got)
	}
	if got := Cost(1e24, -1, 0.4, 1024, 2); got != base {
		t.Errorf("negative peak should mean the H100 figure: %+v", got)
	}
	if Cost(1e24, H100BF16DenseFLOPS, 7, 1, 0).GPUSeconds != Cost(1e24, H100BF16DenseFLOPS, 1, 1, 0).GPUSeconds {
		t.Error("MFU above 1 should clamp to 1")
	}
	if Cost(1e24, H100BF16DenseFLOPS, 0, 1, 0).GPUSeconds != Cost(1e24, H100BF16DenseFLOPS, 0.001, 1, 0).GPUSeconds {
		t.Error("MFU 0 should clamp to 0.001")
	}
	if Cost(1e24, H100BF16DenseFLOPS, 0.4, 0, 0).WallDays != Cost(1e24, H100BF16DenseFLOPS, 0.4, 1, 0).WallDays {
		t.Error("0 GPUs should clamp to 1")
	}
	if got := Cost(-5, H100BF16DenseFLOPS, 0.4, 1, 2); got.FLOPs != 0 || got.Dollars != 0 {
		t.Errorf("negative FLOPs: %+v", got)
	}
}

// FuzzCost: no combination of inputs gives NaN, Inf or a negative figure.
func FuzzCost(f *testing.F) {
	inf, nan := math.Inf(1), math.NaN()
	f.Add(3.8e25, H100BF16DenseFLOPS, 0.4, 16384, 2.0)
	f.Add(0.0, 0.0, 0.0, 0, 0.0)
	f.Add(-1.0, -1.0, -1.0, -1, -1.0)
	f.Add(nan, nan, nan, 1, nan)
	f.Add(inf, inf, inf, 1<<62, inf)
	f.Add(-inf, -inf, -inf, -1<<62, -inf)
	f.Add(1e308, 1e-308, 1e-308, 1, 1e308)
	f.Add(5e-324, 1e308, 1.0, 3, 5e-324)
	f.Fuzz(func(t *testing.T, flops, peak, mfu float64, gpus int, price float64) {
		r := Cost(flops, peak, mfu, gpus, price)
		for _, v := range []float64{r.FLOPs, r.GPUSeconds, r.GPUYears, r.WallDays, r.Dollars} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("Cost(%v, %v, %v, %v, %v) = %+v", flops, peak, mfu, gpus, price, r)
			}
		}
		m := ImpliedMFU(flops, price, peak)
		if math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
			t.Fatalf("ImpliedMFU(%v, %v, %v) = %v", flops, price, peak, m)
		}
	})
}

// FrontierPoints follows the default law, the refit.
func TestFrontierPoints(t *testing.T) {
	pts := FrontierPoints(1e18, 1e26, 9)
	if len(pts) != 9 {
		t.Fatalf("%d points, want 9", len(pts))
	}
	c := ChinchillaRefit()
	for i, p := range pts {
		C := 1e18 * math.Pow(10, float64(i))
		if scalingRelErr(6*p[0]*p[1], C) > 1e-9 {
			t.Errorf("point %d: 6ND = %g, want %g", i, 6*p[0]*p[1], C)
		}
		n, d := c.Optimal(C)
		if scalingRelErr(p[0], n) > 1e-9 || scalingRelErr(p[1], d) > 1e-9 {
			t.Errorf("point %d: %v, want Optimal(%g) = (%g, %g)", i, p, C, n, d)
		}
		if i > 0 && !(p[0] > pts[i-1][0] && p[1] > pts[i-1][1]) {
			t.Errorf("frontier not increasing at %d", i)
		}
	}
	// Endpoints are exact, reversed bounds are swapped, n is honoured.
	if n, _ := c.Optimal(1e26); pts[8][0] != n {
		t.Error("last point should be exactly Optimal(cMax)")
	}
	rev := FrontierPoints(1e26, 1e18, 9)
	for i := range pts {
		if rev[i] != pts[i] {
			t.Fatalf("reversed bounds differ at %d", i)
		}
	}
	if got := FrontierPoints(1e20, 1e22, 1); len(got) != 1 {
		t.Errorf("n=1: %v", got)
	}
	for _, n := range []int{0, -3} {
		if got := FrontierPoints(1e20, 1e22, n); got == nil || len(got) != 0 {
			t.Errorf("n=%d: %v, want empty", n, got)
		}
	}
	if got := FrontierPoints(1e20, 1e22, 1<<40); len(got) != 10000 {
		t.Errorf("huge n gives %d points, want the 10000 cap", len(got))
	}
	for _, p := range FrontierPoints(math.NaN(), math.Inf(1), 5) {
		if math.IsNaN(p[0]) || math.IsInf(p[1], 0) || p[0] < 1 || p[1] < 1 {
			t.Errorf("non-finite bounds gave %v", p)
		}
	}
}
