package session

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session/room"
)

// dashboard is the instructor's view of the class: who is here, following
// or exploring, hands, answers, idle time; and where a student is lowered,
// removed or banned.
type dashboard struct {
	cursor int
	// roster is read from the room when the dashboard opens, on its tick
	// and after the instructor acts on it: the room builds it on demand,
	// never with every change, so a class's hand raises cost the same with
	// the dashboard open or shut.
	roster []room.MemberView
	// now is the clock idle times are drawn at, so drawing reads none.
	now time.Time
}

type dashTickMsg struct{ now time.Time }

// dashTick refreshes the dashboard once a second, as the room refreshes
// the class's counts: the time it brings is the "now" idle times are drawn
// at.
func dashTick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return dashTickMsg{now: t} })
}

// openDashboard opens the dashboard now and starts its tick.
func (m *Model) openDashboard() tea.Cmd {
	d := &dashboard{now: time.Now()}
	d.load(m)
	m.mode = d
	return dashTick()
}

func (*dashboard) title() string                { return "Class dashboard" }
func (*dashboard) covers() bool                 { return true }
func (*dashboard) footer(*Model) (string, bool) { return "", true }

// load reads the roster from the room.
func (d *dashboard) load(m *Model) {
	if roster, err := m.seat.Roster(); err == nil {
		d.roster = roster
	}
}

func (d *dashboard) tick(m *Model, msg dashTickMsg) tea.Cmd {
	d.now = msg.now
	d.load(m)
	return dashTick()
}

func (d *dashboard) students() []room.MemberView {
	var out []room.MemberView
	for _, v := range d.roster {
		if v.Role != room.Instructor {
			out = append(out, v)
		}
	}
	return out
}

func (d *dashboard) key(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	st := d.students()
	switch {
	case key.Matches(msg, k.FocusPrev):
		d.cursor = max(d.cursor-1, 0)
	case key.Matches(msg, k.FocusNext):
		d.cursor = min(d.cursor+1, max(len(st)-1, 0))
	case key.Matches(msg, k.LowerHand):
		if d.cursor < len(st) {
			m.act(m.seat.ClearHand(st[d.cursor].ID))
			d.load(m)
		}
	case key.Matches(msg, k.Remove), key.Matches(msg, k.Ban):
		if d.cursor < len(st) {
			ban := key.Matches(msg, k.Ban)
			s := st[d.cursor]
			m.act(m.seat.Kick(s.ID, ban))
			d.load(m)
			switch {
			case ban && s.Keyless:
				// A keyless student is banned as that session only: nothing
				// tells them apart from their classmates behind one NAT.
				m.notice = s.Name + " removed; without a key they may come back as someone new"
			case ban:
				m.notice = s.Name + " removed and banned for this class"
			default:
				m.notice = s.Name + " removed (they may rejoin)"
			}
		}
	case key.Matches(msg, k.Quit):
		return tea.Quit
	default:
		m.mode = nil
	}
	return nil
}

func (d *dashboard) view(m *Model, w, h int) string {
	c := m.snap.Class
	st := d.students()
	connected, following, answered, hands := 0, 0, 0, 0
	for _, v := range st {
		if v.Connected {
			connected++
			if v.Position.Following {
				following++
			}
		}
		if v.Answered {
			answered++
		}
		if v.Hand {
			hands++
		}
	}
	var b strings.Builder
	rows := max(h-5, 1)
	if c != nil && c.Alert != "" {
		b.WriteString(m.th.Warn.Render(ui.Fit("⚠ "+c.Alert, w, 1)) + "\n")
		rows = max(rows-1, 1)
	}
	counts := fmt.Sprintf("%s connected · %d following · %d exploring · %s up",
		lessons.Count(connected, "student", "students"), following, connected-following, lessons.Count(hands, "hand", "hands"))
	if c != nil && c.Poll != nil {
		counts += fmt.Sprintf(" · %d answered", answered)
	}
	b.WriteString(m.th.Strong.Render(counts))
	b.WriteString("\n")
	if m.joins != nil {
		if joins := m.joins(); len(joins) > 0 {
			b.WriteString(m.th.Subtle.Render(ui.Fit("join: "+strings.Join(joins, "  ·  "), w, 1)) + "\n")
			rows = max(rows-1, 1)
		}
	}
	b.WriteString("\n")
	nameW := room.MaxNameWidth + 1
	b.WriteString(m.th.Subtle.Render(ui.PadRight("name", nameW) + ui.PadRight("status", 8) + ui.PadRight("where", 28) + ui.PadRight("hand", 6) + ui.PadRight("answer", 8) + "idle"))
	start := 0
	if d.cursor >= rows {
		start = d.cursor - rows + 1
	}
	now := d.now
	for i := start; i < len(st) && i < start+rows; i++ {
		v := st[i]
		status := "away"
		if v.Connected {
			status = "here"
		}
		where := "following"
		if !v.Position.Following {
			where = "exploring"
			if j, ok := m.cat.Index(v.Position.Chapter); ok {
				where += fmt.Sprintf(" %d %s", m.cat.At(j).Number(), m.cat.At(j).ID())
			}
		}
		hand, ans := "", ""
		if v.Hand {
			hand = "✋"
		}
		if v.Answered {
			ans = "✓"
		}
		idle := now.Sub(v.Active).Round(time.Second)
		name := v.Name
		if name == "" {
			name = "(joining)"
		}
		line := ui.PadRight(name, nameW) + ui.PadRight(status, 8) + ui.PadRight(where, 28) + ui.PadRight(hand, 6) + ui.PadRight(ans, 8) + idle.String()
		b.WriteString("\n")
		if i == d.cursor {
			b.WriteString(m.th.Selected.Render(ui.PadRight(line, w)))
		} else if !v.Connected {
			b.WriteString(m.th.Subtle.Render(line))
		} else {
			b.WriteString(line)
		}
	}
	if len(st) == 0 {
		b.WriteString("\n" + m.th.Subtle.Render("No students yet. They join with ssh to this server."))
	}
	b.WriteString("\n\n")
	b.WriteString(m.th.Subtle.Render(m.keys.DashboardHint()))
	return ui.Fit(b.String(), w, h)
}
