package lessons

import (
	"math"
	"strconv"
	"strings"
)

// Number formatting shared by the chapters that print model sizes, compute
// budgets and bills. A learner should see the exact figure where one exists
// ("124,439,808") and a short form they can say out loud ("124.4M") beside
// it, so every helper here is deterministic and never prints Go's "+Inf" or
// "1e+23" forms.

// numGroup writes n with thousands separators: 124439808 → "124,439,808".
func numGroup(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// numScaled divides x by the largest unit it reaches and prints it with
// three or four significant figures. units ascend; suffixes has one more
// entry than units, the first for values below the first unit (which print
// whole).
func numScaled(x float64, units []float64, suffixes []string, sep string) string {
	if math.IsNaN(x) {
		return "?"
	}
	if math.IsInf(x, 0) {
		if x < 0 {
			return "-∞"
		}
		return "∞"
	}
	neg := x < 0
	x = math.Abs(x)
	i := -1
	for j, u := range units {
		if x >= u*0.9995 {
			i = j
		}
	}
	var s string
	if i < 0 {
		s = strconv.FormatFloat(x, 'f', 0, 64)
		if x < 10 && x != math.Trunc(x) {
			s = strconv.FormatFloat(x, 'f', 2, 64)
		}
		s += sep + suffixes[0]
	} else {
		v := x / units[i]
		// The last unit has no larger neighbour, so it keeps growing.
		prec := 1
		if v < 9.995 {
			prec = 2
		} else if v >= 999.95 {
			prec = 0
		}
		s = strconv.FormatFloat(v, 'f', prec, 64) + sep + suffixes[i+1]
	}
	if neg {
		s = "-" + s
	}
	return strings.TrimRight(s, " ")
}

// numShort is a count in words people say: 124439808 → "124.4M",
// 6.7e9 → "6.70B", 1.4e12 → "1.40T".
func numShort(x float64) string {
	return numScaled(x, []float64{1e3, 1e6, 1e9, 1e12}, []string{"", "K", "M", "B", "T"}, "")
}

// numCount is an exact count with its short form: "124,439,808 (124.4M)".
// Small counts need no short form.
func numCount(n int64) string {
	if n < 10_000 && n > -10_000 {
		return numGroup(n)
	}
	return numGroup(n) + " (" + numShort(float64(n)) + ")"
}

// numSci is scientific notation as papers print it: 3.1465e23 → "3.15e23".
func numSci(x float64) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return numScaled(x, nil, []string{""}, "")
	}
	s := strconv.FormatFloat(x, 'e', 2, 64)
	mant, exp, _ := strings.Cut(s, "e")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		return mant
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// numSI prints x with an SI prefix before unit: 188743680 FLOP →
// "188.7 MFLOP", 1.6e10 B → "16.06 GB".
func numSI(x float64, unit string) string {
	return numScaled(x, []float64{1e3, 1e6, 1e9, 1e12, 1e15, 1e18},
		[]string{" " + unit, " k" + unit, " M" + unit, " G" + unit, " T" + unit, " P" + unit, " E" + unit}, "")
}

// numDollars is a bill: "$825.3K", "$61.7M", "$12".
func numDollars(x float64) string {
	s := numScaled(x, []float64{1e3, 1e6, 1e9, 1e12}, []string{"", "K", "M", "B", "T"}, "")
	if strings.HasPrefix(s, "-") {
		return "-$" + s[1:]
	}
	return "$" + s
}

// numDays is an elapsed time given in days, in the unit a person would use:
// hours under a day, days under two years, years beyond.
func numDays(days float64) string {
	switch {
	case math.IsNaN(days) || days < 0:
		return "?"
	case days < 1:
		return strconv.FormatFloat(days*24, 'f', 1, 64) + " hours"
	case days < 100:
		return strconv.FormatFloat(days, 'f', 1, 64) + " days"
	case days < 730.5:
		return numGroup(int64(math.Round(days))) + " days"
	}
	years := days / 365.25
	if years >= 1e6 {
		return numSci(years) + " years"
	}
	return numShort(years) + " years"
}

// FormatEstimate prints a student's estimate, or a poll's answer, compactly and
// the same wherever it is shown (the class's screen, the class report):
// "1,234", "3.14", "3.5e+06".
func FormatEstimate(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6 || a < 0.01:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a == math.Trunc(a):
		return numGroup(int64(v))
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// Count says n things with the right noun and thousands separators:
// "1 token", "2,048 tokens". Every count on screen reads right for one.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return numGroup(int64(n)) + " " + many
}

// countWords is Count with a small number spelled out, "nine stops", as
// running prose writes it; from 13 on it is Count's digits.
func countWords(n int, one, many string) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve"}
	switch {
	case n < 0 || n >= len(words):
		return Count(n, one, many)
	case n == 1:
		return words[n] + " " + one
	}
	return words[n] + " " + many
}
