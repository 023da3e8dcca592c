package sim

import (
	"fmt"
	"math"
)

// Training one model on many GPUs: where each piece of the model lives, how
// much memory that costs every GPU, what the GPUs must send each other per
// step, and how a pipeline's stages take turns. The cluster is the one the
// chapter draws: 16 GPUs in 2 nodes of 8, NVLink inside a node, InfiniBand
// between nodes.

// The cluster's shape and links. Bandwidths are per GPU and per direction,
// and are what the time estimates divide by.
const (
	// ClusterNodes is the number of servers.
	ClusterNodes = 2
	// GPUsPerNode is the number of GPUs in one server, joined by NVLink.
	GPUsPerNode = 8
	// ClusterGPUs is the whole cluster.
	ClusterGPUs = ClusterNodes * GPUsPerNode
	// GPUMemoryBytes is one GPU's memory: 80 GB, as on an H100 SXM or an
	// A100 80GB, counted in decimal gigabytes like every figure here (the
	// card has 80 GiB, of which the CUDA context and allocator keep some).
	GPUMemoryBytes = 80e9
	// NVLinkBytesPerSec is one H100 SXM's NVLink 4 bandwidth in one
	// direction: 900 GB/s in total, 450 GB/s each way (NVIDIA H100 datasheet).
	NVLinkBytesPerSec = 450e9
	// InfiniBandBytesPerSec is one 400 Gb/s NDR InfiniBand port per GPU, the
	// usual H100 cluster wiring: 50 GB/s, nine times less than NVLink.
	InfiniBandBytesPerSec = 50e9
	// AssumedMFU is the share of peak FLOP/s a well-tuned training run keeps
	// (Llama 3 reports 38–43% on H100s); the step-time estimates use it.
	AssumedMFU = 0.4
)

// Bytes per parameter in mixed-precision training with Adam, as the ZeRO
// paper counts them (Rajbhandari et al. 2020, §3.1): fp16/bf16 weights and
// gradients (2 + 2 bytes) and K = 12 bytes of optimizer state (an fp32
// master copy of the weights, Adam's momentum and variance, 4 bytes each).
const (
	// BytesWeightsPerParam is the bf16 (or fp16) working copy of a weight.
	BytesWeightsPerParam = 2
	// BytesGradsPerParam is its bf16 gradient.
	BytesGradsPerParam = 2
	// BytesOptimizerPerParam is Adam's state: fp32 master weight, momentum
	// and variance.
	BytesOptimizerPerParam = 12
	// BytesPerParamTraining is the 16 bytes per parameter in total.
	BytesPerParamTraining = BytesWeightsPerParam + BytesGradsPerParam + BytesOptimizerPerParam
)

// Activation-memory constants (Korthikanti et al. 2022, "Reducing Activation
// Recomputation in Large Transformer Models", §4): a transformer layer keeps
// about 34·s·b·h bytes of activations per micro-batch in 16-bit precision
// once the s² attention scores are not stored (selective recomputation or
// FlashAttention drop the 5·a·s²·b term), and 1/t of that with tensor plus
// sequence parallelism over t GPUs. With full recomputation only each
// layer's 2·s·b·h-byte input is kept, and one layer's 34·s·b·h is rebuilt at
// a time during the backward pass.
const (
	actBytesPerLayer     = 34
	actBytesCheckpointed = 2
	// defaultSeqLen is the sequence length when the model's context is longer.
	defaultSeqLen = 4096
)

// Bounds for clamping ParallelSetup and pipeline sizes.
const (
	maxMicroBatches  = 1024
	maxMicroBatch    = 1024
	maxPipeStages    = 64
	maxPipeMicro     = 256
	parallelMaxSeq   = 1 << 20
	parallelMaxPower = 4 // 2^4 = 16: the most any one dimension can take
)

// ParallelMode is a way to spread training over the 16 GPUs.
type ParallelMode string

// The modes the chapter compares.
const (
	// ModeData gives every GPU a whole copy of the model and a different
	// slice of the batch; gradients are averaged at the end of each step.
	ModeData ParallelMode = "data"
	// ModePipeline cuts the layers into 16 consecutive stages, one per GPU;
	// micro-batches flow through them like an assembly line.
	ModePipeline ParallelMode = "pipeline"
	// ModeTensor splits every weight matrix across the 8 GPUs of a node
	// (Megatron-LM style); the two nodes are data-parallel copies, because
	// the all-reduces inside every layer need NVLink's bandwidth.
	ModeTensor ParallelMode = "tensor"
	// ModeFSDP is data parallelism with every parameter, gradient and
	// optimizer state sharded 16 ways (ZeRO stage 3, PyTorch FSDP): each
	// layer's weights are gathered just before use and dropped after.
	ModeFSDP ParallelMode = "fsdp"
	// Mode3D combines data, pipeline and tensor parallelism with
	// DP × PP × TP = 16.
	Mode3D ParallelMode = "3d"
)

