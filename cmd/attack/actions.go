package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// quietFor is how long a screen must go without output to count as done
// drawing the consequences of a burst of keys.
const quietFor = time.Second

// keyBurst connects a new student with a 100×30 PTY, names it, runs before
// (to reach the place of the attack), then sends key n times, each in its
// own write as a fast typist would, and waits for the screen to settle.
func keyBurst(tg *target, r *report, name string, n int, key string, before func(*term) error) (*term, error) {
	auth, err := keyed()
	if err != nil {
		return nil, err
	}
	t, err := openTerm(tg.addr, name, auth, 100, 30)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := t.enterName(name); err != nil {
		t.close()
		return nil, err
	}
	if before != nil {
		if err := before(t); err != nil {
			t.close()
			return nil, err
		}
	}
	begin := time.Now()
	sent := 0
	var sendErr error
	for ; sent < n; sent++ {
		if sendErr = t.write([]byte(key)); sendErr != nil {
			break
		}
	}
	typing := time.Since(begin)
	settled := t.waitQuiet(quietFor, 60*time.Second)
	// The last output (of the burst's consequences) came this long after
	// the first key; 0 if the burst drew nothing at all.
	drawn := max(time.Unix(0, t.lastOut.Load()).Sub(begin), 0)
	r.addf("keys", "sent=%d×%q in %v, last output after %v, settled=%v ended_by_server=%v",
		sent, key, typing.Round(time.Millisecond), drawn.Round(time.Millisecond), settled, t.hasEnded())
	if sendErr != nil {
		t.close()
		return nil, fmt.Errorf("key %d of %d: %w", sent+1, n, sendErr)
	}
	return t, nil
}

// setupActions is the actions attack: every raised or lowered hand is a
// change the room logs and stores.
func setupActions(fs *flag.FlagSet) playFunc {
	presses := fs.Int("presses", 10000, "times to press h (raise or lower the hand)")
	return func(tg *target, r *report) error {
		// The contents page, where a new student lands, ignores h: esc
		// leaves it for the chapter the class is on.
		leaveContents := func(t *term) error {
			if err := t.typeText("\x1b"); err != nil {
				return err
			}
			deadline := time.Now().Add(10 * time.Second)
			for strings.Contains(firstLine(t.screen()), "Contents") {
				if time.Now().After(deadline) {
					return fmt.Errorf("esc did not leave the contents within 10 s; screen:\n%s", t.screen())
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Bubble Tea holds a lone ESC for 50 ms to see whether a
			// sequence follows; the screen has changed, so it is long done.
			return nil
		}
		t, err := keyBurst(tg, r, "Hands", *presses, "h", leaveContents)
		if err != nil {
			return err
		}
		defer t.close()
		s := t.screen()
		r.addf("footer", "%q", lastLine(s))
		r.screen(tg, s)
		return nil
	}
}

// setupSamples is the samples attack: every draw goes into the class's
// pooled histogram, which every student's chapter 7 shows.
func setupSamples(fs *flag.FlagSet) playFunc {
	presses := fs.Int("presses", 10000, "times to press s (draw a word into the class's histogram)")
	return func(tg *target, r *report) error {
		toSampling := func(t *term) error {
			if err := t.typeText("7"); err != nil {
				return err
			}
			if s, ok := t.waitFor("The moment of speech", 10*time.Second); !ok {
				return fmt.Errorf("chapter 7 did not open within 10 s; screen:\n%s", s)
			}
			return nil
		}
		t, err := keyBurst(tg, r, "Sampler", *presses, "s", toSampling)
		if err != nil {
			return err
		}
		defer t.close()
		s := t.screen()
		line := lineWith(s, "samples")
		if line == "" {
			line = "(no line with \"samples\" on the screen)"
		}
		r.addf("samples", "%q", line)
		r.addf("footer", "%q", lastLine(s))
		r.screen(tg, s)
		return nil
	}
}
