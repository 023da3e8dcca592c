package lessons

import (
	"fmt"
	"math"
	"strings"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// rlhfProse is the RLHF step's idea; the closed form's spaces are
// non-breaking, so it wraps whole.
const rlhfProse = "RLHF lets the model try answers and nudges it toward the ones the reward " +
	"model scores high, while a KL penalty β·KL(π‖π_ref) keeps it close to the SFT model " +
	"π_ref. The best policy under that trade has a closed form: π(y)\u00a0∝\u00a0π_ref(y)·exp(r(y)/β)."

// renderRLHF draws the third step: what RLHF optimises, the candidate
// answers before and after at this β, what that buys and costs, and how
// the trade moves with β.
func (p *Posttrain) renderRLHF(th *ui.Theme, v Values, spot string, width int) string {
	beta := v.Float("beta")
	ref := make([]float64, len(p.rlhf))
	rew := make([]float64, len(p.rlhf))
	qual := make([]float64, len(p.rlhf))
	for i, c := range p.rlhf {
		ref[i], rew[i], qual[i] = c.Ref, c.Reward, c.Quality
	}
	pol := sim.OptimalPolicy(ref, rew, beta)
	head := siWrap(th.Header.Render("3 · RLHF")+th.Subtle.Render(fmt.Sprintf(" · β = %.3g · π(y) ∝ π_ref(y)·exp(r(y)/β)  ", pol.Beta))+
		th.Badge(ui.Computed), width)

	prompt := th.Strong.Render("Prompt ") + "Is it safe to eat raw cookie dough?  " + th.Badge(ui.Illustrative)
	// Columns: marker and label (12), r and true quality (15), then two
	// bars of barW cells, each with a 5-cell percentage, 2 cells apart.
	barW := max((width-39)/2, 4)
	var rows []string
	rows = append(rows, th.Header.Render(fmt.Sprintf("  %-10s %5s %6s  %-*s %s", "answer", "r(y)", "true", barW+5, "π_ref (SFT)", "π (RLHF)")))
	top := 0
	for i := range p.rlhf {
		if pol.Pi[i] > pol.Pi[top] {
			top = i
		}
	}
	bar := func(x float64) string {
		n := int(math.Round(x * float64(barW)))
		if x > 0 && n == 0 {
			n = 1
		}
		ch := "█"
		if th.Mono {
			ch = "#"
		}
		return ui.PadRight(th.Bar.Render(strings.Repeat(ch, n)), barW) + fmt.Sprintf(" %3.0f%%", 100*x)
	}
	for i, c := range p.rlhf {
		label := ui.PadRight(c.Label, 10)
		if i == top {
			label = th.Strong.Render(label)
		}
		rows = append(rows, spotTick(th, spot == "cand:"+c.Label)+" "+label+" "+ptSigned("%+5.1f", c.Reward)+" "+
			ptSigned("%+6.1f", c.Quality)+"  "+bar(pol.Ref[i])+"  "+bar(pol.Pi[i]))
	}
	table := ui.FitWidth(strings.Join(rows, "\n"), width) // a table: its columns line up

	sum := fmt.Sprintf("E[r] %s (SFT %s) · KL %s nats · true quality %s (SFT %s)",
		th.Strong.Render(ptSigned("%+.2f", pol.ExpectedReward)), ptSigned("%+.2f", pol.RefReward),
		th.Strong.Render(fmt.Sprintf("%.2f", pol.KL)),
		th.Strong.Render(ptSigned("%+.2f", sim.Expect(pol.Pi, qual))), ptSigned("%+.2f", sim.Expect(pol.Ref, qual)))
	sum = siWrap(sum, width)

	var verdict string
	switch {
	case p.rlhf[top].Label == "flattering" && pol.Pi[top] > 0.5:
		verdict = th.Warn.Render(siWrap("Reward hacking: on so long a leash (a small β) the policy piles onto the "+
			"flattering answer the reward model overrates. Reward up, real quality down.", width))
	case pol.KL < 0.01:
		verdict = th.Subtle.Render(siWrap("So short a leash (a large β) that the policy barely moves from the SFT "+
			"model: safe, but nothing learned.", width))
	default:
		verdict = th.Subtle.Render(siWrap("The leash holds: the policy favours the genuinely helpful answers "+
			"without drifting far from what the SFT model would say. Lower β, a longer leash, to see it stray.", width))
	}

	sweep := []string{th.Header.Render("    β   E[r]   true    KL") + th.Subtle.Render("   r: the reward model's score, true: how good it is")}
	for _, b := range []float64{0.03, 0.1, 0.3, 1, 3, 10} {
		sp := sim.OptimalPolicy(ref, rew, b)
		sweep = append(sweep, fmt.Sprintf("%5g  %s  %s  %5.2f", b, ptSigned("%+.2f", sp.ExpectedReward),
			ptSigned("%+.2f", sim.Expect(sp.Pi, qual)), sp.KL))
	}
	sweepText := ui.FitWidth(strings.Join(sweep, "\n"), width) // a table: its columns line up

	return ui.Column(head, th.Text.Render(siWrap(rlhfProse, width)), siWrap(prompt, width)+"\n"+table,
		sum+"\n"+verdict, sweepText)
}
