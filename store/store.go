// Package store keeps the class across restarts in an SQLite database in
// the data directory (modernc.org/sqlite: pure Go, nothing to install).
//
// It holds the room's state (chapter, values, lock, polls, bans), every
// poll's answers (one row each, so an answer costs the same however large
// the class), the roster (key fingerprint → name, first and last seen,
// where they were) and a log of the newest MaxEvents events.
//
// The room never waits for the disk: Record only merges the change into a
// pending batch in memory, and one writer goroutine writes whatever is
// pending in one transaction. A failed write is kept and retried; Watch
// tells the server when saving starts and stops failing. What is pending is
// bounded: only the newest state of each thing is kept, and past a cap the
// oldest log rows waiting are dropped and counted (Dropped).
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/log/v2"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/expedition-llm/expedition/session/room"
)

// FileName is the database's name inside the data directory.
const FileName = "expedition.db"

// MaxEvents is how many of the newest events the log keeps: enough to
// replay a long class, not so many that a server left running for a term
// fills its disk.
const MaxEvents = 100_000

const (
	// trimEvery is how many events are written between two trims of the
	// log, so the delete is paid once per thousand rows, not per row. The
	// log may hold up to MaxEvents+trimEvery rows between trims.
	trimEvery = 1_000

	// maxPendingEvents bounds the log rows waiting for the disk. Everything
	// else pending is the newest state of something the room holds anyway,
	// so it is bounded by the room's own size; the log alone grows with
	// time, and while the disk fails it would grow without end.
	maxPendingEvents = 20_000

	// busyTimeout is how long a write waits for another connection's lock
	// (a backup, an sqlite3 shell) before failing. It is short because a
	// failed write is retried anyway: waiting longer only delays the alert
	// on the instructor's screen and the end of Close.
	busyTimeout = time.Second

	// firstRetry and lastRetry bound the wait between two attempts after a
	// failure: soon enough to recover quickly from a passing lock, rarely
	// enough not to hammer a full disk.
	firstRetry = 250 * time.Millisecond
	lastRetry  = 5 * time.Second

	// dropLogEvery spaces the warnings about dropped events, so a flood
	// logs a count, not a line per event.
	dropLogEvery = 10 * time.Second

	// journalSizeLimit is the size the WAL file is truncated back to after
	// a checkpoint, so one burst does not leave a large file behind for
	// good.
	journalSizeLimit = 64 << 20

	// timeFormat is how times are stored: sortable text, to the nanosecond.
	timeFormat = time.RFC3339Nano
)

// migration is one step of the schema: SQL, then an optional data step in
// the same transaction.
type migration struct {
	sql  string
	data func(tx *sql.Tx) error
}

// migrations are applied in order, each once; the index+1 is the version.
// A function, not a variable: nothing at package level can change.
func migrations() []migration {
	return []migration{
		// 1: the room, the roster, the log.
		{sql: `CREATE TABLE room (
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
		CREATE INDEX events_version ON events (version);`},
		// 2: answers out of the room's row, so saving one costs the same
		// in a class of three thousand as in a class of three; and a place
		// for facts about the database itself.
		{sql: `CREATE TABLE answers (
			poll    TEXT NOT NULL,
			member  TEXT NOT NULL,
			choice  INTEGER NOT NULL,
			number  REAL,
			version INTEGER NOT NULL,
			PRIMARY KEY (poll, member)
		);
		CREATE TABLE meta (
			key   TEXT PRIMARY KEY,
			value TEXT NOT NULL
		);`, data: moveAnswersOut},
	}
}

