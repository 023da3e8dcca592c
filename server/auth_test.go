package server

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"charm.land/log/v2"
)

func TestThrottleGrowsThenLocks(t *testing.T) {
	a, err := newAuth(log.New(io.Discard), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	a.now = func() time.Time { return now }
	var delays []time.Duration
	for i := 0; i < lockFailures; i++ {
		d, locked := a.delay("10.0.0.1")
		if locked {
			t.Fatalf("locked after %d failures, want %d", i, lockFailures)
		}
		delays = append(delays, d)
		a.fail("10.0.0.1")
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delay before try %d = %v, want %v", i+1, delays[i], want[i])
		}
	}
	if _, locked := a.delay("10.0.0.1"); !locked {
		t.Error("not locked after 10 failures")
	}
	if d, locked := a.delay("10.0.0.2"); d != 0 || locked {
		t.Error("another address is throttled too")
	}
	now = now.Add(lockFor + time.Second)
	if d, locked := a.delay("10.0.0.1"); d != 0 || locked {
		t.Error("still throttled after the quiet period")
	}
}

func TestInstructorsFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	if _, err := newAuth(log.New(io.Discard), bad); err == nil {
		t.Error("a malformed instructors file was accepted")
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	if _, err := newAuth(log.New(io.Discard), empty); err == nil {
		t.Error("an instructors file with no keys was accepted")
	}
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgR6xLwOkKvqp/8x2SJfFKqsuoVcSjbtYQIK5JgO1ir teacher\n"), 0o600)
	a, err := newAuth(log.New(io.Discard), good)
	if err != nil {
		t.Fatal(err)
	}
	if a.token != "" || len(a.keys) != 1 {
		t.Errorf("with a file: token %q, %d keys", a.token, len(a.keys))
	}
}
