package lessons

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// Parallel is chapter 5, "A thousand machines, one mind": sixteen GPUs in two
// nodes, five ways to spread a training run over them, what each GPU then
// holds, whether it fits in 80 GB and what the GPUs must send each other;
// and a pipeline timeline with its bubble.
type Parallel struct {
	meta
	presets  []parallelPreset
	layouts  []sim.Layout
	controls []Control
}

// parallelPreset is a model the chapter can train.
type parallelPreset struct {
	id   string
	arch sim.Arch
}

// NewParallel builds the chapter on chapter 2's model presets.
func NewParallel() (*Parallel, error) {
	// The same IDs as chapter 2's presets, so a value means the same model
	// in both chapters.
	ids := []string{"gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-175b",
		"llama2-7b", "llama3-8b", "llama3.1-70b", "llama3.1-405b"}
	archs := sim.ArchPresets()
	if len(archs) != len(ids) {
		return nil, fmt.Errorf("parallel: %d architecture presets, want %d", len(archs), len(ids))
	}
	p := &Parallel{meta: meta{id: "parallel", number: 5, title: "A thousand machines, one mind",
		summary: "Training on many GPUs: data, pipeline, tensor, sharded and 3D parallelism; memory, traffic, the bubble"}, layouts: sim.Layouts3D()}
	var models []Option
	for i, a := range archs {
		p.presets = append(p.presets, parallelPreset{id: ids[i], arch: a})
		models = append(models, Option{Value: ids[i], Label: a.Name,
			Note: numShort(float64(a.Params().Total)) + " params"})
	}
	var splits []Option
	for _, l := range p.layouts {
		splits = append(splits, Option{Value: parallelSplitID(l), Label: l.String()})
	}
	p.controls = []Control{
		{Key: "view", Label: "View", Kind: Choice, Default: "cluster",
			Help: "←/→ switch between the 16-GPU cluster and the pipeline timeline",
			Options: []Option{
				{Value: "cluster", Label: "16 GPUs", Note: "who holds what"},
				{Value: "timeline", Label: "Pipeline timeline", Note: "the bubble"},
			}},
		{Key: "mode", Label: "Mode", Kind: Choice, Default: string(sim.ModeData), When: "view=cluster",
			Help: "←/→ how the model and the batch are spread over the 16 GPUs",
			Options: []Option{
				{Value: string(sim.ModeData), Label: "data parallel", Note: "a full copy each"},
				{Value: string(sim.ModePipeline), Label: "pipeline parallel", Note: "16 stages of layers"},
				{Value: string(sim.ModeTensor), Label: "tensor parallel", Note: "matrices split 8 ways"},
				{Value: string(sim.ModeFSDP), Label: "FSDP / ZeRO-3", Note: "everything sharded"},
				{Value: string(sim.Mode3D), Label: "3D", Note: "DP × PP × TP"},
			}},
		{Key: "split", Label: "3D split", Kind: Choice, Default: "dp2-pp2-tp4", When: "mode=3d",
			Help:    "←/→ data copies × pipeline stages × tensor slices, always 16 GPUs; TP stays inside a node",
			Options: splits},
		{Key: "preset", Label: "Model", Kind: Choice, Default: "llama3-8b", When: "view=cluster",
			Help: "←/→ a real model (chapter 2's presets) to train", Options: models},
		{Key: "gpu", Label: "GPU", Kind: Slider, Min: 0, Max: sim.ClusterGPUs - 1, Step: 1, Format: "%.0f",
			Default: "0", When: "view=cluster",
			Help: "←/→ pick the GPU whose memory is itemised below the cluster"},
		{Key: "recompute", Label: "Recompute", Kind: Toggle, Default: "true", When: "view=cluster",
			Help: "activation checkpointing: keep only each layer's input and redo the rest in the backward pass"},
		{Key: "stages", Label: "Stages p", Kind: Slider, Min: 2, Max: 8, Step: 1, Format: "%.0f",
			Default: "4", When: "view=timeline",
			Help: "←/→ how many GPUs the layers are cut across"},
		{Key: "micro", Label: "Micro-batches", Kind: Slider, Min: 1, Max: 32, Step: 1, Format: "%.0f",
			Default: "8",
			Help:    "←/→ m: how many pieces each step's batch is cut into; more pieces, smaller bubble"},
		{Key: "schedule", Label: "Schedule", Kind: Choice, Default: string(sim.GPipe), When: "view=timeline",
			Help: "←/→ GPipe (all forwards, then all backwards) or 1F1B (backwards as early as possible)",
			Options: []Option{
				{Value: string(sim.GPipe), Label: "GPipe", Note: "holds all m"},
				{Value: string(sim.OneFOneB), Label: "1F1B", Note: "holds at most p"},
			}},
	}
	return p, nil
}

