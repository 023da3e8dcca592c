// Package room is the class: the authoritative state of what everyone sees
// (chapter, the instructor's control values, lock, spotlight, open poll),
// the roster, polls and their answers, and the fan-out of every change to
// every session.
//
// It knows nothing of Bubble Tea or SSH. Every action goes through a Seat,
// whose role was fixed by the server when it joined, and every action is
// checked here: a student's session cannot perform an instructor's action
// whatever it sends. Publishing never blocks: each seat has a one-slot
// "latest snapshot" mailbox, so a stalled student only ever skips ahead.
package room

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors a Seat's actions return.
var (
	ErrNotInstructor = errors.New("only the instructor can do that")
	ErrBanned        = errors.New("you have been removed from this class")
	ErrNoPoll        = errors.New("no poll is open")
	ErrBadAnswer     = errors.New("that is not an answer to this poll")
	ErrUnknown       = errors.New("no such chapter or control")
	ErrLeft          = errors.New("this seat has left the room")
)

// Role is what a member may do.
type Role int

// The roles.
const (
	Student Role = iota
	Instructor
)

// String names the role as screens and logs show it.
func (r Role) String() string {
	if r == Instructor {
		return "instructor"
	}
	return "student"
}

// Identity is who is joining, as the server established it.
type Identity struct {
	// ID is stable across reconnects: the key's fingerprint, or a
	// session-only ID for keyless students.
	ID   string
	Role Role
	// Addr is the client's IP address, used to ban keyless students.
	Addr string
}

// Config is what the room needs from outside.
type Config struct {
	// FirstChapter is where the class starts.
	FirstChapter string
	// Validate checks a chapter (key == "") or a control value and returns
	// it in canonical form; ok is false for an unknown chapter or key.
	// Out-of-range values are clamped, never refused.
	Validate func(chapter, key, value string) (canon string, ok bool)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Journal, when set, is told of every change (persistence).
	Journal Journal
}

// Room is one class.
type Room struct {
	cfg Config

	mu      sync.Mutex
	version uint64
	chapter string
	values  map[string]map[string]string
	locked  bool
	spot    string
	tallies map[string]map[string]int

	poll     *pollRecord            // the open poll, or nil
	polls    map[string]*pollRecord // every poll ever opened, by key
	lastPoll map[string]string      // chapter → ID of the poll opened last

	members map[string]*member
	seats   map[*Seat]struct{}
	banned  map[string]bool
	// dirty is set by quiet events until the next full publish.
	dirty bool
}

// New makes an empty room.
func New(cfg Config) *Room {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Validate == nil {
		cfg.Validate = func(_, _, v string) (string, bool) { return v, true }
	}
	return &Room{
		cfg:      cfg,
		chapter:  cfg.FirstChapter,
		values:   map[string]map[string]string{},
		tallies:  map[string]map[string]int{},
		polls:    map[string]*pollRecord{},
		lastPoll: map[string]string{},
		members:  map[string]*member{},
		seats:    map[*Seat]struct{}{},
		banned:   map[string]bool{},
	}
}

type member struct {
	id       string
	role     Role
	name     string
	hand     bool
	sessions int
	joined   time.Time
	active   time.Time
	pos      Position
	answers  map[string]Answer
	kicked   bool
	addr     string
	// contrib holds the member's votes: chapter/group → key. Replaced, never
	// changed in place.
	contrib map[string]string
}

// Position is where a member is, as their session reports it: following
// the instructor or exploring on their own (and then where, with their own
// values, so a reconnect puts them back).
type Position struct {
	Following bool
	Chapter   string
	Values    map[string]map[string]string
}

// Join seats a session in the room. A member who was here before (same ID)
// gets back their name, answers and position.
func (r *Room) Join(id Identity) (*Seat, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// An address ban stops only keyless students: a whole class may share
	// the banned student's address behind the school's NAT.
	keyless := strings.HasPrefix(id.ID, "session:")
	if r.banned[id.ID] || keyless && id.Role == Student && id.Addr != "" && r.banned["addr:"+id.Addr] {
		return nil, ErrBanned
	}
	now := r.cfg.Now()
	m := r.members[id.ID]
	if m == nil {
		m = &member{id: id.ID, role: id.Role, joined: now, answers: map[string]Answer{},
			pos: Position{Following: true}}
		r.members[id.ID] = m
	}
	m.role = id.Role
	m.kicked = false
	m.sessions++
	m.active = now
	m.addr = id.Addr
	s := &Seat{room: r, m: m, role: id.Role, ready: make(chan struct{}, 1)}
	r.seats[s] = struct{}{}
	r.quiet("join", m, nil, m)
	return s, nil
}

// changed bumps the version, records the event and publishes to every
// seat: for what the whole class sees (chapter, values, lock, polls).
// Callers hold r.mu.
func (r *Room) changed(kind string, actor *member, data map[string]any, touched ...*member) {
	r.version++
	r.record(kind, actor, data, touched...)
	r.publish(nil)
}