// moveAnswersOut moves the answers a schema-1 database keeps inside the
// room's JSON into the answers table, and rewrites the JSON without them.
// It edits the JSON as raw fields, so whatever else the row holds is kept
// as it was written.
func moveAnswersOut(tx *sql.Tx) error {
	var version uint64
	var raw string
	err := tx.QueryRow(`SELECT version, state FROM room WHERE id = 1`).Scan(&version, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read room: %w", err)
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &state); err != nil {
		return fmt.Errorf("decode room: %w", err)
	}
	if len(state["polls"]) == 0 || string(state["polls"]) == "null" {
		return nil
	}
	var polls []map[string]json.RawMessage
	if err := json.Unmarshal(state["polls"], &polls); err != nil {
		return fmt.Errorf("decode polls: %w", err)
	}
	insert, err := tx.Prepare(`INSERT INTO answers (poll, member, choice, number, version) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (poll, member) DO UPDATE SET choice = excluded.choice, number = excluded.number, version = excluded.version`)
	if err != nil {
		return fmt.Errorf("prepare answers: %w", err)
	}
	defer insert.Close()
	for _, p := range polls {
		var spec struct{ Chapter, ID string }
		if len(p["spec"]) == 0 {
			continue // not a poll the room could restore anyway
		}
		if err := json.Unmarshal(p["spec"], &spec); err != nil {
			return fmt.Errorf("decode poll: %w", err)
		}
		var answers map[string]room.Answer
		if a := p["answers"]; len(a) > 0 {
			if err := json.Unmarshal(a, &answers); err != nil {
				return fmt.Errorf("decode answers to %s/%s: %w", spec.Chapter, spec.ID, err)
			}
		}
		for member, a := range answers {
			if _, err := insert.Exec(spec.Chapter+"/"+spec.ID, member, a.Choice, a.Number, version); err != nil {
				return fmt.Errorf("insert answer: %w", err)
			}
		}
		delete(p, "answers")
	}
	if state["polls"], err = json.Marshal(polls); err != nil {
		return fmt.Errorf("encode polls: %w", err)
	}
	out, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode room: %w", err)
	}
	if _, err := tx.Exec(`UPDATE room SET state = ? WHERE id = 1`, string(out)); err != nil {
		return fmt.Errorf("rewrite room: %w", err)
	}
	return nil
}

// Store is an open database, and the room's journal.
type Store struct {
	db   *sql.DB
	log  *log.Logger
	path string

	// wake tells the writer something was recorded; kick, that a Flush is
	// waiting (which cuts a retry's wait short); stop, that Close was
	// called. done is closed when the writer has returned.
	wake, kick chan struct{}
	stop, done chan struct{}

	// dropped counts the events dropped past maxPendingEvents.
	dropped atomic.Int64

	// mu is held only for moments (a merge, a swap), never across a write:
	// Record is called under the room's lock.
	mu sync.Mutex
	// pending is what was recorded and not yet written.
	pending batch
	// recorded counts the changes recorded; written is the count up to
	// which every change is in the database.
	recorded, written uint64
	// waiters are the Flush calls waiting for an attempt.
	waiters []waiter
	// unlogged counts the events dropped since the last warning.
	unlogged int64
	// watch is the health callback; watchNew is set until it has been told
	// of a failure already under way.
	watch    func(error)
	watchNew bool
	// closed stops Record; exited is set when the writer has returned.
	closed, exited bool
	// lastErr is the last attempt's error: what Close and a late Flush
	// report while something is still unwritten.
	lastErr error

	closeOnce sync.Once
	closeErr  error

	// Owned by the writer goroutine.
	sinceTrim int
	failing   bool
	lastDrop  time.Time
}

// waiter is one Flush: the count of changes it waits for, and where to
// send the outcome.
type waiter struct {
	upTo uint64
	done chan error
}

// Open opens (creating if needed) the database in dir, brings its schema up
// to date and makes sure it can be written, so a read-only file is found at
// start-up, not hours into a class.
func Open(dir string, logger *log.Logger) (*Store, error) {
	path := filepath.Join(dir, FileName)
	// The database holds names and answers: owner-only, like the host key.
	// SQLite gives the -wal and -shm files the database file's mode.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	}
	dsn := "file:" + path +
		"?_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_pragma=journal_size_limit(" + strconv.Itoa(journalSizeLimit) + ")" +
		// Writes take the lock when they begin, so a busy database makes
		// them wait under busy_timeout instead of failing halfway through.
		"&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and it keeps the
	// pragmas on the connection that does the work.
	db.SetMaxOpenConns(1)
	if err := migrate(db); err != nil {
		db.Close()
		if cannotWrite(err) {
			return nil, unwritable(path, err)
		}
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	// A read-only file in a writable folder opens without complaint and
	// reads fine: only a real write tells.
	if err := markStart(db); err != nil {
		db.Close()
		return nil, unwritable(path, err)
	}
	s := &Store{
		db: db, log: logger, path: path,
		wake: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
		// The first write trims the log, so one left long by an older
		// version is brought back under MaxEvents.
		sinceTrim: trimEvery,
	}
	go s.writer()
	return s, nil
}

// Read loads the class saved in dir without writing anything, for a report
// while the server may be running: ok is false when there is none. A
// database from an older version must be opened by the server once first.
func Read(dir string) (state room.Saved, members []room.SavedMember, ok bool, err error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return state, nil, false, nil
	}
	dsn := "file:" + path + "?mode=ro&_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return state, nil, false, fmt.Errorf("open database %s: %w", path, err)
	}
	defer db.Close()
	return (&Store{db: db}).Load()
}

