package main

import (
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// setupUsernames is the usernames attack: the SSH user name is the one
// string a keyless student chooses before the server knows anything about
// them, and it is logged and offered as their name.
func setupUsernames(fs *flag.FlagSet) playFunc {
	sessions := fs.Int("sessions", 200, "keyless sessions to open, one after another")
	userSize := fs.Int("user-size", 249856, "bytes in each user name (244 KiB by default; an SSH packet holds 256 KiB)")
	parallel := fs.Int("parallel", 20, "sessions at a time")
	return func(tg *target, r *report) error {
		if err := atLeastOne("sessions", *sessions); err != nil {
			return err
		}
		var (
			fails   errFirst
			opened  atomic.Int64
			silent  atomic.Int64 // opened, but no output within 10 s
			slowest atomic.Int64 // nanoseconds from dial to first output
		)
		var g errgroup.Group
		g.SetLimit(max(*parallel, 1))
		begin := time.Now()
		for i := range *sessions {
			g.Go(func() error {
				// Each name is different, so nothing on the server can
				// share one copy of it.
				prefix := fmt.Sprintf("u%d-", i)
				user := prefix + strings.Repeat("x", max(*userSize-len(prefix), 0))
				start := time.Now()
				t, err := openTerm(tg.addr, user, keyless(), 80, 24)
				if err != nil {
					fails.add(err)
					return nil
				}
				defer t.close()
				opened.Add(1)
				if !t.waitOutput(10 * time.Second) {
					silent.Add(1)
					return nil
				}
				storeMax(&slowest, int64(time.Since(start)))
				return nil
			})
		}
		_ = g.Wait()
		r.addf("sessions", "opened=%d/%d silent=%d failed=%s in %v (slowest first screen %v)",
			opened.Load(), *sessions, silent.Load(), &fails, time.Since(begin).Round(time.Millisecond),
			time.Duration(slowest.Load()).Round(time.Millisecond))
		r.addf("names", "%d × %d bytes = %s of user names sent", *sessions, *userSize, mib(int64(*sessions)*int64(*userSize)))
		if opened.Load() == 0 {
			return fmt.Errorf("no session opened: %w", fails.err())
		}
		return nil
	}
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for cur := a.Load(); v > cur; cur = a.Load() {
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}
