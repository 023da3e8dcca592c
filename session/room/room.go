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
	"maps"
	"strconv"
	"sync"
	"time"
)

// Errors a Seat's actions return.
var (
	ErrNotInstructor = errors.New("only the instructor can do that")
	ErrBanned        = errors.New("you have been removed from this class")
	ErrNoPoll        = errors.New("no poll is open")
	ErrBadAnswer     = errors.New("that is not an answer to this poll")
	// ErrOutOfRange refuses an estimate outside its poll's range (the
	// session says which range).
	ErrOutOfRange = errors.New("that answer is outside the question's range")
	ErrUnknown    = errors.New("no such chapter or control")
	ErrLeft       = errors.New("this seat has left the room")
	// ErrTooFast refuses a student's class action past their rate: a burst
	// a person can type, not what a script can send.
	// (Short: a notice must fit an 80-column footer beside the badge.)
	ErrTooFast = errors.New("slow down: wait a few seconds, then try again")
	// ErrShareFull refuses a draw past a student's share of a pooled
	// activity, so no one fills the class's histogram alone.
	ErrShareFull = errors.New("you have drawn your share (" + strconv.Itoa(MaxSamplesPerMember) + ") in this chapter")
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
	// Keyless marks a student without a key: their ID lasts one session,
	// so they are never saved and are forgotten when they leave.
	Keyless bool
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
	// MaxChoices bounds a poll's choices (the chapters' lessons.MaxChoices,
	// a digit each); 0 leaves them unbounded, for tests.
	MaxChoices int
	// Transport shares the class with other servers; nil keeps it in this
	// process (the default: operations are applied as they are made).
	Transport Transport
	// Server names this server among those sharing the class, the same
	// across its restarts ("" when it is alone).
	Server string
	// Evicted, when set, is called (on its own goroutine) when the other
	// servers gave this one up as gone and ended its sessions in the
	// class: it was out of touch too long. The server then ends them here
	// too, and its students reconnect and join again.
	Evicted func()
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
	// staff are the instructors' seats: every event wakes them, so they are
	// found without walking the class.
	staff  map[*Seat]struct{}
	banned map[string]bool
	// names finds a member by folded display name, so naming costs the
	// same in a class of three thousand as in a class of thirty.
	names map[string]*member
	// connected counts members with at least one live session; hands,
	// the hands up.
	connected, hands int
	// dirty is set by quiet events until the next full publish; staffDirty
	// by changes only instructors see (positions) until the next publish
	// that reaches them.
	dirty, staffDirty bool
	// moved are members whose position changed since it was last saved:
	// positions are saved once a second at most, not once a key press.
	moved map[*member]struct{}
	// alert is a warning for the instructors' screens ("" for none), such
	// as the class not being saved.
	alert string

	// tr orders operations; shared is set when other servers hold the
	// class too. applied is the last operation applied (its place in the
	// transport's order), sent counts this server's operations, boot tells
	// this start's apart from an earlier one's, and pending are the
	// sessions waiting for their own operations to come back.
	tr      Transport
	shared  bool
	applied uint64
	sent    uint64
	boot    string
	pending map[string]*waiter
	// teachers are the connected instructors, on any server.
	teachers map[*member]struct{}
	// touched are this server's members who pressed a key since the last
	// Refresh, and when (with several servers only: alone, Touch marks
	// them at once).
	touched map[*member]time.Time
}

