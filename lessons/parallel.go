package lessons

import (
	"fmt"
	"strconv"

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

// The lesson contract and the optional parts of it that Parallel keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Parallel)(nil)
	_ Linker     = (*Parallel)(nil)
	_ Spotter    = (*Parallel)(nil)
	_ Poller     = (*Parallel)(nil)
	_ KeyFigurer = (*Parallel)(nil)
)

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
	p := &Parallel{meta: meta{id: "parallel", number: 5, title: "A thousand machines, one mind", route: "a thousand machines",
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

// parPct prints a fraction as a percentage with one decimal.
func parPct(x float64) string {
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// KeyFigure implements KeyFigurer: the timeline's pipeline bubble, the
// share of each step its stages sit idle.
func (p *Parallel) KeyFigure(v Values) KeyFigure {
	v = Normalize(p.controls, v)
	stages, m := v.Int("stages"), v.Int("micro")
	figure := fmt.Sprintf("%.1f%%", 100*sim.BubbleFraction(stages, m))
	return KeyFigure{
		Idea:   "GPUs split the data, the layers or the matrices, and waiting costs time.",
		Fact:   fmt.Sprintf("A %d-stage pipeline with %d micro-batches sits idle %s of each step.", stages, m, figure),
		Figure: figure, Badge: ui.Computed,
	}
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