// ParallelModes lists the modes in teaching order.
func ParallelModes() []ParallelMode {
	return []ParallelMode{ModeData, ModePipeline, ModeTensor, ModeFSDP, Mode3D}
}

// Layout is how many ways each dimension splits the cluster. DP·PP·TP is
// always ClusterGPUs.
type Layout struct {
	// DP is the number of data-parallel replicas (or shards, when Sharded).
	DP int
	// PP is the number of pipeline stages.
	PP int
	// TP is the number of GPUs each weight matrix is split across.
	TP int
	// Sharded shards weights, gradients and optimizer state across the DP
	// group (ZeRO-3/FSDP) instead of replicating them.
	Sharded bool
}

// String prints the layout as "DP2×PP2×TP4".
func (l Layout) String() string {
	s := fmt.Sprintf("DP%d×PP%d×TP%d", l.DP, l.PP, l.TP)
	if l.Sharded {
		s += " sharded"
	}
	return s
}

// Layouts3D lists every DP×PP×TP split of the cluster with powers of two and
// TP at most one node (8), ordered by TP then PP. TP never leaves a node: it
// all-reduces inside every layer and would crawl over InfiniBand.
func Layouts3D() []Layout {
	var out []Layout
	for tp := 1; tp <= GPUsPerNode; tp *= 2 {
		for pp := 1; pp*tp <= ClusterGPUs; pp *= 2 {
			out = append(out, Layout{DP: ClusterGPUs / (pp * tp), PP: pp, TP: tp})
		}
	}
	return out
}

// PublishedSplit is how a published frontier training run spread its model
// over GPUs: the degree of each kind of parallelism it used, 1 for a kind
// it did not use, 0 for a degree the source does not state.
type PublishedSplit struct {
	// Model and GPU name the run; GPUs is how many it used.
	Model, GPU string
	GPUs       int
	// TP, CP, PP and DP are the tensor, context (sequence), pipeline and
	// data-parallel degrees. CP splits each sequence across GPUs, for long
	// contexts.
	TP, CP, PP, DP int
	// EP is expert parallelism, for a mixture of experts: each MoE layer's
	// experts spread over EP GPUs. It runs across the data-parallel ranks,
	// so it is not a factor of GPUs.
	EP int
	// Sharding is how the data-parallel ranks share the training state
	// ("FSDP": weights, gradients and optimizer state; "ZeRO-1": the
	// optimizer state only).
	Sharding string
	// SeqLen is the sequence length the split was used for, in tokens.
	SeqLen int
}

// PublishedSplits lists how two frontier models were actually trained,
// to set beside the 16-GPU toy: neither is plain DP × PP × TP.
//
//   - Llama 3 405B (Dubey et al. 2024, "The Llama 3 Herd of Models",
//     §3.3.2 and Table 4) used 4D parallelism: tensor, context, pipeline and
//     FSDP data parallelism, TP 8 × CP 1 × PP 16 × DP 64 on 8,192 H100s for
//     8,192-token sequences, and CP 16 (DP 8) on 16,384 H100s for the
//     131,072-token stage.
//   - DeepSeek-V3 (DeepSeek-AI 2024, technical report §3.2) used 16-way
//     pipeline, 64-way expert parallelism spanning 8 nodes and ZeRO-1 data
//     parallelism on 2,048 H800s, and no tensor parallelism.
func PublishedSplits() []PublishedSplit {
	return []PublishedSplit{
		{Model: "Llama 3 405B", GPU: "H100", GPUs: 8192, TP: 8, CP: 1, PP: 16, DP: 64, EP: 1, Sharding: "FSDP", SeqLen: 8192},
		{Model: "Llama 3 405B", GPU: "H100", GPUs: 16384, TP: 8, CP: 16, PP: 16, DP: 8, EP: 1, Sharding: "FSDP", SeqLen: 131072},
		{Model: "DeepSeek-V3", GPU: "H800", GPUs: 2048, TP: 1, CP: 1, PP: 16, DP: 0, EP: 64, Sharding: "ZeRO-1"},
	}
}

