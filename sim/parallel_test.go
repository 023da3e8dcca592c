package sim

import (
	"math"
	"testing"
)

func near(got, want, rel float64) bool {
	if want == 0 {
		return math.Abs(got) <= rel
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// ZeRO (Rajbhandari et al. 2020): §3.1 counts 2Ψ + 2Ψ + KΨ = 16Ψ bytes for
// mixed-precision Adam, "at least 24 GB" for a 1.5B-parameter model; Figure
// 1 shows a 7.5B model on 64 GPUs needing 120 GB per GPU with plain data
// parallelism, 31.4 GB with P_os (stage 1), 16.6 GB with P_os+g (stage 2)
// and 1.9 GB with P_os+g+p (stage 3).
func TestZeROPublishedMemory(t *testing.T) {
	if BytesPerParamTraining != 16 {
		t.Fatalf("bytes per parameter %d, want 16", BytesPerParamTraining)
	}
	if got := ZeROBytesPerGPU(1.5e9, 1, 0); got != 24e9 {
		t.Errorf("1.5B model state = %g bytes, want 24 GB", got)
	}
	for stage, want := range []float64{120, 31.4, 16.6, 1.9} {
		got := ZeROBytesPerGPU(7.5e9, 64, stage) / 1e9
		if math.Round(got*10)/10 != want {
			t.Errorf("7.5B on 64 GPUs, ZeRO stage %d: %.3f GB, Figure 1 says %.1f", stage, got, want)
		}
	}
	if got := ZeROBytesPerGPU(-1, 0, 9); got != 0 {
		t.Errorf("negative model: %g bytes", got)
	}
}

// A ring all-reduce sends 2·(n−1)/n of the buffer per GPU (Patarasuk & Yuan
// 2009; the NCCL "bus bandwidth" factor).
func TestAllReduceBytes(t *testing.T) {
	if got := AllReduceBytes(16, 1000); got != 1875 {
		t.Errorf("16 GPUs, 1000 bytes: %g, want 1875", got)
	}
	if got := AllReduceBytes(2, 1000); got != 1000 {
		t.Errorf("2 GPUs: %g, want 1000", got)
	}
	for _, n := range []int{-3, 0, 1} {
		if got := AllReduceBytes(n, 1000); got != 0 {
			t.Errorf("%d GPUs: %g, want 0", n, got)
		}
	}
	if got := AllReduceBytes(8, math.NaN()); got != 0 {
		t.Errorf("NaN bytes: %g", got)
	}
}

// Bubble fraction (p−1)/(m+p−1): GPipe (Huang et al. 2019, §2.3) and
// Megatron-LM (Narayanan et al. 2021, §2.2.1, bubble = (p−1)/m of the ideal
// time). GPipe finds the bubble negligible once m ≥ 4p; in Narayanan's terms
// that is (p−1)/m < 1/4.
func TestBubbleFormula(t *testing.T) {
	for _, c := range []struct {
		p, m int
		want float64
	}{
		{1, 8, 0}, {4, 1, 0.75}, {4, 4, 3.0 / 7}, {8, 32, 7.0 / 39}, {2, 1, 0.5}, {8, 1, 7.0 / 8},
	} {
		if got := BubbleFraction(c.p, c.m); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("BubbleFraction(%d, %d) = %v, want %v", c.p, c.m, got, c.want)
		}
	}
	for p := 2; p <= 8; p++ {
		b := BubbleFraction(p, 4*p)
		if ideal := b / (1 - b); ideal >= 0.25 || math.Abs(ideal-float64(p-1)/float64(4*p)) > 1e-12 {
			t.Errorf("p=%d, m=4p: bubble/ideal = %v, want (p−1)/m < 1/4", p, ideal)
		}
	}
	if BubbleFraction(4, -5) != BubbleFraction(4, 1) {
		t.Error("m < 1 not treated as 1")
	}
}

// Every generated schedule is a valid pipeline run: dependencies in order,
// one pass per stage and step, its length 2(m+p−1) steps, its idle share
// exactly the bubble formula, and 1F1B's peak in-flight activations at most
// p (min(p−s, m) on stage s; Narayanan et al. 2021, §2.2.2) while GPipe's
// first stage holds all m.
func TestPipelineTimelinesAreValid(t *testing.T) {
	for _, sched := range []Schedule{GPipe, OneFOneB} {
		for p := 1; p <= 8; p++ {
			for m := 1; m <= 32; m++ {
				tl := PipelineTimeline(sched, p, m)
				if err := tl.Validate(); err != nil {
					t.Fatalf("%s p=%d m=%d: %v", sched, p, m, err)
				}
				if got := tl.Steps(); got != 2*(m+p-1) {
					t.Errorf("%s p=%d m=%d: %d steps, want %d", sched, p, m, got, 2*(m+p-1))
				}
				if got, want := tl.IdleFraction(), BubbleFraction(p, m); math.Abs(got-want) > 1e-12 {
					t.Errorf("%s p=%d m=%d: measured idle %v, formula %v", sched, p, m, got, want)
				}
				for s := range p {
					if tl.Busy(s) != 2*m {
						t.Errorf("%s p=%d m=%d: stage %d busy %d steps, want %d", sched, p, m, s, tl.Busy(s), 2*m)
					}
					peak := tl.PeakInFlight(s)
					if peak != InFlight(sched, p, m, s) {
						t.Errorf("%s p=%d m=%d stage %d: peak in flight %d, InFlight says %d", sched, p, m, s, peak, InFlight(sched, p, m, s))
					}
					if sched == OneFOneB && peak > p {
						t.Errorf("1F1B p=%d m=%d stage %d holds %d > p", p, m, s, peak)
					}
				}
				if sched == GPipe && tl.PeakInFlight(0) != m {
					t.Errorf("GPipe p=%d m=%d: first stage peak %d, want m", p, m, tl.PeakInFlight(0))
				}
			}
		}
	}
}

func TestValidateCatchesBrokenSchedules(t *testing.T) {
	tl := PipelineTimeline(OneFOneB, 3, 4)
	// Swap stage 1's first forward with a later idle slot before it is due.
	broken := Timeline{Schedule: tl.Schedule, Stages: tl.Stages, Micro: tl.Micro}
	for _, row := range tl.Grid {
		broken.Grid = append(broken.Grid, append([]Slot(nil), row...))
	}
	broken.Grid[1][0], broken.Grid[1][1] = broken.Grid[1][1], broken.Grid[1][0]
	if broken.Validate() == nil {
		t.Error("forward on stage 1 at the same step as stage 0 passed validation")
	}
	dup := Timeline{Schedule: tl.Schedule, Stages: 1, Micro: 1, Grid: [][]Slot{{{Forward, 0}, {Forward, 0}}}}
	if dup.Validate() == nil {
		t.Error("a forward run twice passed validation")
	}
	back := Timeline{Schedule: tl.Schedule, Stages: 1, Micro: 1, Grid: [][]Slot{{{Backward, 0}, {Forward, 0}}}}
	if back.Validate() == nil {
		t.Error("backward before forward passed validation")
	}
	if (Timeline{}).Validate() == nil {
		t.Error("empty timeline passed validation")
	}
}

func TestStageLayers(t *testing.T) {
	got := StageLayers(80, 16)
	for s, r := range got {
		if r != [2]int{5*s + 1, 5*s + 5} {
			t.Errorf("80 layers in 16 stages: stage %d has %v", s, r)
		}
	}
	got = StageLayers(12, 16) // GPT-2 small on a 16-stage pipeline
	if got[11] != [2]int{12, 12} || got[12] != [2]int{0, 0} {
		t.Errorf("12 layers in 16 stages: %v", got)
	}
	got = StageLayers(10, 4)
	if got[0] != [2]int{1, 3} || got[1] != [2]int{4, 6} || got[3] != [2]int{9, 10} {
		t.Errorf("10 layers in 4 stages: %v", got)
	}
}

func TestLayouts(t *testing.T) {
	ls := Layouts3D()
	if len(ls) != 14 {
		t.Errorf("%d 3D layouts, want 14", len(ls))
	}
	for _, l := range ls {
		if l.DP*l.PP*l.TP != ClusterGPUs || l.TP > GPUsPerNode {
			t.Errorf("bad layout %v", l)
		}
	}
	if l := LayoutFor(Mode3D, 3, 100); l != (Layout{DP: 1, PP: 2, TP: 8}) {
		t.Errorf("3D with pp=3, tp=100 → %v, want DP1×PP2×TP8", l)
	}
	if l := LayoutFor("bogus", 0, 0); l != (Layout{DP: 16, PP: 1, TP: 1}) {
		t.Errorf("unknown mode → %v", l)
	}
	for _, m := range ParallelModes() {
		l := LayoutFor(m, 2, 4)
		if l.DP*l.PP*l.TP != ClusterGPUs {
			t.Errorf("%s: %v does not use 16 GPUs", m, l)
		}
	}
}

// Llama 3.1 70B (70,553,706,496 parameters: 80 blocks of 855,654,400, two
// 128,256×8,192 tables and a final norm) in every mode, counted by hand at
// 16 bytes per parameter.
func TestParallel70BMemoryPerMode(t *testing.T) {
	a := mustPreset(t, "Llama 3.1 70B")
	const (
		block  = 855_654_400.0
		matrix = 855_638_016.0
		vector = 16_384.0
		table  = 1_050_673_152.0
		norm   = 8192.0
		n      = 70_553_706_496.0
	)
	plan := func(mode ParallelMode, pp, tp int) ParallelPlan {
		return PlanParallel(ParallelSetup{Arch: a, Mode: mode, PP: pp, TP: tp, MicroBatches: 8, Recompute: true})
	}
	state := func(g GPUPlan) float64 { return g.Weights + g.Grads + g.Optimizer }

	data := plan(ModeData, 0, 0)
	if data.Params != int64(n) || data.StateBytes != 16*n {
		t.Fatalf("70B: %d params, %g state bytes", data.Params, data.StateBytes)
	}
	for _, g := range data.GPUs {
		if state(g) != 16*n || g.Fits {
			t.Fatalf("data parallel GPU %d: %g bytes, fits=%v; want the full 1.13 TB, not fitting", g.Index, state(g), g.Fits)
		}
	}

	pipe := plan(ModePipeline, 0, 0)
	first, mid, last := pipe.GPUs[0], pipe.GPUs[7], pipe.GPUs[15]
	if state(first) != 16*(5*block+table) || first.FirstLayer != 1 || first.LastLayer != 5 || !first.Embedding {
		t.Errorf("pipeline stage 1: %g bytes, layers %d–%d", state(first), first.FirstLayer, first.LastLayer)
	}
	if state(mid) != 16*5*block || state(last) != 16*(5*block+table+norm) {
		t.Errorf("pipeline middle %g, last %g", state(mid), state(last))
	}
	if first.Fits || !mid.Fits || pipe.AllFit {
		t.Errorf("pipeline: the first stage (85.3 GB of state) should not fit, a middle one (68.5 GB) should")
	}

	tensor := plan(ModeTensor, 0, 0)
	wantTP := 80*(matrix/8+vector) + 2*table/8 + norm
	if g := tensor.GPUs[3]; math.Abs(g.Params-wantTP) > 1e-3 || g.Fits {
		t.Errorf("tensor TP8: %v params per GPU, want %v (141 GB, not fitting)", g.Params, wantTP)
	}

	fsdp := plan(ModeFSDP, 0, 0)
	g := fsdp.GPUs[5]
	act := 80*2*4096*8192.0 + 34*4096*8192.0
	if !near(state(g), n, 1e-12) || g.Gathered != 2*block || g.Activations != act {
		t.Errorf("FSDP: state %g (want %g), gathered %g, activations %g (want %g)", state(g), n, g.Gathered, g.Activations, act)
	}
	if !near(g.Total, 78_774_575_104, 1e-12) || !fsdp.AllFit {
		t.Errorf("FSDP total %g, fits %v; want 78.77 GB, fitting", g.Total, fsdp.AllFit)
	}

	three := plan(Mode3D, 2, 8)
	want3D := 40*(matrix/8+vector) + table/8
	if g := three.GPUs[0]; math.Abs(g.Params-want3D) > 1e-3 || !three.AllFit {
		t.Errorf("3D DP1×PP2×TP8: %v params on GPU 0 (want %v), all fit %v", g.Params, want3D, three.AllFit)
	}
	if crowded := plan(Mode3D, 2, 4); crowded.AllFit {
		t.Error("3D DP2×PP2×TP4 replicates the state twice (141 GB a GPU) yet fits")
	}
}

// Summed over one model replica, the held parameters are the model plus the
// small vectors every TP rank keeps whole and the tied head's copy.
func TestParallelPlacementCoversTheModel(t *testing.T) {
	for _, a := range ArchPresets() {
		for _, l := range append(Layouts3D(), LayoutFor(ModeFSDP, 0, 0)) {
			mode := Mode3D
			if l.Sharded {
				mode = ModeFSDP
			}
			p := PlanParallel(ParallelSetup{Arch: a, Mode: mode, PP: l.PP, TP: l.TP, MicroBatches: 4})
			sum := 0.0
			for _, g := range p.GPUs {
				sum += g.Params
			}
			sum /= float64(l.DP)
			if l.Sharded {
				sum *= float64(l.DP)
			}
			pb := a.Params()
			lo := float64(pb.Total)
			extra := float64(l.TP-1) * (float64(a.Layers)*float64(pb.Block.Vector) + 2*float64(a.DModel))
			if a.Tied && l.PP > 1 {
				extra += float64(pb.Embedding)
			}
			if sum < lo*(1-1e-12) || sum > (lo+extra)*(1+1e-12) {
				t.Errorf("%s %v: held %.0f params, want between %.0f and %.0f", a.Name, l, sum, lo, lo+extra)
			}
		}
	}
}

// Traffic per step: DP all-reduces 2·(n−1)/n of each GPU's gradient bytes;
// ZeRO-3/FSDP moves 1.5× that (Rajbhandari et al. 2020, §7.2.2: all-gather
// in forward and backward plus a reduce-scatter); TP groups never leave a
// node; PP sends 2·s·b·h bytes per micro-batch each way.
func TestParallelTraffic(t *testing.T) {
	a := mustPreset(t, "Llama 3.1 70B")
	n := float64(a.Params().Total)
	dp := PlanParallel(ParallelSetup{Arch: a, Mode: ModeData, MicroBatches: 1})
	if len(dp.Comms) != 1 || dp.Comms[0].Collective != "all-reduce" || !dp.Comms[0].CrossesNodes {
		t.Fatalf("data parallel traffic: %+v", dp.Comms)
	}
	if got, want := dp.Comms[0].BytesPerGPU, 2*15.0/16*2*n; !near(got, want, 1e-12) {
		t.Errorf("DP all-reduce %g bytes per GPU, want %g", got, want)
	}
	fsdp := PlanParallel(ParallelSetup{Arch: a, Mode: ModeFSDP, MicroBatches: 1})
	total := 0.0
	for _, c := range fsdp.Comms {
		total += c.BytesPerGPU
	}
	if !near(total/dp.Comms[0].BytesPerGPU, 1.5, 1e-12) {
		t.Errorf("FSDP/DP traffic = %v, ZeRO §7.2.2 says 1.5", total/dp.Comms[0].BytesPerGPU)
	}
	for _, l := range Layouts3D() {
		p := PlanParallel(ParallelSetup{Arch: a, Mode: Mode3D, PP: l.PP, TP: l.TP, MicroBatches: 8})
		for _, c := range p.Comms {
			if c.Axis == "tensor" && c.CrossesNodes {
				t.Errorf("%v: tensor-parallel all-reduce crosses nodes", l)
			}
			if c.Seconds < 0 || math.IsNaN(c.Seconds) {
				t.Errorf("%v: %s takes %v s", l, c.What, c.Seconds)
			}
		}
	}
	pp := PlanParallel(ParallelSetup{Arch: a, Mode: ModePipeline, MicroBatches: 8})
	if c := pp.Comms[0]; c.BytesPerGPU != 2*8*2*4096*8192.0 || len(c.Groups) != 15 {
		t.Errorf("pipeline traffic %g bytes, %d boundaries", c.BytesPerGPU, len(c.Groups))
	}
	tp := PlanParallel(ParallelSetup{Arch: a, Mode: ModeTensor, MicroBatches: 1})
	if c := tp.Comms[0]; c.Times != 4*80 || c.CrossesNodes || !near(c.BytesPerGPU, 4*80*2*7.0/8*2*4096*8192, 1e-12) {
		t.Errorf("tensor all-reduces: %+v", c)
	}
}

// The step time stretches by the bubble: a pipeline's ideal compute divided
// by 1 − (p−1)/(m+p−1).
func TestParallelComputeTime(t *testing.T) {
	a := mustPreset(t, "Llama 3 8B")
	p := PlanParallel(ParallelSetup{Arch: a, Mode: ModePipeline, MicroBatches: 16})
	ideal := 6 * float64(a.Params().Total) * 16 * 4096 / (16 * H100BF16DenseFLOPS * AssumedMFU)
	if !near(p.ComputeSeconds, ideal/(1-15.0/31), 1e-12) {
		t.Errorf("pipeline step %v s, want %v", p.ComputeSeconds, ideal/(1-15.0/31))
	}
}

func TestParallelNeverPanics(t *testing.T) {
	for _, s := range []ParallelSetup{
		{},
		{Mode: "x", PP: -5, TP: -1, SeqLen: -1, MicroBatch: -3, MicroBatches: -9},
		{Arch: Arch{DModel: 1 << 30, Layers: 1 << 30, Vocab: 1 << 30}, Mode: Mode3D, PP: 1 << 40, TP: 1 << 40, SeqLen: 1 << 40, MicroBatch: 1 << 40, MicroBatches: 1 << 40},
	} {
		p := PlanParallel(s)
		if len(p.GPUs) != ClusterGPUs {
			t.Errorf("%+v: %d GPUs", s, len(p.GPUs))
		}
		checkPlanFinite(t, p)
	}
}

func checkPlanFinite(t *testing.T, p ParallelPlan) {
	t.Helper()
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) || x < 0 }
	for _, g := range p.GPUs {
		if bad(g.Total) || bad(g.Activations) || bad(g.Params) {
			t.Fatalf("GPU %d: %+v", g.Index, g)
		}
	}
	for _, c := range p.Comms {
		if bad(c.BytesPerGPU) || bad(c.Seconds) {
			t.Fatalf("comm %+v", c)
		}
	}
	if bad(p.ComputeSeconds) || bad(p.Bubble) {
		t.Fatalf("compute %v, bubble %v", p.ComputeSeconds, p.Bubble)
	}
}

