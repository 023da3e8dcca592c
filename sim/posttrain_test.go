package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Bradley–Terry recovers known scores up to a constant. With expected
// counts N·σ(s_i − s_j) the maximum-likelihood fit is exactly the true
// scores (the likelihood equations hold at them), so the MM iteration
// (Hunter 2004) must land on them.
func TestBradleyTerryRecoversScoresExactly(t *testing.T) {
	truth := []float64{1.2, 0.0, -0.7, 2.0, -1.5}
	var comps []Comparison
	for i := range truth {
		for j := range truth {
			if i != j {
				comps = append(comps, Comparison{Winner: i, Loser: j, Count: 100 * WinProb(truth[i], truth[j])})
			}
		}
	}
	fit := BradleyTerry(len(truth), comps, 0)
	if !fit.Converged {
		t.Fatalf("did not converge in %d iterations", fit.Iterations)
	}
	mean := 0.0
	for _, s := range truth {
		mean += s / float64(len(truth))
	}
	for i, s := range fit.Scores {
		if math.Abs(s-(truth[i]-mean)) > 1e-8 {
			t.Errorf("score %d = %v, want %v (true score minus the mean)", i, s, truth[i]-mean)
		}
	}
}

// On sampled votes (seeded) the fit lands near the truth, and nearer with
// more votes.
func TestBradleyTerryRecoversScoresFromSamples(t *testing.T) {
	truth := []float64{0.5, -0.5, 1.5, 0.0}
	mean := 0.375
	rng := rand.New(rand.NewPCG(1, 2))
	errAt := func(votes int) float64 {
		var comps []Comparison
		for range votes {
			i, j := rng.IntN(4), rng.IntN(4)
			if i == j {
				continue
			}
			if rng.Float64() < WinProb(truth[i], truth[j]) {
				comps = append(comps, Comparison{i, j, 1})
			} else {
				comps = append(comps, Comparison{j, i, 1})
			}
		}
		fit := BradleyTerry(4, comps, 0)
		worst := 0.0
		for i, s := range fit.Scores {
			worst = max(worst, math.Abs(s-(truth[i]-mean)))
		}
		return worst
	}
	if e := errAt(200_000); e > 0.03 {
		t.Errorf("200,000 votes: worst score error %v", e)
	}
	if e := errAt(2000); e > 0.25 {
		t.Errorf("2,000 votes: worst score error %v", e)
	}
}

func TestBradleyTerryPriorAndBadInput(t *testing.T) {
	// One vote per pair, A beats everyone: the plain MLE runs off to
	// infinity; the prior keeps it finite and ordered.
	comps := []Comparison{{0, 1, 1}, {0, 2, 1}, {1, 2, 1}}
	fit := BradleyTerry(3, comps, 0.5)
	if !fit.Converged || !(fit.Scores[0] > fit.Scores[1] && fit.Scores[1] > fit.Scores[2]) {
		t.Errorf("with prior: %+v", fit)
	}
	for _, s := range fit.Scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("non-finite score %v", s)
		}
	}
	// With only the prior every response is equal.
	none := BradleyTerry(4, nil, 0.5)
	for _, s := range none.Scores {
		if math.Abs(s) > 1e-12 {
			t.Errorf("no votes: scores %v", none.Scores)
		}
	}
	// Bad comparisons are skipped; zero-win items stay finite.
	odd := BradleyTerry(3, []Comparison{{0, 0, 5}, {-1, 2, 1}, {0, 9, 1}, {0, 1, math.NaN()}, {0, 1, math.Inf(1)}, {0, 1, -2}, {0, 1, 3}}, 0)
	for _, s := range odd.Scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("bad input gave %v", odd.Scores)
		}
	}
	if len(BradleyTerry(-4, nil, 1).Scores) != 0 || len(BradleyTerry(1000, nil, 1).Scores) != btMaxItems {
		t.Error("n not clamped")
	}
}