// LayoutFor returns the layout of mode; pp and tp matter only for Mode3D,
// where they are rounded down to powers of two, TP is kept within a node,
// PP·TP within the cluster, and DP fills the rest. An unknown mode is data
// parallel.
func LayoutFor(mode ParallelMode, pp, tp int) Layout {
	switch mode {
	case ModePipeline:
		return Layout{DP: 1, PP: ClusterGPUs, TP: 1}
	case ModeTensor:
		return Layout{DP: ClusterNodes, PP: 1, TP: GPUsPerNode}
	case ModeFSDP:
		return Layout{DP: ClusterGPUs, PP: 1, TP: 1, Sharded: true}
	case Mode3D:
		tp = floorPow2(clampIntTo(tp, 1, GPUsPerNode))
		pp = floorPow2(clampIntTo(pp, 1, ClusterGPUs/tp))
		return Layout{DP: ClusterGPUs / (pp * tp), PP: pp, TP: tp}
	}
	return Layout{DP: ClusterGPUs, PP: 1, TP: 1}
}

// floorPow2 is the largest power of two ≤ n, for n ≥ 1.
func floorPow2(n int) int {
	p := 1
	for i := 0; i < parallelMaxPower && p*2 <= n; i++ {
		p *= 2
	}
	return p
}

// Schedule is the order in which pipeline stages run forward and backward
// passes of micro-batches.
type Schedule string

// The pipeline schedules.
const (
	// GPipe runs every micro-batch forward, then every one backward (Huang
	// et al. 2019), so each stage holds the activations of all m.
	GPipe Schedule = "gpipe"
	// OneFOneB ("one forward, one backward", PipeDream-Flush; Narayanan et
	// al. 2021) starts a micro-batch's backward as soon as it can, so stage
	// s never holds more than p−s micro-batches. The bubble is the same.
	OneFOneB Schedule = "1f1b"
)

// ParallelSetup is what the chapter's controls choose.
type ParallelSetup struct {
	// Arch is the model being trained.
	Arch Arch
	// Mode picks the layout; PP and TP are read only for Mode3D.
	Mode   ParallelMode
	PP, TP int
	// SeqLen is the tokens per sequence; 0 means the model's context, at
	// most 4096.
	SeqLen int
	// MicroBatch is sequences per micro-batch; 0 means 1.
	MicroBatch int
	// MicroBatches is m, the micro-batches each replica runs per step
	// (gradient accumulation, or the pipeline's m); clamped to [1, 1024].
	MicroBatches int
	// Recompute turns on full activation checkpointing: keep only each
	// layer's input and recompute the rest in the backward pass.
	Recompute bool
	// Schedule sets how many micro-batches a pipeline stage holds at once;
	// anything but GPipe is 1F1B, as in Megatron-LM.
	Schedule Schedule
}

// GPUPlan is what one GPU holds and how much memory it needs.
type GPUPlan struct {
	// Index is the GPU's rank 0–15; Node and Local place it in the cluster.
	Index, Node, Local int
	// DPRank, Stage and TPRank are its coordinates in the layout. Ranks are
	// laid out TP fastest, then DP, then PP (Megatron-LM's default order),
	// so a tensor-parallel group is always inside one node.
	DPRank, Stage, TPRank int
	// FirstLayer and LastLayer are the 1-based blocks the GPU runs; both 0
	// when its stage got no layers (more stages than layers).
	FirstLayer, LastLayer int
	// Embedding and Head mark the stage holding the token embedding (first)
	// and the final norm and output head (last).
	Embedding, Head bool
	// Shard is the fraction of each of its tensors the GPU stores: 1/TP, or
	// 1/DP more when sharded.
	Shard float64
	// Params is the number of parameters whose 16-byte training state this
	// GPU keeps.
	Params float64
	// Memory in bytes: Weights, Grads and Optimizer are 2, 2 and 12 bytes
	// per held parameter; Activations is the estimate for InFlight
	// micro-batches; Gathered is FSDP's full copy of the one layer being
	// computed.
	Weights, Grads, Optimizer, Activations, Gathered float64
	// InFlight is how many micro-batches' activations the GPU holds at peak.
	InFlight int
	// Total is the sum of the memory fields; Fits is Total ≤ 80 GB.
	Total float64
	Fits  bool
}

// Comm is one kind of traffic in a training step.
type Comm struct {
	// What is moved and why, e.g. "gradient all-reduce".
	What string
	// Collective is the operation: all-reduce, all-gather, reduce-scatter or
	// send/recv.
	Collective string
	// Axis is the layout dimension the traffic belongs to: "data",
	// "sharded" (FSDP), "tensor" or "pipeline".
	Axis string
	// GroupSize is how many GPUs take part in each group; Groups lists them.
	GroupSize int
	Groups    [][]int
	// Times is how often it happens per step.
	Times int
	// BytesPerGPU is what the busiest GPU sends per step. A ring all-reduce
	// of B bytes over n GPUs sends 2·(n−1)/n·B per GPU; an all-gather or a
	// reduce-scatter sends (n−1)/n·B.
	BytesPerGPU float64
	// CrossesNodes is set when some group spans both nodes, so the traffic
	// runs at InfiniBand speed instead of NVLink's.
	CrossesNodes bool
	// Seconds estimates the time per step at that link's bandwidth.
	Seconds float64
}