// parallelSplitID names a 3D layout as a control value: "dp2-pp2-tp4".
func parallelSplitID(l sim.Layout) string {
	return fmt.Sprintf("dp%d-pp%d-tp%d", l.DP, l.PP, l.TP)
}

// Controls implements Lesson.
func (p *Parallel) Controls() []Control { return p.controls }

// Link implements Linker: choosing a mode with a pipeline carries its
// stage count to the timeline (capped at the timeline's 8), so switching
// views shows the same pipeline.
func (p *Parallel) Link(v Values, changed string) Values {
	if changed != "mode" && changed != "split" {
		return v
	}
	l := p.layout(Normalize(p.controls, v))
	if l.PP >= 2 {
		v = v.With("stages", strconv.Itoa(min(l.PP, 8)))
	}
	return v
}

// layout is the DP×PP×TP split the values choose.
func (p *Parallel) layout(v Values) sim.Layout {
	mode := sim.ParallelMode(v["mode"])
	if mode != sim.Mode3D {
		return sim.LayoutFor(mode, 0, 0)
	}
	for _, l := range p.layouts {
		if parallelSplitID(l) == v["split"] {
			return l
		}
	}
	return sim.LayoutFor(sim.Mode3D, 2, 4)
}

// plan runs the sim for normalised values.
func (p *Parallel) plan(v Values) sim.ParallelPlan {
	a := p.presets[0].arch
	for _, pr := range p.presets {
		if pr.id == v["preset"] {
			a = pr.arch
		}
	}
	l := p.layout(v)
	return sim.PlanParallel(sim.ParallelSetup{
		Arch: a, Mode: sim.ParallelMode(v["mode"]), PP: l.PP, TP: l.TP,
		MicroBatches: v.Int("micro"), Recompute: v.Bool("recompute"), Schedule: sim.OneFOneB,
	})
}

// Spots implements Spotter: the GPUs and the link between the nodes in the
// cluster view, the stages and the bubble in the timeline.
func (p *Parallel) Spots(v Values) []Spot {
	v = Normalize(p.controls, v)
	var out []Spot
	if v["view"] == "timeline" {
		for s := 1; s <= v.Int("stages"); s++ {
			out = append(out, Spot{ID: fmt.Sprintf("stage:%d", s), Label: fmt.Sprintf("Stage %d", s)})
		}
		return append(out, Spot{ID: "bubble", Label: "The bubble (idle steps)"})
	}
	for i := range sim.ClusterGPUs {
		out = append(out, Spot{ID: fmt.Sprintf("gpu:%d", i), Label: fmt.Sprintf("GPU %d (node %d)", i, i/sim.GPUsPerNode)})
	}
	return append(out, Spot{ID: "link:ib", Label: "InfiniBand between the nodes"})
}