// π(y) ∝ π_ref(y)·exp(r(y)/β) is the maximiser of E_π[r] − β·KL(π‖π_ref)
// (Rafailov et al. 2023, DPO, eq. 4), and at the maximum the objective is
// β·log Z. No other distribution does better.
func TestOptimalPolicyMaximisesObjective(t *testing.T) {
	ref := []float64{0.5, 0.3, 0.15, 0.05}
	r := []float64{0.2, 1.0, -0.5, 2.0}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, beta := range []float64{0.05, 0.3, 1, 4} {
		opt := OptimalPolicy(ref, r, beta)
		obj := opt.ExpectedReward - beta*opt.KL
		if math.Abs(obj-beta*opt.LogZ) > 1e-12 {
			t.Errorf("β=%v: objective %v, β·log Z %v", beta, obj, beta*opt.LogZ)
		}
		sum := 0.0
		for _, p := range opt.Pi {
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("β=%v: π sums to %v", beta, sum)
		}
		for range 200 {
			q := make([]float64, len(ref))
			tot := 0.0
			for i := range q {
				q[i] = opt.Pi[i] * math.Exp(0.3*rng.NormFloat64())
				tot += q[i]
			}
			kl, er := 0.0, 0.0
			for i := range q {
				q[i] /= tot
				kl += q[i] * math.Log(q[i]/ref[i])
				er += q[i] * r[i]
			}
			if er-beta*kl > obj+1e-12 {
				t.Fatalf("β=%v: a perturbed policy scores %v > optimum %v", beta, er-beta*kl, obj)
			}
		}
	}
}

// β → 0 piles everything on the top-reward response (in the toy, the
// flattering one the reward model overrates: reward hacking); β → ∞ stays at
// π_ref with KL → 0.
func TestOptimalPolicyLimits(t *testing.T) {
	cs := RLHFCandidates()
	ref := make([]float64, len(cs))
	r := make([]float64, len(cs))
	q := make([]float64, len(cs))
	top := 0
	for i, c := range cs {
		ref[i], r[i], q[i] = c.Ref, c.Reward, c.Quality
		if c.Reward > cs[top].Reward {
			top = i
		}
	}
	if cs[top].Label != "flattering" {
		t.Fatalf("top-reward response is %q", cs[top].Label)
	}
	hack := OptimalPolicy(ref, r, 0.01)
	if hack.Pi[top] < 0.999 {
		t.Errorf("β=0.01: π(top) = %v, want ≈ 1", hack.Pi[top])
	}
	if Expect(hack.Pi, q) >= Expect(ref, q) {
		t.Errorf("reward hacking should lower true quality: %v vs reference %v", Expect(hack.Pi, q), Expect(ref, q))
	}
	tight := OptimalPolicy(ref, r, 1e4)
	for i := range ref {
		if math.Abs(tight.Pi[i]-ref[i]) > 1e-3 {
			t.Errorf("β=1e4: π = %v, want π_ref %v", tight.Pi, ref)
			break
		}
	}
	if tight.KL > 1e-6 {
		t.Errorf("β=1e4: KL %v", tight.KL)
	}
	mid := OptimalPolicy(ref, r, 0.5)
	if Expect(mid.Pi, q) <= Expect(ref, q) || mid.ExpectedReward <= mid.RefReward {
		t.Error("β=0.5 should raise both reward and true quality over the reference")
	}
	// KL grows and reward rises as β falls.
	prev := OptimalPolicy(ref, r, 100)
	for _, b := range []float64{10, 1, 0.3, 0.1, 0.03} {
		cur := OptimalPolicy(ref, r, b)
		if cur.KL < prev.KL-1e-12 || cur.ExpectedReward < prev.ExpectedReward-1e-12 {
			t.Errorf("β=%v: KL %v reward %v after KL %v reward %v", b, cur.KL, cur.ExpectedReward, prev.KL, prev.ExpectedReward)
		}
		prev = cur
	}
}