// ParallelPlan is the outcome of a setup: placement, memory and traffic.
type ParallelPlan struct {
	// Setup is the input after clamping.
	Setup  ParallelSetup
	Layout Layout
	// Params is the model's total parameter count; StateBytes is the
	// 16 bytes per parameter of training state for the whole model.
	Params     int64
	StateBytes float64
	// SeqLen and MicroBatch are the sizes the activation figures use.
	SeqLen, MicroBatch int
	// ActPerLayer is the estimated activation bytes one layer keeps for one
	// micro-batch on one GPU (after any checkpointing and TP split).
	ActPerLayer float64
	// GPUs are the 16 GPUs in rank order.
	GPUs []GPUPlan
	// Busiest is the index of the GPU needing the most memory.
	Busiest int
	// AllFit reports whether every GPU fits in 80 GB.
	AllFit bool
	// Comms lists the traffic of one step, in the order it happens.
	Comms []Comm
	// Bubble is the pipeline's idle share (p−1)/(m+p−1); 0 without a pipeline.
	Bubble float64
	// TokensPerStep is DP · m · micro-batch · sequence length.
	TokensPerStep float64
	// ComputeSeconds estimates a step's compute: 6·N·tokens spread over 16
	// H100s at AssumedMFU of peak, stretched by the pipeline bubble.
	ComputeSeconds float64
}

// Clamp returns the setup with every field in range.
func (s ParallelSetup) Clamp() ParallelSetup {
	s.Arch = s.Arch.Clamp()
	known := false
	for _, m := range ParallelModes() {
		known = known || s.Mode == m
	}
	if !known {
		s.Mode = ModeData
	}
	l := LayoutFor(s.Mode, s.PP, s.TP)
	s.PP, s.TP = l.PP, l.TP
	if s.SeqLen <= 0 {
		s.SeqLen = min(s.Arch.Context, defaultSeqLen)
	}
	s.SeqLen = clampIntTo(s.SeqLen, 1, parallelMaxSeq)
	s.MicroBatch = clampIntTo(max(s.MicroBatch, 1), 1, maxMicroBatch)
	s.MicroBatches = clampIntTo(s.MicroBatches, 1, maxMicroBatches)
	if s.Schedule != GPipe {
		s.Schedule = OneFOneB
	}
	return s
}

// StageLayers splits layers into stages as evenly as possible, earlier
// stages taking the remainder, and returns each stage's 1-based first and
// last layer (0, 0 for a stage left empty when stages > layers).
func StageLayers(layers, stages int) [][2]int {
	layers = max(layers, 0)
	stages = clampIntTo(stages, 1, maxPipeStages)
	out := make([][2]int, stages)
	next := 1
	for s := range stages {
		n := layers / stages
		if s < layers%stages {
			n++
		}
		if n > 0 {
			out[s] = [2]int{next, next + n - 1}
			next += n
		}
	}
	return out
}

// InFlight is how many micro-batches' activations stage (0-based) of p
// holds at peak under sched with m micro-batches: all m for GPipe, at most
// p−stage for 1F1B (Narayanan et al. 2021, §2.2).
func InFlight(sched Schedule, p, m, stage int) int {
	p = clampIntTo(p, 1, maxPipeStages)
	m = max(m, 1)
	stage = clampIntTo(stage, 0, p-1)
	if sched == GPipe {
		return m
	}
	return min(p-stage, m)
}

