package room

import (
	"context"
	"sync"
)

// Transport puts the room's operations in one order for every server that
// holds the class. A server authorises an action itself (the seat's role,
// the member's pace, whether it changes anything), then sends it; every
// server, the sender included, applies what arrives through Room.Deliver
// in the order the transport gives, so all of them hold the same class.
//
// There are two: the in-process transport a room gets by default (one
// server; an operation is applied as it is sent), and NATS (package
// store/natsroom), which orders operations in a JetStream stream.
type Transport interface {
	// Send puts o in the class's order and returns once the order holds it
	// (the room then waits for o to come back through Deliver), or with an
	// error when ctx ends first. An operation sent twice (a retry) is
	// applied once.
	Send(ctx context.Context, o Op) error
	// Post is Send for what must reach the class but nobody waits on (a
	// session ending, positions): it returns at once, and the transport
	// keeps trying, in order with what was sent before it.
	Post(o Op)
}

// inProcess is the default transport: the class lives in this process
// alone, and an operation is applied as it is sent, in the order sent.
type inProcess struct {
	room *Room

	mu  sync.Mutex
	seq uint64
}

// Send applies o at once.
func (t *inProcess) Send(_ context.Context, o Op) error {
	t.Post(o)
	return nil
}

// Post applies o at once.
func (t *inProcess) Post(o Op) {
	_, _ = t.apply(o.o, nil)
}

// apply applies o next in order, seating seat if o is its join, and gives
// the result.
func (t *inProcess) apply(o *op, seat *Seat) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	r := t.room
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = t.seq
	if o.At.IsZero() {
		o.At = r.cfg.Now()
	}
	return r.apply(o, seat)
}