// New makes an empty room.
func New(cfg Config) *Room {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Validate == nil {
		cfg.Validate = func(_, _, v string) (string, bool) { return v, true }
	}
	r := &Room{
		cfg:      cfg,
		chapter:  cfg.FirstChapter,
		values:   map[string]map[string]string{},
		tallies:  map[string]map[string]int{},
		polls:    map[string]*pollRecord{},
		lastPoll: map[string]string{},
		members:  map[string]*member{},
		seats:    map[*Seat]struct{}{},
		staff:    map[*Seat]struct{}{},
		banned:   map[string]bool{},
		names:    map[string]*member{},
		moved:    map[*member]struct{}{},
		tr:       cfg.Transport,
		shared:   cfg.Transport != nil,
		boot:     strconv.FormatInt(cfg.Now().UnixNano(), 36),
		pending:  map[string]*waiter{},
		teachers: map[*member]struct{}{},
		touched:  map[*member]time.Time{},
	}
	if r.tr == nil {
		r.tr = &inProcess{room: r}
	}
	return r
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
	// samples counts the member's pooled draws per chapter.
	samples map[string]int
	// seats are the member's live sessions on this server; at counts their
	// sessions on every server, by server, so a server that restarts can
	// end the ones it lost.
	seats []*Seat
	at    map[string]int
	// keyless marks a member who can never be recognised again once they
	// leave (no key): never journaled, dropped on leaving.
	keyless bool
	// budget paces the member's class actions.
	budget bucket
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
	banned := r.banned[id.ID]
	r.mu.Unlock()
	if banned {
		return nil, ErrBanned
	}
	s := &Seat{room: r, role: id.Role, ready: make(chan struct{}, 1)}
	o := op{Kind: kindJoin, Member: id.ID, Role: id.Role, At: r.cfg.Now(), Keyless: id.Keyless, Addr: id.Addr}
	if _, ordered, err := r.send(o, s); err != nil {
		if ordered && errors.Is(err, ErrUnreachable) {
			// The join will yet be applied, seatless: its leave keeps the
			// class's count of who is here right.
			o.ID = ""
			o.Kind = kindLeave
			r.post(o)
		}
		return nil, err
	}
	return s, nil
}

// join applies a join, seating seat if the session is on this server.
// Callers hold r.mu.
func (r *Room) join(o *op, seat *Seat) error {
	if r.banned[o.Member] {
		return ErrBanned
	}
	m := r.members[o.Member]
	var forget []string
	if m == nil {
		forget = r.makeRoom()
		m = &member{id: o.Member, role: o.Role, joined: o.At, answers: map[string]Answer{},
			pos: Position{Following: true}, keyless: o.Keyless}
		r.members[o.Member] = m
	}
	m.role = o.Role
	m.kicked = false
	if m.sessions == 0 {
		r.connected++
	}
	m.sessions++
	if m.at == nil {
		m.at = map[string]int{}
	}
	m.at[o.Server]++
	r.present(m)
	if o.At.After(m.active) {
		m.active = o.At
	}
	m.addr = o.Addr
	if seat != nil {
		seat.m = m
		r.seats[seat] = struct{}{}
		m.seats = append(m.seats, seat)
		if seat.role == Instructor {
			r.staff[seat] = struct{}{}
		}
	}
	r.quiet(event{kind: "join", actor: m, touched: []*member{m}, forget: forget})
	return nil
}

// makeRoom forgets the member away the longest when the roster is full, so
// a stream of new keys cannot grow the room without end. It returns the IDs
// forgotten. Callers hold r.mu.
func (r *Room) makeRoom() []string {
	if len(r.members) < MaxRoster {
		return nil
	}
	var oldest *member
	for _, m := range r.members {
		if m.sessions == 0 && m.role == Student && (oldest == nil || m.active.Before(oldest.active) ||
			m.active.Equal(oldest.active) && m.id < oldest.id) {
			oldest = m
		}
	}
	if oldest == nil {
		return nil
	}
	r.drop(oldest)
	if oldest.keyless {
		return nil
	}
	return []string{oldest.id}
}

// drop takes a member off the roster. Their answers stay in the polls they
// answered. Callers hold r.mu.
func (r *Room) drop(m *member) {
	delete(r.members, m.id)
	delete(r.moved, m)
	delete(r.touched, m)
	delete(r.teachers, m)
	if k := nameKey(m.name); r.names[k] == m {
		delete(r.names, k)
	}
}

// event is one change as the room records it.
type event struct {
	kind    string
	actor   *member
	data    map[string]any
	touched []*member
	// state is set when the change is to what Saved holds (chapter, values,
	// lock, spotlight, tallies, polls, bans).
	state  bool
	answer *SavedAnswer
	reset  string
	forget []string
}

// changed bumps the version, records the event and publishes to every
// seat: for what the whole class sees (chapter, values, lock, polls).
// Callers hold r.mu.
func (r *Room) changed(e event) {
	r.version++
	e.state = true
	r.record(e)
	r.publish(nil)
}

// quiet is changed for events the class need not see at once (a join, an
// answer, a vote, a raised hand): it wakes only the members touched and the
// instructors, and leaves the head count and tallies on everyone else's
// screen to the next Refresh. A thousand students answering at once would
// otherwise redraw a thousand screens a thousand times. Callers hold r.mu.
func (r *Room) quiet(e event) {
	r.version++
	r.record(e)
	r.publish(e.touched)
	r.dirty = true
}