// PlanParallel places the model on the 16 GPUs and counts memory and
// traffic. Every figure is exact arithmetic on the stated assumptions except
// activations, which follow the Korthikanti et al. estimate, and the times,
// which assume the links' peak bandwidth and AssumedMFU.
func PlanParallel(setup ParallelSetup) ParallelPlan {
	s := setup.Clamp()
	a := s.Arch
	l := LayoutFor(s.Mode, s.PP, s.TP)
	pb := a.Params()
	plan := ParallelPlan{
		Setup: s, Layout: l,
		Params:     pb.Total,
		StateBytes: float64(pb.Total) * BytesPerParamTraining,
		SeqLen:     s.SeqLen, MicroBatch: s.MicroBatch,
	}
	sbh := float64(s.SeqLen) * float64(s.MicroBatch) * float64(a.DModel)
	t := float64(l.TP)
	full := actBytesPerLayer * sbh / t
	plan.ActPerLayer = full
	if s.Recompute {
		plan.ActPerLayer = actBytesCheckpointed * sbh / t
	}

	normEach := float64(a.DModel)
	if a.Norm == NormLayer {
		normEach *= 2
	}
	blk := pb.Block
	// One GPU's share of a block: matrices split TP ways, the small vectors
	// (norm gains, biases) kept whole on every TP rank.
	blockShare := float64(blk.Matrix)/t + float64(blk.Vector)
	stages := StageLayers(a.Layers, l.PP)
	plan.GPUs = make([]GPUPlan, ClusterGPUs)
	plan.AllFit = true
	for i := range ClusterGPUs {
		g := GPUPlan{Index: i, Node: i / GPUsPerNode, Local: i % GPUsPerNode}
		g.TPRank = i % l.TP
		g.DPRank = (i / l.TP) % l.DP
		g.Stage = i / (l.TP * l.DP)
		g.FirstLayer, g.LastLayer = stages[g.Stage][0], stages[g.Stage][1]
		g.Embedding = g.Stage == 0
		g.Head = g.Stage == l.PP-1
		n := 0
		if g.FirstLayer > 0 {
			n = g.LastLayer - g.FirstLayer + 1
		}
		params := float64(n) * blockShare
		if g.Embedding {
			// The token table is split along the vocabulary across TP ranks
			// (Megatron-LM's vocab-parallel embedding); a learned position
			// table likewise.
			params += float64(pb.Embedding+pb.Position) / t
		}
		if g.Head {
			params += normEach
			head := float64(pb.Head)
			if a.Tied && l.PP > 1 {
				// With tied embeddings split over a pipeline, the last stage
				// keeps its own copy of the table to compute the logits, as
				// Megatron-LM does, and the two copies' gradients are summed.
				head = float64(pb.Embedding)
			}
			params += head / t
		}
		g.Shard = 1 / t
		if l.Sharded {
			params /= float64(l.DP)
			g.Shard /= float64(l.DP)
			// While a layer computes, its weights are gathered in full.
			g.Gathered = float64(blk.Total) * BytesWeightsPerParam
		}
		g.Params = params
		g.Weights = params * BytesWeightsPerParam
		g.Grads = params * BytesGradsPerParam
		g.Optimizer = params * BytesOptimizerPerParam
		g.InFlight = 1
		if l.PP > 1 {
			g.InFlight = InFlight(s.Schedule, l.PP, s.MicroBatches, g.Stage)
		}
		if n > 0 {
			g.Activations = float64(g.InFlight) * float64(n) * plan.ActPerLayer
			if s.Recompute {
				g.Activations += full // the one layer being recomputed
			}
		}
		g.Total = g.Weights + g.Grads + g.Optimizer + g.Activations + g.Gathered
		g.Fits = g.Total <= GPUMemoryBytes
		plan.AllFit = plan.AllFit && g.Fits
		if g.Total > plan.GPUs[plan.Busiest].Total {
			plan.Busiest = i
		}
		plan.GPUs[i] = g
	}
	if l.PP > 1 {
		plan.Bubble = BubbleFraction(l.PP, s.MicroBatches)
	}
	plan.TokensPerStep = float64(l.DP) * float64(s.MicroBatches) * float64(s.MicroBatch) * float64(s.SeqLen)
	// The pipeline's idle share stretches the step: busy time is only
	// 1 − bubble of it.
	plan.ComputeSeconds = TrainingFLOPs(float64(pb.Total), plan.TokensPerStep) /
		(ClusterGPUs * H100BF16DenseFLOPS * AssumedMFU) / (1 - plan.Bubble)
	plan.Comms = parallelComms(plan, sbh, stages)
	return plan
}

// groupsBy collects GPU ranks into groups that share key(i).
func groupsBy(key func(i int) int) [][]int {
	index := map[int]int{}
	var groups [][]int
	for i := range ClusterGPUs {
		k := key(i)
		j, ok := index[k]
		if !ok {
			j = len(groups)
			index[k] = j
			groups = append(groups, nil)
		}
		groups[j] = append(groups[j], i)
	}
	return groups
}

// crosses reports whether any group holds GPUs of both nodes.
func crosses(groups [][]int) bool {
	for _, g := range groups {
		for _, i := range g {
			if i/GPUsPerNode != g[0]/GPUsPerNode {
				return true
			}
		}
	}
	return false
}

func (c *Comm) finish() {
	bw := NVLinkBytesPerSec
	if c.CrossesNodes {
		bw = InfiniBandBytesPerSec
	}
	c.Seconds = c.BytesPerGPU / bw
}

