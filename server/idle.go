package server

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// idleGrace is how much longer than the idle timeout the SSH layer waits
// before it cuts a silent connection itself: long enough for the session to
// tell the student first, and still a backstop for a connection that never
// started a session.
const idleGrace = time.Minute

// activity is a session's terminal, timed: keys are read and frames
// written through it, so it knows when either last carried a byte.
type activity struct {
	rw   io.ReadWriter
	last atomic.Int64 // unix nanoseconds of the last byte either way
}

func newActivity(rw io.ReadWriter) *activity {
	a := &activity{rw: rw}
	a.last.Store(time.Now().UnixNano())
	return a
}

func (a *activity) Read(p []byte) (int, error) {
	n, err := a.rw.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func (a *activity) Write(p []byte) (int, error) {
	n, err := a.rw.Write(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// idleFor is how long nothing has crossed the terminal either way.
func (a *activity) idleFor(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, a.last.Load()))
}

// watchIdle calls end once a has seen nothing either way for timeout. It
// runs on a timer that fires when the session would have been idle that
// long and, finding traffic since, sets itself for the new time: no
// goroutine waits meanwhile, and the notice comes on time.
func watchIdle(a *activity, timeout time.Duration, end func()) *time.Timer {
	var t *time.Timer
	t = time.AfterFunc(timeout, func() {
		if idle := a.idleFor(time.Now()); idle < timeout {
			t.Reset(timeout - idle)
			return
		}
		end()
	})
	return t
}

// idleText is what a student reads when the server closes their session
// for silence.
func idleText(timeout time.Duration) string {
	return fmt.Sprintf("Closed after %s with no key pressed and nothing new on screen. "+
		"Connect again with the same command to rejoin the class.", humanDuration(timeout))
}

// humanDuration says a duration the way a person would: "2 hours",
// "90 minutes", "1 second".
func humanDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Second:
		return unit(int64(d.Round(time.Second)/time.Second), "second")
	}
	return d.String()
}
