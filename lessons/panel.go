package lessons

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/expedition-llm/expedition/lessons/ui"
)

// Panel is what the control panel needs to know beyond the values: which
// control has focus and, while a text control is being edited, its field.
type Panel struct {
	Focus string
	// Editing is the field of the focused text control while it is being
	// edited, nil otherwise.
	Editing *ui.TextField
	// Locked draws every control inert (the instructor has locked the class).
	Locked bool
}

// VisibleControls are the controls shown for v, in focus order.
func VisibleControls(cs []Control, v Values) []Control {
	out := make([]Control, 0, len(cs))
	for _, c := range cs {
		if c.Visible(v) {
			out = append(out, c)
		}
	}
	return out
}

// RenderPanel draws one line per visible control in width cells, with the
// focused control's help below when there is room (help=true). At most
// maxLines controls are listed (0: all); a longer list scrolls to keep the
// focused control in view and says how many are above and below.
func RenderPanel(th *ui.Theme, cs []Control, v Values, p Panel, width, maxLines int, help bool) string {
	vis := VisibleControls(cs, v)
	if len(vis) == 0 || width < 20 {
		return ""
	}
	var above, below int
	if maxLines > 0 && len(vis) > maxLines {
		maxLines = max(maxLines, 2)
		focus := 0
		for i, c := range vis {
			if c.Key == p.Focus {
				focus = i
			}
		}
		start := min(max(focus-maxLines/2, 0), len(vis)-maxLines)
		above, below = start, len(vis)-start-maxLines
		vis = vis[start : start+maxLines]
	}
	labelW := 0
	for _, c := range vis {
		labelW = max(labelW, lipgloss.Width(c.Label))
	}
	labelW = min(labelW, width/3)
	var lines []string
	var focusHelp string
	for _, c := range vis {
		focused := c.Key == p.Focus
		marker := "  "
		label := th.Subtle.Render(ui.PadRight(c.Label, labelW))
		if focused {
			marker = th.Focus.Render("▸ ")
			label = th.Strong.Render(ui.PadRight(c.Label, labelW))
			focusHelp = c.Help
		}
		if p.Locked {
			marker = th.Subtle.Render("⊠ ")
		}
		rest := width - 2 - labelW - 1
		lines = append(lines, marker+label+" "+renderWidget(th, c, v[c.Key], p, focused, rest))
	}
	if above > 0 || below > 0 {
		var parts []string
		if above > 0 {
			parts = append(parts, fmt.Sprintf("↑ %d more", above))
		}
		if below > 0 {
			parts = append(parts, fmt.Sprintf("↓ %d more", below))
		}
		more := th.Subtle.Render("  " + strings.Join(parts, " · "))
		lines[len(lines)-1] = ui.PadRight(lines[len(lines)-1], max(width-lipgloss.Width(more), 0)) + more
	}
	if help && focusHelp != "" {
		lines = append(lines, "", th.Subtle.Render(ui.Wrap(focusHelp, width)))
	}
	out := strings.Join(lines, "\n")
	return ui.Fit(out, width, ui.Lines(out))
}

func renderWidget(th *ui.Theme, c Control, val string, p Panel, focused bool, width int) string {
	if width < 4 {
		return ""
	}
	switch c.Kind {
	case Slider:
		text := c.Display(val)
		trackW := min(width-lipgloss.Width(text)-1, 40)
		if trackW < 5 {
			return text
		}
		return th.Slider(c.Fraction(val), trackW, focused) + " " + th.Strong.Render(text)
	case Choice:
		s := th.Choice(c.Display(val), focused)
		for _, o := range c.Options {
			if o.Value == val && o.Note != "" {
				s += " " + th.Subtle.Render(o.Note)
			}
		}
		return s
	case Toggle:
		return th.Toggle(val == "true", focused)
	case Text:
		if focused && p.Editing != nil {
			return th.TextFieldView(*p.Editing, width, true, true)
		}
		f := ui.NewTextField(val, 0)
		s := th.TextFieldView(f, width-8, focused, false)
		if focused {
			s += th.Subtle.Render("  enter✎")
		}
		return s
	}
	return ""
}