// parallelComms lists one step's traffic for the plan.
func parallelComms(p ParallelPlan, sbh float64, stages [][2]int) []Comm {
	l, s := p.Layout, p.Setup
	m := float64(s.MicroBatches)
	var out []Comm
	maxParams := 0.0
	for _, g := range p.GPUs {
		maxParams = max(maxParams, g.Params)
	}
	dpGroups := groupsBy(func(i int) int { return i%l.TP + l.TP*(i/(l.TP*l.DP)) })
	if l.DP > 1 && l.Sharded {
		n := float64(l.DP)
		// Every micro-batch gathers each layer's weights for the forward
		// pass and again for the backward pass, then reduce-scatters the
		// gradients: 3·(n−1)/n of the weight bytes, 1.5× plain data
		// parallelism's all-reduce (Rajbhandari et al. 2020, §7.2.2).
		whole := maxParams * n * BytesWeightsPerParam
		gather := Comm{What: "gather weights, forward and backward", Collective: "all-gather", Axis: "sharded",
			GroupSize: l.DP, Groups: dpGroups, Times: 2 * s.MicroBatches,
			BytesPerGPU: 2 * m * (n - 1) / n * whole, CrossesNodes: crosses(dpGroups)}
		scatter := Comm{What: "sum and shard gradients", Collective: "reduce-scatter", Axis: "sharded",
			GroupSize: l.DP, Groups: dpGroups, Times: s.MicroBatches,
			BytesPerGPU: m * (n - 1) / n * whole, CrossesNodes: crosses(dpGroups)}
		gather.finish()
		scatter.finish()
		out = append(out, gather, scatter)
	}
	if l.TP > 1 {
		groups := groupsBy(func(i int) int { return i / l.TP })
		n := float64(l.TP)
		maxLayers := 0
		for _, st := range stages {
			if st[0] > 0 {
				maxLayers = max(maxLayers, st[1]-st[0]+1)
			}
		}
		// Megatron-LM's split needs two all-reduces of the full activation
		// per layer forward and two backward (Shoeybi et al. 2019, §3); full
		// recomputation runs the forward's two again.
		per := 4
		if s.Recompute {
			per = 6
		}
		c := Comm{What: fmt.Sprintf("activations inside each layer (%d per layer)", per), Collective: "all-reduce", Axis: "tensor",
			GroupSize: l.TP, Groups: groups, Times: per * maxLayers * s.MicroBatches,
			BytesPerGPU:  float64(per*maxLayers) * m * 2 * (n - 1) / n * sbh * BytesWeightsPerParam,
			CrossesNodes: crosses(groups)}
		c.finish()
		out = append(out, c)
	}
	if l.PP > 1 {
		var groups [][]int
		cross := false
		for st := 0; st+1 < l.PP; st++ {
			for r := 0; r < l.DP*l.TP; r++ {
				from := st*l.DP*l.TP + r
				to := from + l.DP*l.TP
				groups = append(groups, []int{from, to})
				cross = cross || from/GPUsPerNode != to/GPUsPerNode
			}
		}
		// A middle stage sends each micro-batch's activations forward and
		// their gradients back: 2·s·b·h bytes each, split over TP ranks.
		c := Comm{What: "activations to the next stage, gradients back", Collective: "send/recv", Axis: "pipeline",
			GroupSize: 2, Groups: groups, Times: 2 * s.MicroBatches,
			BytesPerGPU: 2 * m * sbh * BytesWeightsPerParam / float64(l.TP), CrossesNodes: cross}
		c.finish()
		out = append(out, c)
	}
	if l.DP > 1 && !l.Sharded {
		c := Comm{What: "average the gradients", Collective: "all-reduce", Axis: "data",
			GroupSize: l.DP, Groups: dpGroups, Times: 1,
			BytesPerGPU:  AllReduceBytes(l.DP, maxParams*BytesGradsPerParam),
			CrossesNodes: crosses(dpGroups)}
		c.finish()
		out = append(out, c)
	}
	return out
}

// AllReduceBytes is what each of n GPUs sends in a ring all-reduce of b
// bytes: 2·(n−1)/n·b, a reduce-scatter and an all-gather of (n−1)/n·b each
// (Patarasuk & Yuan 2009). It is 0 for n ≤ 1 or b ≤ 0.
func AllReduceBytes(n int, b float64) float64 {
	if n <= 1 || !(b > 0) || math.IsInf(b, 0) {
		return 0
	}
	return 2 * float64(n-1) / float64(n) * b
}

