package room

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for tests of pacing.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClockRoom(c *clock, j Journal) *Room {
	return New(Config{FirstChapter: "tokens", Now: c.now, Journal: j,
		Validate: func(ch, key, v string) (string, bool) { return v, ch == "tokens" || ch == "scaling" }})
}

// journal keeps what the room records.
type journal struct {
	mu      sync.Mutex
	changes []Change
}

func (j *journal) Record(c Change) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.changes = append(j.changes, c)
}

func (j *journal) take() []Change {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.changes
	j.changes = nil
	return out
}

func TestStudentActionsArePaced(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	r := newClockRoom(c, nil)
	in := join(t, r, "teacher", Instructor)
	st := join(t, r, "key:s", Student)
	up := true
	for i := 0; i < ActionBurst; i++ {
		if err := st.RaiseHand(up); err != nil {
			t.Fatalf("action %d of a burst of %d refused: %v", i+1, ActionBurst, err)
		}
		up = !up
	}
	if err := st.RaiseHand(up); !errors.Is(err, ErrTooFast) {
		t.Fatalf("action past the burst: %v, want ErrTooFast", err)
	}
	// Asking for what is already so costs nothing and is never refused.
	if err := st.RaiseHand(!up); err != nil {
		t.Errorf("a no-op was refused: %v", err)
	}
	c.add(time.Second)
	for i := 0; i < int(ActionRate); i++ {
		if err := st.RaiseHand(up); err != nil {
			t.Fatalf("after a second, action %d refused: %v", i+1, err)
		}
		up = !up
	}
	if err := st.RaiseHand(up); !errors.Is(err, ErrTooFast) {
		t.Errorf("more than the rate after a second: %v", err)
	}
	// The instructor is never paced.
	for i := 0; i < 3*ActionBurst; i++ {
		if err := in.SetValues("tokens", map[string]string{"text": fmt.Sprint(i)}); err != nil {
			t.Fatalf("instructor action %d: %v", i, err)
		}
	}
}

func TestShareOfPooledDrawsIsCapped(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	r := newClockRoom(c, nil)
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	b := join(t, r, "key:b", Student)
	for i := 0; i < MaxSamplesPerMember; i++ {
		c.add(time.Second)
		if err := a.Contribute("tokens", "", "sample:mat"); err != nil {
			t.Fatalf("draw %d: %v", i+1, err)
		}
	}
	c.add(time.Second)
	if err := a.Contribute("tokens", "", "sample:mat"); !errors.Is(err, ErrShareFull) {
		t.Fatalf("draw past the share: %v, want ErrShareFull", err)
	}
	if err := b.Contribute("tokens", "", "sample:sofa"); err != nil {
		t.Errorf("another student's draw refused: %v", err)
	}
	if err := a.Contribute("scaling", "", "sample:mat"); err != nil {
		t.Errorf("a draw in another chapter refused: %v", err)
	}
	if n := in.Latest().Class.Tallies["tokens"]["sample:mat"]; n != MaxSamplesPerMember {
		t.Errorf("one student's draws in the tally: %d, want %d", n, MaxSamplesPerMember)
	}
	_ = in.ClearTallies("tokens")
	if err := a.Contribute("tokens", "", "sample:mat"); err != nil {
		t.Errorf("after the tallies were cleared, a draw refused: %v", err)
	}
}

func TestKeylessLeaversAreForgotten(t *testing.T) {
	j := &journal{}
	r := New(Config{FirstChapter: "tokens", Journal: j})
	in := join(t, r, "teacher", Instructor)
	for i := 0; i < 3000; i++ {
		s, _ := r.Join(Identity{ID: fmt.Sprintf("session:%d", i), Keyless: true})
		_, _ = s.SetName("Visitor")
		s.Leave()
	}
	kept := join(t, r, "key:k", Student)
	kept.Leave()
	roster, err := in.Roster()
	if err != nil {
		t.Fatal(err)
	}
	if len(roster) != 2 {
		t.Errorf("roster after 3,000 keyless visits: %d members, want the instructor and the keyed student", len(roster))
	}
	for _, c := range j.take() {
		for _, m := range c.Members {
			if strings.HasPrefix(m.ID, "session:") {
				t.Fatalf("keyless member %s journaled", m.ID)
			}
		}
	}
	// Their names are free again.
	s, _ := r.Join(Identity{ID: "session:new", Keyless: true})
	if name, _ := s.SetName("Visitor"); name != "Visitor" {
		t.Errorf("name after the keyless Visitors left: %q", name)
	}
}

func TestRosterIsBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	j := &journal{}
	r := newClockRoom(c, j)
	join(t, r, "teacher", Instructor)
	for i := 0; i < MaxRoster+5; i++ {
		c.add(time.Millisecond)
		join(t, r, fmt.Sprintf("key:%d", i), Student).Leave()
	}
	r.mu.Lock()
	n := len(r.members)
	_, first := r.members["key:0"]
	_, last := r.members[fmt.Sprintf("key:%d", MaxRoster+4)]
	r.mu.Unlock()
	if n > MaxRoster {
		t.Errorf("%d members remembered, cap %d", n, MaxRoster)
	}
	if first || !last {
		t.Errorf("the longest away should go first: key:0 kept %v, newest kept %v", first, last)
	}
	forgot := 0
	for _, c := range j.take() {
		forgot += len(c.Forget)
	}
	if forgot != 6 {
		t.Errorf("journal told to forget %d members, want 6", forgot)
	}
}

func TestRosterListsPresentFirst(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	zed := join(t, r, "key:z", Student)
	_, _ = zed.SetName("Zed")
	amy := join(t, r, "key:a", Student)
	_, _ = amy.SetName("Amy")
	amy.Leave()
	join(t, r, "key:n", Student) // never named
	roster, _ := in.Roster()
	var order []string
	for _, v := range roster {
		order = append(order, fmt.Sprintf("%s/%v", v.Name, v.Connected))
	}
	want := "[/true /true Zed/true Amy/false]"
	if fmt.Sprint(order) != want {
		t.Errorf("roster order %v, want %s", order, want)
	}
	if _, err := zed.Roster(); !errors.Is(err, ErrNotInstructor) {
		t.Errorf("a student read the roster: %v", err)
	}
}

func TestPositionsAreSavedOnceASecond(t *testing.T) {
	j := &journal{}
	r := New(Config{FirstChapter: "tokens", Journal: j})
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	r.Refresh()
	j.take()
	<-in.Ready()
	<-a.Ready()
	for i := 0; i < 100; i++ {
		_ = a.Report(Position{Chapter: "scaling", Values: map[string]map[string]string{"scaling": {"n": fmt.Sprint(i)}}})
	}
	if got := j.take(); len(got) != 0 {
		t.Fatalf("100 position reports journaled %d changes before the refresh", len(got))
	}
	select {
	case <-in.Ready():
		t.Fatal("a position report woke the instructor before the refresh")
	default:
	}
	r.Refresh()
	got := j.take()
	if len(got) != 1 || got[0].Event != nil || len(got[0].Members) != 1 || got[0].Members[0].Position.Values["scaling"]["n"] != "99" {
		t.Fatalf("after refresh the journal got %+v, want one change with the newest position and no event", got)
	}
	select {
	case <-in.Ready():
	default:
		t.Fatal("the refresh did not bring the move to the instructor")
	}
	select {
	case <-a.Ready():
		t.Error("a position-only refresh woke a student")
	default:
	}
}

func TestAlertReachesOnlyInstructors(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	st := join(t, r, "key:s", Student)
	r.SetAlert("not saving")
	if got := in.Latest().Class.Alert; got != "not saving" {
		t.Errorf("instructor alert %q", got)
	}
	if got := st.Latest().Class.Alert; got != "" {
		t.Errorf("a student sees the alert %q", got)
	}
	r.SetAlert("")
	if got := in.Latest().Class.Alert; got != "" {
		t.Errorf("alert not cleared: %q", got)
	}
}
