package session

import (
	"testing"

	"github.com/expedition-llm/expedition/session/room"
)

// TestStaleSnapshotIsIgnored: a snapshot the forwarder read before the
// instructor's own action must not undo that action on their screen.
func TestStaleSnapshotIsIgnored(t *testing.T) {
	c, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	r := room.New(room.Config{FirstChapter: c.At(0).ID()})
	seat, _ := r.Join(room.Identity{ID: "teacher", Role: room.Instructor})
	m := New(Options{Catalog: c, Width: 100, Height: 30, Seat: seat})
	press(m, "enter") // keep the offered name
	stale := seat.Latest()
	press(m, "1", "o")
	if m.snap.Class.Poll == nil {
		t.Fatal("o opened no poll")
	}
	m.Update(RoomMsg{Snap: stale})
	if m.snap.Class.Poll == nil || m.snap.Class.Chapter != "tokens" {
		t.Fatalf("a stale snapshot undid the instructor's own actions: %+v", m.snap.Class)
	}
	press(m, "o")
	if id := m.snap.Class.Poll.Spec.ID; id == "strawberry" {
		t.Fatalf("o after a stale snapshot opened the first question again")
	}
}