func TestOptimalPolicyBadInput(t *testing.T) {
	for _, c := range []struct {
		ref, r []float64
		beta   float64
	}{
		{nil, nil, 1},
		{[]float64{0, 0}, []float64{1}, 0},
		{[]float64{math.NaN(), math.Inf(1), -1, 2}, []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, 5}, math.NaN()},
		{[]float64{1, 1}, []float64{1e6, -1e6}, 1e-300},
	} {
		p := OptimalPolicy(c.ref, c.r, c.beta)
		sum := 0.0
		for _, x := range p.Pi {
			if math.IsNaN(x) || x < 0 {
				t.Fatalf("%v: π %v", c, p.Pi)
			}
			sum += x
		}
		if len(c.ref) > 0 && math.Abs(sum-1) > 1e-9 {
			t.Errorf("%v: π sums to %v", c, sum)
		}
		for _, x := range []float64{p.KL, p.ExpectedReward, p.LogZ} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Errorf("%v: non-finite %+v", c, p)
			}
		}
	}
}

// pass@k = 1 − (1−p)^k; the estimator 1 − C(n−c,k)/C(n,k) of Chen et al.
// (2021, §2.1) is unbiased: its expectation over c ~ Binomial(n, p) is
// exactly 1 − (1−p)^k.
func TestPassAtK(t *testing.T) {
	if got := PassAtK(0.2, 8); math.Abs(got-(1-math.Pow(0.8, 8))) > 1e-15 || math.Round(got*1000) != 832 {
		t.Errorf("pass@8 at p=0.2 = %v, want 0.832", got)
	}
	if PassAtK(0.5, 0) != 0 || PassAtK(1, 3) != 1 || PassAtK(0, 100) != 0 || PassAtK(math.NaN(), 3) != 0 || PassAtK(7, 2) != 1 {
		t.Error("edge cases of PassAtK")
	}
	if got := PassAtK(1e-12, 10); math.Abs(got-1e-11)/1e-11 > 1e-9 {
		t.Errorf("tiny p: %v, want 1e-11", got)
	}
	const n = 20
	for _, p := range []float64{0.05, 0.3, 0.8} {
		for k := 1; k <= n; k++ {
			exp := 0.0
			for c := 0; c <= n; c++ {
				exp += binomPMF(n, c, p) * PassAtKUnbiased(n, c, k)
			}
			if math.Abs(exp-PassAtK(p, k)) > 1e-12 {
				t.Errorf("p=%v k=%d: E[estimate] %v, pass@k %v", p, k, exp, PassAtK(p, k))
			}
		}
	}
	// Against the ratio of binomials directly: n=10, c=3, k=4 → 1 − C(7,4)/C(10,4) = 1 − 35/210.
	if got := PassAtKUnbiased(10, 3, 4); math.Abs(got-(1-35.0/210)) > 1e-15 {
		t.Errorf("PassAtKUnbiased(10,3,4) = %v, want %v", got, 1-35.0/210)
	}
	if PassAtKUnbiased(10, 8, 3) != 1 || PassAtKUnbiased(10, 0, 3) != 0 || PassAtKUnbiased(0, 0, 1) != 0 {
		t.Error("edge cases of PassAtKUnbiased")
	}
	if got := PassAtKUnbiased(5, 9, 99); got != 1 {
		t.Errorf("clamped inputs: %v", got)
	}
}

func binomPMF(n, c int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(lg(n) - lg(c) - lg(n-c) + float64(c)*math.Log(p) + float64(n-c)*math.Log1p(-p))
}

func TestVerifierRunIsSeeded(t *testing.T) {
	a, b := VerifierRun(0.3, 50, 42), VerifierRun(0.3, 50, 42)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different runs")
		}
	}
	c := VerifierRun(0.3, 50, 43)
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave the same 50 draws")
	}
	hits := 0
	for _, ok := range VerifierRun(0.3, 10000, 1) {
		if ok {
			hits++
		}
	}
	if hits < 2800 || hits > 3200 {
		t.Errorf("%d of 10000 passed at p=0.3", hits)
	}
	if len(VerifierRun(0.5, -1, 0)) != 0 || len(VerifierRun(0.5, 1e9, 0)) != verifierMaxRuns {
		t.Error("n not clamped")
	}
}

