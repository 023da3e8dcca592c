package store

import "github.com/expedition-llm/expedition/session/room"

// batch is what was recorded and not yet written, merged so that it holds
// only the newest state of each thing: it grows with the room's size, not
// with time, except for the log, which is capped at maxPendingEvents.
//
// Deletes apply before writes: a pending member is always newer than a
// pending forget of the same ID, and a pending answer newer than a pending
// reset of its poll, so the write can delete first and then upsert.
type batch struct {
	// version is the highest version recorded: the room's row only moves
	// with its state, while quiet events (joins, answers) move the version
	// too, and a restored room must not go back to a version it has used.
	version uint64
	events  []*room.Event
	state   *room.Saved
	members map[string]pendingMember
	answers map[string]map[string]pendingAnswer // poll → member → answer
	resets  map[string]struct{}
	forgets map[string]struct{}
}

// pendingMember is a member's newest state and the version it is from.
type pendingMember struct {
	m       room.SavedMember
	version uint64
}

// pendingAnswer is one answer and the version it was given at.
type pendingAnswer struct {
	a       room.Answer
	version uint64
}

// empty reports whether there is anything to write. The version alone is
// not worth a write: it is written with the next thing that is.
func (b *batch) empty() bool {
	return len(b.events) == 0 && b.state == nil && len(b.members) == 0 && len(b.answers) == 0 &&
		len(b.resets) == 0 && len(b.forgets) == 0
}

func (b *batch) answerCount() int {
	n := 0
	for _, byMember := range b.answers {
		n += len(byMember)
	}
	return n
}

// add merges one change into the batch, in the order the change applies:
// forgets, then members; resets, then answers. It returns how many of the
// oldest events were dropped to stay under maxPendingEvents.
func (b *batch) add(c room.Change) (dropped int) {
	b.version = max(b.version, c.Version)
	for _, id := range c.Forget {
		b.forget(id)
	}
	for _, m := range c.Members {
		b.member(pendingMember{m: m, version: c.Version})
	}
	for _, poll := range c.ResetPolls {
		b.reset(poll)
	}
	for _, a := range c.Answers {
		b.answer(a.Poll, a.Member, pendingAnswer{a: a.Answer, version: c.Version})
	}
	b.room(c.State)
	if c.Event != nil {
		b.events = append(b.events, c.Event)
	}
	return b.capEvents()
}

// under merges newer, recorded while b was being written, on top of b, so
// that what is newer wins, and empties newer. It returns how many of the
// oldest events were dropped to stay under maxPendingEvents. Its cost is
// the size of newer: under runs with the store's lock held.
func (b *batch) under(newer *batch) (dropped int) {
	b.version = max(b.version, newer.version)
	for id := range newer.forgets {
		b.forget(id)
	}
	for _, pm := range newer.members {
		b.member(pm)
	}
	for poll := range newer.resets {
		b.reset(poll)
	}
	for poll, byMember := range newer.answers {
		for member, pa := range byMember {
			b.answer(poll, member, pa)
		}
	}
	b.room(newer.state)
	b.events = append(b.events, newer.events...)
	*newer = batch{}
	return b.capEvents()
}

func (b *batch) forget(id string) {
	delete(b.members, id)
	if b.forgets == nil {
		b.forgets = map[string]struct{}{}
	}
	b.forgets[id] = struct{}{}
}

// member keeps the newest state of a member; of two at the same version
// (positions keep the version they found), the later one.
func (b *batch) member(pm pendingMember) {
	if old, ok := b.members[pm.m.ID]; ok && old.version > pm.version {
		return
	}
	if b.members == nil {
		b.members = map[string]pendingMember{}
	}
	b.members[pm.m.ID] = pm
}

func (b *batch) reset(poll string) {
	delete(b.answers, poll)
	if b.resets == nil {
		b.resets = map[string]struct{}{}
	}
	b.resets[poll] = struct{}{}
}

func (b *batch) answer(poll, member string, pa pendingAnswer) {
	byMember := b.answers[poll]
	if old, ok := byMember[member]; ok && old.version > pa.version {
		return
	}
	if byMember == nil {
		if b.answers == nil {
			b.answers = map[string]map[string]pendingAnswer{}
		}
		byMember = map[string]pendingAnswer{}
		b.answers[poll] = byMember
	}
	byMember[member] = pa
}

// room keeps the room's state at the highest version.
func (b *batch) room(s *room.Saved) {
	if s != nil && (b.state == nil || s.Version >= b.state.Version) {
		b.state = s
	}
}

// capEvents drops the oldest events past maxPendingEvents.
func (b *batch) capEvents() int {
	n := len(b.events) - maxPendingEvents
	if n <= 0 {
		return 0
	}
	clear(b.events[:n]) // let the dropped events be collected
	b.events = b.events[n:]
	return n
}
