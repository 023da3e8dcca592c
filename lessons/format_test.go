package lessons

import (
	"math"
	"testing"
)

func TestNumberFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{numGroup(124439808), "124,439,808"},
		{numGroup(0), "0"},
		{numGroup(-1234567), "-1,234,567"},
		{numGroup(999), "999"},
		{FormatEstimate(3042), "3,042"},
		{FormatEstimate(3041.65), "3041.65"},
		{FormatEstimate(3.5e6), "3.5e+06"},
		{FormatEstimate(0), "0"},
		{FormatEstimate(0.001), "0.001"},
		{numShort(124439808), "124.4M"},
		{numShort(6738415616), "6.74B"},
		{numShort(1.4e12), "1.40T"},
		{numShort(999999), "1.00M"},
		{numShort(999400), "999.4K"},
		{numShort(512), "512"},
		{numShort(2e16), "20000T"},
		{numCount(124439808), "124,439,808 (124.4M)"},
		{numCount(9999), "9,999"},
		{numSci(3.1464e23), "3.15e23"},
		{numSci(5.88e23), "5.88e23"},
		{numSci(1.5e-5), "1.50e-5"},
		{numSci(7), "7.00"},
		{numSci(0), "0"},
		{numSI(188743680, "FLOP"), "188.7 MFLOP"},
		{numSI(16060522496, "B"), "16.1 GB"},
		{numSI(811706777600, "B"), "811.7 GB"},
		{numSI(12, "B"), "12 B"},
		{numDollars(825400), "$825.4K"},
		{numDollars(61.7e6), "$61.7M"},
		{numDollars(12), "$12"},
		{numDays(0.5), "12.0 hours"},
		{numDays(8.4), "8.4 days"},
		{numDays(541), "541 days"},
		{numDays(3652.5), "10 years"},
		{numShort(math.NaN()), "?"},
		{numShort(math.Inf(1)), "∞"},
		{numDays(math.NaN()), "?"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}
