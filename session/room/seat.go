package room

import (
	"fmt"
	"maps"
	"strings"
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
	defer r.mu.Unlock()
	if s.left {
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
	m.sessions--
	if m.sessions <= 0 {
		r.setHand(m, false)
		r.connected--
	}
	delete(r.moved, m) // the leave event saves the member as they are
	r.quiet(event{kind: "leave", actor: m, touched: []*member{m}})
	if m.sessions <= 0 && m.keyless {
		r.drop(m)
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
	s.m.active = r.cfg.Now()
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
	var out string
	err := s.do(func(r *Room) error {
		base := CleanName(name)
		if base == "" {
			base = "student"
		}
		if nameKey(base) == nameKey(s.m.name) {
			out = s.m.name
			return nil
		}
		if err := s.spend(r); err != nil {
			return err
		}
		out = base
		for n := 2; r.nameTaken(out, s.m); n++ {
			suffix := fmt.Sprintf(" %d", n)
			out = truncateName(base, MaxNameWidth-len(suffix)) + suffix
		}
		if k := nameKey(s.m.name); r.names[k] == s.m {
			delete(r.names, k)
		}
		s.m.name = out
		r.names[nameKey(out)] = s.m
		r.quiet(event{kind: "name", actor: s.m, data: map[string]any{"name": out}, touched: []*member{s.m}})
		return nil
	})
	return out, err
}

// nameKey folds a name for comparing: names differing only in case clash.
func nameKey(name string) string { return strings.ToLower(name) }

func (r *Room) nameTaken(name string, self *member) bool {
	m := r.names[nameKey(name)]
	// A keyless member who left can never come back as themselves, so
	// their name is free again.
	return m != nil && m != self && !(m.sessions == 0 && m.keyless)
}

// SetChapter moves the class to chapter.
func (s *Seat) SetChapter(chapter string) error {
	return s.instructor(func(r *Room) error {
		if _, ok := r.cfg.Validate(chapter, "", ""); !ok {
			return ErrUnknown
		}
		if r.chapter != chapter {
			r.chapter = chapter
			r.spot = ""
			data := map[string]any{"chapter": chapter}
			// A poll belongs to its chapter: leaving the chapter closes it
			// (its answers are kept, and opening it again brings them
			// back), so no question is ever shown over a screen it is not
			// about.
			if r.poll != nil && r.poll.spec.Chapter != chapter {
				data["closed_poll"] = r.poll.spec.key()
				r.poll.open = false
				r.poll = nil
			}
			r.changed(event{kind: "chapter", actor: s.m, data: data})
		}
		return nil
	})
}

// SetValues sets some of a chapter's control values for the class (several
// at once, because a preset moves many dials).
func (s *Seat) SetValues(chapter string, vals map[string]string) error {
	return s.instructor(func(r *Room) error {
		if _, ok := r.cfg.Validate(chapter, "", ""); !ok {
			return ErrUnknown
		}
		next := maps.Clone(r.values[chapter])
		if next == nil {
			next = map[string]string{}
		}
		for k, v := range vals {
			canon, ok := r.cfg.Validate(chapter, k, v)
			if !ok {
				return ErrUnknown
			}
			next[k] = canon
		}
		r.values[chapter] = next
		r.changed(event{kind: "values", actor: s.m, data: map[string]any{"chapter": chapter, "values": maps.Clone(vals)}})
		return nil
	})
}

// SetLock locks or frees the class: locked, everyone follows and students'
// controls do nothing.
func (s *Seat) SetLock(locked bool) error {
	return s.instructor(func(r *Room) error {
		r.locked = locked
		r.changed(event{kind: "lock", actor: s.m, data: map[string]any{"locked": locked}})
		return nil
	})
}

// SetSpot points everyone at an element of the current chapter ("" clears).
func (s *Seat) SetSpot(spot string) error {
	return s.instructor(func(r *Room) error {
		r.spot = spot
		r.changed(event{kind: "spot", actor: s.m, data: map[string]any{"spot": spot}})
		return nil
	})
}

// RaiseHand raises or lowers the seat's hand.
func (s *Seat) RaiseHand(up bool) error {
	return s.do(func(r *Room) error {
		if s.m.hand == up {
			return nil
		}
		if err := s.spend(r); err != nil {
			return err
		}
		r.setHand(s.m, up)
		r.quiet(event{kind: "hand", actor: s.m, data: map[string]any{"up": up}, touched: []*member{s.m}})
		return nil
	})
}

// ClearHand lowers a member's hand.
func (s *Seat) ClearHand(id string) error {
	return s.instructor(func(r *Room) error {
		if m := r.members[id]; m != nil {
			r.setHand(m, false)
			r.quiet(event{kind: "hand", actor: s.m, data: map[string]any{"member": id, "up": false}, touched: []*member{m}})
		}
		return nil
	})
}

// Kick removes a member's sessions; they may come back unless ban is set,
// in which case their key may not join this class again. A keyless
// student's ban holds for that session only (see above).
func (s *Seat) Kick(id string, ban bool) error {
	return s.instructor(func(r *Room) error {
		m := r.members[id]
		if m == nil || m.role == Instructor {
			return ErrUnknown
		}
		m.kicked = true
		r.setHand(m, false)
		if ban {
			// A keyless student is banned as that session only: their
			// address is shared by the whole class behind a school's NAT,
			// and nothing else tells them apart. They can come back as a
			// new person; only a key can be kept out.
			r.banned[id] = true
		}
		r.quiet(event{kind: "kick", actor: s.m, data: map[string]any{"member": id, "ban": ban}, touched: []*member{m}, state: ban})
		return nil
	})
}

// Report records where the seat's member is, for the dashboard and for a
// reconnect. Positions change with every key press of an explorer, so they
// are neither events nor saved at once: the next Refresh brings them to the
// instructors' dashboards and to the journal, once for all the moves of the
// second before.
func (s *Seat) Report(p Position) error {
	return s.do(func(r *Room) error {
		s.m.pos = p
		r.moved[s.m] = struct{}{}
		r.staffDirty = true
		return nil
	})
}

// saveMoved journals the members whose position moved since the last save.
// Callers hold r.mu.
func (r *Room) saveMoved() {
	if len(r.moved) == 0 {
		return
	}
	var ms []*member
	for m := range r.moved {
		ms = append(ms, m)
	}
	clear(r.moved)
	r.record(event{kind: "position", touched: ms})
}

// Touch marks the member active now (a key press), for idle times.
func (s *Seat) Touch() {
	_ = s.do(func(*Room) error { return nil })
}

// Contribute adds to a class tally of chapter. Without a group the key
// counts once more (a pooled sample, up to the member's share); with one it
// is the member's vote in that group, replacing their previous one (an empty
// key withdraws it), so voting twice never counts twice. Locked or not, a
// class activity is open to everyone.
func (s *Seat) Contribute(chapter, group, key string) error {
	return s.do(func(r *Room) error {
		if _, ok := r.cfg.Validate(chapter, "", ""); !ok || len(key) > 64 || len(group) > 64 || group == "" && key == "" {
			return ErrUnknown
		}
		slot := chapter + "/" + group
		if group != "" && s.m.contrib[slot] == key {
			return nil
		}
		t := maps.Clone(r.tallies[chapter])
		if t == nil {
			t = map[string]int{}
		}
		if key != "" && len(t) >= maxTallyKeys && t[key] == 0 {
			return ErrUnknown
		}
		if group == "" && s.m.samples[chapter] >= MaxSamplesPerMember {
			return ErrShareFull
		}
		if err := s.spend(r); err != nil {
			return err
		}
		if group != "" {
			if prev := s.m.contrib[slot]; prev != "" {
				if t[prev]--; t[prev] <= 0 {
					delete(t, prev)
				}
			}
			contrib := maps.Clone(s.m.contrib)
			if contrib == nil {
				contrib = map[string]string{}
			}
			if key == "" {
				delete(contrib, slot)
			} else {
				contrib[slot] = key
			}
			s.m.contrib = contrib
		} else {
			if s.m.samples == nil {
				s.m.samples = map[string]int{}
			}
			s.m.samples[chapter]++
		}
		if key != "" {
			t[key]++
		}
		r.tallies[chapter] = t
		r.quiet(event{kind: "contribute", actor: s.m, data: map[string]any{"chapter": chapter, "group": group, "key": key},
			touched: []*member{s.m}, state: true})
		return nil
	})
}

// ClearTallies empties a chapter's class tallies (and everyone's votes and
// draws in it), for the instructor to start an activity afresh.
func (s *Seat) ClearTallies(chapter string) error {
	return s.instructor(func(r *Room) error {
		delete(r.tallies, chapter)
		var touched []*member
		for _, m := range r.members {
			hit := m.samples[chapter] > 0
			delete(m.samples, chapter)
			for slot := range m.contrib {
				if strings.HasPrefix(slot, chapter+"/") {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
			c := maps.Clone(m.contrib)
			for k := range c {
				if strings.HasPrefix(k, chapter+"/") {
					delete(c, k)
				}
			}
			m.contrib = c
			touched = append(touched, m)
		}
		r.changed(event{kind: "tallies.clear", actor: s.m, data: map[string]any{"chapter": chapter}, touched: touched})
		return nil
	})
}

// setHand raises or lowers m's hand, keeping the count of hands up that the
// instructors' screens show. Callers hold r.mu.
func (r *Room) setHand(m *member, up bool) {
	if m.hand == up {
		return
	}
	m.hand = up
	if up {
		r.hands++
	} else {
		r.hands--
	}
}

// SetAlert puts a warning on every instructor's screen ("" clears it). The
// server uses it when the class stops being saved, and when saving works
// again.
func (r *Room) SetAlert(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.alert == text {
		return
	}
	r.alert = text
	r.publish([]*member{})
}
