package room

import (
	"context"
	"sync"
	"testing"
)

// bus is a transport for two rooms in one test: one order, kept as bytes,
// delivered to every room as it is sent (a duplicate, too, when dup is set).
type bus struct {
	mu    sync.Mutex
	log   [][]byte
	rooms []*Room
	dup   bool
}

func (b *bus) Send(_ context.Context, o Op) error {
	b.Post(o)
	return nil
}

func (b *bus) Post(o Op) {
	data, err := o.Encode()
	if err != nil {
		panic(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, data)
	seq := uint64(len(b.log))
	for _, r := range b.rooms {
		_ = r.Deliver(seq, data)
		if b.dup {
			_ = r.Deliver(seq, data)
		}
	}
}

func sharedPair(t *testing.T, dup bool) (*bus, *Room, *Room) {
	t.Helper()
	b := &bus{dup: dup}
	cfg := func(server string) Config {
		c := newRoom().cfg
		c.Transport, c.Server = b, server
		return c
	}
	x, y := New(cfg("x")), New(cfg("y"))
	b.rooms = []*Room{x, y}
	return b, x, y
}

func TestSharedRoomsAgreeAndIgnoreDuplicates(t *testing.T) {
	_, x, y := sharedPair(t, true)
	in := join(t, x, "teacher", Instructor)
	a := join(t, x, "a", Student)
	b := join(t, y, "b", Student)
	if err := in.SetChapter("scaling"); err != nil {
		t.Fatal(err)
	}
	if err := in.OpenPoll(PollSpec{Chapter: "scaling", ID: "q", Choices: []string{"x", "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Answer(Answer{Choice: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Answer(Answer{Choice: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Contribute("scaling", "", "k"); err != nil {
		t.Fatal(err)
	}
	_, ix, _ := x.Image()
	_, iy, _ := y.Image()
	if string(ix) != string(iy) {
		t.Fatalf("rooms differ:\n%s\n%s", ix, iy)
	}
	c := in.Latest().Class
	if c.Poll.Answered != 2 || c.Poll.Counts[1] != 2 || c.Tallies["scaling"]["k"] != 1 || c.Connected != 3 {
		t.Fatalf("each delivered twice, the class reads %+v (poll %+v)", c, c.Poll)
	}
	if b.Latest().Class.Chapter != "scaling" {
		t.Fatal("y's student did not follow x's instructor")
	}
}

func TestSharedRoomSkipsWhatIsNotAnOperation(t *testing.T) {
	b, x, _ := sharedPair(t, false)
	b.log = append(b.log, []byte("{not json"))
	if err := x.Deliver(1, b.log[0]); err == nil {
		t.Fatal("Deliver took garbage")
	}
	if x.Applied() != 1 {
		t.Fatalf("applied %d after a skipped operation, want 1", x.Applied())
	}
	join(t, x, "a", Student) // the order goes on
}

func TestLoadedImageIsTheRoom(t *testing.T) {
	_, x, _ := sharedPair(t, false)
	in := join(t, x, "teacher", Instructor)
	k, err := x.Join(Identity{ID: "session:1", Keyless: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.RaiseHand(true); err != nil {
		t.Fatal(err)
	}
	if err := in.SetValues("tokens", map[string]string{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	seq, img, err := x.Image()
	if err != nil {
		t.Fatal(err)
	}
	z := New(Config{FirstChapter: "tokens", Validate: newRoom().cfg.Validate, Transport: &bus{}, Server: "z"})
	got, err := z.LoadImage(img)
	if err != nil || got != seq {
		t.Fatalf("LoadImage: %d, %v; want %d", got, err, seq)
	}
	_, again, _ := z.Image()
	if string(again) != string(img) {
		t.Fatalf("image after a load differs:\n%s\n%s", img, again)
	}
}

func TestServerGoneEndsItsSessionsEverywhere(t *testing.T) {
	b, x, y := sharedPair(t, false)
	evicted := make(chan struct{}, 1)
	y.cfg.Evicted = func() { evicted <- struct{}{} }
	in := join(t, x, "teacher", Instructor)
	s := join(t, y, "s", Student)
	if err := s.RaiseHand(true); err != nil {
		t.Fatal(err)
	}
	if got := x.Servers(); len(got) != 1 || got[0] != "y" {
		t.Fatalf("x counts sessions on %v, want [y]", got)
	}
	x.ServerGone("y")
	<-evicted
	c := in.Latest().Class
	if c.Connected != 1 || c.Hands != 0 || len(x.Servers()) != 0 {
		t.Fatalf("after y was given up: %d connected, %d hands, servers %v", c.Connected, c.Hands, x.Servers())
	}
	_, ix, _ := x.Image()
	_, iy, _ := y.Image()
	if string(ix) != string(iy) {
		t.Fatalf("rooms differ:\n%s\n%s", ix, iy)
	}
	s.Leave() // the session ending afterwards changes nothing more
	if n := len(b.log); n == 0 || x.Applied() != uint64(n) {
		t.Fatalf("applied %d of %d", x.Applied(), n)
	}
}
