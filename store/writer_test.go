package store

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/session/room"
)

// TestFloodKeepsEveryEvent has several goroutines record thousands of
// changes at once: after Flush every event is in the log, and the room's
// row is at the highest version.
func TestFloodKeepsEveryEvent(t *testing.T) {
	db := openStore(t, t.TempDir())
	const goroutines, each = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				v := uint64(g*each + i + 1)
				db.Record(event(v, fmt.Sprintf("key:%d", v%300)))
			}
		})
	}
	wg.Wait()
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "events"); n != goroutines*each {
		t.Fatalf("%d events written, want %d", n, goroutines*each)
	}
	saved, members, ok, err := db.Load()
	if err != nil || !ok {
		t.Fatalf("load: ok %v err %v", ok, err)
	}
	if saved.Version != goroutines*each {
		t.Errorf("room row at version %d, want the highest %d", saved.Version, goroutines*each)
	}
	if len(members) != 300 || len(saved.Polls) != 1 || len(saved.Polls[0].Answers) != 300 {
		t.Errorf("%d members and %+v polls, want 300 members who all answered", len(members), saved.Polls)
	}
	if db.Dropped() != 0 {
		t.Errorf("%d events dropped", db.Dropped())
	}
}

// TestFailureAndRecovery holds the database's write lock from another
// connection: Record goes on without waiting, the watcher hears of the
// failure once, then of the recovery once, and nothing recorded is lost.
func TestFailureAndRecovery(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	health := make(chan error, 10)
	db.Watch(func(err error) { health <- err })
	db.Record(event(1, "key:ada"))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}

	release := lockDatabase(t, dir)
	var slowest time.Duration
	for v := uint64(2); v <= 1000; v++ {
		start := time.Now()
		db.Record(event(v, fmt.Sprintf("key:%d", v%50)))
		slowest = max(slowest, time.Since(start))
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("Record waited %v while the database was locked", slowest)
	}
	select {
	case err := <-health:
		if err == nil {
			t.Fatal("told of a recovery before any failure")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the watcher was never told of the failure")
	}
	// Another failed attempt: the watcher hears nothing more.
	if err := db.Flush(); err == nil {
		t.Fatal("Flush succeeded with the database locked")
	}
	select {
	case err := <-health:
		t.Fatalf("told again while still failing: %v", err)
	default:
	}
	db.Record(event(1001, "key:bo"))

	release()
	select {
	case err := <-health:
		if err != nil {
			t.Fatalf("told of another failure instead of the recovery: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the watcher was never told of the recovery")
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "events"); n != 1001 {
		t.Errorf("%d events in the log, want 1001", n)
	}
	if n := count(t, db, "members"); n != 52 {
		t.Errorf("%d members, want 52 (Ada, Bo and 50 more)", n)
	}
	saved, _, _, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != 1001 {
		t.Errorf("room row at version %d, want 1001", saved.Version)
	}
	if db.Dropped() != 0 {
		t.Errorf("%d events dropped", db.Dropped())
	}
}

// TestPendingEventsAreCapped fills the pending log past its cap while the
// disk is unavailable: the oldest are dropped and counted, the newest
// written once it is back, and the warning comes as a count, not a line per
// event.
func TestPendingEventsAreCapped(t *testing.T) {
	dir := t.TempDir()
	logs := &syncBuffer{}
	db, err := Open(dir, log.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	release := lockDatabase(t, dir)
	const over = 500
	const total = maxPendingEvents + over
	for v := uint64(1); v <= total; v++ {
		db.Record(room.Change{Version: v, Event: &room.Event{Version: v, Kind: "answer"}})
	}
	eventually(t, "the oldest events to be dropped", func() bool { return db.Dropped() == over })
	release()
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if db.Dropped() != over {
		t.Errorf("%d events dropped, want %d", db.Dropped(), over)
	}
	var n, oldest, newest int
	if err := db.db.QueryRow(`SELECT COUNT(*), MIN(version), MAX(version) FROM events`).Scan(&n, &oldest, &newest); err != nil {
		t.Fatal(err)
	}
	if n != maxPendingEvents || oldest != over+1 || newest != total {
		t.Errorf("log holds %d events, versions %d to %d; want %d, %d to %d", n, oldest, newest, maxPendingEvents, over+1, total)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	warnings := strings.Count(logs.String(), "oldest events left out of the log")
	if warnings < 1 || warnings > 2 {
		t.Errorf("%d warnings about dropped events, want one or two:\n%s", warnings, logs)
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("total=%d", over)) {
		t.Errorf("the warnings do not give the count:\n%s", logs)
	}
}

// TestLogIsBounded records past MaxEvents: the table stays within
// MaxEvents and one trim's slack, and keeps the newest.
func TestLogIsBounded(t *testing.T) {
	db := openStore(t, t.TempDir())
	// A log already full, written in one statement (a hundred thousand
	// Records take too long under the race detector)...
	if _, err := db.db.Exec(`WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < ?)
		INSERT INTO events (version, at, kind, actor, data) SELECT v, '', 'values', '', 'null' FROM n`, MaxEvents); err != nil {
		t.Fatal(err)
	}
	// ...then several trims' worth of events through the writer, flushed
	// now and then as a class would be.
	const total = MaxEvents + 3*trimEvery + 123
	for v := uint64(MaxEvents + 1); v <= total; v++ {
		db.Record(room.Change{Version: v, Event: &room.Event{Version: v, Kind: "values"}})
		if v%700 == 0 {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "events"); n > MaxEvents+trimEvery {
				t.Fatalf("%d events in the log at version %d, want at most %d", n, v, MaxEvents+trimEvery)
			}
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	var n, oldest, newest int
	if err := db.db.QueryRow(`SELECT COUNT(*), MIN(version), MAX(version) FROM events`).Scan(&n, &oldest, &newest); err != nil {
		t.Fatal(err)
	}
	if n > MaxEvents+trimEvery || n < MaxEvents {
		t.Errorf("%d events in the log, want %d to %d", n, MaxEvents, MaxEvents+trimEvery)
	}
	if newest != total || oldest != total-n+1 {
		t.Errorf("log holds versions %d to %d (%d rows); want the newest, up to %d", oldest, newest, n, total)
	}
	if db.Dropped() != 0 {
		t.Errorf("%d events dropped", db.Dropped())
	}
}

// TestCloseReportsWhatWasNotSaved closes a store whose database is locked:
// Close says what was lost, Record after Close does nothing, and no
// goroutine is left behind.
func TestCloseReportsWhatWasNotSaved(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	db, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	release := lockDatabase(t, dir)
	for v := uint64(1); v <= 10; v++ {
		db.Record(event(v, fmt.Sprintf("key:%d", v%3)))
	}
	err = db.Close()
	if err == nil || !strings.Contains(err.Error(), "10 events, 3 members and 3 answers were not saved") {
		t.Errorf("Close: %v", err)
	}
	db.Record(event(11, "key:late"))
	if err := db.Flush(); err == nil {
		t.Error("Flush after a failed Close says everything was written")
	}
	if again := db.Close(); again == nil {
		t.Error("a second Close forgot the first one's error")
	}
	release()
	eventually(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })

	// A clean close says nothing, and leaves nothing running either.
	before = runtime.NumGoroutine()
	db, err = Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	db.Record(event(12, "key:ada"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.Record(event(13, "key:late"))
	if err := db.Flush(); err != nil {
		t.Errorf("Flush after a clean Close: %v", err)
	}
	eventually(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	db = openStore(t, dir)
	if n := count(t, db, "events"); n != 1 {
		t.Errorf("%d events saved, want only the one recorded before the clean Close", n)
	}
}
