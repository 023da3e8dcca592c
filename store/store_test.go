package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// openStore opens a store in dir that logs nowhere, closed at the end of
// the test.
func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eventually waits until cond holds, failing the test after a deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log destination safe for the writer goroutine and the
// test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// event is a typical change: a log row, the room's state, one member and
// one answer.
func event(v uint64, member string) room.Change {
	return room.Change{
		Version: v,
		Event:   &room.Event{Version: v, At: time.Unix(int64(v), 0), Kind: "answer", Actor: member, Data: map[string]any{"poll": "stack/q"}},
		State:   &room.Saved{Version: v, Chapter: "stack", Polls: []room.SavedPoll{{Spec: room.PollSpec{Chapter: "stack", ID: "q", Choices: []string{"a", "b"}}, Open: true}}},
		Members: []room.SavedMember{{ID: member, Name: member, LastSeen: time.Unix(int64(v), 0), Answers: map[string]room.Answer{"stack/q": {Choice: int(v % 2)}}}},
		Answers: []room.SavedAnswer{{Poll: "stack/q", Member: member, Answer: room.Answer{Choice: int(v % 2)}}},
	}
}

// count is the number of rows in a table.
func count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lockDatabase holds the write lock of the database in dir from another
// connection, as a backup tool or an sqlite3 shell would, until release.
func lockDatabase(t testing.TB, dir string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
				t.Error(err)
			}
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestRoomSurvivesReopen drives a real room with the store as its journal,
// closes it, and finds the class back in a new room.
func TestRoomSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	r := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db})
	in, _ := r.Join(room.Identity{ID: "instructor", Role: room.Instructor})
	st, _ := r.Join(room.Identity{ID: "key:ada"})
	bo, _ := r.Join(room.Identity{ID: "key:bo"})
	st.SetName("Ada")
	in.SetChapter("stack")
	in.SetValues("stack", map[string]string{"layers": "48"})
	in.SetLock(true)
	in.OpenPoll(room.PollSpec{Chapter: "stack", ID: "q", Question: "?", Choices: []string{"a", "b"}, Correct: 1})
	st.Answer(room.Answer{Choice: 1})
	bo.Answer(room.Answer{Choice: 0})
	st.Report(room.Position{Following: false, Chapter: "tokens"})
	r.Refresh() // positions are journaled by Refresh, once a second
	want := in.Latest().Class.Version
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2 := openStore(t, dir)
	var raw string
	if err := db2.db.QueryRow(`SELECT state FROM room`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, `"Choice"`) {
		t.Errorf("the room's row holds answers: %s", raw)
	}
	saved, members, ok, err := db2.Load()
	if err != nil || !ok {
		t.Fatalf("load: ok %v err %v", ok, err)
	}
	r2 := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db2})
	r2.Restore(saved, members)
	back, _ := r2.Join(room.Identity{ID: "key:ada"})
	snap := back.Latest()
	c := snap.Class
	if c.Chapter != "stack" || c.Values["stack"]["layers"] != "48" || !c.Locked || c.Poll == nil || c.Poll.Answered != 2 {
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
	if kinds["position"] != 0 {
		t.Errorf("positions are not events, but the log has %d", kinds["position"])
	}
}

