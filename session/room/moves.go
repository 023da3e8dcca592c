package room

import (
	"maps"
	"slices"
)

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

// takeMoves is what this server's members did since the last Refresh,
// where they are and when they last pressed a key, for the other servers.
// Callers hold r.mu.
func (r *Room) takeMoves() []move {
	if len(r.moved) == 0 && len(r.touched) == 0 {
		return nil
	}
	byID := map[string]*move{}
	for m := range r.moved {
		p := m.pos
		byID[m.id] = &move{Member: m.id, Pos: &p, Active: m.active}
	}
	for m, at := range r.touched {
		mv := byID[m.id]
		if mv == nil {
			mv = &move{Member: m.id, Active: m.active}
			byID[m.id] = mv
		}
		if at.After(mv.Active) {
			mv.Active = at
		}
	}
	clear(r.moved)
	clear(r.touched)
	out := make([]move, 0, len(byID))
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		out = append(out, *byID[id])
	}
	return out
}

// applyMoves takes members' positions and key presses from a server's
// Refresh, journals the positions and brings them to the instructors' next
// Refresh. Callers hold r.mu.
func (r *Room) applyMoves(moves []move) {
	var ms []*member
	for _, mv := range moves {
		m := r.members[mv.Member]
		if m == nil {
			continue
		}
		if mv.Active.After(m.active) {
			m.active = mv.Active
		}
		if mv.Pos != nil {
			m.pos = *mv.Pos
			ms = append(ms, m)
		}
	}
	r.staffDirty = true
	if len(ms) > 0 {
		r.record(event{kind: "position", touched: ms})
	}
}
