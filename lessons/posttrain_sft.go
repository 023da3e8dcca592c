package lessons

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
)

const sftProse = "A pretrained model continues any text. To make it an assistant, it is " +
	"trained further on conversations written the way we want it to answer, each turn " +
	"wrapped in special tokens that mark who is speaking. The loss is the same " +
	"next-token loss as in pretraining, counted only on the tokens the model should learn to write."

// renderSFT draws the first step: what SFT is, the example chat as real
// tokens with the loss marked, and why the loss covers only the reply.
func (p *Posttrain) renderSFT(th *ui.Theme, v Values, spot string, width int) string {
	all := v["mask"] == "all"
	total, loss := 0, 0
	for _, m := range p.chat {
		for i := range m.tokens {
			total++
			if all || i >= m.header {
				loss++
			}
		}
	}
	// The format is named for what it is: the one OpenAI published for
	// gpt-oss, not a guess at any other model's.
	var head string
	for _, label := range []string{
		" · gpt-oss's published chat format (OpenAI's harmony), o200k IDs  ",
		" · harmony, gpt-oss's published format  ",
		" · gpt-oss's harmony format  ",
	} {
		head = th.Header.Render("1 · Supervised fine-tuning") + th.Subtle.Render(label) + th.Badge(ui.Computed)
		if lipgloss.Width(head) <= width {
			break
		}
	}
	head = siWrap(head, width)

	lossLine := fmt.Sprintf("Loss on %s of %d tokens (%.0f%%)", th.Strong.Render(strconv.Itoa(loss)), total,
		100*float64(loss)/float64(max(total, 1)))
	if all {
		lossLine += ": every token, so it would learn to write the questions too."
	} else {
		lossLine += ": the reply and its <|return|>. The prompt is read, not learned."
	}
	if th.Mono {
		lossLine += " [ ] marks them."
	}
	lossLine = siWrap(lossLine, width)

	chat := p.drawChat(th, all, spot, width)
	why := th.Subtle.Render(siWrap("At answer time the server writes the conversation so far and "+
		"<|start|>assistant; the model writes the rest, including the <|return|> that stops it. "+
		"Training on exactly that part teaches it to answer, and to stop, rather than to imitate users.", width))
	return ui.Column(head, th.Text.Render(siWrap(sftProse, width)), chat+"\n"+lossLine, why)
}

// drawChat lays each turn's tokens out as chips beside the role: tokens in
// the loss on coloured backgrounds, the rest greyed (and, without colour,
// the loss tokens between [ and ]), each row of chips over a line of their
// token IDs: the heading promises o200k IDs, so a short screen scrolls to
// them rather than losing them.
func (p *Posttrain) drawChat(th *ui.Theme, all bool, spot string, width int) string {
	const labelW = 11
	cw := width - labelW
	var lines []string
	for _, m := range p.chat {
		type chip struct {
			top, sub string
			w        int
		}
		var chips []chip
		open := false
		for i, t := range m.tokens {
			inLoss := all || i >= m.header
			if th.Mono && inLoss != open {
				chips = append(chips, chip{top: "[", sub: " ", w: 1})
				open = inLoss
			}
			id := strconv.Itoa(t.id)
			w := min(max(lipgloss.Width(t.text), len(id))+1, cw) // one cell of gap
			top := ui.PadRight(t.text, w)
			sub := ui.PadRight(id, w)
			switch {
			case inLoss:
				bg := th.ChipColors[i%len(th.ChipColors)]
				top = lipgloss.NewStyle().Background(bg).Foreground(th.ChipText).Render(ui.PadRight(t.text, lipgloss.Width(t.text))) +
					strings.Repeat(" ", max(w-lipgloss.Width(t.text), 0))
				sub = lipgloss.NewStyle().Foreground(bg).Render(sub)
			case t.special:
				top = th.Subtle.Render(top)
				sub = th.Muted.Render(sub)
			default:
				top = th.Text.Render(top)
				sub = th.Muted.Render(sub)
			}
			chips = append(chips, chip{top: top, sub: sub, w: w})
		}
		if th.Mono && open {
			chips = append(chips, chip{top: "]", sub: " ", w: 1})
		}
		// Lay out in rows.
		var rows [][]chip
		var row []chip
		used := 0
		for _, c := range chips {
			if used > 0 && used+c.w > cw {
				rows = append(rows, row)
				row, used = nil, 0
			}
			row = append(row, c)
			used += c.w
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
		status := "no loss"
		if all || m.header < len(m.tokens) {
			status = "loss ✓"
		}
		label := []string{spotTick(th, spot == "msg:"+m.role) + th.Strong.Render(m.role), " " + th.Subtle.Render(status)}
		for r, rw := range rows {
			var top, sub strings.Builder
			for _, c := range rw {
				top.WriteString(c.top)
				sub.WriteString(c.sub)
			}
			l1, l2 := "", ""
			if r == 0 {
				l1, l2 = label[0], label[1]
			}
			lines = append(lines, ui.PadRight(l1, labelW)+top.String(), ui.PadRight(l2, labelW)+sub.String())
		}
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}
