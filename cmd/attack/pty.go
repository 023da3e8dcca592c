package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// cornerW and cornerH size the emulator that reads an enormous PTY: the
// server draws no more than its clamp, so its top-left corner is the whole
// screen, and a 65535² emulator would eat the tool's own memory instead.
const cornerW, cornerH = 320, 100

// dialers is how many connections an attack opens at once.
const dialers = 20

// setupHugePTY is the hugepty attack: sessions that ask for a terminal of
// 65535×65535 cells, whose cell buffer alone would be gigabytes if the
// server believed it.
func setupHugePTY(fs *flag.FlagSet) playFunc {
	sessions := fs.Int("sessions", 1, "sessions to open, each on its own connection with a new key")
	width := fs.Int("width", 65535, "PTY columns to ask for")
	height := fs.Int("height", 65535, "PTY rows to ask for")
	hold := fs.Duration("duration", 5*time.Second, "how long to keep the sessions open")
	return func(tg *target, r *report) error {
		if err := atLeastOne("sessions", *sessions); err != nil {
			return err
		}
		terms := make([]*term, *sessions)
		var fails errFirst
		var refusedPty atomic.Int64
		var g errgroup.Group
		g.SetLimit(dialers)
		for i := range terms {
			g.Go(func() error {
				t, err := openHuge(tg.addr, fmt.Sprintf("huge%d", i), *width, *height)
				if err != nil {
					if strings.Contains(err.Error(), "pty-req failed") {
						refusedPty.Add(1)
					}
					fails.add(err)
					return nil
				}
				terms[i] = t
				return nil
			})
		}
		_ = g.Wait()
		if fails.count() == len(terms) {
			return fmt.Errorf("no session opened: %w", fails.err())
		}
		defer func() {
			for _, t := range terms {
				if t != nil {
					t.close()
				}
			}
		}()
		time.Sleep(*hold)

		var opened, tooLarge, ended int
		var received int64
		sample := ""
		for _, t := range terms {
			if t == nil {
				continue
			}
			opened++
			s := t.screen()
			if strings.Contains(s, "too large") {
				tooLarge++
			}
			if t.hasEnded() {
				ended++
			}
			received += t.received.Load()
			if sample == "" {
				sample = s
			}
		}
		r.addf("sessions", "opened=%d/%d pty_refused=%d failed=%s", opened, *sessions, refusedPty.Load(), &fails)
		r.addf("result", "too_large=%d/%d ended_by_server=%d output=%d bytes (%d per session)%s",
			tooLarge, opened, ended, received, received/int64(max(opened, 1)), heldRSS(tg))
		if sample != "" {
			r.addf("screen", "%q", firstLine(sample))
			r.screen(tg, sample)
		}
		return nil
	}
}

// openHuge opens a session asking for a w×h PTY, read into an emulator
// the size of the corner the server draws.
func openHuge(addr, user string, w, h int) (*term, error) {
	auth, err := keyed()
	if err != nil {
		return nil, err
	}
	return openTermScreen(addr, user, auth, w, h, min(w, cornerW), min(h, cornerH))
}

// size is a terminal size, columns × rows.
type size struct{ w, h int }

// sizeList is a flag.Value of sizes spelled "WxH,WxH,…".
type sizeList []size

// String spells the list as it is given on the command line.
func (l *sizeList) String() string {
	parts := make([]string, len(*l))
	for i, s := range *l {
		parts[i] = fmt.Sprintf("%dx%d", s.w, s.h)
	}
	return strings.Join(parts, ",")
}

// Set parses "WxH,WxH,…".
func (l *sizeList) Set(v string) error {
	var out sizeList
	for part := range strings.SplitSeq(v, ",") {
		ws, hs, ok := strings.Cut(strings.TrimSpace(part), "x")
		w, errW := strconv.Atoi(ws)
		h, errH := strconv.Atoi(hs)
		if !ok || errW != nil || errH != nil || w < 0 || h < 0 {
			return fmt.Errorf("size %q is not COLUMNSxROWS", part)
		}
		out = append(out, size{w, h})
	}
	*l = out
	return nil
}

// setupResize is the resize attack: window changes cost the client a few
// bytes each and the server a redraw each.
func setupResize(fs *flag.FlagSet) playFunc {
	sizes := sizeList{{4096, 256}, {65535, 65535}, {1, 1}, {500, 200}}
	fs.Var(&sizes, "sizes", "window sizes (COLUMNSxROWS) to send in turn, one round")
	rounds := fs.Int("rounds", 1000, "how many times to send the whole round of sizes")
	hold := fs.Duration("duration", 5*time.Second, "how long to keep the session open afterwards")
	return func(tg *target, r *report) error {
		auth, err := keyed()
		if err != nil {
			return err
		}
		t, err := openTerm(tg.addr, "resizer", auth, 80, 24)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer t.close()
		if !t.waitOutput(10 * time.Second) {
			return fmt.Errorf("no first screen within 10 s")
		}
		begin := time.Now()
		sent := 0
		var sendErr error
	storm:
		for range *rounds {
			for _, s := range sizes {
				// The emulator stays 80×24: the client lies about its size,
				// as a hostile one would, and keeps its own memory small.
				if sendErr = t.sess.WindowChange(s.h, s.w); sendErr != nil {
					break storm
				}
				sent++
			}
		}
		sending := time.Since(begin)
		// Back to a size the tour draws, so the screen shows whether the
		// session survived.
		if sendErr == nil {
			sendErr = t.sess.WindowChange(24, 80)
		}
		// While the server works through the storm, does another student
		// still get in?
		during := checkHealth(tg.addr)
		// The requests cost the client nothing to send; the server works
		// through them afterwards, redrawing as it goes. Its last frame
		// marks when it was done.
		t.waitQuiet(quietFor, 2*time.Minute)
		busy := max(time.Unix(0, t.lastOut.Load()).Sub(begin), 0)
		time.Sleep(*hold)
		// A letter typed into the name prompt is drawn back at once by a
		// session that survived.
		took, ok := t.probe("a", 5*time.Second)
		s := t.screen()
		r.addf("result", "window_changes=%d sent in %v, last frame after %v, ended_by_server=%v still_draws=%s%s",
			sent, sending.Round(time.Millisecond), busy.Round(time.Millisecond), t.hasEnded(), probeText(took, ok), heldRSS(tg))
		r.addf("during", "a new student while the server redraws: %s", during)
		r.addf("screen", "%q … %q", firstLine(s), lastLine(s))
		r.screen(tg, s)
		if sendErr != nil {
			return fmt.Errorf("window change %d: %w", sent+1, sendErr)
		}
		return nil
	}
}
