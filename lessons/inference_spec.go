package lessons

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

const specProse = "A big model generates one token per pass, and each pass reads all its weights. " +
	"A small draft model guesses the next k tokens cheaply; the big model then checks all k in a " +
	"single pass, keeps the agreed prefix and adds one token of its own (the correction, or a " +
	"bonus when all k pass). Under greedy decoding the text is exactly the big model's own. Under " +
	"sampling, a drafted token is kept with probability min(1, big model's probability ÷ draft's) and " +
	"otherwise redrawn, so every token follows the big model's distribution (Leviathan et al. 2023): " +
	"the same odds, not the same words."

// renderSpec draws the speculative-decoding part: the idea, the expected
// tokens per big pass and the speed-up by formula, then a seeded run pass
// by pass set against the formula and a long run's average.
func (c *Inference) renderSpec(th *ui.Theme, v Values, width int, spot string) string {
	k, alpha, cost := v.Int("k"), v.Float("alpha"), v.Float("cost")
	seed := uint64(v.Int("spec_seed"))
	title := infTitle(th, "Speculative decoding", "draft k tokens cheaply, check them in one big pass", width)
	e := sim.SpecExpectedTokens(alpha, k)
	sp := sim.SpecSpeedup(alpha, k, cost)
	var eLine string
	if alpha >= 1 {
		eLine = fmt.Sprintf("tokens per big pass = k + 1 = %d (α = 1: every draft accepted, plus the bonus)", k+1)
	} else {
		eLine = fmt.Sprintf("tokens per big pass = (1 − α^(k+1)) / (1 − α) = (1 − %s^%d) / %s = %s",
			infDec(alpha, 2), k+1, infDec(1-alpha, 2), th.Strong.Render(infDec(e, 2)))
	}
	// Every figure is printed from the value sim computed (infDec), never
	// from a rounded copy of it, so the same number reads the same on
	// every line.
	spLine := fmt.Sprintf("speed-up = %s / (k·c + 1) = %s / %s = %s", infDec(e, 2), infDec(e, 2), infDec(float64(k)*cost+1, 2),
		th.Strong.Render(infDec(sp, 2)+"×"))
	if sp < 1 {
		spLine += th.Warn.Render("  (slower)")
	}
	formula := infIndent(eLine, width, spotMark(th, spot == "spec:formula")) + "\n" + infIndent(spLine, width, "  ") +
		"\n" + infIndent(th.Badge(ui.Computed)+th.Subtle.Render(" Leviathan et al. 2023, eq. 1 and Theorem 3.8"), width, "  ")

	// The seeded run, specPasses of it at any height: its rows are words of
	// the passage, which a short frame must not lose; the body scrolls.
	const longRun = 10000
	all := sim.SimulateSpeculative(alpha, k, longRun, seed)
	longSum := 0
	for _, p := range all {
		longSum += p.Tokens()
	}
	prose := th.Text.Render(siWrap(specProse, width))
	runHead := infIndent(fmt.Sprintf("Run with seed %d %s: %s rejected guess · %s big model's token · + bonus",
		seed, th.Badge(ui.Computed), th.Warn.Render("✗"), th.Strong.Render("→")), width, spotMark(th, spot == "spec:run"))
	passes := specPasses
	var lines []string
	pos, shownTokens := 0, 0
	for i := 0; i < passes && i < len(all); i++ {
		p := all[i]
		var words []string
		for j := 0; j < p.Accepted; j++ {
			words = append(words, th.Accent.Render(c.specWord(pos+j)))
		}
		if p.Bonus {
			words = append(words, th.Strong.Render("+"+c.specWord(pos+p.Accepted)))
		} else {
			wrong := c.specWrongWord(pos + p.Accepted)
			words = append(words, th.Warn.Render("✗"+wrong), th.Strong.Render("→"+c.specWord(pos+p.Accepted)))
		}
		pos += p.Tokens()
		shownTokens += p.Tokens()
		unit := "tokens"
		if p.Tokens() == 1 {
			unit = "token"
		}
		lead := fmt.Sprintf("  pass %-2d %2d %-6s  ", i+1, p.Tokens(), unit)
		// A long pass wraps under its own words rather than losing them.
		leadW := lipgloss.Width(lead)
		text := ui.Wrap(strings.Join(words, " "), max(width-leadW, 1))
		lines = append(lines, th.Subtle.Render(lead)+strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", leadW)))
	}
	shown := min(passes, len(all))
	these := "these " + Count(shown, "pass", "passes")
	if shown == 1 {
		these = "this pass"
	}
	summary := fmt.Sprintf("%s: %s tokens each · %s passes: %s · formula: %s",
		these, infDec(float64(shownTokens)/float64(max(shown, 1)), 2), numGroup(longRun),
		infDec(float64(longSum)/longRun, 2), infDec(e, 2))
	run := runHead + "\n" + strings.Join(lines, "\n") + "\n" + th.Subtle.Render(infIndent(summary, width, "  "))
	return ui.Column(title, prose, formula, run)
}

// specPasses is how many passes of the seeded run are drawn: enough to see
// rejections and bonuses side by side, and a round number to set against
// the long run's average.
const specPasses = 10

// specWord is word i of the passage the run writes, which repeats.
func (c *Inference) specWord(i int) string { return c.specText[i%len(c.specText)] }

// specWrongWord is the draft's wrong guess at position i: a word from the
// list that differs from the right one.
func (c *Inference) specWrongWord(i int) string {
	right := c.specWord(i)
	for j := 0; j < len(c.specWrong); j++ {
		w := c.specWrong[(i*7+j)%len(c.specWrong)]
		if !strings.EqualFold(w, right) {
			return w
		}
	}
	return "?"
}