// quiet is changed for events the class need not see at once (a join, an
// answer, a vote, a raised hand): it wakes only the members touched and the
// instructors, and leaves the head count and tallies on everyone else's
// screen to the next Refresh. A thousand students answering at once would
// otherwise redraw a thousand screens a thousand times. Callers hold r.mu.
func (r *Room) quiet(kind string, actor *member, data map[string]any, touched ...*member) {
	r.version++
	r.record(kind, actor, data, touched...)
	r.publish(touched)
	r.dirty = true
}

// Refresh publishes to every seat if a quiet event has happened since the
// last full publish. The server calls it about once a second.
func (r *Room) Refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirty {
		r.publish(nil)
	}
}

// publish builds one snapshot for students and one for instructors and
// drops the right one, with the seat's own view, into the mailboxes of
// every seat (only for nil) or of instructors and the members in only.
// Callers hold r.mu.
func (r *Room) publish(only []*member) {
	if only == nil {
		r.dirty = false
	}
	var student *Class
	var teacher *Class
	var roster []MemberView
	for s := range r.seats {
		if s.role != Instructor && only != nil && !slices.Contains(only, s.m) {
			continue
		}
		if s.role == Instructor {
			if teacher == nil {
				teacher = r.class(true)
				roster = r.roster()
			}
			s.post(Snapshot{Class: teacher, Me: r.view(s.m), Roster: roster})
			continue
		}
		if student == nil {
			student = r.class(false)
		}
		s.post(Snapshot{Class: student, Me: r.view(s.m)})
	}
}

// class is the shared, read-only picture of what the class sees. Maps are
// copied so later changes cannot reach a published snapshot.
func (r *Room) class(instructor bool) *Class {
	c := &Class{
		Version:   r.version,
		Chapter:   r.chapter,
		Values:    make(map[string]map[string]string, len(r.values)),
		Locked:    r.locked,
		Spot:      r.spot,
		Tallies:   make(map[string]map[string]int, len(r.tallies)),
		Connected: 0,
	}
	for ch, v := range r.values {
		c.Values[ch] = maps.Clone(v)
	}
	for ch, t := range r.tallies {
		c.Tallies[ch] = maps.Clone(t)
	}
	for _, m := range r.members {
		if m.sessions > 0 {
			c.Connected++
			if m.role == Instructor && c.Instructor == "" {
				c.Instructor = m.name
			}
		}
	}
	if r.poll != nil {
		c.Poll = r.poll.view(instructor)
	}
	if instructor {
		c.lastPoll = maps.Clone(r.lastPoll)
	}
	return c
}

// view is a member as a snapshot shows them. Answers and Position are
// shared, not copied: the room replaces those maps instead of changing
// them, so a published view never changes under its reader.
func (r *Room) view(m *member) MemberView {
	v := MemberView{
		ID: m.id, Name: m.name, Role: m.role, Hand: m.hand, Connected: m.sessions > 0,
		Kicked: m.kicked, Position: m.pos, Joined: m.joined, Active: m.active,
		Answers: m.answers,
	}
	if r.poll != nil {
		_, v.Answered = m.answers[r.poll.spec.key()]
	}
	return v
}

