package lessons

import (
	"fmt"
	"math"
	"strings"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// batchProse explains the two policies and why a batch is nearly free,
// with when it stops being so: once the slots' caches or the arithmetic
// outweigh the weight reading (sim.DecodeBatchLimits, a roofline estimate
// for the chapter's model on an H100).
func (c *Inference) batchProse(th *ui.Theme, width int) string {
	l := sim.DecodeBatchLimits(c.work, c.workKV, 2, sim.H100BF16DenseFLOPS, sim.H100HBMBytesPerSec)
	text := fmt.Sprintf("A GPU decodes conversations together: one step reads every weight once and gives "+
		"each busy slot its next token, so while that reading is most of the step a full batch costs about one "+
		"conversation. Static batching waits for a batch's longest request while finished slots idle; "+
		"continuous batching refills a slot at once. For %s on an H100 that holds to about %s cached "+
		"tokens (caches as big as its weights) or %s slots (arithmetic as slow as reading).",
		c.work.Name, numGroup(int64(math.Round(l.KVTokens))), numGroup(int64(math.Round(l.ComputeBatch))))
	return siWrap(th.Text.Render(text)+"  "+th.Badge(ui.Estimate), width)
}

// renderBatch draws the batching part: the idea with when it stops holding,
// one request stream served by static and by continuous batching side by
// side, what the second gains, and the requests themselves.
func (c *Inference) renderBatch(th *ui.Theme, v Values, width int, spot string) string {
	slots, n, seed := v.Int("slots"), v.Int("requests"), uint64(v.Int("batch_seed"))
	reqs := sim.RequestStream(n, seed)
	st := sim.SimulateBatching(reqs, slots, false)
	co := sim.SimulateBatching(reqs, slots, true)
	title := infTitle(th, "Batching", "one step decodes a token for every busy slot; keep the slots busy", width)
	legend := siWrap(fmt.Sprintf("A letter is a request making a token, %s an idle slot  %s",
		th.Muted.Render("·"), th.Badge(ui.Computed)), width)
	var desc []string
	for i, q := range reqs {
		desc = append(desc, fmt.Sprintf("%s %d+%d", infReqName(i), q.Arrival, q.Length))
	}
	stream := th.Subtle.Render(siWrap("arrival step + tokens: "+strings.Join(desc, "  "), width))

	steps := max(st.Steps, co.Steps)
	labW := 8
	avail := max(width-labW-6, 8)
	per := max((steps+avail-1)/avail, 1) // steps per column, when long
	timeline := func(run sim.BatchRun, name, id string) string {
		head := th.Strong.Render(ui.PadRight(name, 11)) +
			fmt.Sprintf("%s · %s tokens/step · mean latency %s steps",
				Count(run.Steps, "step", "steps"), th.Strong.Render(infDec(run.Throughput, 2)),
				th.Strong.Render(infDec(run.MeanLatency, 1)))
		lines := []string{infIndent(head, width, spotMark(th, spot == id))}
		for s, row := range run.Grid {
			var b strings.Builder
			for col := 0; col*per < steps; col++ {
				q := -1
				if t := col * per; t < len(row) {
					q = row[t]
				}
				if q < 0 {
					if col*per < run.Steps {
						b.WriteString(th.Muted.Render("·"))
					} else {
						b.WriteByte(' ')
					}
					continue
				}
				b.WriteString(chipStyle(th, q).Render(infReqName(q)))
			}
			lines = append(lines, th.Subtle.Render(ui.PadRight(fmt.Sprintf("  slot %d", s+1), labW))+" "+b.String())
		}
		return strings.Join(lines, "\n")
	}
	axis := ""
	if per > 1 {
		axis = th.Subtle.Render(fmt.Sprintf("  one column = %d steps", per))
	}
	static := timeline(st, "static", "batch:static")
	cont := timeline(co, "continuous", "batch:continuous")
	verdict := siWrap(fmt.Sprintf("Continuous batching: %s× the throughput, mean latency %s → %s steps.",
		infDec(co.Throughput/max(st.Throughput, 1e-9), 1), infDec(st.MeanLatency, 1), infDec(co.MeanLatency, 1)), width)
	// The claim that a batch costs about one conversation comes with when
	// it stops holding, in the same block, so one is never shown without
	// the other.
	prose := c.batchProse(th, width)

	// The idea, then the two timelines under their legend, then what they
	// add up to and the requests they served. Nothing is left out on a
	// short screen: the body scrolls.
	figs := legend + "\n" + static + "\n" + cont
	if axis != "" {
		figs += "\n" + axis
	}
	return ui.Column(title, prose, figs, verdict, stream)
}

// infReqName is request i's letter: A to Z, then a to z.
func infReqName(i int) string {
	switch {
	case i < 26:
		return string(rune('A' + i))
	case i < 52:
		return string(rune('a' + i - 26))
	}
	return "#"
}
