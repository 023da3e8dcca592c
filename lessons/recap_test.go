package lessons

import (
	"fmt"
	"strings"
	"testing"

	"github.com/expedition-llm/expedition/sim"
)

// The recap repeats the scaling chapter's optimum with the scaling chapter's
// own caveat: the law it comes from (by default Besiroglu et al. 2024's
// refit of Chinchilla's law, arXiv:2404.10102), and that it is the split of
// a dense model's 6·N·D. Chinchilla's 5.88e23 FLOPs are best spent, by the
// refit, on 73.0B parameters and 1.34T tokens (18.4 tokens per parameter,
// the paper's ≈20), the figure chapter 4 shows at its defaults.
func TestRecapScalingCarriesTheLaw(t *testing.T) {
	r := chapter(t, "recap")
	sc := chapter(t, "scaling")
	law := scalingLawFor(Defaults(sc.Controls()))
	full := flat(screen(r, nil, 79, 36))
	for _, want := range []string{"By " + law.cite + ", Chinchilla's 5.88e23 FLOPs (C = 6·N·D) are best spent on a dense model of 73.0B parameters on 1.34T tokens.",
		"Besiroglu et al.'s 2024 refit"} {
		if !strings.Contains(full, want) {
			t.Errorf("recap lacks %q:\n%s", want, full)
		}
	}
	if text := flat(screen(sc, Defaults(sc.Controls()), 79, 36)); !strings.Contains(text, "N 73.0B × D 1.34T") {
		t.Errorf("scaling chapter's default optimum is not the recap's:\n%s", text)
	}
	// A short frame scrolls rather than shortening the entry: the law and
	// the optimum are both still there.
	brief := flat(screen(r, nil, 80, 24))
	if !strings.Contains(brief, "By Besiroglu et al.'s 2024 refit of Chinchilla's law,") ||
		!strings.Contains(brief, "73.0B parameters on 1.34T tokens") {
		t.Errorf("recap at 80×24 drops the law from the optimum:\n%s", brief)
	}
}

// pass@k is what a verifier makes of k tries at test time, not what RL
// training does (it raises p): the recap's post-training line says so, in
// the words of chapter 6's "Test time: best of k with a verifier". At the
// chapter's defaults, p = 20% and k = 8: 1 − 0.8⁸ = 83.2%.
func TestRecapPassAtKIsTestTime(t *testing.T) {
	r := chapter(t, "recap")
	pt := chapter(t, "posttrain")
	v := Defaults(pt.Controls())
	k, p := v.Int("k"), v.Float("p")
	out := flat(screen(r, nil, 80, 24))
	want := fmt.Sprintf("Test time, best of %d with a verifier: if one try is right %.0f%% of the time, "+
		"at least one of %d checked tries is right %.1f%% of the time (pass@%d). RL training raises the %.0f%% itself.",
		k, 100*p, k, 100*sim.PassAtK(p, k), k, 100*p)
	if !strings.Contains(out, want) {
		t.Errorf("recap lacks %q:\n%s", want, out)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 tokens", 1: "1 token", 2: "2 tokens", 1500: "1,500 tokens"} {
		if got := Count(n, "token", "tokens"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