func (r *Room) roster() []MemberView {
	out := make([]MemberView, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, r.view(m))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Role != out[j].Role {
			return out[i].Role > out[j].Role
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// Snapshot is what one seat sees after a change.
type Snapshot struct {
	// Class is shared by every seat of the same role; never modify it.
	Class *Class
	// Me is this seat's member.
	Me MemberView
	// Roster lists every member; only instructors get it.
	Roster []MemberView
}

// Class is the room state everyone sees.
type Class struct {
	Version uint64
	Chapter string
	// Values are the instructor's control values, by chapter then key.
	Values map[string]map[string]string
	Locked bool
	Spot   string
	Poll   *PollView
	// Tallies are the class's pooled contributions, by chapter.
	Tallies map[string]map[string]int
	// Connected counts members with at least one live session.
	Connected int
	// Instructor is the connected instructor's name ("" if none).
	Instructor string

	lastPoll map[string]string
}

// MemberView is one member as a screen shows them.
type MemberView struct {
	ID        string
	Name      string
	Role      Role
	Hand      bool
	Connected bool
	Kicked    bool
	// Answered is whether they answered the open poll.
	Answered bool
	Answers  map[string]Answer
	Position Position
	Joined   time.Time
	Active   time.Time
}

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

// Leave takes the seat out of the room; the member stays on the roster as
// away, so a reconnect restores them.
func (s *Seat) Leave() {
	r := s.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.left {
		return
	}
	s.left = true
	delete(r.seats, s)
	s.m.sessions--
	if s.m.sessions <= 0 {
		s.m.hand = false
	}
	r.quiet("leave", s.m, nil, s.m)
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

// SetName sets the seat's display name, cleaned and made unique in the room
// (a clash gets a number). It returns the name as others will see it.
func (s *Seat) SetName(name string) (string, error) {
	var out string
	err := s.do(func(r *Room) error {
		base := CleanName(name)
		if base == "" {
			base = "student"
		}
		out = base
		for n := 2; r.nameTaken(out, s.m); n++ {
			suffix := fmt.Sprintf(" %d", n)
			out = truncateName(base, MaxNameWidth-len(suffix)) + suffix
		}
		s.m.name = out
		r.quiet("name", s.m, map[string]any{"name": out}, s.m)
		return nil
	})
	return out, err
}

func (r *Room) nameTaken(name string, self *member) bool {
	for _, m := range r.members {
		// A keyless member who left can never come back as themselves, so
		// their name is free again.
		if m.sessions == 0 && strings.HasPrefix(m.id, "session:") {
			continue
		}
		if m != self && strings.EqualFold(m.name, name) {
			return true
		}
	}
	return false
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
			r.changed("chapter", s.m, map[string]any{"chapter": chapter})
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
		r.changed("values", s.m, map[string]any{"chapter": chapter, "values": maps.Clone(vals)})
		return nil
	})
}

// SetLock locks or frees the class: locked, everyone follows and students'
// controls do nothing.
func (s *Seat) SetLock(locked bool) error {
	return s.instructor(func(r *Room) error {
		r.locked = locked
		r.changed("lock", s.m, map[string]any{"locked": locked})
		return nil
	})
}

// SetSpot points everyone at an element of the current chapter ("" clears).
func (s *Seat) SetSpot(spot string) error {
	return s.instructor(func(r *Room) error {
		r.spot = spot
		r.changed("spot", s.m, map[string]any{"spot": spot})
		return nil
	})
}

// RaiseHand raises or lowers the seat's hand.
func (s *Seat) RaiseHand(up bool) error {
	return s.do(func(r *Room) error {
		s.m.hand = up
		r.quiet("hand", s.m, map[string]any{"up": up}, s.m)
		return nil
	})
}

// ClearHand lowers a member's hand.
func (s *Seat) ClearHand(id string) error {
	return s.instructor(func(r *Room) error {
		if m := r.members[id]; m != nil {
			m.hand = false
			r.quiet("hand", s.m, map[string]any{"member": id, "up": false}, m)
		}
		return nil
	})
}

// Kick removes a member's sessions; they may come back unless ban is set,
// in which case their key may not join this class again, and for a keyless
// student no keyless student from their address may (students with keys
// from the same address are unaffected).
func (s *Seat) Kick(id string, ban bool) error {
	return s.instructor(func(r *Room) error {
		m := r.members[id]
		if m == nil || m.role == Instructor {
			return ErrUnknown
		}
		m.kicked = true
		m.hand = false
		if ban {
			r.banned[id] = true
			if strings.HasPrefix(id, "session:") && m.addr != "" {
				r.banned["addr:"+m.addr] = true
			}
		}
		r.quiet("kick", s.m, map[string]any{"member": id, "ban": ban}, m)
		return nil
	})
}

// Report records where the seat's member is, for the dashboard and for a
// reconnect. It wakes only instructors' screens (students never see it).
func (s *Seat) Report(p Position) error {
	return s.do(func(r *Room) error {
		s.m.pos = p
		// Not a change the class sees: no new version, but the member is
		// saved so a reconnect after a restart finds them where they were.
		r.record("position", s.m, nil, s.m)
		r.publish([]*member{s.m})
		return nil
	})
}

// Touch marks the member active now (a key press), for idle times.
func (s *Seat) Touch() {
	_ = s.do(func(*Room) error { return nil })
}

// Contribute adds to a class tally of chapter. Without a group the key
// counts once more (a pooled sample); with one it is the member's vote in
// that group, replacing their previous one (an empty key withdraws it), so
// voting twice never counts twice. Locked or not, a class activity is open
// to everyone.
func (s *Seat) Contribute(chapter, group, key string) error {
	return s.do(func(r *Room) error {
		if _, ok := r.cfg.Validate(chapter, "", ""); !ok || len(key) > 64 || len(group) > 64 || group == "" && key == "" {
			return ErrUnknown
		}
		t := maps.Clone(r.tallies[chapter])
		if t == nil {
			t = map[string]int{}
		}
		if key != "" && len(t) >= 256 && t[key] == 0 {
			return ErrUnknown
		}
		if group != "" {
			slot := chapter + "/" + group
			prev := s.m.contrib[slot]
			if prev == key {
				return nil
			}
			if prev != "" {
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
		}
		if key != "" {
			t[key]++
		}
		r.tallies[chapter] = t
		r.quiet("contribute", s.m, map[string]any{"chapter": chapter, "group": group, "key": key}, s.m)
		return nil
	})
}

// ClearTallies empties a chapter's class tallies (and everyone's votes in
// it), for the instructor to start an activity afresh.
func (s *Seat) ClearTallies(chapter string) error {
	return s.instructor(func(r *Room) error {
		delete(r.tallies, chapter)
		var touched []*member
		for _, m := range r.members {
			for slot := range m.contrib {
				if strings.HasPrefix(slot, chapter+"/") {
					c := maps.Clone(m.contrib)
					for k := range c {
						if strings.HasPrefix(k, chapter+"/") {
							delete(c, k)
						}
					}
					m.contrib = c
					touched = append(touched, m)
					break
				}
			}
		}
		r.changed("tallies.clear", s.m, map[string]any{"chapter": chapter}, touched...)
		return nil
	})
}
