package room

import (
	"maps"
	"sync"
)

// Seat is one session's place in the room; every action goes through it.
type Seat struct {
	room  *Room
	m     *member
	role  Role // fixed at join: a later join of the same member changes nothing here
	ready chan struct{}

	mu     sync.Mutex
	latest Snapshot
	left   bool
}

// post puts snap in the seat's one-slot mailbox, replacing whatever was
// unread: a slow reader skips straight to the newest state.
func (s *Seat) post(snap Snapshot) {
	s.mu.Lock()
	s.latest = snap
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Ready signals that a new snapshot is waiting.
func (s *Seat) Ready() <-chan struct{} { return s.ready }

// Latest is the newest snapshot for this seat.
func (s *Seat) Latest() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// Role is the seat's role, fixed when it joined.
func (s *Seat) Role() Role { return s.role }

// ID is the seat's member ID.
func (s *Seat) ID() string { return s.m.id }

// Leave takes the seat out of the room. A member with a key stays on the
// roster as away, so a reconnect restores them; a keyless one can never
// come back as themselves and is dropped, so a stream of keyless visitors
// leaves nothing behind.
func (s *Seat) Leave() {
	r := s.room
	r.mu.Lock()
	if s.left {
		r.mu.Unlock()
		return
	}
	s.left = true
	delete(r.seats, s)
	delete(r.staff, s)
	m := s.m
	for i, o := range m.seats {
		if o == s {
			m.seats = append(m.seats[:i:i], m.seats[i+1:]...)
			break
		}
	}
	o := op{Kind: kindLeave, Member: m.id, Role: s.role, At: r.cfg.Now()}
	r.mu.Unlock()
	r.post(o)
}

// leave is a session of m's on server ending. Callers hold r.mu.
func (r *Room) leave(m *member, server string) {
	if m.at[server] <= 0 {
		return // a leave without its join: the join was never applied
	}
	m.at[server]--
	if m.at[server] == 0 {
		delete(m.at, server)
	}
	m.sessions--
	if m.sessions <= 0 {
		r.setHand(m, false)
		r.connected--
	}
	r.present(m)
	delete(r.moved, m) // the leave event saves the member as they are
	delete(r.touched, m)
	r.quiet(event{kind: "leave", actor: m, touched: []*member{m}})
	if m.sessions <= 0 && m.keyless {
		r.drop(m)
	}
}

// serverStarted ends every session the room holds for server: it is
// starting, so sessions it had before were cut when it stopped, and their
// leaves may never have been sent. Callers hold r.mu.
func (r *Room) serverStarted(server string) {
	for _, m := range r.members {
		n := m.at[server]
		if n <= 0 {
			continue
		}
		delete(m.at, server)
		m.sessions -= n
		if m.sessions <= 0 {
			r.setHand(m, false)
			r.connected--
		}
		r.present(m)
		r.quiet(event{kind: "leave", actor: m, touched: []*member{m}})
		if m.sessions <= 0 && m.keyless {
			r.drop(m)
		}
	}
}

// present keeps the set of connected instructors, whose names the class
// sees. Callers hold r.mu after m's sessions or role changed.
func (r *Room) present(m *member) {
	if m.sessions > 0 && m.role == Instructor {
		r.teachers[m] = struct{}{}
	} else {
		delete(r.teachers, m)
	}
}

// do runs f under the room lock for a seat still in the room.
func (s *Seat) do(f func(r *Room) error) error {
	r := s.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.left {
		return ErrLeft
	}
	if !r.shared {
		s.m.active = r.cfg.Now()
	}
	return f(r)
}

func (s *Seat) instructor(f func(r *Room) error) error {
	return s.do(func(r *Room) error {
		if s.role != Instructor {
			return ErrNotInstructor
		}
		return f(r)
	})
}

// spend takes one class action from a student's budget, or says they are
// going too fast. Instructors are not paced: what they do is the class.
// Callers hold r.mu and call it only for an action that changes something,
// so repeating what is already so costs nothing.
func (s *Seat) spend(r *Room) error {
	if s.role == Instructor || s.m.budget.take(r.cfg.Now()) {
		return nil
	}
	return ErrTooFast
}

// SetName sets the seat's display name, cleaned and made unique in the room
// (a clash gets a number). It returns the name as others will see it.
func (s *Seat) SetName(name string) (string, error) {
	return s.act(op{Kind: kindName, Text: name})
}

// SetChapter moves the class to chapter.
func (s *Seat) SetChapter(chapter string) error {
	_, err := s.act(op{Kind: kindChapter, Chapter: chapter})
	return err
}

// SetValues sets some of a chapter's control values for the class (several
// at once, because a preset moves many dials).
func (s *Seat) SetValues(chapter string, vals map[string]string) error {
	_, err := s.act(op{Kind: kindValues, Chapter: chapter, Values: maps.Clone(vals)})
	return err
}

// SetLock locks or frees the class: locked, everyone follows and students'
// controls do nothing.
func (s *Seat) SetLock(locked bool) error {
	_, err := s.act(op{Kind: kindLock, Flag: locked})
	return err
}

// SetSpot points everyone at an element of the current chapter ("" clears).
func (s *Seat) SetSpot(spot string) error {
	_, err := s.act(op{Kind: kindSpot, Text: spot})
	return err
}

// RaiseHand raises or lowers the seat's hand.
func (s *Seat) RaiseHand(up bool) error {
	_, err := s.act(op{Kind: kindHand, Flag: up})
	return err
}

// ClearHand lowers a member's hand.
func (s *Seat) ClearHand(id string) error {
	_, err := s.act(op{Kind: kindClearHand, Target: id})
	return err
}

// Kick removes a member's sessions; they may come back unless ban is set,
// in which case their key may not join this class again. A keyless
// student's ban holds for that session only (see kick).
func (s *Seat) Kick(id string, ban bool) error {
	_, err := s.act(op{Kind: kindKick, Target: id, Flag: ban})
	return err
}

// Contribute adds to a class tally of chapter. Without a group the key
// counts once more (a pooled sample, up to the member's share); with one it
// is the member's vote in that group, replacing their previous one (an empty
// key withdraws it), so voting twice never counts twice. Locked or not, a
// class activity is open to everyone.
func (s *Seat) Contribute(chapter, group, key string) error {
	_, err := s.act(op{Kind: kindContribute, Chapter: chapter, Group: group, Key: key})
	return err
}

// ClearTallies empties a chapter's class tallies (and everyone's votes and
// draws in it), for the instructor to start an activity afresh.
func (s *Seat) ClearTallies(chapter string) error {
	_, err := s.act(op{Kind: kindClearTallies, Chapter: chapter})
	return err
}

// Report records where the seat's member is, for the dashboard and for a
// reconnect. Positions change with every key press of an explorer, so they
// are neither events nor saved at once: the next Refresh brings them to the
// instructors' dashboards and to the journal (and, with several servers, to
// the others), once for all the moves of the second before.
func (s *Seat) Report(p Position) error {
	return s.do(func(r *Room) error {
		s.m.pos = p
		r.moved[s.m] = struct{}{}
		r.staffDirty = true
		return nil
	})
}

// Touch marks the member active now (a key press), for idle times. With
// several servers the time travels with the next Refresh's positions.
func (s *Seat) Touch() {
	_ = s.do(func(r *Room) error {
		if r.shared {
			r.touched[s.m] = r.cfg.Now()
		}
		return nil
	})
}
