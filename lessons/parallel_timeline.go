package lessons

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

const timelineProse = "A pipeline cuts the layers into p stages on p GPUs. Each step's batch is " +
	"cut into m micro-batches: stage 1 runs micro-batch 1 forward and hands it on, then takes " +
	"micro-batch 2, and so on; the backward passes come back the other way. Until the pipe is " +
	"full and after it drains, some GPUs have nothing to do: that idle time is the bubble."

// renderTimeline draws the timeline view: what a pipeline is, the grid of
// stages over time steps with its bubble and memory, then how the bubble
// falls with more micro-batches.
func (p *Parallel) renderTimeline(th *ui.Theme, v Values, spot string, width int) string {
	tl := sim.PipelineTimeline(sim.Schedule(v["schedule"]), v.Int("stages"), v.Int("micro"))
	stages, m, steps := tl.Stages, tl.Micro, tl.Steps()
	name, other, otherName := "GPipe", sim.OneFOneB, "1F1B"
	if tl.Schedule == sim.OneFOneB {
		name, other, otherName = "1F1B", sim.GPipe, "GPipe"
	}

	head := th.Header.Render(name) + th.Subtle.Render(" · ") +
		fmt.Sprintf("%d stages · %s · %d time steps  ", stages, Count(m, "micro-batch", "micro-batches"), steps) + th.Badge(ui.Computed)
	rows, axis, legend := p.drawTimeline(th, tl, spot, width)
	bub := fmt.Sprintf("Bubble: %d of %d steps idle on every stage = %s = (p−1)/(m+p−1) = %d/%d",
		steps-tl.Busy(0), steps, th.Strong.Render(parPct(tl.IdleFraction())), stages-1, m+stages-1)
	if spot == "bubble" {
		bub = spotTick(th, true) + " " + bub
	}
	// The two schedules differ in memory only when m > p: with m ≤ p every
	// micro-batch is in flight before stage 1's first backward either way.
	mine, theirs := tl.PeakInFlight(0), sim.InFlight(other, stages, m, 0)
	kept := th.Strong.Render(strconv.Itoa(mine)) + " micro-batches'"
	if mine == 1 {
		kept = th.Strong.Render("1") + " micro-batch's"
	}
	mem := fmt.Sprintf("Stage 1 keeps %s activations at once; %s would keep %d.", kept, otherName, theirs)
	if mine == theirs {
		mem = fmt.Sprintf("Stage 1 keeps %s activations at once; with m ≤ p, %s would too.", kept, otherName)
	}
	var spotLine string
	if s, ok := strings.CutPrefix(spot, "stage:"); ok {
		if i, err := strconv.Atoi(s); err == nil && i >= 1 && i <= stages {
			spotLine = th.Focus.Render(fmt.Sprintf("Stage %d works %d of %d steps and keeps up to %s.",
				i, tl.Busy(i-1), steps, Count(tl.PeakInFlight(i-1), "micro-batch", "micro-batches")))
		}
	}

	// The grid with its axis and key, then what it adds up to; nothing of
	// it is left out on a short screen, which scrolls instead.
	lines := append([]string(nil), rows...)
	lines = append(lines, axis, legend, "", siWrap(bub, width), siWrap(mem, width))
	if spotLine != "" {
		lines = append(lines, siWrap(spotLine, width))
	}

	var sweep []string
	for _, mm := range []int{1, 2, 4, 8, 16, 32} {
		s := fmt.Sprintf("%d→%.0f%%", mm, sim.BubbleFraction(stages, mm)*100)
		if mm == m {
			s = th.Strong.Render(s)
		}
		sweep = append(sweep, s)
	}
	// What 1F1B buys depends on m against p: less memory only once m > p.
	saving := fmt.Sprintf("Same bubble, less memory: here %d micro-batches instead of %d.", min(stages, m), m)
	if m <= stages {
		saving = fmt.Sprintf("Same bubble; here m = %d ≤ p = %d, so the same memory too: 1F1B saves "+
			"memory only once m > p.", m, stages)
	}
	sweepText := siWrap(fmt.Sprintf("With p=%d, the bubble for m = ", stages)+strings.Join(sweep, " "), width) +
		"\n" + th.Subtle.Render(siWrap("More micro-batches shrink the bubble, but each must stay big enough to keep "+
		"a GPU busy. GPipe keeps every micro-batch's activations until its backward pass; 1F1B starts "+
		"backward passes early, so a stage never keeps more than p. "+saving, width))

	return ui.Column(siWrap(head, width), th.Text.Render(siWrap(timelineProse, width)),
		strings.Join(lines, "\n"), sweepText)
}

