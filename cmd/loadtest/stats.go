package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// quantiles summarise a set of durations, in milliseconds.
type quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// quantilesOf takes nearest-rank quantiles: each is a duration that was
// measured, never an interpolation.
func quantilesOf(ds []time.Duration) quantiles {
	if len(ds) == 0 {
		return quantiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := max(int(math.Ceil(q*float64(len(s))))-1, 0)
		return float64(s[i]) / float64(time.Millisecond)
	}
	return quantiles{N: len(s), P50: at(.5), P90: at(.9), P99: at(.99), Max: at(1)}
}

// verification is what the x/vt cross-check found.
type verification struct {
	Clients    int    `json:"clients"`    // clients whose screens were compared
	Screens    int    `json:"screens"`    // screens compared
	Mismatches int    `json:"mismatches"` // screens where the model and x/vt differed
	First      string `json:"first_mismatch,omitempty"`
}

// addrResult is one address's share of a measurement: the students sent
// there and what they saw of the instructor's steps (taken wherever the
// instructor is).
type addrResult struct {
	Addr             string    `json:"addr"`
	Students         int       `json:"students"`
	Joined           int       `json:"joined"`
	JoinFailures     int       `json:"join_failures"`
	Samples          int       `json:"samples"` // its students × steps
	Shown            int       `json:"shown"`
	Misses           int       `json:"misses"`
	MissesSuperseded int       `json:"misses_superseded"`
	MissesTimedOut   int       `json:"misses_timed_out"`
	Latency          quantiles `json:"latency"` // key press to each of its students' screens
}

// result is every figure of one measurement. Figures read from /proc are
// nil without the process's ID.
type result struct {
	Target string `json:"target"`
	Door   string `json:"door"` // how the students connected: "ssh" or "web"
	// Addr is the SSH addresses, comma-separated: the instructor's (the
	// first), and the students' by SSH; Web the students' WebSockets when
	// they come by web.
	Addr string `json:"addr"`
	Web  string `json:"web,omitempty"`
	PID  int    `json:"pid,omitempty"`

	Students       int       `json:"students"`
	Joined         int       `json:"joined"`
	JoinFailures   int       `json:"join_failures"`
	JoinFirstError string    `json:"join_first_error,omitempty"`
	JoinSeconds    float64   `json:"join_seconds"`
	Join           quantiles `json:"join"` // each student: connect to showing the class

	Steps          int     `json:"steps"`
	Pace           string  `json:"pace"`
	StepsPerSecond float64 `json:"steps_per_second"`

	Samples          int                  `json:"samples"` // students × steps
	Shown            int                  `json:"shown"`
	Misses           int                  `json:"misses"`
	MissesSuperseded int                  `json:"misses_superseded"`
	MissesTimedOut   int                  `json:"misses_timed_out"`
	Latency          quantiles            `json:"latency"`      // key press to each student's screen
	LastStudent      quantiles            `json:"last_student"` // per step, to the slowest student's screen
	BySize           map[string]quantiles `json:"latency_by_size"`
	ByAddr           []addrResult         `json:"by_addr"` // the students' addresses in the order given, one or more

	BytesPerStudentPerStep       float64 `json:"bytes_per_student_per_step"`
	FramesPerStudentPerStep      float64 `json:"frames_per_student_per_step"` // synchronized updates
	IdleBytesPerStudentPerSecond float64 `json:"idle_bytes_per_student_per_second"`

	CPUPerStepMs        *float64 `json:"cpu_per_step_ms,omitempty"`
	CPUPerStudentStepUs *float64 `json:"cpu_per_student_step_us,omitempty"`
	IdleCPUCores        *float64 `json:"idle_cpu_cores,omitempty"`
	RSSBeforeMiB        *float64 `json:"rss_before_mib,omitempty"`
	RSSJoinedMiB        *float64 `json:"rss_joined_mib,omitempty"`
	RSSPerSessionKiB    *float64 `json:"rss_per_session_kib,omitempty"`

	Verify verification `json:"verify"`
}

// report is what a run prints: the server's figures and, with --floor,
// the floor's beside them and their ratio.
type report struct {
	Config struct {
		Students int      `json:"students"`
		Door     string   `json:"door"` // the students' door at the server: "ssh" or "web" (the floor's is ssh)
		Steps    int      `json:"steps"`
		Pace     string   `json:"pace"`
		Sizes    []string `json:"sizes"`
		Chapter  string   `json:"chapter"`
		Control  string   `json:"control"`
		Payload  int      `json:"floor_payload_bytes,omitempty"`
	} `json:"config"`
	Server *result             `json:"server"`
	Floor  *result             `json:"floor,omitempty"`
	Ratio  map[string]*float64 `json:"server_to_floor,omitempty"`
}

