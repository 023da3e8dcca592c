package lessons

import (
	"maps"
	"strconv"
)

// Values are a lesson's control values by key, in canonical string form.
// Treat a Values as immutable once made: With returns a changed copy, so a
// Values can be shared between sessions and compared safely.
type Values map[string]string

// Defaults is the values of controls before anyone touches them.
func Defaults(controls []Control) Values {
	v := make(Values, len(controls))
	for _, c := range controls {
		v[c.Key] = c.Clamp(c.Default)
	}
	return v
}

// Normalize returns v with every control present and valid: missing keys
// get defaults, bad values are clamped, unknown keys are dropped.
func Normalize(controls []Control, v Values) Values {
	out := make(Values, len(controls))
	for _, c := range controls {
		s, ok := v[c.Key]
		if !ok {
			s = c.Default
		}
		out[c.Key] = c.Clamp(s)
	}
	return out
}

// With returns a copy of v with key set to value.
func (v Values) With(key, value string) Values {
	out := maps.Clone(v)
	if out == nil {
		out = Values{}
	}
	out[key] = value
	return out
}

// Float reads a number (0 if missing or malformed).
func (v Values) Float(key string) float64 {
	f, _ := strconv.ParseFloat(v[key], 64)
	return f
}

// Int reads a number rounded to the nearest whole number.
func (v Values) Int(key string) int {
	f := v.Float(key)
	if f < 0 {
		return int(f - 0.5)
	}
	return int(f + 0.5)
}

// Bool reads a toggle.
func (v Values) Bool(key string) bool { return v[key] == "true" }

// Equal reports whether two sets of values are the same.
func (v Values) Equal(o Values) bool { return maps.Equal(v, o) }
