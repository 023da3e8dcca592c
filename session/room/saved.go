package room

import (
	"maps"
	"math"
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
	Spec     PollSpec `json:"spec"`
	Open     bool     `json:"open"`
	Revealed bool     `json:"revealed"`
	// Answers are by member ID. The room's own saves leave them out (they
	// are journaled one by one as SavedAnswer); a journal's Load fills them.
	Answers map[string]Answer `json:"answers,omitempty"`
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
	// Samples counts the member's pooled draws per chapter (their share).
	Samples map[string]int `json:"samples,omitempty"`
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

// SavedAnswer is one member's answer to one poll (Poll is "chapter/id").
// Answers are kept apart from the room's state so that saving an answer
// costs the same in a class of thirty as in a class of three thousand.
type SavedAnswer struct {
	Poll   string `json:"poll"`
	Member string `json:"member"`
	Answer Answer `json:"answer"`
}

// Change is one change to the room as the journal receives it: everything
// in it is the newest state of what it names, so a journal may merge
// several changes into one write.
type Change struct {
	// Version is the room's version after the change. A change that is not
	// an event the class sees (a member's position) keeps the version it
	// found.
	Version uint64
	// Event is the log row, or nil when the change leaves none (positions,
	// saved once a second at most).
	Event *Event
	// State is the room's state after the change, or nil when the change
	// left it as it was. Its polls carry no answers: those are in Answers.
	State *Saved
	// Members are the members the change touched, as they are now.
	Members []SavedMember
	// Answers are answers given or replaced.
	Answers []SavedAnswer
	// ResetPolls are polls ("chapter/id") whose answers are all dropped,
	// before this change's Answers apply: the question was asked anew.
	ResetPolls []string
	// Forget are members dropped from the roster for good.
	Forget []string
}

// Journal receives every change as it happens, under the room's lock, so
// changes arrive in order. Record must never block: the room waits for no
// disk.
type Journal interface {
	Record(Change)
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
		s.Polls = append(s.Polls, SavedPoll{Spec: p.spec, Open: p.open, Revealed: p.revealed})
	}
	if r.poll != nil {
		s.OpenPoll = r.poll.spec.key()
	}
	s.Banned = slices.Sorted(maps.Keys(r.banned))
	return s
}

func (m *member) save() SavedMember {
	return SavedMember{ID: m.id, Name: m.name, Role: m.role, FirstSeen: m.joined, LastSeen: m.active,
		Position: m.pos, Answers: maps.Clone(m.answers), Votes: maps.Clone(m.contrib), Samples: maps.Clone(m.samples)}
}

// record tells the journal about a change. Callers hold r.mu and have
// bumped the version if the change is an event. Keyless members are never
// journaled as members: they can never be recognised again.
func (r *Room) record(e event) {
	if r.cfg.Journal == nil {
		return
	}
	c := Change{Version: r.version, Forget: e.forget}
	if e.kind != "position" {
		c.Event = &Event{Version: r.version, At: r.cfg.Now(), Kind: e.kind, Data: e.data}
		if e.actor != nil {
			c.Event.Actor = e.actor.id
		}
	}
	for _, m := range e.touched {
		if m != nil && !m.keyless {
			c.Members = append(c.Members, m.save())
		}
	}
	if e.answer != nil {
		c.Answers = []SavedAnswer{*e.answer}
	}
	if e.reset != "" {
		c.ResetPolls = []string{e.reset}
	}
	if e.state {
		saved := r.save()
		c.State = &saved
	}
	r.cfg.Journal.Record(c)
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
			!r.choicesOK(p.Spec) {
			continue
		}
		rec := newPollRecord(p.Spec, validAnswers(p.Spec, p.Answers))
		rec.open, rec.revealed = p.Open, p.Revealed
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
			// Only databases from before keyless members went unsaved hold
			// these: they can never be recognised again.
			continue
		}
		m := &member{id: sm.ID, name: CleanName(sm.Name), role: sm.Role, joined: sm.FirstSeen, active: sm.LastSeen,
			pos: sm.Position, answers: maps.Clone(sm.Answers), contrib: maps.Clone(sm.Votes), samples: maps.Clone(sm.Samples)}
		if m.answers == nil {
			m.answers = map[string]Answer{}
		}
		if old := r.members[sm.ID]; old != nil {
			r.drop(old)
		}
		r.members[sm.ID] = m
		if m.name != "" && r.names[nameKey(m.name)] == nil {
			r.names[nameKey(m.name)] = m
		}
	}
}

// validAnswers keeps the saved answers that answer spec: a choice it offers,
// or a finite number.
func validAnswers(spec PollSpec, answers map[string]Answer) map[string]Answer {
	out := make(map[string]Answer, len(answers))
	for id, a := range answers {
		if spec.Kind == MultipleChoice && (a.Choice < 0 || a.Choice >= len(spec.Choices)) ||
			spec.Kind != MultipleChoice && (math.IsNaN(a.Number) || math.IsInf(a.Number, 0)) {
			continue
		}
		out[id] = a
	}
	return out
}

// Record is the class as it stands, for a report: its state with every
// poll's answers, and every member it remembers (keyless ones too), by ID.
func (r *Room) Record() (Saved, []SavedMember) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.save()
	for i := range s.Polls {
		s.Polls[i].Answers = maps.Clone(r.polls[s.Polls[i].Spec.key()].answers)
	}
	members := make([]SavedMember, 0, len(r.members))
	for _, id := range slices.Sorted(maps.Keys(r.members)) {
		members = append(members, r.members[id].save())
	}
	return s, members
}
