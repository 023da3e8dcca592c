package lessons

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// parallelModeProse explains each mode in a few sentences.
func parallelModeProse(mode sim.ParallelMode, l sim.Layout) string {
	switch mode {
	case sim.ModePipeline:
		return "Pipeline parallel: the layers are cut into 16 consecutive stages, one per GPU. " +
			"Each step's batch is cut into micro-batches that flow through the stages like an " +
			"assembly line; only the activations at each cut travel between GPUs. The price is " +
			"the bubble: stages wait while the pipe fills and drains (see the timeline view)."
	case sim.ModeTensor:
		return "Tensor parallel: every weight matrix is cut into 8 slices, one per GPU of a node, " +
			"and the 8 combine their partial results inside every layer. That traffic needs " +
			"NVLink: over InfiniBand it would be nine times slower, so the slices stay in one " +
			"node and the two nodes are data-parallel copies."
	case sim.ModeFSDP:
		return "Fully sharded (FSDP, ZeRO stage 3): data parallel, but each GPU stores only 1/16 " +
			"of the weights, gradients and Adam state. Just before a layer runs the GPUs gather " +
			"its weights in full, and drop them after. Memory falls 16-fold; traffic grows by " +
			"half over plain data parallelism."
	case sim.Mode3D:
		tp := fmt.Sprintf("each matrix cut into %d slices inside a node", l.TP)
		if l.TP == 1 {
			tp = "no matrix slicing"
		}
		pp := fmt.Sprintf("the layers cut into %d pipeline stages", l.PP)
		if l.PP == 1 {
			pp = "no pipeline"
		}
		dp := fmt.Sprintf("%d data-parallel copies of all that", l.DP)
		if l.DP == 1 {
			dp = "a single copy of the model"
		}
		return fmt.Sprintf("3D parallel: %s, %s, and %s: DP × PP × TP = %d × %d × %d = 16. ",
			tp, pp, dp, l.DP, l.PP, l.TP) + parallelFrontier()
	}
	return "Data parallel: every GPU keeps a whole copy of the model and works on its own " +
		"slice of the batch. At the end of each step the GPUs average their gradients, so " +
		"every copy takes the same update. Simple and fast, if one GPU can hold the whole " +
		"training state."
}

// parallelFrontier says how two published frontier runs split their
// models (sim.PublishedSplits): on thousands of GPUs, and neither with
// exactly these three axes.
func parallelFrontier() string {
	var llama, long, ds sim.PublishedSplit
	for _, s := range sim.PublishedSplits() {
		switch {
		case s.Model == "DeepSeek-V3":
			ds = s
		case s.CP > 1:
			long = s
		default:
			llama = s
		}
	}
	return fmt.Sprintf("Frontier runs add axes of their own. %s used 4D parallelism: TP %d × CP %d × PP %d × DP %d "+
		"(%s) on %s %ss, where context parallelism (CP) splits each sequence across GPUs and went to %d for "+
		"its %s-token sequences. %s used %d-way pipeline, %d-way expert and %s data parallelism on %s %ss, "+
		"with no tensor parallelism at all.",
		llama.Model, llama.TP, llama.CP, llama.PP, llama.DP, llama.Sharding, numGroup(int64(llama.GPUs)), llama.GPU,
		long.CP, numGroup(int64(long.SeqLen)),
		ds.Model, ds.PP, ds.EP, ds.Sharding, numGroup(int64(ds.GPUs)), ds.GPU)
}

// parallelModeName is the mode as a heading.
func parallelModeName(mode sim.ParallelMode) string {
	switch mode {
	case sim.ModePipeline:
		return "Pipeline parallel"
	case sim.ModeTensor:
		return "Tensor parallel"
	case sim.ModeFSDP:
		return "FSDP / ZeRO-3"
	case sim.Mode3D:
		return "3D parallel"
	}
	return "Data parallel"
}

