package store

import (
	"testing"

	"github.com/expedition-llm/expedition/session/room"
)

func member(id, name string) room.SavedMember { return room.SavedMember{ID: id, Name: name} }

func answer(poll, member string, choice int) room.SavedAnswer {
	return room.SavedAnswer{Poll: poll, Member: member, Answer: room.Answer{Choice: choice}}
}

// TestBatchKeepsOnlyTheNewest merges changes as the room sends them and
// checks that only the newest of each thing is kept.
func TestBatchKeepsOnlyTheNewest(t *testing.T) {
	var b batch
	b.add(room.Change{Version: 1, State: &room.Saved{Version: 1}, Members: []room.SavedMember{member("a", "one")},
		Answers: []room.SavedAnswer{answer("p", "a", 0), answer("p", "b", 0), answer("q", "a", 0)}})
	b.add(room.Change{Version: 3, State: &room.Saved{Version: 3}, Members: []room.SavedMember{member("a", "three")}})
	b.add(room.Change{Version: 2, State: &room.Saved{Version: 2}, Members: []room.SavedMember{member("a", "two")}})
	// A position keeps the version it found: at the same version, the
	// later one wins.
	b.add(room.Change{Version: 3, Members: []room.SavedMember{member("a", "three, moved")}})
	// Asked anew: earlier answers to p go, the reset stays, the new answer
	// is kept.
	b.add(room.Change{Version: 4, ResetPolls: []string{"p"}, Answers: []room.SavedAnswer{answer("p", "c", 1)}})
	b.add(room.Change{Version: 5, Members: []room.SavedMember{member("b", "bee")}})
	b.add(room.Change{Version: 6, Forget: []string{"b"}})
	b.add(room.Change{Version: 7, Answers: []room.SavedAnswer{answer("q", "a", 1)}})

	if b.state.Version != 3 {
		t.Errorf("state at version %d, want 3", b.state.Version)
	}
	if len(b.members) != 1 || b.members["a"].m.Name != "three, moved" {
		t.Errorf("members: %+v", b.members)
	}
	if _, ok := b.forgets["b"]; !ok || len(b.forgets) != 1 {
		t.Errorf("forgets: %v", b.forgets)
	}
	if _, ok := b.resets["p"]; !ok || len(b.answers["p"]) != 1 || b.answers["p"]["c"].a.Choice != 1 {
		t.Errorf("answers to p after the reset: %+v, resets %v", b.answers["p"], b.resets)
	}
	if len(b.answers["q"]) != 1 || b.answers["q"]["a"].a.Choice != 1 {
		t.Errorf("answers to q: %+v", b.answers["q"])
	}
	if len(b.events) != 0 {
		t.Errorf("%d events from changes without one", len(b.events))
	}
}

// TestFailedBatchGoesUnderTheNewer puts a batch that failed to write back
// under what was recorded meanwhile: the newer wins everywhere, the log
// stays in order.
func TestFailedBatchGoesUnderTheNewer(t *testing.T) {
	var failed, newer batch
	failed.add(room.Change{Version: 1, Event: &room.Event{Version: 1}, State: &room.Saved{Version: 1},
		Members: []room.SavedMember{member("a", "old"), member("gone", "x")}, Answers: []room.SavedAnswer{answer("p", "a", 0)}})
	failed.add(room.Change{Version: 2, Event: &room.Event{Version: 2}, Forget: []string{"back"}})
	newer.add(room.Change{Version: 3, Event: &room.Event{Version: 3}, State: &room.Saved{Version: 3},
		Members: []room.SavedMember{member("a", "new"), member("back", "again")}, Forget: []string{"gone"}})
	newer.add(room.Change{Version: 4, Event: &room.Event{Version: 4}, ResetPolls: []string{"p"}})

	if dropped := failed.under(&newer); dropped != 0 {
		t.Errorf("%d dropped", dropped)
	}
	if !newer.empty() {
		t.Error("the newer batch was not emptied")
	}
	b := failed
	if b.state.Version != 3 || b.members["a"].m.Name != "new" || b.members["back"].m.Name != "again" {
		t.Errorf("state %d, members %+v", b.state.Version, b.members)
	}
	if _, ok := b.members["gone"]; ok {
		t.Error("a member forgotten since is still pending")
	}
	if len(b.answers["p"]) != 0 || len(b.resets) != 1 {
		t.Errorf("answers %+v and resets %v after the reset", b.answers, b.resets)
	}
	for i, ev := range b.events {
		if ev.Version != uint64(i+1) {
			t.Fatalf("events out of order: %d at %d", ev.Version, i)
		}
	}
	if len(b.events) != 4 {
		t.Errorf("%d events, want 4", len(b.events))
	}
}

// TestBatchCapsEvents drops the oldest events past the cap, however they
// arrive.
func TestBatchCapsEvents(t *testing.T) {
	var b, newer batch
	dropped := 0
	for v := uint64(1); v <= maxPendingEvents+10; v++ {
		dropped += b.add(room.Change{Version: v, Event: &room.Event{Version: v}})
	}
	for v := uint64(maxPendingEvents + 11); v <= maxPendingEvents+15; v++ {
		newer.add(room.Change{Version: v, Event: &room.Event{Version: v}})
	}
	dropped += b.under(&newer)
	if dropped != 15 || len(b.events) != maxPendingEvents || b.events[0].Version != 16 || b.events[len(b.events)-1].Version != maxPendingEvents+15 {
		t.Errorf("dropped %d, kept %d from %d to %d", dropped, len(b.events), b.events[0].Version, b.events[len(b.events)-1].Version)
	}
}
