package lessons

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// moeProse explains the idea; its sizes come from the presets' configs:
// Mixtral's experts are each a whole Mistral 7B feed-forward network, and
// only fine-grained designs such as DeepSeek-V3 split experts smaller.
func (c *Inference) moeProse() string {
	mix, ds := c.moe[0], c.moe[1]
	return fmt.Sprintf("A mixture-of-experts layer holds many feed-forward networks, the experts, where a dense "+
		"block has one. A router scores the experts for each token and sends it to the top k; the others do no "+
		"work for that token. The model stores every expert but pays, per token, only for the ones it uses. "+
		"%s's %d experts are each as large as Mistral 7B's whole feed-forward network (hidden width %s); "+
		"fine-grained designs split finer: %s's %d experts are %s wide, 1/%d of its dense layers' %s.",
		mix.Name, mix.Experts, numGroup(int64(mix.ExpertFFN)), ds.Name, ds.Experts, numGroup(int64(ds.ExpertFFN)),
		ds.DenseFFN/max(ds.ExpertFFN, 1), numGroup(int64(ds.DenseFFN)))
}

// renderMoE draws the mixture-of-experts part: the idea, the presets'
// parameters stored against those a token computes with and what a token
// costs, then a sentence routed through the toy layer.
func (c *Inference) renderMoE(th *ui.Theme, v Values, width, height int, spot string) string {
	experts, k := v.Int("experts"), v.Int("top_k")
	rt := sim.RouteTokens(c.sentence, experts, k)
	title := infTitle(th, "Mixture of experts", "each token runs through only k of the experts", width)

	// Total against active for the presets: each bar is the model's whole
	// size, the solid part what one token computes with. One convention
	// throughout, the one the poll and the FLOPs line use: the input
	// embedding is a lookup, no arithmetic, so it is not counted as used.
	ps := make([]sim.MoEParams, len(c.moe))
	for i, m := range c.moe {
		ps[i] = m.Params()
	}
	// A row: marker 2, name 13, bar, then up to 47 cells of figures.
	barW := max(min(width-2-13-1-47, 30), 6)
	var rows []string
	for i, m := range c.moe {
		p := ps[i]
		frac := float64(p.Computing()) / float64(max(p.Total, 1))
		solid := int(math.Round(frac * float64(barW)))
		solid = min(max(solid, 1), barW)
		bar := fracBar(th, 1, solid, th.Bar, false) + fracBar(th, 1, barW-solid, th.Muted, true)
		used := fmt.Sprintf("top-%d of %d", m.TopK, m.Experts)
		if m.Shared > 0 {
			used += fmt.Sprintf(" + %d shared", m.Shared)
		}
		rows = append(rows, spotMark(th, spot == "moe:"+m.Name)+th.Strong.Render(ui.PadRight(m.Name, 13))+bar+" "+
			th.Strong.Render(numShort(float64(p.Computing())))+" of "+numShort(float64(p.Total))+
			th.Subtle.Render(fmt.Sprintf(" (%.0f%%) · %s", 100*frac, used)))
	}
	presets := siWrap(fmt.Sprintf("Parameters a token computes with, of all stored (from the published configs; the input "+
		"embedding, a lookup, is not counted)  %s", th.Badge(ui.Computed)), width) + "\n" +
		ui.FitWidth(strings.Join(rows, "\n"), width)
	mix, ds := ps[0], ps[1]
	cost := th.Subtle.Render(siWrap(fmt.Sprintf("Cost per token: about 2 FLOPs per parameter it computes with, "+
		"%s for %s and %s for %s (running all %s would cost %s), plus attention over the context. "+
		"%s's own %s active counts the embedding.",
		numSI(mix.FLOPsPerToken(), "FLOP"), c.moe[0].Name, numSI(ds.FLOPsPerToken(), "FLOP"), c.moe[1].Name,
		numShort(float64(ds.Total-ds.Embedding)), numSI(ds.FLOPsPerTokenAllExperts(), "FLOP"),
		c.moe[0].Name, numShort(float64(mix.Active))), width))

	prose := th.Text.Render(siWrap(c.moeProse(), width))
	gridHead := infIndent(fmt.Sprintf("Routing a sentence: %d experts, top-%d, gate weights in %%  %s",
		experts, k, th.Badge(ui.Illustrative)), width, spotMark(th, spot == "moe:grid"))
	// The idea, the presets with what a token costs, then the routing.
	// Everything is drawn; the body scrolls. The grid only chooses between
	// one column of tokens and two by the rows left.
	figs := presets + "\n" + cost
	left := height - ui.Lines(title) - 1 - ui.Lines(prose) - 1 - ui.Lines(figs) - 1 - ui.Lines(gridHead)
	grid := gridHead + "\n" + c.moeGrid(th, rt, width, left)
	return ui.Column(title, prose, figs, grid)
}

// moeGrid draws tokens as rows and experts as columns, each chosen cell
// holding the token's gate weight for that expert in the expert's colour,
// with the load per expert underneath. When the rows do not fit in height
// lines and the width allows, the tokens continue in a second column; every
// token is drawn either way.
func (c *Inference) moeGrid(th *ui.Theme, rt sim.Routing, width, height int) string {
	const labW, cellW = 6, 4
	gridW := labW + rt.Experts*cellW
	n := len(rt.Tokens)
	ncols := 1
	if n+2 > height && 2*gridW+3 <= width {
		ncols = 2
	}
	perCol := (n + ncols - 1) / ncols
	header := strings.Repeat(" ", labW)
	for e := range rt.Experts {
		header += th.Subtle.Render(fmt.Sprintf("%*s", cellW, fmt.Sprintf("E%d", e+1)))
	}
	row := func(i int) string {
		var b strings.Builder
		b.WriteString(ui.PadRight(rt.Tokens[i], labW))
		for e := range rt.Experts {
			w := rt.Gate[i][e]
			if w <= 0 {
				b.WriteString(th.Muted.Render(fmt.Sprintf("%*s", cellW, "·")))
				continue
			}
			cell := fmt.Sprintf("%*d", cellW, int(math.Round(100*w)))
			b.WriteString(chipStyle(th, e).Bold(true).Render(cell))
		}
		return b.String()
	}
	lines := []string{header}
	for r := 0; r < perCol; r++ {
		line := ""
		for col := 0; col < ncols; col++ {
			i := col*perCol + r
			if i >= n {
				break
			}
			if col > 0 {
				line = ui.PadRight(line, gridW) + th.Rule.Render(" │ ")
			}
			line += row(i)
		}
		lines = append(lines, line)
	}
	if ncols == 2 {
		lines[0] = ui.PadRight(header, gridW) + th.Rule.Render(" │ ") + header
	}
	load := th.Subtle.Render(ui.PadRight("load", labW))
	for e := range rt.Experts {
		load += th.Subtle.Render(fmt.Sprintf("%*d", cellW, rt.Load[e]))
	}
	if lipgloss.Width(load)+19 <= width {
		load += th.Subtle.Render("  tokens per expert")
	}
	lines = append(lines, load)
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}