// parSeconds prints a duration estimate.
func parSeconds(s float64) string {
	switch {
	case s < 0.01:
		return strconv.FormatFloat(s*1000, 'f', 1, 64) + " ms"
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

// parSelected is the GPU the memory breakdown itemises: the spotlit one if
// the instructor points at a GPU, else the learner's slider.
func parSelected(v Values, spot string) int {
	if n, ok := strings.CutPrefix(spot, "gpu:"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < sim.ClusterGPUs {
			return i
		}
	}
	return min(max(v.Int("gpu"), 0), sim.ClusterGPUs-1)
}

// renderCluster draws the cluster view: the mode's idea, the sixteen GPUs,
// the selected GPU's memory and the step's traffic, then how it is counted.
func (p *Parallel) renderCluster(th *ui.Theme, v Values, spot string, width int) string {
	plan := p.plan(v)
	l := plan.Layout
	mode := plan.Setup.Mode
	a := plan.Setup.Arch
	sel := parSelected(v, spot)

	name := parallelModeName(mode)
	if mode == sim.Mode3D {
		name += " " + l.String()
	}
	n, st := numShort(float64(plan.Params)), parGB(plan.StateBytes)
	lead := th.Header.Render(name) + th.Subtle.Render(" · ") + th.Strong.Render(a.Name) + th.Subtle.Render(" · ")
	var head string
	for _, tail := range []string{
		n + " params × 16 bytes = " + st + " of training state  ",
		n + " params × 16 bytes = " + st + "  ",
		n + " × 16 B = " + st + " ",
	} {
		head = lead + tail + th.Badge(ui.Computed)
		if lipgloss.Width(head) <= width {
			break
		}
	}
	head = siWrap(head, width) // the widest form that fits, wrapped if none does

	prose := th.Text.Render(siWrap(parallelModeProse(mode, l), width))

	cluster := p.drawCluster(th, plan, sel, spot, width)
	details := p.clusterDetails(th, plan, sel, width)

	notes := th.Subtle.Render(siWrap(fmt.Sprintf("Training state is 16 bytes a parameter: bf16 weights and "+
		"gradients (2 + 2) and Adam's fp32 master weights, momentum and variance (4 + 4 + 4), as the ZeRO "+
		"paper counts it. Activations are an estimate for %s-token sequences, one per micro-batch: about "+
		"34 bytes × tokens × d_model per layer (Korthikanti et al. 2022), or only each layer's 2-byte input "+
		"with recompute on. Pipelines run 1F1B. 80 GB is 80×10⁹ bytes.",
		numGroup(int64(plan.SeqLen))), width))

	return ui.Column(head, prose, cluster, details, notes)
}

// parTileText is what one GPU's tile says on its third line, in at most
// width cells: which slice or copy it holds.
func parTileText(mode sim.ParallelMode, l sim.Layout, g sim.GPUPlan, width int) string {
	switch mode {
	case sim.ModeFSDP:
		return fmt.Sprintf("part %d", g.DPRank)
	case sim.ModePipeline:
		switch {
		case g.Embedding:
			return "+embed"
		case g.Head:
			return "+head"
		}
		// "stage 10" is a cell wider than an 80-column tile: then every
		// tile says "st. n", so the numbers stay whole and alike.
		if len(fmt.Sprintf("stage %d", l.PP)) <= width {
			return fmt.Sprintf("stage %d", g.Stage+1)
		}
		return fmt.Sprintf("st. %d", g.Stage+1)
	}
	var parts []string
	if l.TP > 1 {
		parts = append(parts, fmt.Sprintf("TP%d", g.TPRank))
	}
	if l.DP > 1 {
		parts = append(parts, fmt.Sprintf("DP%d", g.DPRank))
	}
	if len(parts) == 0 {
		return "whole"
	}
	return strings.Join(parts, " ")
}

// drawCluster draws the two nodes as rows of eight GPU tiles, four lines
// tall (the GPU, its layers, its slice or copy, its memory), with the
// InfiniBand link between them. GPUs holding the same layers share a
// colour. The tiles keep all four lines on any screen: the third is what
// tells the modes apart, and a short screen scrolls.
func (p *Parallel) drawCluster(th *ui.Theme, plan sim.ParallelPlan, sel int, spot string, width int) string {
	const rows = 4
	const margin = 7
	cw := min(max((width-margin)/sim.GPUsPerNode, 6), 14)
	text := cw - 2 // one cell of colour bar, one of gap
	l, mode := plan.Layout, plan.Setup.Mode
	var lines []string
	for node := range sim.ClusterNodes {
		rowText := make([]strings.Builder, rows)
		// The links are named on the line between the nodes; the rows under
		// a node hold its GPUs' layers and memory.
		label := []string{fmt.Sprintf("node %d", node), "", "", ""}
		for r := range rows {
			rowText[r].WriteString(th.Subtle.Render(ui.PadRight(label[r], margin)))
		}
		for local := range sim.GPUsPerNode {
			g := plan.GPUs[node*sim.GPUsPerNode+local]
			bar, style := "▌", chipStyle(th, g.Stage)
			if th.Mono {
				bar = "|"
			}
			isSel := g.Index == sel
			if isSel && th.Mono {
				bar = ">"
			}
			layers := "no layers"
			if g.FirstLayer > 0 {
				layers = fmt.Sprintf("L%d-%d", g.FirstLayer, g.LastLayer)
			}
			mark := "✓"
			if !g.Fits {
				mark = "✗"
			}
			mem := strconv.FormatFloat(g.Total/1e9, 'f', 0, 64) + "G " + mark
			cells := []string{fmt.Sprintf("GPU %d", g.Index), layers, parTileText(mode, l, g, text), mem}
			for r := range rows {
				c := ui.PadRight(cells[r], text)
				switch {
				case r == 0 && (isSel || spot == fmt.Sprintf("gpu:%d", g.Index)):
					c = th.Selected.Render(c)
				case r == 0:
					c = th.Strong.Render(c)
				case r == rows-1 && !g.Fits:
					c = th.Warn.Render(c)
				default:
					c = th.Text.Render(c)
				}
				rowText[r].WriteString(style.Render(bar) + c + " ")
			}
		}
		for r := range rows {
			lines = append(lines, rowText[r].String())
		}
		if node == 0 {
			link := "  ↕ InfiniBand between nodes: 50 GB/s a GPU · NVLink in a node: 450 GB/s"
			ls := th.Subtle
			if spot == "link:ib" {
				ls = th.Focus
			}
			lines = append(lines, ls.Render(link))
		}
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// parallelAxisName is what a kind of traffic is called on screen.
func parallelAxisName(c sim.Comm) string {
	switch c.Axis {
	case "sharded":
		if c.Collective == "all-gather" {
			return "all-gather weights (×2)"
		}
		return "reduce-scatter gradients"
	case "tensor":
		return "all-reduce in every layer"
	case "pipeline":
		return "send to the next stage"
	}
	return "all-reduce gradients"
}

// clusterDetails itemises the selected GPU's memory and the step's
// traffic, every line of it: sentences wrap, and a short screen scrolls.
func (p *Parallel) clusterDetails(th *ui.Theme, plan sim.ParallelPlan, sel, width int) string {
	g := plan.GPUs[sel]
	var ls []string

	// Which GPU, what it holds.
	holds := "no layers"
	if g.FirstLayer > 0 {
		holds = fmt.Sprintf("layers %d–%d", g.FirstLayer, g.LastLayer)
		if g.FirstLayer == 1 && g.LastLayer == plan.Setup.Arch.Layers {
			holds = fmt.Sprintf("all %d layers", g.LastLayer)
		}
	}
	if g.Embedding && g.Head {
		holds += " + embedding + head"
	} else if g.Embedding {
		holds += " + embedding"
	} else if g.Head {
		holds += " + output head"
	}
	share := "full tensors"
	if g.Shard < 1 {
		share = fmt.Sprintf("1/%d of each matrix", int(1/g.Shard+0.5))
		if plan.Layout.Sharded {
			share = fmt.Sprintf("a 1/%d shard of everything", int(1/g.Shard+0.5))
		}
	}
	info := fmt.Sprintf("GPU %d: %s (%s) · %s params", g.Index, holds, share, numShort(g.Params))
	if plan.Layout.PP > 1 {
		info += " · " + Count(g.InFlight, "micro-batch", "micro-batches") + " in flight"
	}
	ls = append(ls, th.Strong.Render(siWrap(info, width)))

	// The stacked bar against 80 GB, then its legend with the numbers.
	ls = append(ls, p.memoryBar(th, g, width))

	type part struct {
		names [3]string // long, short, initial: the widest that fits is used
		b     float64
		est   bool
	}
	// In the bar each part is drawn in its colour, or without colour as
	// its initial (W, G, A, a, g), so the names alone key the legend.
	parts := []part{
		{[3]string{"weights", "weights", "W"}, g.Weights, false},
		{[3]string{"grads", "grads", "G"}, g.Grads, false},
		{[3]string{"Adam", "Adam", "A"}, g.Optimizer, false},
		{[3]string{"activations", "act", "a"}, g.Activations, true},
	}
	if g.Gathered > 0 {
		parts = append(parts, part{[3]string{"gathered layer", "gathered", "g"}, g.Gathered, true})
	}
	verdict := "= " + parGB(g.Total) + " ✓"
	if !g.Fits {
		verdict = th.Warn.Render("= " + parGB(g.Total) + " ✗")
	} else {
		verdict = th.Strong.Render(verdict)
	}
	var legendLine string
	for tier := range 3 {
		var legend []string
		for i, pt := range parts {
			val := strconv.FormatFloat(pt.b/1e9, 'f', 1, 64)
			if pt.est {
				val = "~" + val
			}
			style := chipStyle(th, i)
			legend = append(legend, style.Render(pt.names[tier])+" "+val)
		}
		legendLine = strings.Join(legend, " + ") + " " + verdict
		if lipgloss.Width(legendLine) <= width {
			break
		}
	}
	ls = append(ls, siWrap(legendLine, width))

	// The whole cluster's verdict.
	busiest := plan.GPUs[plan.Busiest]
	all := th.BadgeComputed.Render("✓") + fmt.Sprintf(" All 16 GPUs fit; the fullest, GPU %d, needs %s", busiest.Index, parGB(busiest.Total))
	if !plan.AllFit {
		n := 0
		for _, gg := range plan.GPUs {
			if !gg.Fits {
				n++
			}
		}
		all = th.Warn.Render(fmt.Sprintf("✗ %d of 16 GPUs over 80 GB (up to %s): this does not fit",
			n, parGB(busiest.Total)))
	}
	ls = append(ls, siWrap(all+"  "+th.Badge(ui.Estimate), width))

	// Traffic, one line per kind.
	if len(plan.Comms) == 0 {
		ls = append(ls, th.Subtle.Render("No traffic between GPUs."))
	}
	for _, c := range plan.Comms {
		link := "NVLink"
		if c.CrossesNodes {
			link = "InfiniBand"
		}
		t := fmt.Sprintf("⇄ %-26s %2d GPUs · %-10s %9s a step ≈ %s",
			parallelAxisName(c), c.GroupSize, link, parGB(c.BytesPerGPU), parSeconds(c.Seconds))
		ls = append(ls, ui.Fit(t, width, 1)) // a table row: its columns line up
	}
	traffic := 0.0
	for _, c := range plan.Comms {
		traffic += c.Seconds
	}
	step := fmt.Sprintf("Per step: compute ≈ %s", parSeconds(plan.ComputeSeconds))
	if traffic > 0 {
		step += fmt.Sprintf(", traffic ≈ %s", parSeconds(traffic))
	}
	// The whole sentence, wrapped: the tokens a step trains on are what
	// the compute time is for.
	step += fmt.Sprintf(" (%s tokens, H100s at %.0f%% MFU", numGroup(int64(plan.TokensPerStep)), sim.AssumedMFU*100)
	if plan.Bubble > 0 {
		step += fmt.Sprintf(", %.0f%% bubble", plan.Bubble*100)
	}
	step += ")  " + th.Badge(ui.Estimate)
	ls = append(ls, siWrap(step, width))
	if traffic > plan.ComputeSeconds {
		ls = append(ls, th.Warn.Render(siWrap("Network-bound: the traffic outlasts the compute it could hide behind.", width)))
	}
	for _, c := range plan.Comms {
		if c.Axis == "tensor" && !c.CrossesNodes {
			ib := c.BytesPerGPU / sim.InfiniBandBytesPerSec
			ls = append(ls, th.Subtle.Render(siWrap(fmt.Sprintf("Over InfiniBand the in-layer all-reduces would take %s "+
				"a step instead of %s: that is why tensor parallelism stays inside a node.", parSeconds(ib), parSeconds(c.Seconds)), width)))
		}
	}
	return strings.Join(ls, "\n")
}

// parMonoMem are the letters that stand for each part of the memory bar
// without colour: weights, grads, Adam, activations, gathered layer.
const parMonoMem = "WGAag"

// memoryBar draws the GPU's memory as a stacked bar with the 80 GB limit
// marked; parts past the limit are what does not fit.
func (p *Parallel) memoryBar(th *ui.Theme, g sim.GPUPlan, width int) string {
	bw := width - 10
	if bw < 10 {
		return ""
	}
	full := max(g.Total, sim.GPUMemoryBytes)
	cell := full / float64(bw)
	limit := int(sim.GPUMemoryBytes / cell)
	parts := []float64{g.Weights, g.Grads, g.Optimizer, g.Activations, g.Gathered}
	var b strings.Builder
	pos, acc := 0, 0.0
	for i, x := range parts {
		acc += x
		end := min(int(acc/cell+0.5), bw)
		style := chipStyle(th, i)
		ch := "█"
		if th.Mono {
			ch = parMonoMem[i : i+1]
		}
		for ; pos < end; pos++ {
			c := ch
			if pos == limit {
				c = "│"
				if th.Mono {
					c = "|"
				}
				b.WriteString(th.Warn.Render(c))
				continue
			}
			b.WriteString(style.Render(c))
		}
	}
	for ; pos < bw; pos++ {
		c := "·"
		if th.Mono {
			c = "."
		}
		if pos == limit {
			c = "│"
			if th.Mono {
				c = "|"
			}
		}
		b.WriteString(th.Muted.Render(c))
	}
	tail := " 80 GB"
	if g.Total > sim.GPUMemoryBytes {
		tail = " " + parGB(g.Total)
	}
	return b.String() + th.Subtle.Render(tail)
}
