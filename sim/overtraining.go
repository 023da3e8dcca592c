package sim

import "math"

// Over-training: the compute-optimal split minimises training FLOPs for a
// given loss, but a model is trained once and served for every token it ever
// writes. A smaller model trained on more tokens reaches the same loss for
// more training compute and less serving compute; these functions put
// numbers on that trade.

// OptimalAtLoss returns the compute-optimal model that reaches loss: the N
// and D on Chinchilla's frontier whose predicted loss equals it, which is
// also the cheapest run (least 6·N·D) to reach it.
//
// Along the frontier the two penalty terms keep a fixed ratio. Minimising
// A/N^α + B/D^β at fixed N·D gives α·A/N^α = β·B/D^β (the first-order
// condition behind Hoffmann et al. 2022 equation 4), so the excess loss
// L − E splits as β/(α+β) to the parameter term and α/(α+β) to the token
// term, and each can be solved for on its own:
//
//	N = (A·(α+β) / (β·(L−E)))^(1/α),  D = (B·(α+β) / (α·(L−E)))^(1/β)
//
// ok is false when loss is at or below the irreducible E (no finite model
// reaches it) or NaN; n and d are then 0. Otherwise both are clamped to
// [1, 1e30].
func (c Chinchilla) OptimalAtLoss(loss float64) (n, d float64, ok bool) {
	c = c.sane()
	excess := loss - c.E
	if math.IsNaN(excess) || excess <= 0 {
		return 0, 0, false
	}
	s := c.Alpha + c.Beta
	n = math.Pow(c.A*s/(c.Beta*excess), 1/c.Alpha)
	d = math.Pow(c.B*s/(c.Alpha*excess), 1/c.Beta)
	return clampFloatNaN(n, 1, scalingMaxCount, 1), clampFloatNaN(d, 1, scalingMaxCount, 1), true
}

// OverTraining compares a run of n parameters on d tokens with the
// compute-optimal model that reaches the same predicted loss.
type OverTraining struct {
	// Loss is the run's predicted loss, shared by both models.
	Loss float64
	// OptParams and OptTokens are the compute-optimal model at that loss.
	OptParams, OptTokens float64
	// TrainRatio is the run's training FLOPs over the optimal model's
	// (6·N·D / 6·N*·D*), never below 1: the premium paid to train it.
	TrainRatio float64
	// ServeRatio is the run's FLOPs per generated token over the optimal
	// model's (2·N / 2·N*): below 1 for a smaller, over-trained model.
	ServeRatio float64
}

// CompareToOptimal finds the compute-optimal model at the loss of (n, d)
// and the training and serving ratios between the two. n and d are clamped
// like Loss's. The run's loss always exceeds E, so the comparison exists.
func (c Chinchilla) CompareToOptimal(n, d float64) OverTraining {
	c = c.sane()
	n = clampFloatNaN(n, 1, scalingMaxCount, 1)
	d = clampFloatNaN(d, 1, scalingMaxCount, 1)
	loss := c.Loss(n, d)
	on, od, ok := c.OptimalAtLoss(loss)
	if !ok {
		// Only reachable when both penalties underflow to 0 at enormous n
		// and d: the run is then its own optimum.
		on, od = n, d
	}
	return OverTraining{
		Loss:       loss,
		OptParams:  on,
		OptTokens:  od,
		TrainRatio: math.Max(1, (n*d)/(on*od)),
		ServeRatio: n / on,
	}
}
