package natsroom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/expedition-llm/expedition/internal/natstest"
	"github.com/expedition-llm/expedition/session/room"
)

// node is one server's room on the class's NATS.
type node struct {
	t    *testing.T
	tr   *Transport
	room *room.Room
}

func open(t *testing.T, url, server string) *node {
	t.Helper()
	return openWith(t, Config{URL: url, Room: "test", Server: server})
}

func openWith(t *testing.T, cfg Config) *node {
	t.Helper()
	server := cfg.Server
	tr, err := Dial(cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	r := room.New(room.Config{FirstChapter: "tokens", Transport: tr, Server: server})
	if err := tr.Start(r); err != nil {
		t.Fatalf("Start: %v", err)
	}
	n := &node{t: t, tr: tr, room: r}
	t.Cleanup(func() { n.close() })
	return n
}

// crash stops n as a killed process would: no leaves sent, nothing kept.
func (n *node) crash() {
	close(n.tr.stop)
	n.tr.wg.Wait()
	n.tr.cons.Stop()
	n.tr.nc.Close()
	n.tr = nil
}

func (n *node) close() {
	if n.tr != nil {
		n.tr.Close(time.Second)
		n.tr = nil
	}
}

// converge waits until every node has applied the same operations and
// holds the same room.
func converge(t *testing.T, nodes ...*node) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var imgs [][]byte
		for _, n := range nodes {
			_, img, err := n.room.Image()
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		same := true
		for _, img := range imgs[1:] {
			same = same && bytes.Equal(img, imgs[0])
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rooms differ after 20 s:\n%s\n%s", imgs[0], imgs[1])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func join(t *testing.T, r *room.Room, id string, role room.Role) *room.Seat {
	t.Helper()
	s, err := r.Join(room.Identity{ID: id, Role: role})
	if err != nil {
		t.Fatalf("join %s: %v", id, err)
	}
	return s
}

func TestTwoServersHoldOneClass(t *testing.T) {
	ns := natstest.Start(t)
	a, b := open(t, ns.URL(), "a"), open(t, ns.URL(), "b")
	in := join(t, a.room, "teacher", room.Instructor)
	s1 := join(t, a.room, "key:1", room.Student)
	s2 := join(t, b.room, "key:2", room.Student)
	if _, err := s2.SetName("Grace"); err != nil {
		t.Fatal(err)
	}
	if err := s2.SetChapter("scaling"); err != room.ErrNotInstructor {
		t.Fatalf("a student's chapter change on B: %v", err)
	}
	if err := in.OpenPoll(room.PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"a", "b", "c"}}); err != nil {
		t.Fatal(err)
	}
	converge(t, a, b)
	if err := s1.Answer(room.Answer{Choice: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Answer(room.Answer{Choice: 2}); err != nil {
		t.Fatal(err)
	}
	// Grace answers again through A (another session of the same member):
	// her answer is replaced, not counted twice.
	s2a := join(t, a.room, "key:2", room.Student)
	if err := s2a.Answer(room.Answer{Choice: 0}); err != nil {
		t.Fatal(err)
	}
	converge(t, a, b)
	p := in.Latest().Class.Poll
	if p == nil || p.Answered != 2 || fmt.Sprint(p.Counts) != "[1 1 0]" {
		t.Fatalf("poll on A: %+v, want 2 answered, counts [1 1 0]", p)
	}
	if c := s2.Latest().Class; c.Connected != 3 {
		t.Errorf("B sees %d connected, want 3 (teacher, key:1, key:2)", c.Connected)
	}
	if name := s2a.Latest().Me.Name; name != "Grace" {
		t.Errorf("Grace's session on A is called %q", name)
	}
}

func TestLateServerLoadsTheImage(t *testing.T) {
	ns := natstest.Start(t)
	a := open(t, ns.URL(), "a")
	in := join(t, a.room, "teacher", room.Instructor)
	for i := range 20 {
		s := join(t, a.room, fmt.Sprintf("key:%d", i), room.Student)
		if _, err := s.SetName(fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.SetChapter("scaling"); err != nil {
		t.Fatal(err)
	}
	if err := a.tr.KeepImage(); err != nil {
		t.Fatal(err)
	}
	kept := a.room.Applied()
	if err := in.SetValues("scaling", map[string]string{"n": "7"}); err != nil {
		t.Fatal(err)
	}
	b := open(t, ns.URL(), "b")
	converge(t, a, b)
	var head imageHead
	e, err := a.tr.kv.Get(t.Context(), headKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.Value(), &head); err != nil || head.Seq != kept {
		t.Fatalf("bucket's image at %d (%v), want %d", head.Seq, err, kept)
	}
	s := join(t, b.room, "key:late", room.Student)
	if c := s.Latest().Class; c.Chapter != "scaling" || c.Values["scaling"]["n"] != "7" || c.Connected != 22 {
		t.Fatalf("late server's student sees %+v", c)
	}
}

func TestRestartedServerEndsItsLostSessions(t *testing.T) {
	ns := natstest.Start(t)
	a := open(t, ns.URL(), "a")
	b := open(t, ns.URL(), "b")
	in := join(t, a.room, "teacher", room.Instructor)
	join(t, b.room, "key:1", room.Student)
	h := join(t, b.room, "key:2", room.Student)
	if err := h.RaiseHand(true); err != nil {
		t.Fatal(err)
	}
	converge(t, a, b)
	// B dies without its sessions leaving, and starts again.
	b.crash()
	b2 := open(t, ns.URL(), "b")
	converge(t, a, b2)
	a.room.Refresh()
	c := in.Latest().Class
	if c.Connected != 1 || c.Hands != 0 {
		t.Fatalf("after B restarted: %d connected, %d hands; want 1 and 0", c.Connected, c.Hands)
	}
}

func TestNATSRestartLosesNothingAcknowledged(t *testing.T) {
	ns := natstest.Start(t)
	a, b := open(t, ns.URL(), "a"), open(t, ns.URL(), "b")
	in := join(t, a.room, "teacher", room.Instructor)
	s := join(t, b.room, "key:1", room.Student)
	if err := in.SetChapter("scaling"); err != nil {
		t.Fatal(err)
	}
	if err := s.RaiseHand(true); err != nil {
		t.Fatal(err)
	}
	ns.Restart()
	// After the restart both servers reconnect on their own; the next
	// change reaches both, and what was acknowledged before is there.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := in.SetValues("scaling", map[string]string{"n": "3"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no action taken 20 s after NATS restarted: %v", err)
		}
	}
	converge(t, a, b)
	c := s.Latest().Class
	if c.Chapter != "scaling" || c.Values["scaling"]["n"] != "3" || !s.Latest().Me.Hand {
		t.Fatalf("after NATS restarted B's student sees chapter %q values %v hand %v", c.Chapter, c.Values, s.Latest().Me.Hand)
	}
	// A server starting now replays the whole record from NATS's disk.
	late := open(t, ns.URL(), "c")
	converge(t, a, b, late)
}

func TestCheckRoom(t *testing.T) {
	for name, ok := range map[string]bool{"class": true, "CS-101_b": true, "": false, "a.b": false, "a b": false,
		"*": false, ">": false, "é": false, string(make([]byte, 65)): false} {
		if err := CheckRoom(name); (err == nil) != ok {
			t.Errorf("CheckRoom(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

// TestRefusedDuringOutageStaysUndone: an action the member was told could
// not be done while NATS was away is not done later behind their back.
func TestRefusedDuringOutageStaysUndone(t *testing.T) {
	ns := natstest.Start(t)
	a, b := open(t, ns.URL(), "a"), open(t, ns.URL(), "b")
	in := join(t, a.room, "teacher", room.Instructor)
	s := join(t, b.room, "key:1", room.Student)
	ns.Stop()
	if err := in.SetChapter("scaling"); err != room.ErrUnreachable {
		t.Fatalf("chapter change with NATS away: %v, want ErrUnreachable", err)
	}
	ns.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for in.SetLock(true) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no action taken 20 s after NATS came back")
		}
	}
	converge(t, a, b)
	if c := s.Latest().Class; c.Chapter != "tokens" || !c.Locked {
		t.Fatalf("B's student sees chapter %q locked %v; want tokens (the refused change undone) and locked", c.Chapter, c.Locked)
	}
}

// TestSilentServerIsGivenUp: a server that dies and never comes back stops
// being counted: the others end its sessions once it has been silent for
// GoneAfter.
func TestSilentServerIsGivenUp(t *testing.T) {
	ns := natstest.Start(t)
	fast := func(server string) Config {
		return Config{URL: ns.URL(), Room: "test", Server: server, HeartbeatEvery: 50 * time.Millisecond, GoneAfter: 500 * time.Millisecond}
	}
	a, b := openWith(t, fast("a")), openWith(t, fast("b"))
	in := join(t, a.room, "teacher", room.Instructor)
	join(t, b.room, "key:1", room.Student)
	converge(t, a, b)
	// B lives on for twice GoneAfter, by NATS's clock: beating, it is
	// not given up.
	first, err := b.tr.kv.Get(t.Context(), aliveKey("b"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		e, err := b.tr.kv.Get(t.Context(), aliveKey("b"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Created().Sub(first.Created()) > time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	converge(t, a, b)
	if c := in.Latest().Class.Connected; c != 2 {
		t.Fatalf("%d connected while B is alive, want 2", c)
	}
	b.crash()
	deadline := time.Now().Add(20 * time.Second)
	for in.Latest().Class.Connected != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("B's student still counted 20 s after B died: %d connected", in.Latest().Class.Connected)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := a.room.Servers(); len(s) != 0 {
		t.Fatalf("A still counts sessions on %v", s)
	}
}

// BenchmarkActionRoundTrip is one instructor action through NATS with two
// servers holding the class: published, stored, read back and applied on
// both, the sender waiting for its own copy.
func BenchmarkActionRoundTrip(b *testing.B) {
	ns := natstest.Start(b)
	var nodes []*node
	for _, name := range []string{"a", "b"} {
		tr, err := Dial(Config{URL: ns.URL(), Room: "bench", Server: name})
		if err != nil {
			b.Fatal(err)
		}
		r := room.New(room.Config{FirstChapter: "tokens", Transport: tr, Server: name})
		if err := tr.Start(r); err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, &node{tr: tr, room: r})
		b.Cleanup(func() { tr.Close(time.Second) })
	}
	in, err := nodes[0].room.Join(room.Identity{ID: "teacher", Role: room.Instructor})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if err := in.SetValues("tokens", map[string]string{"text": fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
