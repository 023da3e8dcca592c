package main

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the driver the server itself uses

	"github.com/expedition-llm/expedition/internal/procstat"
)

// figures are the server's vital signs at one moment, each read only when
// the flag that makes it possible was given.
type figures struct {
	rss    int64
	rssErr error
	cpu    float64 // seconds
	cpuErr error

	logSize int64
	logErr  error

	events   int64
	dbBytes  int64 // expedition.db
	walBytes int64 // expedition.db-wal: checkpointed back into the database every few MiB
	dbErr    error
}

// measure reads the server's figures now.
func measure(tg *target) figures {
	var f figures
	f.rss, f.rssErr = procstat.RSS(tg.pid)
	f.cpu, f.cpuErr = procstat.CPU(tg.pid)
	if tg.log != "" {
		var st os.FileInfo
		if st, f.logErr = os.Stat(tg.log); f.logErr == nil {
			f.logSize = st.Size()
		}
	}
	if tg.data != "" {
		f.events, f.dbBytes, f.walBytes, f.dbErr = dbFigures(tg.data)
	}
	return f
}

// report adds the lines comparing f (before) with after.
func (f figures) report(r *report, after figures, peak int64, tg *target) {
	if tg.pid > 0 {
		switch {
		case !procstat.Alive(tg.pid):
			r.addf("server", "GONE: process %d exited during the attack (rss_before=%s rss_peak=%s)", tg.pid, mib(f.rss), mib(peak))
		case f.rssErr != nil || after.rssErr != nil || f.cpuErr != nil || after.cpuErr != nil:
			r.addf("server", "cannot read /proc/%d: %v", tg.pid, errors.Join(f.rssErr, after.rssErr, f.cpuErr, after.cpuErr))
		default:
			r.addf("server", "rss_before=%s rss_peak=%s rss_after=%s cpu_s=%.2f",
				mib(f.rss), mib(peak), mib(after.rss), after.cpu-f.cpu)
		}
	}
	if tg.log != "" {
		if err := errors.Join(f.logErr, after.logErr); err != nil {
			r.addf("log", "cannot read: %v", err)
		} else {
			from := f.logSize
			if after.logSize < from {
				from = 0 // truncated or replaced meanwhile: read it all
			}
			lines, longest, err := lineLengths(tg.log, from)
			if err != nil {
				r.addf("log", "growth=%+d bytes; cannot read the new lines: %v", after.logSize-f.logSize, err)
			} else {
				r.addf("log", "growth=%+d bytes lines=%+d longest_line=%d bytes", after.logSize-f.logSize, lines, longest)
			}
		}
	}
	if tg.data != "" {
		if err := errors.Join(f.dbErr, after.dbErr); err != nil {
			r.addf("db", "cannot read: %v", err)
		} else {
			grown := after.dbBytes + after.walBytes - f.dbBytes - f.walBytes
			r.addf("db", "events_before=%d events_after=%d (%+d) db=%s→%s wal=%s→%s (db+wal %s)",
				f.events, after.events, after.events-f.events, fileSize(f.dbBytes), fileSize(after.dbBytes),
				fileSize(f.walBytes), fileSize(after.walBytes), signedSize(grown))
		}
	}
}

// lineLengths counts the lines of a file from offset on and measures the
// longest, without holding a line in memory: a hostile line may be huge.
func lineLengths(path string, offset int64) (lines int, longest int64, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("open log: %w", err)
	}
	defer fh.Close()
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("seek log: %w", err)
	}
	br := bufio.NewReaderSize(fh, 64<<10)
	var cur int64
	for {
		chunk, err := br.ReadSlice('\n')
		cur += int64(len(chunk))
		switch {
		case err == nil:
			lines++
			longest = max(longest, cur-1) // without the newline
			cur = 0
		case errors.Is(err, bufio.ErrBufferFull):
			// a line longer than the buffer: keep counting
		case errors.Is(err, io.EOF):
			if cur > 0 { // an unfinished last line
				lines++
				longest = max(longest, cur)
			}
			return lines, longest, nil
		default:
			return lines, longest, fmt.Errorf("read log: %w", err)
		}
	}
}

// dbFigures counts the rows of the events table in DIR/expedition.db and
// sizes the database and its write-ahead log. The database is opened
// read-only while the server runs: WAL mode lets a reader in beside the
// writer.
func dbFigures(dir string) (events, dbSize, walSize int64, err error) {
	path := filepath.Join(dir, "expedition.db")
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("size of the database: %w", err)
	}
	dbSize = st.Size()
	switch st, err := os.Stat(path + "-wal"); {
	case err == nil:
		walSize = st.Size()
	case !errors.Is(err, fs.ErrNotExist): // none at all: checkpointed away
		return 0, 0, 0, fmt.Errorf("size of the write-ahead log: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&events); err != nil {
		return 0, 0, 0, fmt.Errorf("count events in %s: %w", path, err)
	}
	return events, dbSize, walSize, nil
}
