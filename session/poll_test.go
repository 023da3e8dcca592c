package session

import "testing"

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{
		"1200": 1200, "1,200": 1200, "3.5e6": 3.5e6, "40M": 40e6, "40 m": 40e6, "2.1 billion": 2.1e9,
		"1k": 1000, "7T": 7e12, "-3": -3, " 12 ": 12, "0.5": 0.5,
	} {
		got, err := ParseNumber(in)
		if err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "NaN", "inf", "1e999", "12x", "--1"} {
		if v, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) = %v, want an error", bad, v)
		}
	}
}
