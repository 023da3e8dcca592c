package server

import (
	"sync"
	"time"

	"charm.land/log/v2"
)

// refusalLogEvery is how often one kind of refusal from one address is
// logged at most; the line says how many there were since.
const refusalLogEvery = 10 * time.Second

// maxRefusalKeys bounds the addresses remembered for quiet logging: past
// it, refusals from new addresses are counted under one key.
const maxRefusalKeys = 10000

// refusals logs turned-away attempts (rate limits, a full class, locked
// logins) once per kind and address per refusalLogEvery, with a count, so
// that a flood of refusals cannot become a flood of log lines.
type refusals struct {
	log *log.Logger
	now func() time.Time

	mu   sync.Mutex
	seen map[refusalKey]*refusal
}

type refusalKey struct{ what, addr string }

type refusal struct {
	logged time.Time // when this key was last logged
	quiet  int       // refusals since, not logged
}

func newRefusals(l *log.Logger) *refusals {
	return &refusals{log: l, now: time.Now, seen: map[refusalKey]*refusal{}}
}

// note records one refusal of kind what from addr, logging it (with any
// key-values) unless this kind from this address was logged less than
// refusalLogEvery ago.
func (r *refusals) note(what, addr string, kv ...any) {
	now := r.now()
	r.mu.Lock()
	k := refusalKey{what, addr}
	e := r.seen[k]
	if e == nil {
		if len(r.seen) >= maxRefusalKeys {
			r.sweep(now)
		}
		if len(r.seen) >= maxRefusalKeys {
			k.addr = "(many addresses)"
			if e = r.seen[k]; e == nil {
				e = &refusal{}
				r.seen[k] = e
			}
		} else {
			e = &refusal{}
			r.seen[k] = e
		}
	}
	if !e.logged.IsZero() && now.Sub(e.logged) < refusalLogEvery {
		e.quiet++
		r.mu.Unlock()
		return
	}
	also := e.quiet
	e.logged, e.quiet = now, 0
	r.mu.Unlock()
	kv = append(kv, "addr", k.addr)
	if also > 0 {
		kv = append(kv, "also_refused_since_last_line", also)
	}
	r.log.Warn(what, kv...)
}

// sweep forgets keys not logged for a while. Callers hold r.mu.
func (r *refusals) sweep(now time.Time) {
	for k, e := range r.seen {
		if now.Sub(e.logged) >= refusalLogEvery {
			delete(r.seen, k)
		}
	}
}