func FuzzBradleyTerry(f *testing.F) {
	f.Add(4, 0, 1, 3.0, 2, 3, 1.0, 0.5)
	f.Add(-1, 5, 5, math.NaN(), 0, 0, math.Inf(1), -1.0)
	f.Fuzz(func(t *testing.T, n, w1, l1 int, c1 float64, w2, l2 int, c2, prior float64) {
		fit := BradleyTerry(n, []Comparison{{w1, l1, c1}, {w2, l2, c2}, {l1, w2, 1}}, prior)
		for _, s := range fit.Scores {
			if math.IsNaN(s) || math.IsInf(s, 0) {
				t.Fatalf("score %v", fit.Scores)
			}
		}
	})
}

func FuzzOptimalPolicy(f *testing.F) {
	f.Add(0.3, 0.7, 1.0, -1.0, 0.5)
	f.Fuzz(func(t *testing.T, r1, r2, x1, x2, beta float64) {
		p := OptimalPolicy([]float64{r1, r2, 0.1}, []float64{x1, x2}, beta)
		sum := 0.0
		for _, x := range p.Pi {
			if math.IsNaN(x) || x < 0 {
				t.Fatalf("π %v", p.Pi)
			}
			sum += x
		}
		if math.Abs(sum-1) > 1e-9 || math.IsNaN(p.KL) || math.IsInf(p.KL, 0) || p.KL < 0 {
			t.Fatalf("sum %v KL %v", sum, p.KL)
		}
	})
}

func FuzzPassAtKUnbiased(f *testing.F) {
	f.Add(10, 3, 4)
	f.Fuzz(func(t *testing.T, n, c, k int) {
		v := PassAtKUnbiased(n, c, k)
		if math.IsNaN(v) || v < 0 || v > 1 {
			t.Fatalf("PassAtKUnbiased(%d, %d, %d) = %v", n, c, k, v)
		}
	})
}

// GRPO's outcome-supervision advantage, DeepSeekMath (Shao et al. 2024)
// §4.1.2: "Â_{i,t} = r̃_i = (r_i − mean(r)) / std(r)" over the group's
// rewards. Worked by hand for a verifier's 0/1 rewards:
//
//   - 1 right of 4: mean 1/4, std √(1/4·3/4) = 0.4330, so the right answer
//     gets (1 − 0.25)/0.4330 = +√3 = 1.7321 and each wrong one
//     −0.25/0.4330 = −1/√3 = −0.5774;
//   - 2 right of 16 (the chapter's default group): +√(14/2) = +2.6458 and
//     −√(2/14) = −0.3780;
//   - all wrong or all right: std 0, every advantage 0, no signal.
func TestGroupAdvantages(t *testing.T) {
	got := GroupAdvantages([]float64{1, 0, 0, 0})
	want := []float64{math.Sqrt(3), -1 / math.Sqrt(3), -1 / math.Sqrt(3), -1 / math.Sqrt(3)}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("1 of 4: advantage %d = %v, want %v", i, got[i], want[i])
		}
	}
	g16 := make([]float64, 16)
	g16[10], g16[12] = 1, 1
	a := GroupAdvantages(g16)
	if math.Abs(a[10]-math.Sqrt(7)) > 1e-12 || math.Abs(a[0]+math.Sqrt(1.0/7)) > 1e-12 {
		t.Errorf("2 of 16: %v, %v; want +2.6458, −0.3780", a[10], a[0])
	}
	// The advantages of a group always sum to 0 and, when there is a
	// signal, have mean square 1.
	s, sq := 0.0, 0.0
	for _, x := range a {
		s += x
		sq += x * x
	}
	if math.Abs(s) > 1e-12 || math.Abs(sq/16-1) > 1e-12 {
		t.Errorf("sum %v, mean square %v", s, sq/16)
	}
	for _, same := range [][]float64{{0, 0, 0, 0}, {1, 1, 1}, {0.7}, {math.NaN(), 0}} {
		for i, x := range GroupAdvantages(same) {
			if x != 0 {
				t.Errorf("%v: advantage %d = %v, want 0 (no signal)", same, i, x)
			}
		}
	}
	if len(GroupAdvantages(nil)) != 0 {
		t.Error("empty group")
	}
}

