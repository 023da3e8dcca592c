package server

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/log/v2"
)

func TestThrottleGrowsThenLocks(t *testing.T) {
	a, err := newAuth(log.New(io.Discard), newRefusals(log.New(io.Discard)), "", newToken())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	a.now = func() time.Time { return now }
	var delays []time.Duration
	for i := 0; i < lockFailures; i++ {
		d, until := a.begin("10.0.0.1")
		if !until.IsZero() {
			t.Fatalf("locked after %d tries, want %d", i, lockFailures)
		}
		delays = append(delays, d)
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delay before try %d = %v, want %v", i+1, delays[i], want[i])
		}
	}
	if _, until := a.begin("10.0.0.1"); !until.Equal(now.Add(lockFor)) {
		t.Errorf("after %d tries: locked until %v, want %v", lockFailures, until, now.Add(lockFor))
	}
	if d, until := a.begin("10.0.0.2"); d != 0 || !until.IsZero() {
		t.Error("another address is throttled too")
	}
	now = now.Add(lockFor + time.Second)
	if d, until := a.begin("10.0.0.1"); d != 0 || !until.IsZero() {
		t.Error("still throttled after the quiet period")
	}
}

// TestSimultaneousGuessesAreCounted: tries are counted before they are
// checked, so 200 guesses at once get exactly lockFailures tokens checked.
func TestSimultaneousGuessesAreCounted(t *testing.T) {
	a, err := newAuth(log.New(io.Discard), newRefusals(log.New(io.Discard)), "", newToken())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var admitted atomic.Int32
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, until := a.begin("10.0.0.1"); until.IsZero() {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != lockFailures {
		t.Errorf("%d of 200 simultaneous tries admitted, want %d", n, lockFailures)
	}
}

func TestInstructorsFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	if _, err := newAuth(log.New(io.Discard), nil, bad, ""); err == nil {
		t.Error("a malformed instructors file was accepted")
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	if _, err := newAuth(log.New(io.Discard), nil, empty, ""); err == nil {
		t.Error("an instructors file with no keys was accepted")
	}
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgR6xLwOkKvqp/8x2SJfFKqsuoVcSjbtYQIK5JgO1ir teacher\n"), 0o600)
	a, err := newAuth(log.New(io.Discard), nil, good, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.token != "" || len(a.keys) != 1 {
		t.Errorf("with a file: token %q, %d keys", a.token, len(a.keys))
	}
}
