package lessons

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// ptTries is how many attempts the reasoning step samples.
const ptTries = 16

const reasoningProse = "Some answers can be checked: a maths result, code that must pass tests. " +
	"Then the reward needs no human. GRPO (DeepSeekMath, Shao et al. 2024) samples a group of " +
	"attempts at each problem, lets a verifier mark each right (1) or wrong (0), and scores every " +
	"attempt against its own group: advantage = (r − mean) / std. A right answer in a mostly wrong " +
	"group is pushed up hard; if all fail, or all pass, every advantage is 0 and the group teaches " +
	"nothing. What training raises is p, the chance that one attempt is right (pass@1)."

// ptTrainSteps and ptLearningRate set the toy training run: long enough,
// at a step size large enough, for p to travel visibly across the screen.
const (
	ptTrainSteps   = 40
	ptLearningRate = 0.5
)

// ptSpark draws xs (each in [0, 1]) as a one-line chart of block heights.
func ptSpark(xs []float64) string {
	const blocks = "▁▂▃▄▅▆▇█"
	levels := []rune(blocks)
	var b strings.Builder
	for _, x := range xs {
		i := int(math.Round(min(max(x, 0), 1) * float64(len(levels)-1)))
		b.WriteRune(levels[i])
	}
	return b.String()
}

// ptAdvantages says what GRPO makes of a group with c of n right: the two
// advantages, or why there are none.
func ptAdvantages(c, n int) string {
	switch c {
	case 0:
		return "advantages all 0: every try failed, so this group has no signal (std 0)"
	case n:
		return "advantages all 0: every try passed, so this group has no signal (std 0)"
	}
	rewards := make([]float64, n)
	for i := range c {
		rewards[i] = 1
	}
	adv := sim.GroupAdvantages(rewards)
	q := float64(c) / float64(n)
	return fmt.Sprintf("advantage (r − mean)/std: each ✓ +%.2f, each ✗ −%.2f (mean %.2f, std %.2f)",
		adv[0], -adv[n-1], q, math.Sqrt(q*(1-q)))
}

