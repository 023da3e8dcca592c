package main

import (
	"flag"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// wrongToken is the answer to every question: never the server's token.
const wrongToken = "wrong-wrong-wrong"

// tokenTry is what happened to one login.
type tokenTry struct {
	asked       bool   // the server asked "Instructor token:", so it checked one
	instruction string // the text of a challenge with no questions (a lockout)
	err         error
	took        time.Duration
}

// setupTokens is the tokens attack: guessing the instructor token from one
// address, all at once so that no failure is counted before the next try.
func setupTokens(fs *flag.FlagSet) playFunc {
	logins := fs.Int("logins", 200, "simultaneous instructor logins, each with a wrong token")
	return func(tg *target, r *report) error {
		if err := atLeastOne("logins", *logins); err != nil {
			return err
		}
		tries := make([]tokenTry, *logins)
		var ready, wg sync.WaitGroup
		start := make(chan struct{})
		ready.Add(*logins)
		for i := range tries {
			wg.Go(func() {
				ready.Done()
				<-start // every login begins together
				tries[i] = tryToken(tg.addr)
			})
		}
		ready.Wait()
		begin := time.Now()
		close(start)
		wg.Wait()

		var asked, locked, other, in int
		var instruction string
		var fails errFirst
		var times []time.Duration
		for _, t := range tries {
			times = append(times, t.took)
			switch {
			case t.err == nil:
				in++ // a wrong token let in: the worst finding
			case t.asked:
				asked++
			case t.instruction != "":
				locked++
				instruction = t.instruction
			default:
				other++
				fails.add(t.err)
			}
		}
		slices.Sort(times)
		r.addf("logins", "token_checked=%d locked_out=%d failed_otherwise=%d let_in=%d in %v (median login %v, slowest %v)",
			asked, locked, other, in, time.Since(begin).Round(time.Millisecond),
			times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
		if other > 0 {
			r.addf("failures", "%s", &fails)
		}
		if instruction != "" {
			r.addf("lockout", "%q", instruction)
		}
		r.addf("note", "127.0.0.1 stays locked out of instructor login for 10 minutes (restart the server to clear it)")
		return nil
	}
}

// tryToken logs in as the instructor and answers every question with a
// wrong token.
func tryToken(addr string) tokenTry {
	var try tokenTry
	var mu sync.Mutex // the callback runs on the handshake's goroutine
	answer := func(_, instruction string, questions []string, _ []bool) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(questions) == 0 && instruction != "" {
			try.instruction = instruction
		}
		out := make([]string, len(questions))
		for i, q := range questions {
			if strings.Contains(q, "Instructor token") {
				try.asked = true
			}
			out[i] = wrongToken
		}
		return out, nil
	}
	begin := time.Now()
	// Up to 8 s of throttling per try, past the free ones: more than the
	// usual set-up timeout is allowed.
	nc, err := net.DialTimeout("tcp", addr, setupTimeout)
	if err == nil {
		_ = nc.SetDeadline(time.Now().Add(2 * setupTimeout))
		var cc gossh.Conn
		var chans <-chan gossh.NewChannel
		var reqs <-chan *gossh.Request
		cc, chans, reqs, err = gossh.NewClientConn(nc, addr,
			clientConfig("instructor", gossh.KeyboardInteractive(answer)))
		if err == nil {
			_ = gossh.NewClient(cc, chans, reqs).Close()
		}
		_ = nc.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	try.err, try.took = err, time.Since(begin)
	return try
}