// ZeROBytesPerGPU is the model-state memory per GPU for psi parameters on
// nd data-parallel GPUs at ZeRO stage 0 (plain data parallelism) to 3, with
// K = 12 bytes of optimizer state (Rajbhandari et al. 2020, §5 and Figure
// 1): stage 1 shards the optimizer state, stage 2 the gradients too, stage 3
// the weights too. Stages outside 0–3 are clamped; psi < 0 counts as 0.
func ZeROBytesPerGPU(psi float64, nd, stage int) float64 {
	psi = clampFloatNaN(psi, 0, scalingMaxCount, 0)
	n := float64(max(nd, 1))
	w, g, k := BytesWeightsPerParam*psi, BytesGradsPerParam*psi, BytesOptimizerPerParam*psi
	switch clampIntTo(stage, 0, 3) {
	case 1:
		return w + g + k/n
	case 2:
		return w + (g+k)/n
	case 3:
		return (w + g + k) / n
	}
	return w + g + k
}

// BubbleFraction is the share of a pipeline step that GPUs sit idle with p
// stages and m micro-batches, when forward and backward passes take the same
// time on every stage: (p−1)/(m+p−1). Narayanan et al. (2021, §2.2) give the
// bubble as (p−1)/m of the ideal time; as a share of the whole step that is
// (p−1)/(m+p−1). It is 0 for p ≤ 1; m < 1 counts as 1.
func BubbleFraction(p, m int) float64 {
	if p <= 1 {
		return 0
	}
	m = max(m, 1)
	return float64(p-1) / float64(m+p-1)
}

// Work is what a pipeline stage does in one time step.
type Work int

// The kinds of time step.
const (
	// Idle is the bubble: the stage waits for its neighbours.
	Idle Work = iota
	// Forward runs a micro-batch's forward pass through the stage's layers.
	Forward
	// Backward runs its backward pass.
	Backward
)

// Slot is one stage's work in one time step.
type Slot struct {
	Work Work
	// Micro is the 0-based micro-batch (meaningless when Idle).
	Micro int
}

// Timeline is a pipeline schedule drawn as a grid: Grid[stage][time]. A
// forward and a backward pass each take one time step.
type Timeline struct {
	Schedule Schedule
	// Stages is p and Micro is m.
	Stages, Micro int
	Grid          [][]Slot
}

// pipeOp is one entry of a stage's work list.
type pipeOp struct {
	work  Work
	micro int
}

// stageOrder is the sequence of passes stage s runs under sched.
func stageOrder(sched Schedule, p, m, s int) []pipeOp {
	ops := make([]pipeOp, 0, 2*m)
	if sched == GPipe {
		for j := range m {
			ops = append(ops, pipeOp{Forward, j})
		}
		// The last micro-batch in is the first one back: its activations
		// are freshest at the last stage.
		for j := m - 1; j >= 0; j-- {
			ops = append(ops, pipeOp{Backward, j})
		}
		return ops
	}
	// 1F1B: p−s−1 warm-up forwards, then alternate one forward and one
	// backward, then drain the remaining backwards.
	warm := min(p-s-1, m)
	for j := range warm {
		ops = append(ops, pipeOp{Forward, j})
	}
	b := 0
	for f := warm; f < m; f++ {
		ops = append(ops, pipeOp{Forward, f}, pipeOp{Backward, b})
		b++
	}
	for ; b < m; b++ {
		ops = append(ops, pipeOp{Backward, b})
	}
	return ops
}

// PipelineTimeline runs sched with p stages and m micro-batches: each stage
// works through its list of passes in order, starting each as soon as the
// pass it depends on has finished (a forward needs the previous stage's
// forward of that micro-batch, a backward the next stage's backward and its
// own forward). p is clamped to [1, 64] and m to [1, 256]; an unknown
// schedule is 1F1B.
func PipelineTimeline(sched Schedule, p, m int) Timeline {
	p = clampIntTo(p, 1, maxPipeStages)
	m = clampIntTo(m, 1, maxPipeMicro)
	if sched != GPipe {
		sched = OneFOneB
	}
	order := make([][]pipeOp, p)
	for s := range p {
		order[s] = stageOrder(sched, p, m, s)
	}
	const notYet = math.MaxInt
	doneF := make([][]int, p) // time step at whose end the pass finished
	doneB := make([][]int, p)
	for s := range p {
		doneF[s] = make([]int, m)
		doneB[s] = make([]int, m)
		for j := range m {
			doneF[s][j], doneB[s][j] = notYet, notYet
		}
	}
	next := make([]int, p)
	grid := make([][]Slot, p)
	remaining := 2 * p * m
	// Every step some stage can move (the schedules cannot deadlock), so
	// 2·m·p steps always suffice; the bound only guards the loop.
	for t := 0; remaining > 0 && t < 2*m*p+2*p; t++ {
		for s := range p {
			slot := Slot{Work: Idle}
			if next[s] < len(order[s]) {
				op := order[s][next[s]]
				ready := false
				switch op.work {
				case Forward:
					ready = s == 0 || doneF[s-1][op.micro] < t
				case Backward:
					ready = doneF[s][op.micro] < t && (s == p-1 || doneB[s+1][op.micro] < t)
				}
				if ready {
					slot = Slot{Work: op.work, Micro: op.micro}
					next[s]++
					remaining--
				}
			}
			grid[s] = append(grid[s], slot)
		}
		// Mark this step's passes done only after every stage has chosen,
		// so no pass starts in the same step as the one it waits for.
		for s := range p {
			sl := grid[s][t]
			switch sl.Work {
			case Forward:
				doneF[s][sl.Micro] = t
			case Backward:
				doneB[s][sl.Micro] = t
			}
		}
	}
	return Timeline{Schedule: sched, Stages: p, Micro: m, Grid: grid}
}

