// Package store keeps the class across restarts in an SQLite database in
// the data directory (modernc.org/sqlite: pure Go, nothing to install).
//
// It holds the room's state (chapter, values, lock, polls with every answer,
// bans), the roster (key fingerprint → name, first and last seen, where they
// were) and an append-only log of every event. One writer goroutine drains a
// bounded queue in batches; when the queue is full the write is done at once
// by the caller instead of being dropped.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/log/v2"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/expedition-llm/expedition/session/room"
)

// FileName is the database's name inside the data directory.
const FileName = "expedition.db"

// queueSize bounds the writes waiting for the writer: past it, callers
// write themselves (slower, never lost).
const queueSize = 1024

// migrations are applied in order, each once; the index+1 is the version.
var migrations = []string{
	// 1: the room, the roster, the log.
	`CREATE TABLE room (
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
	CREATE INDEX events_version ON events (version);`,
}

// Store is an open database.
type Store struct {
	db  *sql.DB
	log *log.Logger

	queue chan write
	done  chan struct{}

	// mu guards closed against sends racing the queue's close.
	mu        sync.RWMutex
	closed    bool
	closeOnce sync.Once
	// inline counts writes done by callers because the queue was full.
	inline atomic.Int64
}

type write struct {
	ev      room.Event
	state   *room.Saved // nil: the room's row is unchanged
	members []room.SavedMember
	flush   chan struct{} // set on a flush marker
}

// Open opens (creating if needed) the database in dir and brings its schema
// up to date.
func Open(dir string, logger *log.Logger) (*Store, error) {
	path := filepath.Join(dir, FileName)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and it keeps the
	// pragmas on the connection that does the work.
	db.SetMaxOpenConns(1)
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	s := &Store{db: db, log: logger, queue: make(chan write, queueSize), done: make(chan struct{})}
	go s.writer()
	return s, nil
}

func migrate(db *sql.DB) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		tx, err := db.Begin()
		if err != nil {
			return fmt.Errorf("begin migration %d: %w", v, err)
		}
		if _, err := tx.Exec(migrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %d: %w", v, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %d: %w", v, err)
		}
	}
	return nil
}

// Load reads the saved class; ok is false when there is none yet.
func (s *Store) Load() (state room.Saved, members []room.SavedMember, ok bool, err error) {
	var raw string
	err = s.db.QueryRow(`SELECT state FROM room WHERE id = 1`).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return state, nil, false, nil
	case err != nil:
		return state, nil, false, fmt.Errorf("read room: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &state); err != nil {
		return state, nil, false, fmt.Errorf("decode room: %w", err)
	}
	rows, err := s.db.Query(`SELECT data FROM members`)
	if err != nil {
		return state, nil, false, fmt.Errorf("read members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return state, nil, false, fmt.Errorf("read member: %w", err)
		}
		var m room.SavedMember
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			return state, nil, false, fmt.Errorf("decode member: %w", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return state, nil, false, fmt.Errorf("read members: %w", err)
	}
	return state, members, true, nil
}

// Record implements room.Journal: it queues the change, or writes it at
// once when the queue is full.
func (s *Store) Record(ev room.Event, state *room.Saved, members []room.SavedMember) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	w := write{ev: ev, state: state, members: members}
	select {
	case s.queue <- w:
	default:
		n := s.inline.Add(1)
		if n == 1 || n%100 == 0 {
			s.log.Warn("database queue full: writing in the caller", "times", n)
		}
		if err := s.apply([]write{w}); err != nil {
			s.log.Error("write event", "version", ev.Version, "err", err)
		}
	}
}

// Flush waits until everything recorded so far is written.
func (s *Store) Flush() {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return
	}
	done := make(chan struct{})
	s.queue <- write{flush: done}
	s.mu.RUnlock()
	<-done
}

// InlineWrites is how many writes the callers had to do themselves.
func (s *Store) InlineWrites() int64 { return s.inline.Load() }

func (s *Store) writer() {
	defer close(s.done)
	for w := range s.queue {
		batch := []write{w}
		// Take whatever else is waiting, so a burst is one transaction.
	drain:
		for len(batch) < 256 {
			select {
			case more, ok := <-s.queue:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		var writes []write
		var flushes []chan struct{}
		for _, b := range batch {
			if b.flush != nil {
				flushes = append(flushes, b.flush)
			} else {
				writes = append(writes, b)
			}
		}
		if len(writes) > 0 {
			if err := s.apply(writes); err != nil {
				s.log.Error("write events", "count", len(writes), "err", err)
			}
		}
		for _, f := range flushes {
			close(f)
		}
	}
}

// apply writes a batch in one transaction: every event, the newest state of
// each member touched, and the newest room state. Rows only move forward in
// version, so a write done out of order by a caller cannot roll them back.
func (s *Store) apply(ws []write) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	members := map[string]room.SavedMember{}
	memberVersion := map[string]uint64{}
	var last *write
	for i := range ws {
		w := &ws[i]
		data, err := json.Marshal(w.ev.Data)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (version, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)`,
			w.ev.Version, w.ev.At.UTC().Format(time.RFC3339Nano), w.ev.Kind, w.ev.Actor, string(data)); err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		for _, m := range w.members {
			if w.ev.Version >= memberVersion[m.ID] {
				members[m.ID] = m
				memberVersion[m.ID] = w.ev.Version
			}
		}
		if w.state != nil && (last == nil || w.state.Version >= last.state.Version) {
			last = w
		}
	}
	for id, m := range members {
		data, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode member: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (id, name, role, first_seen, last_seen, version, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, last_seen = excluded.last_seen,
				version = excluded.version, data = excluded.data
			WHERE excluded.version >= members.version`,
			id, m.Name, int(m.Role), m.FirstSeen.UTC().Format(time.RFC3339Nano), m.LastSeen.UTC().Format(time.RFC3339Nano),
			memberVersion[id], string(data)); err != nil {
			return fmt.Errorf("upsert member: %w", err)
		}
	}
	if last != nil {
		state, err := json.Marshal(last.state)
		if err != nil {
			return fmt.Errorf("encode room: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO room (id, version, state) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state
			WHERE excluded.version >= room.version`, last.state.Version, string(state)); err != nil {
			return fmt.Errorf("upsert room: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Close writes what is queued and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.done
		err = s.db.Close()
	})
	return err
}

// Events returns the log from version from on, oldest first (for tests and
// for replaying a class).
func (s *Store) Events(from uint64) ([]room.Event, error) {
	// By version: a write done by a caller while the queue was full may
	// have been committed ahead of older queued ones.
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
		ev.At, _ = time.Parse(time.RFC3339Nano, at)
		if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
