package lessons

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is what sort of input a control is.
type Kind int

// The kinds of control a lesson can declare.
const (
	// Slider is a number in [Min, Max] moved in Steps (optionally on a log
	// scale).
	Slider Kind = iota
	// Choice is one of a fixed list of Options.
	Choice
	// Toggle is on or off ("true" or "false").
	Toggle
	// Text is free text of at most MaxLen characters.
	Text
)

// Option is one entry of a Choice.
type Option struct {
	Value string
	Label string
	// Note is a few words shown beside the label, e.g. which models use it.
	Note string
}

// Control declares one input of a lesson as data, so that "the chapter and
// its values" stays a small value the classroom can broadcast and store.
// Values are always strings in canonical form (see Parse).
type Control struct {
	Key   string
	Label string
	Help  string
	Kind  Kind

	// Slider: the range, the size of one step, and how to print a value.
	Min, Max, Step float64
	// Log makes ←/→ move by equal ratios, for ranges that span decades.
	Log bool
	// Steps is the number of positions of a log slider (default 48).
	Steps int
	// Format is the fmt verb for the number (default "%g").
	Format string
	Unit   string

	// Choice: the options, in the order ←/→ walk them.
	Options []Option

	// Text: the most characters the value may hold.
	MaxLen int

	// Default is the value before anyone touches the control.
	Default string

	// When, if set as "key=value", shows the control only while that other
	// control has that value (for controls that belong to one view).
	When string

	// Personal controls belong to each learner (a vote, their own seed):
	// they never follow the instructor, and changing one does not make a
	// learner explore, even while the class is locked.
	Personal bool
}

// Parse checks s against the control and returns it in canonical form. It is
// strict, for input a person typed on a command line: an unknown option, a
// number out of range or text over the limit is an error that says what is
// allowed.
func (c Control) Parse(s string) (string, error) {
	switch c.Kind {
	case Slider:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%s: %q is not a number", c.Key, s)
		}
		if v < c.Min || v > c.Max {
			return "", fmt.Errorf("%s: %s is out of range [%s, %s]", c.Key, s, c.number(c.Min), c.number(c.Max))
		}
		return c.number(v), nil
	case Choice:
		var names []string
		for _, o := range c.Options {
			if o.Value == s {
				return s, nil
			}
			names = append(names, o.Value)
		}
		return "", fmt.Errorf("%s: %q is not one of %s", c.Key, s, strings.Join(names, ", "))
	case Toggle:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "on", "yes", "1":
			return "true", nil
		case "false", "off", "no", "0":
			return "false", nil
		}
		return "", fmt.Errorf("%s: %q is not on or off (true/false)", c.Key, s)
	case Text:
		if n := len([]rune(s)); c.MaxLen > 0 && n > c.MaxLen {
			return "", fmt.Errorf("%s: %d characters is over the limit of %d", c.Key, n, c.MaxLen)
		}
		return s, nil
	}
	return "", fmt.Errorf("%s: unknown kind of control", c.Key)
}

// Clamp turns any string into a valid value of the control, for input that
// must never be refused (a value from another session, an old saved room):
// numbers are clamped into range, unknown options fall back to the default,
// text is cut to MaxLen.
func (c Control) Clamp(s string) string {
	switch c.Kind {
	case Slider:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) {
			v, _ = strconv.ParseFloat(c.Default, 64)
		}
		return c.number(min(max(v, c.Min), c.Max))
	case Text:
		if r := []rune(s); c.MaxLen > 0 && len(r) > c.MaxLen {
			return string(r[:c.MaxLen])
		}
		return s
	}
	if v, err := c.Parse(s); err == nil {
		return v
	}
	return c.Default
}

// number prints v the way values of this slider are stored: on the step grid,
// with no float noise.
func (c Control) number(v float64) string {
	if !c.Log && c.Step > 0 {
		v = c.Min + math.Round((v-c.Min)/c.Step)*c.Step
		v = min(max(v, c.Min), c.Max)
	}
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// Adjust moves the control steps positions from cur (negative is down):
// a slider by its step (or by one ratio on a log scale), a choice to the
// next option (wrapping round), a toggle flips on any odd move.
func (c Control) Adjust(cur string, steps int) string {
	switch c.Kind {
	case Slider:
		v, err := strconv.ParseFloat(c.Clamp(cur), 64)
		if err != nil {
			return c.Default
		}
		if c.Log && c.Min > 0 {
			n := float64(c.logSteps())
			ratio := math.Log(c.Max/c.Min) / n
			pos := math.Round(math.Log(v/c.Min)/ratio) + float64(steps)
			pos = min(max(pos, 0), n)
			return c.number(c.Min * math.Exp(pos*ratio))
		}
		return c.number(min(max(v+float64(steps)*c.Step, c.Min), c.Max))
	case Choice:
		if len(c.Options) == 0 {
			return cur
		}
		i := 0
		for j, o := range c.Options {
			if o.Value == cur {
				i = j
			}
		}
		n := len(c.Options)
		return c.Options[((i+steps)%n+n)%n].Value
	case Toggle:
		if steps%2 == 0 {
			return c.Clamp(cur)
		}
		if c.Clamp(cur) == "true" {
			return "false"
		}
		return "true"
	}
	return cur
}

func (c Control) logSteps() int {
	if c.Steps > 0 {
		return c.Steps
	}
	return 48
}

// Fraction is where the value sits along a slider, from 0 to 1.
func (c Control) Fraction(v string) float64 {
	x, err := strconv.ParseFloat(c.Clamp(v), 64)
	if err != nil || c.Max <= c.Min {
		return 0
	}
	if c.Log && c.Min > 0 {
		return math.Log(x/c.Min) / math.Log(c.Max/c.Min)
	}
	return (x - c.Min) / (c.Max - c.Min)
}

// Display is the value as a person reads it: a formatted number with its
// unit, an option's label, "on" or "off".
func (c Control) Display(v string) string {
	v = c.Clamp(v)
	switch c.Kind {
	case Slider:
		x, _ := strconv.ParseFloat(v, 64)
		f := c.Format
		if f == "" {
			f = "%g"
		}
		s := fmt.Sprintf(f, x)
		if c.Unit != "" {
			s += " " + c.Unit
		}
		return s
	case Choice:
		for _, o := range c.Options {
			if o.Value == v {
				if o.Label != "" {
					return o.Label
				}
				return o.Value
			}
		}
	case Toggle:
		if v == "true" {
			return "on"
		}
		return "off"
	}
	return v
}

// Visible reports whether the control is shown for these values (see When).
func (c Control) Visible(v Values) bool { return holds(c.When, v) }

// holds reports whether a "key=value" condition holds for v ("" always
// does): the When of a control or of a poll.
func holds(when string, v Values) bool {
	if when == "" {
		return true
	}
	k, want, _ := strings.Cut(when, "=")
	return v[k] == want
}