// Refresh saves the positions that moved and publishes what quiet events
// changed since the last full publish: to every seat if the class's counts
// moved, to the instructors if only positions did. The server calls it
// about once a second. With several servers, the moves and key presses of
// this server's members go to the others as one operation.
func (r *Room) Refresh() {
	r.mu.Lock()
	var moves []move
	if r.shared {
		moves = r.takeMoves()
	} else {
		r.saveMoved()
	}
	switch {
	case r.dirty:
		r.publish(nil)
	case r.staffDirty:
		r.publish([]*member{})
	}
	r.mu.Unlock()
	for len(moves) > 0 {
		n := min(len(moves), movesPerOp)
		r.post(op{Kind: kindMoves, Moves: moves[:n]})
		moves = moves[n:]
	}
}

// publish builds one snapshot for students and one for instructors and
// drops the right one, with the seat's own view, into the mailboxes of
// every seat (only nil) or of the instructors and the seats of the members
// in only. It walks only the seats it wakes, so a quiet event costs the same
// however large the class. Callers hold r.mu.
func (r *Room) publish(only []*member) {
	if only == nil {
		r.dirty = false
	}
	r.staffDirty = false
	var student, teacher *Class
	post := func(s *Seat) {
		if s.role == Instructor {
			if teacher == nil {
				teacher = r.class(true)
			}
			s.post(Snapshot{Class: teacher, Me: r.view(s.m)})
			return
		}
		if student == nil {
			student = r.class(false)
		}
		s.post(Snapshot{Class: student, Me: r.view(s.m)})
	}
	if only == nil {
		for s := range r.seats {
			post(s)
		}
		return
	}
	for s := range r.staff {
		post(s)
	}
	for _, m := range only {
		for _, s := range m.seats {
			if s.role != Instructor {
				post(s)
			}
		}
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
		Connected: r.connected,
	}
	for ch, v := range r.values {
		c.Values[ch] = maps.Clone(v)
	}
	for ch, t := range r.tallies {
		c.Tallies[ch] = maps.Clone(t)
	}
	c.Instructor, c.Teaching = r.leadName(), len(r.teachers) > 0
	if r.poll != nil {
		c.Poll = r.poll.view(instructor)
	}
	if instructor {
		c.lastPoll = maps.Clone(r.lastPoll)
		c.Alert = r.alert
		c.Hands = r.hands
	}
	return c
}

// leadName is the name of the instructor who has been here longest (a class
// may have two). Callers hold r.mu.
func (r *Room) leadName() string {
	var lead *member
	for m := range r.teachers {
		if lead == nil || m.joined.Before(lead.joined) || m.joined.Equal(lead.joined) && m.id < lead.id {
			lead = m
		}
	}
	if lead == nil {
		return ""
	}
	return lead.name
}

// view is a member as a snapshot shows them. Answers and Position are
// shared, not copied: the room replaces those maps instead of changing
// them, so a published view never changes under its reader.
func (r *Room) view(m *member) MemberView {
	v := MemberView{
		ID: m.id, Name: m.name, Role: m.role, Hand: m.hand, Connected: m.sessions > 0,
		Kicked: m.kicked, Keyless: m.keyless, Position: m.pos, Joined: m.joined, Active: m.active,
		Answers: m.answers,
	}
	if r.poll != nil {
		_, v.Answered = m.answers[r.poll.spec.key()]
	}
	return v
}

// Snapshot is what one seat sees after a change.
type Snapshot struct {
	// Class is shared by every seat of the same role; never modify it.
	Class *Class
	// Me is this seat's member.
	Me MemberView
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
	// Instructor is the connected instructor's name ("" if none, or not
	// named yet); Teaching is whether an instructor is connected.
	Instructor string
	Teaching   bool
	// Hands counts the hands up (only in instructors' snapshots).
	Hands int
	// Alert is a warning for the instructor ("" for none; never set for
	// students), e.g. that the class is not being saved.
	Alert string

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
	// Keyless is a student without a key (see Identity.Keyless).
	Keyless bool
	// Answered is whether they answered the open poll.
	Answered bool
	Answers  map[string]Answer
	Position Position
	Joined   time.Time
	Active   time.Time
}