// unwritable is the error for a database that cannot be written, worded for
// whoever starts the server.
func unwritable(path string, err error) error {
	return fmt.Errorf("the database at %s cannot be written (check the file's permissions and the disk's free space): %w", path, err)
}

// cannotWrite reports whether err is SQLite refusing to write the file, as
// opposed to a problem with its content.
func cannotWrite(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return true
	}
	return false
}

// markStart notes the start in the meta table: the write that proves the
// database can be written.
func markStart(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES ('last_start', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, time.Now().UTC().Format(timeFormat)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func migrate(db *sql.DB) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	steps := migrations()
	if have > len(steps) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", have, len(steps))
	}
	for v := have + 1; v <= len(steps); v++ {
		if err := migrateTo(db, v, steps[v-1]); err != nil {
			return err
		}
	}
	return nil
}

// migrateTo applies one migration in its own transaction.
func migrateTo(db *sql.DB, v int, m migration) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("begin migration %d: %w", v, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(m.sql); err != nil {
		return fmt.Errorf("apply migration %d: %w", v, err)
	}
	if m.data != nil {
		if err := m.data(tx); err != nil {
			return fmt.Errorf("migrate data to version %d: %w", v, err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UTC().Format(timeFormat)); err != nil {
		return fmt.Errorf("record migration %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %d: %w", v, err)
	}
	return nil
}

// Load reads the saved class; ok is false when there is none yet. The
// polls come back with their answers, as room.Restore expects them.
func (s *Store) Load() (state room.Saved, members []room.SavedMember, ok bool, err error) {
	// One read transaction, so the room, the answers and the roster are
	// from the same moment even if the writer is busy.
	tx, err := s.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return state, nil, false, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	var raw string
	err = tx.QueryRow(`SELECT state FROM room WHERE id = 1`).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return state, nil, false, nil
	case err != nil:
		return state, nil, false, fmt.Errorf("read room: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &state); err != nil {
		return state, nil, false, fmt.Errorf("decode room: %w", err)
	}
	// The room's row is from its last change of state; quiet events since
	// (joins, answers) moved the version on, and a restored room must carry
	// on from there, not reuse versions.
	var version string
	switch err := tx.QueryRow(`SELECT value FROM meta WHERE key = 'version'`).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return state, nil, false, fmt.Errorf("read version: %w", err)
	default:
		v, err := strconv.ParseUint(version, 10, 64)
		if err != nil {
			return state, nil, false, fmt.Errorf("decode version: %w", err)
		}
		state.Version = max(state.Version, v)
	}
	if err := loadAnswers(tx, state.Polls); err != nil {
		return state, nil, false, err
	}
	if members, err = loadMembers(tx); err != nil {
		return state, nil, false, err
	}
	return state, members, true, nil
}

// loadAnswers fills each poll's answers from the answers table. Answers to
// a poll the state no longer holds are left out.
func loadAnswers(tx *sql.Tx, polls []room.SavedPoll) error {
	byKey := make(map[string]*room.SavedPoll, len(polls))
	for i := range polls {
		p := &polls[i]
		p.Answers = nil
		byKey[p.Spec.Chapter+"/"+p.Spec.ID] = p
	}
	rows, err := tx.Query(`SELECT poll, member, choice, number FROM answers`)
	if err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var poll, member string
		var a room.Answer
		var number sql.NullFloat64 // SQLite keeps a NaN as NULL
		if err := rows.Scan(&poll, &member, &a.Choice, &number); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		p := byKey[poll]
		if p == nil {
			continue
		}
		a.Number = number.Float64
		if p.Answers == nil {
			p.Answers = map[string]room.Answer{}
		}
		p.Answers[member] = a
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	return nil
}

func loadMembers(tx *sql.Tx) ([]room.SavedMember, error) {
	rows, err := tx.Query(`SELECT data FROM members`)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	defer rows.Close()
	var members []room.SavedMember
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("read member: %w", err)
		}
		var m room.SavedMember
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			return nil, fmt.Errorf("decode member: %w", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return members, nil
}

// Record implements room.Journal. The room calls it under its own lock, so
// it only merges the change into what is pending and wakes the writer: it
// never waits for the disk, nor for the writer.
func (s *Store) Record(c room.Change) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.recorded++
	if n := s.pending.add(c); n > 0 {
		s.dropped.Add(int64(n))
		s.unlogged += int64(n)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Dropped is how many events were left out of the log because the disk
// fell too far behind (maxPendingEvents), so a test or a status line can
// tell that the log has gaps. Everything else is kept until it is written.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Watch sets the function told when saving starts failing (with the error)
// and when it works again (with nil), so the server can warn the
// instructor that the class is not being saved. It is called from the
// writer goroutine, never under the store's locks, once per change of
// health, not once per retry; it may take the room's lock. Set while saving
// already fails, it is told at the next failed attempt.
func (s *Store) Watch(f func(err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watch = f
	s.watchNew = true
}

// Flush waits until everything recorded before the call is written, and
// returns nil, or until an attempt to write it failed, and returns why. A
// waiting Flush cuts short the wait before a retry.
func (s *Store) Flush() error {
	s.mu.Lock()
	if s.recorded <= s.written {
		s.mu.Unlock()
		return nil
	}
	if s.exited {
		err := s.unsaved()
		s.mu.Unlock()
		return err
	}
	done := make(chan error, 1)
	s.waiters = append(s.waiters, waiter{upTo: s.recorded, done: done})
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return <-done
}

// Close writes what is pending, one last attempt, stops the writer and
// closes the database. Its error says what could not be saved, since the
// process is about to lose it. Record does nothing once Close is called.
// Close waits for the writer, which may be in the Watch function: it must
// not be called holding a lock that function takes.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		<-s.done
		s.mu.Lock()
		err := s.unsaved()
		s.mu.Unlock()
		s.closeErr = errors.Join(err, s.db.Close())
	})
	return s.closeErr
}

