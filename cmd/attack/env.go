package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// errSetenvRefused is the text of the error Session.Setenv returns when the
// server answers an env request with false (golang.org/x/crypto/ssh makes
// it with errors.New, so only its text identifies it).
const errSetenvRefused = "ssh: setenv failed"

// setupEnv is the env attack: env requests are answered before any shell
// starts, so whatever the server keeps of them it keeps for every session.
func setupEnv(fs *flag.FlagSet) playFunc {
	count := fs.Int("count", 8000, "env requests X_0, X_1, … to send on the one session")
	valueSize := fs.Int("size", 65536, "bytes in each value")
	return func(tg *target, r *report) error {
		auth, err := keyed()
		if err != nil {
			return err
		}
		conn, err := dial(tg.addr, clientConfig("envy", auth), setupTimeout)
		if err != nil {
			return err
		}
		defer conn.Close()
		// Each request waits for its reply, which has no deadline of its
		// own: a watchdog closes the connection if one takes too long.
		watchdog := time.AfterFunc(setupTimeout, func() { _ = conn.Close() })
		defer watchdog.Stop()
		sess, err := conn.NewSession()
		if err != nil {
			return fmt.Errorf("new session: %w", err)
		}
		value := strings.Repeat("v", *valueSize)
		setenv := func(name, value string) (accepted bool, err error) {
			watchdog.Reset(setupTimeout)
			err = sess.Setenv(name, value)
			if err != nil && err.Error() == errSetenvRefused {
				return false, nil
			}
			return err == nil, err
		}
		var accepted, refused int
		begin := time.Now()
		for i := range *count {
			ok, err := setenv(fmt.Sprintf("X_%d", i), value)
			if err != nil {
				r.addf("env", "accepted=%d refused=%d sent=%s, then: %s", accepted, refused,
					mib(int64(i)*int64(*valueSize)), errText(err))
				return fmt.Errorf("env request %d of %d: %w", i+1, *count, err)
			}
			if ok {
				accepted++
			} else {
				refused++
			}
		}
		sending := time.Since(begin)
		// Two a real client might send: COLUMNS would size the screen
		// behind the clamp's back; NO_COLOR is harmless and expected.
		var extras []string
		for _, kv := range [][2]string{{"COLUMNS", "65535"}, {"NO_COLOR", "1"}} {
			ok, err := setenv(kv[0], kv[1])
			switch {
			case err != nil:
				return fmt.Errorf("env %s: %w", kv[0], err)
			case ok:
				extras = append(extras, kv[0]+"=accepted")
			default:
				extras = append(extras, kv[0]+"=refused")
			}
		}
		r.addf("env", "accepted=%d refused=%d sent=%s in %v %s%s", accepted, refused,
			mib(int64(*count)*int64(*valueSize)), sending.Round(time.Millisecond), strings.Join(extras, " "), heldRSS(tg))

		watchdog.Reset(setupTimeout)
		if err := sess.RequestPty("xterm-256color", 24, 80, ptyModes); err != nil {
			return fmt.Errorf("request pty after the env requests: %w", err)
		}
		watchdog.Stop()
		t, err := startShell(conn, sess, 80, 24, setupTimeout)
		if err != nil {
			return fmt.Errorf("after the env requests: %w", err)
		}
		defer t.close()
		return drawsCheck(t, r)
	}
}

// drawsCheck reports whether a session that has just asked for its shell
// shows the name prompt and answers a key.
func drawsCheck(t *term, r *report) error {
	begin := time.Now()
	s, prompt := t.waitFor(namePrompt, 10*time.Second)
	if !prompt {
		r.addf("session", "no name prompt within 10 s; first line %q", firstLine(s))
		return fmt.Errorf("the session does not draw")
	}
	shown := time.Since(begin)
	took, ok := t.probe("a", 5*time.Second)
	r.addf("session", "prompt in %v, answers a key: %s", shown.Round(time.Millisecond), probeText(took, ok))
	return nil
}
