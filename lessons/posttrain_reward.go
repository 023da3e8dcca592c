package lessons

import (
	"fmt"
	"math"
	"strings"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// ptPrior is the Bradley–Terry prior: pseudo-votes each way per pair.
const ptPrior = 0.5

// rewardProse is the reward step's idea. Its formula's spaces are
// non-breaking (U+00A0), so "P(A beats B)" never wraps in half.
const rewardProse = "Nobody can write down a score for \"helpful\", but people can say which of " +
	"two answers is better. A reward model learns one score per answer so that " +
	"P(A\u00a0beats\u00a0B) = σ(r_A − r_B): the Bradley–Terry model, fitted here to your votes " +
	"(and the class's, when the instructor collects them)."

// ptVotes gathers the comparisons for the fit: the class's votes if there
// are any, else the learner's own picks. It also reports where they came
// from and how many there are.
func (p *Posttrain) ptVotes(v Values, class Tally) (comps []sim.Comparison, fromClass bool, n int) {
	for _, pr := range p.pairs {
		a, b := strings.ToLower(p.responses[pr[0]].letter), strings.ToLower(p.responses[pr[1]].letter)
		for _, w := range []string{a, b} {
			c := class["vote:"+a+b+":"+w]
			if c <= 0 {
				continue
			}
			fromClass = true
			n += c
			win, lose := pr[0], pr[1]
			if w == b {
				win, lose = pr[1], pr[0]
			}
			comps = append(comps, sim.Comparison{Winner: win, Loser: lose, Count: float64(c)})
		}
	}
	if fromClass {
		return comps, true, n
	}
	for _, pr := range p.pairs {
		a, b := strings.ToLower(p.responses[pr[0]].letter), strings.ToLower(p.responses[pr[1]].letter)
		switch v["pick_"+a+b] {
		case a:
			comps = append(comps, sim.Comparison{Winner: pr[0], Loser: pr[1], Count: 1})
			n++
		case b:
			comps = append(comps, sim.Comparison{Winner: pr[1], Loser: pr[0], Count: 1})
			n++
		}
	}
	return comps, false, n
}

// renderReward draws the second step: what a reward model is, the prompt
// and its four answers, the fitted scores beside the votes on each pair,
// and how the fit is made.
func (p *Posttrain) renderReward(th *ui.Theme, v Values, class Tally, spot string, width int) string {
	comps, fromClass, n := p.ptVotes(v, class)
	fit := sim.BradleyTerry(len(p.responses), comps, ptPrior)
	source := "fitted to your " + Count(n, "vote", "votes")
	if fromClass {
		source = "fitted to " + Count(n, "class vote", "class votes")
	}
	if n == 0 {
		source = "no votes yet: pick in the panel"
	}
	head := siWrap(th.Header.Render("2 · Reward model")+th.Subtle.Render(" · Bradley–Terry, "+source+"  ")+th.Badge(ui.Computed), width)

	// The answers are what the class votes on: each wraps under its
	// letter rather than losing its end.
	resp := []string{siWrap(th.Strong.Render("Prompt ")+"My script crashes with KeyError: 'name'. What should I do?", width)}
	for i, r := range p.responses {
		mark := spotTick(th, spot == "resp:"+strings.ToLower(r.letter))
		resp = append(resp, mark+chipStyle(th, i).Bold(true).Render(r.letter)+" "+ptHang(r.text, width, 3))
	}
	responses := strings.Join(resp, "\n")

	// The scores as bars either side of zero.
	limit := 1.0
	for _, s := range fit.Scores {
		limit = max(limit, math.Abs(s))
	}
	scoreW := min(width, 44)
	half := (scoreW - 9) / 2
	var scores []string
	scores = append(scores, th.Header.Render("Score r (mean 0)"))
	for i, r := range p.responses {
		s := fit.Scores[i]
		cells := int(math.Round(math.Abs(s) / limit * float64(half)))
		bar := "█"
		if th.Mono {
			bar = "#"
		}
		left := strings.Repeat(" ", half)
		right := ""
		style := chipStyle(th, i)
		if s < 0 {
			left = strings.Repeat(" ", half-cells) + style.Render(strings.Repeat(bar, cells))
		} else {
			right = style.Render(strings.Repeat(bar, cells))
		}
		line := style.Bold(true).Render(r.letter) + " " + left + th.Subtle.Render("│") + ui.PadRight(right, half) +
			" " + ptSigned("%+.2f", s)
		scores = append(scores, line)
	}
	// The pairs: your pick, the class's votes, what the fit predicts.
	var pairs []string
	pairs = append(pairs, th.Header.Render(fmt.Sprintf("%-7s %-4s %-7s %s", "pair", "you", "class", "P(1st)")))
	for _, pr := range p.pairs {
		a, b := p.responses[pr[0]].letter, p.responses[pr[1]].letter
		key := strings.ToLower(a + b)
		you := strings.ToUpper(v["pick_"+key])
		if you == "NONE" {
			you = "—"
		}
		cl := "—"
		if ca, cb := class["vote:"+key+":"+strings.ToLower(a)], class["vote:"+key+":"+strings.ToLower(b)]; ca > 0 || cb > 0 {
			cl = fmt.Sprintf("%d:%d", max(ca, 0), max(cb, 0))
		}
		pairs = append(pairs, fmt.Sprintf("%-7s %-4s %-7s %.2f", a+" vs "+b, you, cl, sim.WinProb(fit.Scores[pr[0]], fit.Scores[pr[1]])))
	}
	// The pairs beside the scores when both fit across, else one above
	// the other.
	table := strings.Join(pairs, "\n") + "\n\n" + strings.Join(scores, "\n")
	if pairsW := 28; width >= scoreW+pairsW+3 {
		table = joinColumns(strings.Join(pairs, "\n"), strings.Join(scores, "\n"), pairsW+3)
	}

	note := th.Subtle.Render(siWrap(fmt.Sprintf("Each pair also counts %.1f pretend votes each way, so one vote "+
		"cannot send a score to infinity and no votes leave every score at 0. P(1st) is the fit's "+
		"chance that the first of the pair wins: σ(r₁ − r₂). Real reward models are networks that "+
		"read the answer, trained on millions of such votes with this same loss.", ptPrior), width))
	return ui.Column(head, th.Text.Render(siWrap(rewardProse, width)), responses, table, note)
}