// unsaved is the error for what is still pending, or nil. Callers hold
// s.mu.
func (s *Store) unsaved() error {
	if s.pending.empty() {
		return nil
	}
	p := &s.pending
	state := ""
	if p.state != nil {
		state = ", nor the room's newest state"
	}
	return fmt.Errorf("%s: %d events, %d members and %d answers were not saved%s: %w",
		s.path, len(p.events), len(p.members), p.answerCount(), state, s.lastErr)
}

// writer writes whatever is pending, in one transaction per attempt, until
// Close. After a failure it waits, longer each time, before trying again.
func (s *Store) writer() {
	defer close(s.done)
	var retry time.Duration
	for {
		stopping := s.wait(retry)
		err := s.attempt()
		s.report(err)
		s.logDrops(stopping)
		if stopping {
			s.mu.Lock()
			s.exited = true
			final := s.unsaved()
			for _, w := range s.waiters {
				w.done <- final
			}
			s.waiters = nil
			s.mu.Unlock()
			return
		}
		if err != nil {
			retry = min(max(2*retry, firstRetry), lastRetry)
		} else {
			retry = 0
		}
	}
}

// wait blocks until there is something to do: something recorded, a
// Flush, Close, or a count of dropped events to log; after a failure, the
// retry's delay (a Flush or Close cuts it short). It reports whether Close
// was called.
func (s *Store) wait(retry time.Duration) (stopping bool) {
	var tick <-chan time.Time
	wake := s.wake
	if retry > 0 {
		// Records during the delay wait for it: they are merged, not
		// written one by one.
		wake = nil
		t := time.NewTimer(retry)
		defer t.Stop()
		tick = t.C
	} else {
		s.mu.Lock()
		unlogged := s.unlogged
		s.mu.Unlock()
		if unlogged > 0 {
			t := time.NewTimer(max(time.Until(s.lastDrop.Add(dropLogEvery)), 0))
			defer t.Stop()
			tick = t.C
		}
	}
	select {
	case <-wake:
	case <-s.kick:
	case <-tick:
	case <-s.stop:
	}
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// logDrops warns of the events dropped since the last warning, at most
// once per dropLogEvery (and once more at the end).
func (s *Store) logDrops(last bool) {
	if !last && time.Since(s.lastDrop) < dropLogEvery {
		return
	}
	s.mu.Lock()
	n := s.unlogged
	s.unlogged = 0
	s.mu.Unlock()
	if n == 0 {
		return
	}
	s.lastDrop = time.Now()
	s.log.Warn("the database fell behind: oldest events left out of the log", "dropped", n, "total", s.dropped.Load())
}

// attempt writes everything pending in one transaction, trims the log if
// it is due, and settles the Flush calls the attempt covered. On failure
// the batch goes back under what was recorded meanwhile, to be tried again.
func (s *Store) attempt() error {
	s.mu.Lock()
	b := s.pending
	s.pending = batch{}
	upTo := s.recorded
	s.mu.Unlock()

	var err error
	if !b.empty() {
		err = s.write(&b)
	}
	if err == nil && len(b.events) > 0 {
		s.sinceTrim += len(b.events)
		if s.sinceTrim >= trimEvery {
			if terr := s.trim(); terr != nil {
				s.log.Warn("trim the event log", "err", terr)
			} else {
				s.sinceTrim = 0
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err != nil {
		n := b.under(&s.pending)
		s.pending = b
		if n > 0 {
			s.dropped.Add(int64(n))
			s.unlogged += int64(n)
		}
	} else {
		s.written = upTo
	}
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.upTo <= upTo {
			w.done <- err
		} else {
			kept = append(kept, w)
		}
	}
	clear(s.waiters[len(kept):])
	s.waiters = kept
	return err
}

// report tells the watcher of a change of health, outside the store's
// locks.
func (s *Store) report(err error) {
	s.mu.Lock()
	f, isNew := s.watch, s.watchNew
	s.watchNew = false
	s.mu.Unlock()
	switch {
	case err != nil && (!s.failing || isNew):
		if !s.failing {
			s.log.Error("the class is not being saved", "path", s.path, "err", err)
		}
		s.failing = true
		if f != nil {
			f(err)
		}
	case err == nil && s.failing:
		s.failing = false
		s.log.Info("the class is being saved again", "path", s.path)
		if f != nil {
			f(nil)
		}
	}
}

// write writes a batch in one transaction: deletes first (forgotten
// members, polls asked anew), then the log, the members, the answers and
// the room. Members, answers and the room only move forward in version.
// A value that cannot be encoded is dropped and logged: it would fail
// every retry.
func (s *Store) write(b *batch) error {
	enc := s.encode(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	for id := range b.forgets {
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE id = ?`, id); err != nil {
			return fmt.Errorf("forget member: %w", err)
		}
	}
	for poll := range b.resets {
		if _, err := tx.ExecContext(ctx, `DELETE FROM answers WHERE poll = ?`, poll); err != nil {
			return fmt.Errorf("reset poll: %w", err)
		}
	}
	if len(enc.events) > 0 {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO events (version, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare events: %w", err)
		}
		defer ins.Close()
		for i, ev := range b.events {
			if _, err := ins.ExecContext(ctx, ev.Version, ev.At.UTC().Format(timeFormat), ev.Kind, ev.Actor, enc.events[i]); err != nil {
				return fmt.Errorf("insert event: %w", err)
			}
		}
	}
	if len(b.members) > 0 {
		up, err := tx.PrepareContext(ctx, `INSERT INTO members (id, name, role, first_seen, last_seen, version, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, last_seen = excluded.last_seen,
				version = excluded.version, data = excluded.data
			WHERE excluded.version >= members.version`)
		if err != nil {
			return fmt.Errorf("prepare members: %w", err)
		}
		defer up.Close()
		for id, pm := range b.members {
			m := pm.m
			if _, err := up.ExecContext(ctx, id, m.Name, int(m.Role), m.FirstSeen.UTC().Format(timeFormat),
				m.LastSeen.UTC().Format(timeFormat), pm.version, enc.members[id]); err != nil {
				return fmt.Errorf("upsert member: %w", err)
			}
		}
	}
	if len(b.answers) > 0 {
		up, err := tx.PrepareContext(ctx, `INSERT INTO answers (poll, member, choice, number, version) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (poll, member) DO UPDATE SET choice = excluded.choice, number = excluded.number, version = excluded.version
			WHERE excluded.version >= answers.version`)
		if err != nil {
			return fmt.Errorf("prepare answers: %w", err)
		}
		defer up.Close()
		for poll, byMember := range b.answers {
			for member, pa := range byMember {
				if _, err := up.ExecContext(ctx, poll, member, pa.a.Choice, pa.a.Number, pa.version); err != nil {
					return fmt.Errorf("upsert answer: %w", err)
				}
			}
		}
	}
	if b.version > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('version', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value
			WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)`, strconv.FormatUint(b.version, 10)); err != nil {
			return fmt.Errorf("write version: %w", err)
		}
	}
	if b.state != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO room (id, version, state) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state
			WHERE excluded.version >= room.version`, b.state.Version, enc.state); err != nil {
			return fmt.Errorf("upsert room: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// encoded is a batch's JSON: events in the batch's order, members by ID.
type encoded struct {
	events  []string
	members map[string]string
	state   string
}

// encode turns a batch's values into JSON, dropping from b what cannot be
// encoded (a NaN, say), so that it does not fail the write again and again.
func (s *Store) encode(b *batch) encoded {
	var enc encoded
	kept := b.events[:0]
	for _, ev := range b.events {
		data, err := json.Marshal(ev.Data)
		if err != nil {
			s.log.Error("event left out of the log: cannot encode it", "version", ev.Version, "kind", ev.Kind, "err", err)
			continue
		}
		kept = append(kept, ev)
		enc.events = append(enc.events, string(data))
	}
	clear(b.events[len(kept):])
	b.events = kept
	enc.members = make(map[string]string, len(b.members))
	for id, pm := range b.members {
		data, err := json.Marshal(pm.m)
		if err != nil {
			s.log.Error("member not saved: cannot encode them", "id", id, "err", err)
			delete(b.members, id)
			continue
		}
		enc.members[id] = string(data)
	}
	if b.state != nil {
		// Answers live in their own table: the room's row never holds them.
		st := *b.state
		st.Polls = make([]room.SavedPoll, len(b.state.Polls))
		for i, p := range b.state.Polls {
			p.Answers = nil
			st.Polls[i] = p
		}
		data, err := json.Marshal(st)
		if err != nil {
			s.log.Error("room state not saved: cannot encode it", "version", st.Version, "err", err)
			b.state = nil
		} else {
			enc.state = string(data)
		}
	}
	return enc
}

// trim deletes the oldest events past MaxEvents.
func (s *Store) trim() error {
	_, err := s.db.Exec(`DELETE FROM events WHERE id < (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)`, MaxEvents-1)
	if err != nil {
		return fmt.Errorf("delete old events: %w", err)
	}
	return nil
}

// Events returns the log from version from on, oldest first (for tests and
// for replaying a class). Only the newest MaxEvents are kept.
func (s *Store) Events(from uint64) ([]room.Event, error) {
	// By version, then in the order written: a database written by older
	// versions of this program may hold rows out of order.
	rows, err := s.db.Query(`SELECT version, at, kind, actor, data FROM events WHERE version >= ? ORDER BY version, id`, from)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []room.Event
	for rows.Next() {
		var ev room.Event
		var at, data string
		if err := rows.Scan(&ev.Version, &at, &ev.Kind, &ev.Actor, &data); err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		ev.At, _ = time.Parse(timeFormat, at)
		if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}