// renderReasoning draws the fourth step: what RL on checkable answers is, a
// group of attempts and the signal it gives, the toy training run, pass@k
// at test time, then the estimate, the toy's terms and why compute moved
// to answer time.
func (p *Posttrain) renderReasoning(th *ui.Theme, v Values, spot string, width int) string {
	prob, k, seed := v.Float("p"), v.Int("k"), v.Int("seed")
	head := siWrap(th.Header.Render("4 · Reasoning RL")+th.Subtle.Render(fmt.Sprintf(" · GRPO on verifiable rewards · p = %.2f · k = %d  ", prob, k))+
		th.Badge(ui.Computed), width)

	problem := th.Strong.Render("Problem ") + "What is 17 × 24?   " + th.Strong.Render("Verifier ") + "is the final answer 408?"
	run := sim.VerifierRun(prob, ptTries, uint64(seed))
	var marks strings.Builder
	c := 0
	for _, ok := range run {
		if ok {
			c++
			marks.WriteString(th.BadgeComputed.Render("✓"))
		} else {
			marks.WriteString(th.Warn.Render("✗"))
		}
	}
	tries := fmt.Sprintf("%sA training group of %d (seed %d): %s → %d pass  %s", spotTick(th, spot == "tries"), ptTries, seed,
		marks.String(), c, th.Badge(ui.Illustrative))
	adv := " " + ptAdvantages(c, ptTries)

	// The learning signal and the run it drives.
	signal := fmt.Sprintf(" Groups of %d with any signal: 1 − p^%d − (1 − p)^%d = %s  %s", ptTries, ptTries, ptTries,
		th.Strong.Render(fmt.Sprintf("%.1f%%", 100*sim.GroupSignalChance(prob, ptTries))), th.Badge(ui.Computed))
	steps, final := sim.GRPOToy(prob, ptTries, ptTrainSteps, ptLearningRate, uint64(seed))
	ps := make([]float64, 0, len(steps)+1)
	idle := 0
	for _, st := range steps {
		ps = append(ps, st.P)
		if st.Step == 0 {
			idle++
		}
	}
	ps = append(ps, final)
	spark := ptSpark(ps) + " "
	if lipgloss.Width(spark) > width-20 {
		spark = ""
	}
	verb := "had"
	if idle == 1 {
		verb = "has"
	}
	train := fmt.Sprintf("%sTraining moves p: %s%.2f → %s; %d of %d groups %s no signal  %s", spotTick(th, spot == "train"), spark, prob,
		th.Strong.Render(fmt.Sprintf("%.2f", final)), idle, ptTrainSteps, verb, th.Badge(ui.Illustrative))

	// pass@k bars for a few k, with the chosen k among them.
	ks := []int{1, 4, 16, 64}
	found := false
	for _, x := range ks {
		found = found || x == k
	}
	if !found {
		ks = append(ks, k)
		for i := len(ks) - 1; i > 0 && ks[i] < ks[i-1]; i-- {
			ks[i], ks[i-1] = ks[i-1], ks[i]
		}
	}
	var items []ui.BarItem
	for _, x := range ks {
		pk := sim.PassAtK(prob, x)
		label := fmt.Sprintf(" k=%d", x)
		if x == k {
			label = "▸k=" + strconv.Itoa(x)
		}
		items = append(items, ui.BarItem{Label: label, Value: pk, Text: fmt.Sprintf("%5.1f%%  %d× the tokens", 100*pk, x)})
	}
	bars := th.Bars(items, min(width, 70))
	title := spotTick(th, spot == "passk") + th.Header.Render("Test time: best of k with a verifier, pass@k = 1 − (1 − p)^k") +
		"  " + th.Badge(ui.Computed)
	passk := siWrap(title, width) + "\n" + ui.FitWidth(bars, width)

	kk := min(k, ptTries)
	est := fmt.Sprintf("From the group's %d tries: pass@%d ≈ %.2f = 1 − C(%d,%d)/C(%d,%d) (Chen et al. 2021)",
		ptTries, kk, sim.PassAtKUnbiased(ptTries, c, kk), ptTries-c, kk, ptTries, kk)
	switch {
	case c == 0:
		est = fmt.Sprintf("From the group's %d tries: pass@%d ≈ 0, as none passed (Chen et al. 2021)", ptTries, kk)
	case ptTries-c < kk:
		est = fmt.Sprintf("From the group's %d tries: pass@%d ≈ 1, as any %d of them include a pass", ptTries, kk, kk)
		if kk == 1 {
			est = fmt.Sprintf("From the group's %d tries: pass@1 ≈ 1, as every one passed", ptTries)
		}
	}
	if k > ptTries {
		est += fmt.Sprintf(" (k can be at most %d here)", ptTries)
	}

	toy := th.Subtle.Render(siWrap(fmt.Sprintf("The training run is a toy: a policy with one number, its chance p "+
		"of solving this one problem, trained for %d steps of a group of %d each with the policy gradient "+
		"and GRPO's advantages (step size %.1f, no clipping or KL term). For rewards of 0 and 1 that "+
		"gradient is exactly the group's reward standard deviation, so every mixed group raises p and every "+
		"all-fail or all-pass group leaves it alone. A real model trains on many problems at once, and "+
		"moves billions of weights.", ptTrainSteps, ptTries, ptLearningRate), width))

	// Wrapped with the badge's text in place, then the badge styled.
	shift := siWrap("[illustrative] Why compute moved to answer time: a reasoning model is "+
		"trained to do this trying inside one long answer (think, check, backtrack). More "+
		"thinking tokens buy accuracy that would otherwise take a far bigger model, and the "+
		"cost is paid only on the questions that need it.", width)
	if rest, ok := strings.CutPrefix(shift, "[illustrative]"); ok {
		// Style line by line: a multi-line Render pads every line to the
		// widest, which would push the first past the badge.
		lines := strings.Split(rest, "\n")
		for i, l := range lines {
			lines[i] = th.Subtle.Render(l)
		}
		shift = th.Badge(ui.Illustrative) + strings.Join(lines, "\n")
	}

	wrap := func(s string) string { return siWrap(s, width) }
	return ui.Column(head, th.Text.Render(siWrap(reasoningProse, width)),
		wrap(problem)+"\n"+ptHang(tries, width, 1)+"\n"+ptHang(adv, width, 1)+"\n"+ptHang(signal, width, 1)+"\n"+ptHang(train, width, 1),
		passk, th.Subtle.Render(wrap(est)), toy, shift)
}
