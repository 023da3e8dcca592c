// Package sim holds every computation Expedition shows: the tokenizer and BPE
// trainer, parameter and FLOP formulas, attention, scaling laws, parallelism,
// post-training, sampling and inference figures.
//
// sim is pure: inputs in, numbers out. It does no I/O, reads no clock, keeps
// no package-level mutable state and takes a seed wherever randomness is
// involved, so every screen that renders from it is reproducible. It never
// panics on user input: out-of-range values are clamped or reported as errors.
package sim