// Render implements Lesson.
func (p *Parallel) Render(f Frame) string {
	if f.Width < 1 || f.Height < 1 || f.Theme == nil {
		return ""
	}
	v := Normalize(p.controls, f.Values)
	var out string
	if v["view"] == "timeline" {
		out = p.renderTimeline(f.Theme, v, f.Spot, f.Width)
	} else {
		out = p.renderCluster(f.Theme, v, f.Spot, f.Width)
	}
	return ui.FitWidth(out, f.Width)
}

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

// parGB prints bytes as decimal gigabytes (or terabytes) for the tiles and
// bars: "89.1 GB", "1.13 TB".
func parGB(b float64) string {
	switch {
	case b >= 999.5e9:
		return strconv.FormatFloat(b/1e12, 'f', 2, 64) + " TB"
	case b >= 99.95e9:
		return strconv.FormatFloat(b/1e9, 'f', 0, 64) + " GB"
	}
	return strconv.FormatFloat(b/1e9, 'f', 1, 64) + " GB"
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

// parStageColor is the colour of the GPUs holding the same layers.
func parStageColor(th *ui.Theme, stage int) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(th.ChipColors[stage%len(th.ChipColors)])
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
			bar, style := "▌", parStageColor(th, g.Stage)
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
			style := lipgloss.NewStyle().Foreground(th.ChipColors[i%len(th.ChipColors)])
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
		style := lipgloss.NewStyle().Foreground(th.ChipColors[i%len(th.ChipColors)])
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

const timelineProse = "A pipeline cuts the layers into p stages on p GPUs. Each step's batch is " +
	"cut into m micro-batches: stage 1 runs micro-batch 1 forward and hands it on, then takes " +
	"micro-batch 2, and so on; the backward passes come back the other way. Until the pipe is " +
	"full and after it drains, some GPUs have nothing to do: that idle time is the bubble."

// renderTimeline draws the timeline view: what a pipeline is, the grid of
// stages over time steps with its bubble and memory, then how the bubble
// falls with more micro-batches.
func (p *Parallel) renderTimeline(th *ui.Theme, v Values, spot string, width int) string {
	tl := sim.PipelineTimeline(sim.Schedule(v["schedule"]), v.Int("stages"), v.Int("micro"))
	stages, m, steps := tl.Stages, tl.Micro, tl.Steps()
	name, other, otherName := "GPipe", sim.OneFOneB, "1F1B"
	if tl.Schedule == sim.OneFOneB {
		name, other, otherName = "1F1B", sim.GPipe, "GPipe"
	}

	head := th.Header.Render(name) + th.Subtle.Render(" · ") +
		fmt.Sprintf("%d stages · %s · %d time steps  ", stages, Count(m, "micro-batch", "micro-batches"), steps) + th.Badge(ui.Computed)
	rows, axis, legend := p.drawTimeline(th, tl, spot, width)
	bub := fmt.Sprintf("Bubble: %d of %d steps idle on every stage = %s = (p−1)/(m+p−1) = %d/%d",
		steps-tl.Busy(0), steps, th.Strong.Render(parPct(tl.IdleFraction())), stages-1, m+stages-1)
	if spot == "bubble" {
		bub = th.Focus.Render("▸ ") + bub
	}
	// The two schedules differ in memory only when m > p: with m ≤ p every
	// micro-batch is in flight before stage 1's first backward either way.
	mine, theirs := tl.PeakInFlight(0), sim.InFlight(other, stages, m, 0)
	kept := th.Strong.Render(strconv.Itoa(mine)) + " micro-batches'"
	if mine == 1 {
		kept = th.Strong.Render("1") + " micro-batch's"
	}
	mem := fmt.Sprintf("Stage 1 keeps %s activations at once; %s would keep %d.", kept, otherName, theirs)
	if mine == theirs {
		mem = fmt.Sprintf("Stage 1 keeps %s activations at once; with m ≤ p, %s would too.", kept, otherName)
	}
	var spotLine string
	if s, ok := strings.CutPrefix(spot, "stage:"); ok {
		if i, err := strconv.Atoi(s); err == nil && i >= 1 && i <= stages {
			spotLine = th.Focus.Render(fmt.Sprintf("Stage %d works %d of %d steps and keeps up to %s.",
				i, tl.Busy(i-1), steps, Count(tl.PeakInFlight(i-1), "micro-batch", "micro-batches")))
		}
	}

	// The grid with its axis and key, then what it adds up to; nothing of
	// it is left out on a short screen, which scrolls instead.
	lines := append([]string(nil), rows...)
	lines = append(lines, axis, legend, "", siWrap(bub, width), siWrap(mem, width))
	if spotLine != "" {
		lines = append(lines, siWrap(spotLine, width))
	}

	var sweep []string
	for _, mm := range []int{1, 2, 4, 8, 16, 32} {
		s := fmt.Sprintf("%d→%.0f%%", mm, sim.BubbleFraction(stages, mm)*100)
		if mm == m {
			s = th.Strong.Render(s)
		}
		sweep = append(sweep, s)
	}
	// What 1F1B buys depends on m against p: less memory only once m > p.
	saving := fmt.Sprintf("Same bubble, less memory: here %d micro-batches instead of %d.", min(stages, m), m)
	if m <= stages {
		saving = fmt.Sprintf("Same bubble; here m = %d ≤ p = %d, so the same memory too: 1F1B saves "+
			"memory only once m > p.", m, stages)
	}
	sweepText := siWrap(fmt.Sprintf("With p=%d, the bubble for m = ", stages)+strings.Join(sweep, " "), width) +
		"\n" + th.Subtle.Render(siWrap("More micro-batches shrink the bubble, but each must stay big enough to keep "+
		"a GPU busy. GPipe keeps every micro-batch's activations until its backward pass; 1F1B starts "+
		"backward passes early, so a stage never keeps more than p. "+saving, width))

	return ui.Column(siWrap(head, width), th.Text.Render(siWrap(timelineProse, width)),
		strings.Join(lines, "\n"), sweepText)
}

// parPct prints a fraction as a percentage with one decimal.
func parPct(x float64) string {
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// drawTimeline draws stages as rows and time steps as columns: forward
// cells filled in the micro-batch's colour, backward cells shaded, idle
// cells as dots; it returns the rows, a time axis and a legend. Cells are
// one to three wide, as the width allows; at two or more the micro-batch
// number shows.
func (p *Parallel) drawTimeline(th *ui.Theme, tl sim.Timeline, spot string, width int) (rows []string, axis, legend string) {
	steps := tl.Steps()
	labelW := 3
	if width-labelW < steps {
		labelW = max(width-steps, 1)
	}
	cw := min(max((width-labelW)/max(steps, 1), 1), 3)
	for s, row := range tl.Grid {
		label := strconv.Itoa(s + 1)
		ls := th.Subtle
		if spot == fmt.Sprintf("stage:%d", s+1) {
			ls = th.Focus
			label = "▸" + label
		}
		var b strings.Builder
		b.WriteString(ls.Render(ui.PadRight(label, labelW)))
		for _, sl := range row {
			b.WriteString(p.timelineCell(th, sl, cw, spot == "bubble"))
		}
		rows = append(rows, ui.Fit(b.String(), width, 1))
	}
	axis = ui.Fit(ui.PadRight("", labelW)+th.Subtle.Render("time →"), width, 1)
	cell := func(w sim.Work) string { return p.timelineCell(th, sim.Slot{Work: w}, 1, false) }
	legend = cell(sim.Forward) + " forward · " + cell(sim.Backward) + " backward · " + cell(sim.Idle) + " idle: the bubble"
	switch {
	case cw >= 2:
		legend += th.Subtle.Render(" · numbers: micro-batches")
	case !th.Mono:
		legend += th.Subtle.Render(" · colours: micro-batches")
	}
	return rows, axis, siWrap(legend, width)
}

// timelineCell draws one (stage, step) cell cw wide.
func (p *Parallel) timelineCell(th *ui.Theme, sl sim.Slot, cw int, hot bool) string {
	num := strconv.Itoa(sl.Micro + 1)
	if th.Mono {
		var s string
		switch sl.Work {
		case sim.Forward:
			s = "F"
		case sim.Backward:
			s = "B"
		default:
			s = "."
		}
		if sl.Work != sim.Idle && cw >= len(num)+1 {
			s += num
		}
		if sl.Work == sim.Idle && hot {
			s = "_"
		}
		return ui.PadRight(s, cw)
	}
	col := th.ChipColors[sl.Micro%len(th.ChipColors)]
	switch sl.Work {
	case sim.Forward:
		s := strings.Repeat(" ", cw)
		if cw >= len(num) && cw >= 2 {
			s = fmt.Sprintf("%*s", cw, num)
		}
		return lipgloss.NewStyle().Background(col).Foreground(th.ChipText).Render(s)
	case sim.Backward:
		s := strings.Repeat("▒", cw)
		if cw >= len(num) && cw >= 2 {
			s = strings.Repeat("▒", cw-len(num)) + num
		}
		return lipgloss.NewStyle().Foreground(col).Bold(true).Render(s)
	}
	s := ui.PadRight("·", cw)
	if hot {
		return th.Warn.Render(s)
	}
	return th.Muted.Render(s)
}

// Polls implements Poller. Each question is about one view: the training
// state and tensor parallelism are read off the cluster, the bubble off the
// timeline, so each is open only while its view is on screen.
func (p *Parallel) Polls(v Values) []Poll {
	v = Normalize(p.controls, v)
	plan := p.plan(v)
	a := plan.Setup.Arch
	stages, m := v.Int("stages"), v.Int("micro")
	return []Poll{
		{
			ID: "state",
			Question: fmt.Sprintf("Training %s (%s parameters) with Adam in mixed precision: how many GB do "+
				"its weights, gradients and optimizer state take together?", a.Name, numShort(float64(plan.Params))),
			Kind: Estimate, Truth: plan.StateBytes / 1e9, Unit: "GB",
			Explain: fmt.Sprintf("16 bytes a parameter: 2 for bf16 weights, 2 for gradients, 12 for Adam's fp32 "+
				"copy, momentum and variance. %s × 16 = %s, before any activations.",
				numShort(float64(plan.Params)), parGB(plan.StateBytes)),
			When: "view=cluster",
		},
		{
			ID: "bubble",
			Question: fmt.Sprintf("A pipeline of %d stages runs %s a step. What share of the time is bubble (idle)?",
				stages, Count(m, "micro-batch", "micro-batches")),
			Kind: Estimate, Truth: sim.BubbleFraction(stages, m) * 100, Unit: "%", Min: 0, Max: 100,
			Explain: fmt.Sprintf("(p−1)/(m+p−1) = %d/%d = %s: the pipe takes p−1 steps to fill and as many to drain.",
				stages-1, m+stages-1, parPct(sim.BubbleFraction(stages, m))),
			When: "view=timeline",
		},
		{
			ID:       "tp-node",
			Question: "Why is tensor parallelism kept inside one node?",
			Kind:     MultipleChoice,
			Choices: []string{
				"It all-reduces inside every layer: only NVLink is fast enough",
				"GPUs in different nodes cannot share a weight matrix",
				"It needs fewer GPUs than a node holds",
				"InfiniBand cannot do all-reduce",
			},
			Correct: 0,
			Explain: "Each layer needs two all-reduces forward and two backward. NVLink moves 450 GB/s a GPU, InfiniBand 50 GB/s: across nodes the GPUs would mostly wait.",
			// The cluster draws both links whatever the mode; When holds one
			// key, so it cannot also ask for mode=tensor.
			When: "view=cluster",
		},
	}
}