// drawTimeline draws stages as rows and time steps as columns: forward
// cells filled in the micro-batch's colour, backward cells shaded, idle
// cells as dots; it returns the rows, a time axis and a legend. Cells are
// one to three wide, as the width allows; at two or more the micro-batch
// number shows.
func (p *Parallel) drawTimeline(th *ui.Theme, tl sim.Timeline, spot string, width int) (rows []string, axis, legend string) {
	steps := tl.Steps()
	labelW := 3
	if width-labelW < steps {
		labelW = max(width-steps, 1)
	}
	cw := min(max((width-labelW)/max(steps, 1), 1), 3)
	for s, row := range tl.Grid {
		label := strconv.Itoa(s + 1)
		ls := th.Subtle
		if spot == fmt.Sprintf("stage:%d", s+1) {
			ls = th.Focus
			label = "▸" + label
		}
		var b strings.Builder
		b.WriteString(ls.Render(ui.PadRight(label, labelW)))
		for _, sl := range row {
			b.WriteString(p.timelineCell(th, sl, cw, spot == "bubble"))
		}
		rows = append(rows, ui.Fit(b.String(), width, 1))
	}
	axis = ui.Fit(ui.PadRight("", labelW)+th.Subtle.Render("time →"), width, 1)
	cell := func(w sim.Work) string { return p.timelineCell(th, sim.Slot{Work: w}, 1, false) }
	legend = cell(sim.Forward) + " forward · " + cell(sim.Backward) + " backward · " + cell(sim.Idle) + " idle: the bubble"
	switch {
	case cw >= 2:
		legend += th.Subtle.Render(" · numbers: micro-batches")
	case !th.Mono:
		legend += th.Subtle.Render(" · colours: micro-batches")
	}
	return rows, axis, siWrap(legend, width)
}

// timelineCell draws one (stage, step) cell cw wide.
func (p *Parallel) timelineCell(th *ui.Theme, sl sim.Slot, cw int, hot bool) string {
	num := strconv.Itoa(sl.Micro + 1)
	if th.Mono {
		var s string
		switch sl.Work {
		case sim.Forward:
			s = "F"
		case sim.Backward:
			s = "B"
		default:
			s = "."
		}
		if sl.Work != sim.Idle && cw >= len(num)+1 {
			s += num
		}
		if sl.Work == sim.Idle && hot {
			s = "_"
		}
		return ui.PadRight(s, cw)
	}
	col := th.ChipColors[sl.Micro%len(th.ChipColors)]
	switch sl.Work {
	case sim.Forward:
		s := strings.Repeat(" ", cw)
		if cw >= len(num) && cw >= 2 {
			s = fmt.Sprintf("%*s", cw, num)
		}
		return lipgloss.NewStyle().Background(col).Foreground(th.ChipText).Render(s)
	case sim.Backward:
		s := strings.Repeat("▒", cw)
		if cw >= len(num) && cw >= 2 {
			s = strings.Repeat("▒", cw-len(num)) + num
		}
		return lipgloss.NewStyle().Foreground(col).Bold(true).Render(s)
	}
	s := ui.PadRight("·", cw)
	if hot {
		return th.Warn.Render(s)
	}
	return th.Muted.Render(s)
}
