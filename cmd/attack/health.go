package main

import (
	"fmt"
	"strings"
	"time"
)

// namePrompt is the first thing a new student reads: the server is serving
// new students when it shows.
const namePrompt = "What should the class call you?"

// healthTimeout is how long a fresh student may wait for the name prompt.
const healthTimeout = 10 * time.Second

// health is what a fresh student met after an attack.
type health struct {
	ok     bool          // the name prompt showed within healthTimeout
	took   time.Duration // until the prompt, or else until the first non-empty screen (0: none)
	screen string        // the last screen, when the prompt did not show
	err    error         // why no screen came at all
}

// checkHealth connects a student the server has never seen (a new key,
// user "health") with an 80×24 PTY and times how long its name prompt takes.
func checkHealth(addr string) health { return checkHealthFrom(addr, "") }

// checkHealthFrom is checkHealth from the local IP address from.
func checkHealthFrom(addr, from string) health {
	begin := time.Now()
	auth, err := keyed()
	if err != nil {
		return health{err: err}
	}
	conn, err := dialFrom(addr, from, clientConfig("health", auth), healthTimeout)
	if err != nil {
		return health{err: err}
	}
	sess, err := conn.NewSession()
	if err != nil {
		_ = conn.Close()
		return health{err: fmt.Errorf("new session: %w", err)}
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, ptyModes); err != nil {
		_ = conn.Close()
		return health{err: fmt.Errorf("request pty: %w", err)}
	}
	t, err := startShell(conn, sess, 80, 24, max(healthTimeout-time.Since(begin), time.Second))
	if err != nil {
		return health{err: err}
	}
	defer t.close()
	deadline := begin.Add(healthTimeout)
	var h health
	for {
		s := t.screen()
		if strings.TrimSpace(s) != "" && h.took == 0 {
			h.took = time.Since(begin)
		}
		if strings.Contains(s, namePrompt) {
			return health{ok: true, took: time.Since(begin)}
		}
		if time.Now().After(deadline) || t.hasEnded() {
			h.screen = s
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// String is the health line of the report.
func (h health) String() string {
	switch {
	case h.ok:
		return fmt.Sprintf("ok in %v", h.took.Round(time.Millisecond))
	case h.err != nil:
		return fmt.Sprintf("FAILED: %v", h.err)
	case h.took > 0:
		return fmt.Sprintf("FAILED: no name prompt within %v; first screen after %v (below)",
			healthTimeout, h.took.Round(time.Millisecond))
	default:
		return fmt.Sprintf("FAILED: blank screen for %v", healthTimeout)
	}
}