// Steps is the timeline's length in time steps.
func (tl Timeline) Steps() int {
	if len(tl.Grid) == 0 {
		return 0
	}
	return len(tl.Grid[0])
}

// Busy counts the steps stage spends working.
func (tl Timeline) Busy(stage int) int {
	if stage < 0 || stage >= len(tl.Grid) {
		return 0
	}
	n := 0
	for _, sl := range tl.Grid[stage] {
		if sl.Work != Idle {
			n++
		}
	}
	return n
}

// IdleFraction is the measured share of (stage, step) cells that are idle.
func (tl Timeline) IdleFraction() float64 {
	cells, busy := 0, 0
	for s := range tl.Grid {
		cells += len(tl.Grid[s])
		busy += tl.Busy(s)
	}
	if cells == 0 {
		return 0
	}
	return float64(cells-busy) / float64(cells)
}

// PeakInFlight is the most micro-batches stage holds activations for at
// once: forwards done whose backward has not yet finished.
func (tl Timeline) PeakInFlight(stage int) int {
	if stage < 0 || stage >= len(tl.Grid) {
		return 0
	}
	held, peak := 0, 0
	for _, sl := range tl.Grid[stage] {
		switch sl.Work {
		case Forward:
			held++
			peak = max(peak, held)
		case Backward:
			held--
		}
	}
	return peak
}

// Validate checks the timeline obeys the rules of a pipeline: every stage
// runs each micro-batch's forward and backward exactly once; a forward on
// stage s comes after the forward on s−1; a backward comes after the
// backward on s+1 and after its own forward. One slot per stage and step is
// the grid's shape, so no GPU does two things at once.
func (tl Timeline) Validate() error {
	p, m := tl.Stages, tl.Micro
	if p < 1 || m < 1 || len(tl.Grid) != p {
		return fmt.Errorf("timeline has %d rows for %d stages", len(tl.Grid), p)
	}
	steps := tl.Steps()
	fwd := make([][]int, p)
	bwd := make([][]int, p)
	for s := range p {
		if len(tl.Grid[s]) != steps {
			return fmt.Errorf("stage %d has %d steps, stage 0 has %d", s, len(tl.Grid[s]), steps)
		}
		fwd[s] = make([]int, m)
		bwd[s] = make([]int, m)
		for j := range m {
			fwd[s][j], bwd[s][j] = -1, -1
		}
		for t, sl := range tl.Grid[s] {
			if sl.Work == Idle {
				continue
			}
			if sl.Micro < 0 || sl.Micro >= m {
				return fmt.Errorf("stage %d step %d: micro-batch %d of %d", s, t, sl.Micro, m)
			}
			at := fwd[s]
			if sl.Work == Backward {
				at = bwd[s]
			}
			if at[sl.Micro] >= 0 {
				return fmt.Errorf("stage %d runs micro-batch %d's pass twice", s, sl.Micro)
			}
			at[sl.Micro] = t
		}
	}
	for s := range p {
		for j := range m {
			f, b := fwd[s][j], bwd[s][j]
			switch {
			case f < 0 || b < 0:
				return fmt.Errorf("stage %d never runs micro-batch %d both ways", s, j)
			case s > 0 && f <= fwd[s-1][j]:
				return fmt.Errorf("stage %d forwards micro-batch %d before stage %d", s, j, s-1)
			case s < p-1 && b <= bwd[s+1][j]:
				return fmt.Errorf("stage %d runs micro-batch %d backward before stage %d", s, j, s+1)
			case b <= f:
				return fmt.Errorf("stage %d runs micro-batch %d backward before forward", s, j)
			}
		}
	}
	return nil
}