func FuzzPlanParallel(f *testing.F) {
	f.Add(4096, 64, 32, 8, 32000, 1024, 2, 4, 8, 1, 0, true, "3d", "1f1b")
	f.Add(1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, false, "fsdp", "gpipe")
	f.Add(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, false, "", "")
	f.Fuzz(func(t *testing.T, d, heads, kv, layers, vocab, ctx, pp, tp, m, mb, seq int, rc bool, mode, sched string) {
		a := Arch{Name: "fuzz", DModel: d, Heads: heads, KVHeads: kv, Layers: layers, Vocab: vocab, Context: ctx, FFN: FFNSwiGLU, Pos: PosRotary, Norm: NormRMS}
		p := PlanParallel(ParallelSetup{Arch: a, Mode: ParallelMode(mode), PP: pp, TP: tp, MicroBatches: m, MicroBatch: mb, SeqLen: seq, Recompute: rc, Schedule: Schedule(sched)})
		if len(p.GPUs) != ClusterGPUs || p.Layout.DP*p.Layout.PP*p.Layout.TP != ClusterGPUs {
			t.Fatalf("layout %v, %d GPUs", p.Layout, len(p.GPUs))
		}
		checkPlanFinite(t, p)
	})
}

func FuzzPipelineTimeline(f *testing.F) {
	f.Add(4, 8, true)
	f.Add(-3, 1000, false)
	f.Fuzz(func(t *testing.T, p, m int, gpipe bool) {
		sched := OneFOneB
		if gpipe {
			sched = GPipe
		}
		tl := PipelineTimeline(sched, p, m)
		if err := tl.Validate(); err != nil {
			t.Fatal(err)
		}
		if math.Abs(tl.IdleFraction()-BubbleFraction(tl.Stages, tl.Micro)) > 1e-12 {
			t.Fatalf("p=%d m=%d: idle %v, formula %v", tl.Stages, tl.Micro, tl.IdleFraction(), BubbleFraction(tl.Stages, tl.Micro))
		}
	})
}

