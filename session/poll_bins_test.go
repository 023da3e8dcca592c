package session

import (
	"fmt"
	"testing"

	"github.com/expedition-llm/expedition/session/room"
)

// binOf is the label of the bar v fell in.
func binOf(t *testing.T, bins []bin, label string) bin {
	t.Helper()
	for _, b := range bins {
		if b.label == label {
			return b
		}
	}
	t.Fatalf("no bar %q in %+v", label, bins)
	return bin{}
}

func countsOf(bins []bin) string {
	s := ""
	for _, b := range bins {
		s += fmt.Sprintf("[%s %d]", b.label, b.count)
	}
	return s
}

// TestEstimateBinsTellCloseAnswersApart: 0.5 and 0.66 once landed in one
// bar; on a 0–1 range they are a bar apart, and on a log scale the bars
// around the truth are fine enough for answers 10 % apart.
func TestEstimateBinsTellCloseAnswersApart(t *testing.T) {
	weight := room.PollSpec{Kind: room.Estimate, Truth: 0.62, Min: 0, Max: 1}
	bins := estimateBins(weight, []float64{0.5, 0.66})
	if binOf(t, bins, "0.50–0.60").count != 1 || binOf(t, bins, "0.60–0.70").count != 1 || !binOf(t, bins, "0.60–0.70").truth {
		t.Errorf("0.5 and 0.66 on 0–1: %s", countsOf(bins))
	}
	count := room.PollSpec{Kind: room.Estimate, Truth: 100}
	bins = estimateBins(count, []float64{95, 105, 1000, -1})
	together := 0
	for _, b := range bins {
		if b.count == 2 {
			together++
		}
	}
	if together > 0 || len(bins) < 9 {
		t.Errorf("95 and 105 around a truth of 100 share a bar: %s", countsOf(bins))
	}
	if b := bins[len(bins)-1]; b.count != 1 || b.label[:5] != "above" {
		t.Errorf("1000 is not gathered at the top: %s", countsOf(bins))
	}
	if bins[0].label != "0 or less" || bins[0].count != 1 {
		t.Errorf("-1 is not in its own bar: %s", countsOf(bins))
	}
	total := 0
	for _, b := range estimateBins(count, []float64{1, 10, 50, 99, 100, 101, 300, 5000, 1e9}) {
		total += b.count
	}
	if total != 9 {
		t.Errorf("%d of 9 answers counted", total)
	}
}
