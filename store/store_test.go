package store

import (
	"io"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/session/room"
)

func validate(ch, key, v string) (string, bool) {
	if ch != "tokens" && ch != "stack" {
		return "", false
	}
	return v, true
}

func TestRoomSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	r := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db})
	in, _ := r.Join(room.Identity{ID: "instructor", Role: room.Instructor})
	st, _ := r.Join(room.Identity{ID: "key:ada"})
	st.SetName("Ada")
	in.SetChapter("stack")
	in.SetValues("stack", map[string]string{"layers": "48"})
	in.SetLock(true)
	in.OpenPoll(room.PollSpec{Chapter: "stack", ID: "q", Question: "?", Choices: []string{"a", "b"}, Correct: 1})
	st.Answer(room.Answer{Choice: 1})
	st.Report(room.Position{Following: false, Chapter: "tokens"})
	want := in.Latest().Class.Version
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	saved, members, ok, err := db2.Load()
	if err != nil || !ok {
		t.Fatalf("load: ok %v err %v", ok, err)
	}
	r2 := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db2})
	r2.Restore(saved, members)
	back, _ := r2.Join(room.Identity{ID: "key:ada"})
	snap := back.Latest()
	c := snap.Class
	if c.Chapter != "stack" || c.Values["stack"]["layers"] != "48" || !c.Locked || c.Poll == nil || c.Poll.Answered != 1 {
		t.Errorf("restored class: %+v poll %+v", c, c.Poll)
	}
	if c.Version <= want {
		t.Errorf("version went back: %d after %d", c.Version, want)
	}
	if snap.Me.Name != "Ada" || snap.Me.Answers["stack/q"].Choice != 1 || snap.Me.Position.Chapter != "tokens" {
		t.Errorf("restored member: %+v", snap.Me)
	}
	evs, err := db2.Events(0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	for _, k := range []string{"join", "name", "chapter", "values", "lock", "poll.open", "answer"} {
		if kinds[k] == 0 {
			t.Errorf("no %q event in the log: %v", k, kinds)
		}
	}
}

// TestFullQueueWritesInline floods the store far past its queue: nothing is
// dropped, and the callers did the overflow themselves.
func TestFullQueueWritesInline(t *testing.T) {
	db, err := Open(t.TempDir(), log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 5000
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				v := uint64(g*n + i + 1)
				db.Record(room.Event{Version: v, At: time.Unix(0, 0), Kind: "values"}, &room.Saved{Version: v, Chapter: "tokens"}, nil)
			}
		}(g)
	}
	wg.Wait()
	db.Flush()
	evs, err := db.Events(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events written, want %d", len(evs), n)
	}
	saved, _, _, _ := db.Load()
	if saved.Version != 3*n+n/4 {
		t.Errorf("room row at version %d, want the highest %d", saved.Version, 3*n+n/4)
	}
	t.Logf("inline writes: %d of %d", db.InlineWrites(), n)
}

func TestMigrationsAreIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		db, err := Open(dir, log.New(io.Discard))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var v int
		db.db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v)
		if v != len(migrations) {
			t.Errorf("schema version %d, want %d", v, len(migrations))
		}
		db.Close()
	}
}