// figure is one row of the table.
type figure struct {
	name string
	key  string // for the JSON ratios; "" for none
	get  func(r *result) (float64, bool)
	unit string
	prec int
}

func always(f func(r *result) float64) func(r *result) (float64, bool) {
	return func(r *result) (float64, bool) { return f(r), true }
}

func optional(f func(r *result) *float64) func(r *result) (float64, bool) {
	return func(r *result) (float64, bool) {
		if p := f(r); p != nil {
			return *p, true
		}
		return 0, false
	}
}

func latencyOK(f func(r *result) float64) func(r *result) (float64, bool) {
	return func(r *result) (float64, bool) { return f(r), r.Latency.N > 0 }
}

// figures are the table's rows with a number, in order.
func figures() []figure {
	return []figure{
		{"latency p50", "latency_p50", latencyOK(func(r *result) float64 { return r.Latency.P50 }), "ms", 1},
		{"latency p90", "latency_p90", latencyOK(func(r *result) float64 { return r.Latency.P90 }), "ms", 1},
		{"latency p99", "latency_p99", latencyOK(func(r *result) float64 { return r.Latency.P99 }), "ms", 1},
		{"latency max", "latency_max", latencyOK(func(r *result) float64 { return r.Latency.Max }), "ms", 1},
		{"slowest student per step, p50", "last_student_p50", latencyOK(func(r *result) float64 { return r.LastStudent.P50 }), "ms", 1},
		{"slowest student per step, max", "last_student_max", latencyOK(func(r *result) float64 { return r.LastStudent.Max }), "ms", 1},
		{"bytes per student per step", "bytes_per_student_per_step", always(func(r *result) float64 { return r.BytesPerStudentPerStep }), "B", 0},
		{"frames per student per step", "", always(func(r *result) float64 { return r.FramesPerStudentPerStep }), "", 2},
		{"CPU per step", "cpu_per_step", optional(func(r *result) *float64 { return r.CPUPerStepMs }), "ms", 2},
		{"CPU per student per step", "cpu_per_student_step", optional(func(r *result) *float64 { return r.CPUPerStudentStepUs }), "µs", 1},
		{"idle CPU", "idle_cpu", optional(func(r *result) *float64 {
			if r.IdleCPUCores == nil {
				return nil
			}
			return ptr(*r.IdleCPUCores * 100)
		}), "% of a core", 1},
		{"idle bytes per student per second", "", always(func(r *result) float64 { return r.IdleBytesPerStudentPerSecond }), "B", 1},
		{"RSS before students", "", optional(func(r *result) *float64 { return r.RSSBeforeMiB }), "MiB", 1},
		{"RSS with everyone", "", optional(func(r *result) *float64 { return r.RSSJoinedMiB }), "MiB", 1},
		{"RSS per session", "rss_per_session", optional(func(r *result) *float64 { return r.RSSPerSessionKiB }), "KiB", 0},
	}
}

// ratios are server ÷ floor for every figure that has a key.
func ratios(server, floor *result) map[string]*float64 {
	out := map[string]*float64{}
	for _, f := range figures() {
		if f.key == "" {
			continue
		}
		s, ok1 := f.get(server)
		fl, ok2 := f.get(floor)
		if ok1 && ok2 && fl > 0 {
			out[f.key] = ptr(s / fl)
		} else {
			out[f.key] = nil
		}
	}
	return out
}

