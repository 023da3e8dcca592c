package session

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// noticeFor is how long a footer notice stays: long enough to read twice.
const noticeFor = 6 * time.Second

// noticeExpiredMsg ends the notice it was armed for, unless another has
// been said since.
type noticeExpiredMsg struct{ id uint64 }

// armNotice starts the timer of a notice said during the update just done:
// a notice lasts noticeFor from when it was last said, and a key that says
// it again (a second "slow down") starts it afresh. before is the notice
// the update found.
func (m *Model) armNotice(before string, key bool) tea.Cmd {
	if m.notice == "" || m.notice == before && !key {
		return nil
	}
	m.noticeID++
	id := m.noticeID
	return tea.Tick(noticeFor, func(time.Time) tea.Msg { return noticeExpiredMsg{id} })
}

// expireNotice clears the notice msg was armed for, if it is still the one
// on screen.
func (m *Model) expireNotice(msg noticeExpiredMsg) {
	if msg.id == m.noticeID {
		m.notice = ""
	}
}