// The published splits are the papers' own figures. Llama 3 (Dubey et al.
// 2024, §3.3.2, Table 4): "4D parallelism" with TP 8, CP 1, PP 16 on 8,192
// GPUs at sequence length 8,192, and TP 8, CP 16, PP 16 on 16,384 GPUs at
// 131,072; the DP column is what fills the GPUs, 64 and 8. DeepSeek-V3
// technical report (§3.2): 16-way PP, 64-way EP spanning 8 nodes, ZeRO-1 DP
// on 2,048 H800 GPUs, without tensor parallelism.
func TestPublishedSplits(t *testing.T) {
	ss := PublishedSplits()
	if len(ss) != 3 {
		t.Fatalf("%d splits", len(ss))
	}
	for _, s := range ss[:2] {
		if s.Model != "Llama 3 405B" || s.TP != 8 || s.PP != 16 || s.Sharding != "FSDP" {
			t.Errorf("Llama 3 split %+v", s)
		}
		if got := s.TP * s.CP * s.PP * s.DP; got != s.GPUs {
			t.Errorf("%s at %d tokens: TP×CP×PP×DP = %d, want %d GPUs", s.Model, s.SeqLen, got, s.GPUs)
		}
	}
	if a, b := ss[0], ss[1]; a.GPUs != 8192 || a.CP != 1 || a.DP != 64 || a.SeqLen != 8192 ||
		b.GPUs != 16384 || b.CP != 16 || b.DP != 8 || b.SeqLen != 131072 {
		t.Errorf("Llama 3 Table 4 rows: %+v, %+v", a, b)
	}
	d := ss[2]
	if d.Model != "DeepSeek-V3" || d.GPUs != 2048 || d.GPU != "H800" || d.PP != 16 || d.EP != 64 || d.TP != 1 || d.Sharding != "ZeRO-1" {
		t.Errorf("DeepSeek-V3 split %+v", d)
	}
	// 16-way PP on 2,048 GPUs without TP or CP leaves 128 ranks a stage,
	// which 64-way EP divides: the report's degrees are consistent.
	if r := d.GPUs / (d.PP * d.TP * d.CP); r%d.EP != 0 {
		t.Errorf("%d ranks a stage, not a multiple of EP %d", r, d.EP)
	}
}