// writeJSON prints the report as one JSON object.
func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// writeTable prints the report for a person.
func (rep *report) writeTable(w io.Writer) error {
	c := rep.Config
	spread := ""
	if n := len(rep.Server.ByAddr); n > 1 {
		spread = fmt.Sprintf(" round-robin at %d addresses", n)
	}
	fmt.Fprintf(w, "%d students by %s%s (%s), %d steps of %q in chapter %s, pace %s\n\n",
		c.Students, c.Door, spread, strings.Join(c.Sizes, ", "), c.Steps, c.Control, c.Chapter, c.Pace)
	var rows [][]string
	cols := []*result{rep.Server}
	if rep.Floor != nil {
		cols = append(cols, rep.Floor)
		rows = append(rows, []string{"", "server", "floor", "server/floor"})
	} else {
		rows = append(rows, []string{"", "server"})
	}
	row := func(name string, cells ...string) {
		rows = append(rows, append([]string{name}, cells...))
	}
	texts := func(f func(r *result) string) []string {
		var out []string
		for _, r := range cols {
			out = append(out, f(r))
		}
		if rep.Floor != nil {
			out = append(out, "")
		}
		return out
	}
	row("students' door", texts(func(r *result) string { return r.Door })...)
	row("students joined", texts(func(r *result) string { return fmt.Sprintf("%d/%d", r.Joined, r.Students) })...)
	row("all joined in", texts(func(r *result) string { return fmt.Sprintf("%.1f s", r.JoinSeconds) })...)
	row("join p50 / p99", texts(func(r *result) string { return fmt.Sprintf("%.0f / %.0f ms", r.Join.P50, r.Join.P99) })...)
	row("steps a second", texts(func(r *result) string { return fmt.Sprintf("%.2f", r.StepsPerSecond) })...)
	row("misses", texts(func(r *result) string {
		return missText(r.Misses, r.Samples, r.MissesSuperseded, r.MissesTimedOut)
	})...)
	for _, f := range figures() {
		var cells []string
		vals := make([]float64, 0, 2)
		oks := make([]bool, 0, 2)
		for _, r := range cols {
			v, ok := f.get(r)
			vals, oks = append(vals, v), append(oks, ok)
			if !ok {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, strings.TrimSpace(fmt.Sprintf("%.*f %s", f.prec, v, f.unit)))
		}
		if rep.Floor != nil {
			ratio := "—"
			if f.key != "" && oks[0] && oks[1] && vals[1] > 0 {
				ratio = fmt.Sprintf("%.1f×", vals[0]/vals[1])
			}
			cells = append(cells, ratio)
		}
		row(f.name, cells...)
	}
	for _, s := range c.Sizes {
		row("latency p50 / p99 at "+s, texts(func(r *result) string {
			q, ok := r.BySize[s]
			if !ok || q.N == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f / %.1f ms", q.P50, q.P99)
		})...)
	}
	// Each address's share, when the students were spread over several:
	// the server's addresses, so the floor's cells stay empty.
	if len(rep.Server.ByAddr) > 1 {
		for _, a := range rep.Server.ByAddr {
			at := func(f func(a addrResult) string) func(r *result) string {
				return func(r *result) string {
					if i := slices.IndexFunc(r.ByAddr, func(b addrResult) bool { return b.Addr == a.Addr }); i >= 0 {
						return f(r.ByAddr[i])
					}
					return "—"
				}
			}
			row("students joined at "+a.Addr, texts(at(func(a addrResult) string {
				return fmt.Sprintf("%d/%d", a.Joined, a.Students)
			}))...)
			row("latency p50 / p99 at "+a.Addr, texts(at(func(a addrResult) string {
				if a.Latency.N == 0 {
					return "—"
				}
				return fmt.Sprintf("%.1f / %.1f ms", a.Latency.P50, a.Latency.P99)
			}))...)
			row("misses at "+a.Addr, texts(at(func(a addrResult) string {
				return missText(a.Misses, a.Samples, a.MissesSuperseded, a.MissesTimedOut)
			}))...)
		}
	}
	row("x/vt cross-check", texts(func(r *result) string {
		return fmt.Sprintf("%d clients, %d screens, %d mismatched", r.Verify.Clients, r.Verify.Screens, r.Verify.Mismatches)
	})...)
	if err := writeColumns(w, rows); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, r := range cols {
		if r.Verify.First != "" {
			fmt.Fprintf(w, "\n%s: first screen where the model and x/vt differ: %s\n", r.Target, r.Verify.First)
		}
		if r.JoinFirstError != "" {
			fmt.Fprintf(w, "\n%s: first join failure: %s\n", r.Target, r.JoinFirstError)
		}
	}
	return nil
}

// missText is a count of misses out of the samples, and why, for the table.
func missText(misses, samples, superseded, timedOut int) string {
	if misses == 0 {
		return fmt.Sprintf("0 of %d", samples)
	}
	return fmt.Sprintf("%d of %d (%d superseded, %d timed out)", misses, samples, superseded, timedOut)
}

// writeColumns prints rows as a table: the first column left-aligned, the
// figures right-aligned.
func writeColumns(w io.Writer, rows [][]string) error {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("   " + pad + c)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
