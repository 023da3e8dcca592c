package room

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Saved is everything about the class worth keeping across a restart: what
// the class sees, every poll with its answers, the bans. Members are saved
// one by one (SavedMember), since most changes touch one of them.
type Saved struct {
	Version  uint64                       `json:"version"`
	Chapter  string                       `json:"chapter"`
	Values   map[string]map[string]string `json:"values"`
	Locked   bool                         `json:"locked"`
	Spot     string                       `json:"spot,omitempty"`
	Tallies  map[string]map[string]int    `json:"tallies,omitempty"`
	Polls    []SavedPoll                  `json:"polls,omitempty"`
	OpenPoll string                       `json:"open_poll,omitempty"`
	Banned   []string                     `json:"banned,omitempty"`
}

// SavedPoll is one poll and its answers by member ID.
type SavedPoll struct {
	Spec     PollSpec          `json:"spec"`
	Open     bool              `json:"open"`
	Revealed bool              `json:"revealed"`
	Answers  map[string]Answer `json:"answers"`
}

// SavedMember is one member as remembered between connections.
type SavedMember struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Role      Role              `json:"role"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Position  Position          `json:"position"`
	Answers   map[string]Answer `json:"answers"`
	Votes     map[string]string `json:"votes,omitempty"`
}

// Event is one change to the room, for the append-only log: what happened,
// who did it, and the version it produced.
type Event struct {
	Version uint64         `json:"version"`
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Actor   string         `json:"actor,omitempty"`
	Data    map[string]any `json:"data,omitempty"`
}

// Journal receives every change as it happens, under the room's lock, so
// changes arrive in order. It must not block for long: a store queues the
// write and returns.
type Journal interface {
	// Record is called after each change with the event, the room's state
	// (nil when the change left it as it was, e.g. a member's position) and
	// the members the change touched.
	Record(ev Event, state *Saved, members []SavedMember)
}

// save is the room's state as Saved. Callers hold r.mu.
func (r *Room) save() Saved {
	s := Saved{
		Version: r.version,
		Chapter: r.chapter,
		Values:  make(map[string]map[string]string, len(r.values)),
		Locked:  r.locked,
		Spot:    r.spot,
		Tallies: make(map[string]map[string]int, len(r.tallies)),
	}
	for ch, v := range r.values {
		s.Values[ch] = maps.Clone(v)
	}
	for ch, t := range r.tallies {
		s.Tallies[ch] = maps.Clone(t)
	}
	keys := slices.Sorted(maps.Keys(r.polls))
	for _, k := range keys {
		p := r.polls[k]
		s.Polls = append(s.Polls, SavedPoll{Spec: p.spec, Open: p.open, Revealed: p.revealed, Answers: maps.Clone(p.answers)})
	}
	if r.poll != nil {
		s.OpenPoll = r.poll.spec.key()
	}
	s.Banned = slices.Sorted(maps.Keys(r.banned))
	return s
}

func (m *member) save() SavedMember {
	return SavedMember{ID: m.id, Name: m.name, Role: m.role, FirstSeen: m.joined, LastSeen: m.active,
		Position: m.pos, Answers: maps.Clone(m.answers), Votes: maps.Clone(m.contrib)}
}

// record tells the journal about a change. Callers hold r.mu and have
// bumped the version.
func (r *Room) record(kind string, actor *member, data map[string]any, touched ...*member) {
	if r.cfg.Journal == nil {
		return
	}
	ev := Event{Version: r.version, At: r.cfg.Now(), Kind: kind, Data: data}
	if actor != nil {
		ev.Actor = actor.id
	}
	var ms []SavedMember
	for _, m := range touched {
		if m != nil {
			ms = append(ms, m.save())
		}
	}
	var state *Saved
	if kind != "position" {
		saved := r.save()
		state = &saved
	}
	r.cfg.Journal.Record(ev, state, ms)
}

// Restore loads a saved class into an empty room (at start-up, before anyone
// joins). Values are checked again, since the catalog may have changed since
// they were saved; unknown chapters and keys are dropped.
func (r *Room) Restore(s Saved, members []SavedMember) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.version = s.Version
	if _, ok := r.cfg.Validate(s.Chapter, "", ""); ok {
		r.chapter = s.Chapter
	}
	for ch, vals := range s.Values {
		if _, ok := r.cfg.Validate(ch, "", ""); !ok {
			continue
		}
		clean := map[string]string{}
		for k, v := range vals {
			if canon, ok := r.cfg.Validate(ch, k, v); ok {
				clean[k] = canon
			}
		}
		r.values[ch] = clean
	}
	r.locked = s.Locked
	r.spot = s.Spot
	for ch, t := range s.Tallies {
		r.tallies[ch] = maps.Clone(t)
	}
	for _, p := range s.Polls {
		if _, ok := r.cfg.Validate(p.Spec.Chapter, "", ""); !ok || p.Spec.ID == "" ||
			p.Spec.Kind == MultipleChoice && (len(p.Spec.Choices) < 2 || len(p.Spec.Choices) > 9) {
			continue
		}
		rec := &pollRecord{spec: p.Spec, open: p.Open, revealed: p.Revealed, answers: maps.Clone(p.Answers)}
		if rec.answers == nil {
			rec.answers = map[string]Answer{}
		}
		r.polls[p.Spec.key()] = rec
		if p.Spec.key() == s.OpenPoll && p.Open {
			r.poll = rec
		}
	}
	for _, b := range s.Banned {
		r.banned[b] = true
	}
	for _, sm := range members {
		if sm.ID == "" || strings.HasPrefix(sm.ID, "session:") {
			continue // a keyless member can never be recognised again
		}
		m := &member{id: sm.ID, name: CleanName(sm.Name), role: sm.Role, joined: sm.FirstSeen, active: sm.LastSeen,
			pos: sm.Position, answers: maps.Clone(sm.Answers), contrib: maps.Clone(sm.Votes)}
		if m.answers == nil {
			m.answers = map[string]Answer{}
		}
		r.members[sm.ID] = m
	}
}