// A group teaches something only if it mixes right and wrong answers:
// 1 − p^G − (1 − p)^G. For G = 16: p = 0.2 gives 1 − 0.2¹⁶ − 0.8¹⁶ =
// 0.97185; p = 0.01 gives 1 − 0.99¹⁶ = 0.14854 (to 5 digits).
func TestGroupSignalChance(t *testing.T) {
	for _, c := range []struct {
		p    float64
		g    int
		want float64
	}{{0.2, 16, 0.97185}, {0.01, 16, 0.14854}, {0.5, 2, 0.5}, {0, 16, 0}, {1, 16, 0}, {0.5, 1, 0}} {
		if got := GroupSignalChance(c.p, c.g); math.Abs(got-c.want) > 5e-6 {
			t.Errorf("p=%v G=%d: %v, want %v", c.p, c.g, got, c.want)
		}
	}
	// Against counting: the share of groups VerifierRun draws that mix.
	const runs = 20000
	mixed := 0
	for s := range uint64(runs) {
		c := 0
		for _, ok := range VerifierRun(0.1, 16, s) {
			if ok {
				c++
			}
		}
		if c > 0 && c < 16 {
			mixed++
		}
	}
	if got, want := float64(mixed)/runs, GroupSignalChance(0.1, 16); math.Abs(got-want) > 0.01 {
		t.Errorf("sampled share %v, formula %v", got, want)
	}
}

// Training moves p, and only mixed groups move it: each step of the toy is
// the policy gradient with GRPO's advantages, which for 0/1 rewards is
// exactly the group's reward standard deviation times the learning rate.
func TestGRPOToy(t *testing.T) {
	steps, final := GRPOToy(0.2, 16, 40, 0.5, 1)
	if len(steps) != 40 {
		t.Fatalf("%d steps", len(steps))
	}
	if steps[0].P != 0.2 {
		t.Errorf("starts at %v", steps[0].P)
	}
	// Step 0's group is the one VerifierRun(0.2, 16, 1) draws.
	c := 0
	for _, ok := range VerifierRun(0.2, 16, 1) {
		if ok {
			c++
		}
	}
	if steps[0].Passed != c {
		t.Errorf("first group %d passes, VerifierRun %d", steps[0].Passed, c)
	}
	for i, s := range steps {
		q := float64(s.Passed) / 16
		if want := 0.5 * math.Sqrt(q*(1-q)); math.Abs(s.Step-want) > 1e-12 {
			t.Errorf("step %d: %d of 16 passed, moved %v, want lr·std = %v", i, s.Passed, s.Step, want)
		}
		if i > 0 && s.P < steps[i-1].P {
			t.Errorf("step %d: p fell from %v to %v", i, steps[i-1].P, s.P)
		}
	}
	if final <= 0.2 {
		t.Errorf("p after 40 steps %v, want above 0.2", final)
	}
	// All-wrong groups move nothing: with lr 0 or an impossible problem
	// drawn as all wrong, p stays put.
	if _, f := GRPOToy(0.2, 16, 10, 0, 1); f != 0.2 {
		t.Errorf("lr 0 moved p to %v", f)
	}
	hard, f := GRPOToy(0.001, 16, 5, 0.5, 3)
	for _, s := range hard {
		if (s.Passed == 0) != (s.Step == 0) {
			t.Errorf("p=0.001: %d passed, step %v", s.Passed, s.Step)
		}
	}
	moved := false
	for _, s := range hard {
		moved = moved || s.Step != 0
	}
	if !moved && f != 0.001 || moved && f <= 0.001 {
		t.Errorf("p=0.001 ended at %v after %+v", f, hard)
	}
	// Bad input never panics or goes NaN.
	for _, p0 := range []float64{math.NaN(), -1, 2} {
		if _, f := GRPOToy(p0, -3, 5000, math.Inf(1), 9); math.IsNaN(f) || f < 0 || f > 1 {
			t.Errorf("p0=%v: %v", p0, f)
		}
	}
}