// TestWatchPutsTheAlertOnTheRoom wires the health callback to the room as
// the server does: the callback takes the room's lock while the room keeps
// recording, and neither waits for the other.
func TestWatchPutsTheAlertOnTheRoom(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	r := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db})
	db.Watch(func(err error) {
		if err != nil {
			r.SetAlert("the class is not being saved: " + err.Error())
		} else {
			r.SetAlert("")
		}
	})
	in, _ := r.Join(room.Identity{ID: "instructor", Role: room.Instructor})
	release := lockDatabase(t, dir)
	in.OpenPoll(room.PollSpec{Chapter: "stack", ID: "q", Question: "?", Choices: []string{"a", "b"}})
	var seats []*room.Seat
	for i := range 20 {
		s, err := r.Join(room.Identity{ID: "key:" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		seats = append(seats, s)
	}
	// Students keep answering while the callback takes the room's lock.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := seats[i%len(seats)].Answer(room.Answer{Choice: i / len(seats) % 2})
			if err != nil && err != room.ErrTooFast {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond) // a class's pace, not a loop's
		}
	}()
	eventually(t, "the alert on the instructor's screen", func() bool { return in.Latest().Class.Alert != "" })
	release()
	eventually(t, "the alert to clear", func() bool { return in.Latest().Class.Alert == "" })
	close(stop)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	saved, _, _, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := in.Latest().Class.Version; saved.Version != want {
		t.Errorf("room row at version %d, want %d", saved.Version, want)
	}
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
		if v != len(migrations()) {
			t.Errorf("schema version %d, want %d", v, len(migrations()))
		}
		var start string
		if err := db.db.QueryRow(`SELECT value FROM meta WHERE key = 'last_start'`).Scan(&start); err != nil || start == "" {
			t.Errorf("no start written: %q %v", start, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// schema1 is migration 1 as the first version of this package shipped it.
const schema1 = `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
	CREATE TABLE room (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		version INTEGER NOT NULL,
		state   TEXT NOT NULL
	);
	CREATE TABLE members (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		role       INTEGER NOT NULL,
		first_seen TEXT NOT NULL,
		last_seen  TEXT NOT NULL,
		version    INTEGER NOT NULL,
		data       TEXT NOT NULL
	);
	CREATE TABLE events (
		id      INTEGER PRIMARY KEY AUTOINCREMENT,
		version INTEGER NOT NULL,
		at      TEXT NOT NULL,
		kind    TEXT NOT NULL,
		actor   TEXT NOT NULL,
		data    TEXT NOT NULL
	);
	CREATE INDEX events_version ON events (version);
	INSERT INTO schema_migrations (version, applied_at) VALUES (1, '2025-01-01T00:00:00Z');`

// TestSchema1AnswersMoveToTheirTable opens a database written by schema 1,
// where every answer is inside the room's JSON, and finds the answers back
// through Load, out of the JSON.
func TestSchema1AnswersMoveToTheirTable(t *testing.T) {
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schema1); err != nil {
		t.Fatal(err)
	}
	// The room's JSON as schema 1 wrote it, answers and all.
	state := room.Saved{Version: 41, Chapter: "stack", Locked: true, OpenPoll: "stack/q",
		Values: map[string]map[string]string{"stack": {"layers": "48"}},
		Polls: []room.SavedPoll{
			{Spec: room.PollSpec{Chapter: "stack", ID: "q", Choices: []string{"a", "b"}}, Open: true,
				Answers: map[string]room.Answer{"key:ada": {Choice: 1}, "key:bo": {Choice: 0}}},
			{Spec: room.PollSpec{Chapter: "tokens", ID: "guess", Kind: room.Estimate}, Revealed: true,
				Answers: map[string]room.Answer{"key:ada": {Number: 2.5}}},
			{Spec: room.PollSpec{Chapter: "tokens", ID: "none", Choices: []string{"a", "b"}}},
		}}
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO room (id, version, state) VALUES (1, 41, ?)`, string(raw)); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO members (id, name, role, first_seen, last_seen, version, data) VALUES ('key:ada', 'Ada', 0, '', '', 40, '{"id":"key:ada","name":"Ada"}')`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := openStore(t, dir)
	if n := count(t, db, "answers"); n != 3 {
		t.Errorf("%d answers in their table, want 3", n)
	}
	var rewritten string
	if err := db.db.QueryRow(`SELECT state FROM room`).Scan(&rewritten); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rewritten, `"answers"`) || strings.Contains(rewritten, `"Choice":`) {
		t.Errorf("answers left in the room's JSON: %s", rewritten)
	}
	saved, members, ok, err := db.Load()
	if err != nil || !ok {
		t.Fatalf("load: ok %v err %v", ok, err)
	}
	if saved.Version != 41 || saved.Chapter != "stack" || !saved.Locked || saved.Values["stack"]["layers"] != "48" || len(saved.Polls) != 3 {
		t.Errorf("state after migration: %+v", saved)
	}
	for _, p := range saved.Polls {
		switch p.Spec.ID {
		case "q":
			if len(p.Answers) != 2 || p.Answers["key:ada"].Choice != 1 || p.Answers["key:bo"].Choice != 0 || !p.Open {
				t.Errorf("poll q: %+v", p)
			}
		case "guess":
			if len(p.Answers) != 1 || p.Answers["key:ada"].Number != 2.5 || !p.Revealed || p.Spec.Kind != room.Estimate {
				t.Errorf("poll guess: %+v", p)
			}
		case "none":
			if len(p.Answers) != 0 {
				t.Errorf("poll none: %+v", p)
			}
		}
	}
	if len(members) != 1 || members[0].Name != "Ada" {
		t.Errorf("members: %+v", members)
	}

	// And the room restores from it.
	r := room.New(room.Config{FirstChapter: "tokens", Validate: validate, Journal: db})
	r.Restore(saved, members)
	ada, _ := r.Join(room.Identity{ID: "key:ada"})
	if p := ada.Latest().Class.Poll; p == nil || p.Answered != 2 {
		t.Errorf("restored poll: %+v", p)
	}
}

// TestAnswersResetsAndForgets checks the rows beside the room's: answers
// replaced, a poll asked anew, a member forgotten, and answers to a poll
// the state no longer has.
func TestAnswersResetsAndForgets(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	db.Record(event(1, "key:ada"))
	db.Record(event(2, "key:bo"))
	db.Record(room.Change{Version: 3, Answers: []room.SavedAnswer{
		{Poll: "stack/q", Member: "key:ada", Answer: room.Answer{Choice: 1}},
		{Poll: "gone/x", Member: "key:ada", Answer: room.Answer{Choice: 1}},
	}})
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "answers"); n != 3 {
		t.Fatalf("%d answers, want 3", n)
	}
	// Asked anew: the old answers go, the new one stays; Ada is forgotten
	// in the same batch.
	db.Record(room.Change{Version: 4, ResetPolls: []string{"stack/q"}, Answers: []room.SavedAnswer{{Poll: "stack/q", Member: "key:cy", Answer: room.Answer{Choice: 0}}}})
	db.Record(room.Change{Version: 5, Forget: []string{"key:ada"}})
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	saved, members, ok, err := db.Load()
	if err != nil || !ok {
		t.Fatalf("load: ok %v err %v", ok, err)
	}
	if len(saved.Polls) != 1 || len(saved.Polls[0].Answers) != 1 || saved.Polls[0].Answers["key:cy"] != (room.Answer{}) {
		t.Errorf("polls after the reset: %+v", saved.Polls)
	}
	if len(members) != 1 || members[0].ID != "key:bo" {
		t.Errorf("members after forgetting Ada: %+v", members)
	}
	// A member forgotten and then back is saved again.
	db.Record(room.Change{Version: 6, Forget: []string{"key:bo"}})
	db.Record(event(7, "key:bo"))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, members, _, _ = db.Load(); len(members) != 1 || members[0].ID != "key:bo" {
		t.Errorf("members after Bo came back: %+v", members)
	}
}

// TestFilesAreOwnerOnly: the database and its WAL hold names and answers,
// so only the server's own user may read them, like the host key.
func TestFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	db.Record(event(1, "key:ada"))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read it", name, st.Mode().Perm())
		}
	}
	db.Close()
}
