package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// ErrUnreachable says the class's order did not take an action in time:
// with several servers, NATS is out of reach. Nothing was changed by it
// that the member was told of. (Short: it must fit an 80-column footer.)
var ErrUnreachable = errors.New("the class is out of reach: try again in a moment")

// sameError is a check's way to say an action would change nothing: it is
// neither sent nor paced, and the member is told nothing went wrong.
type sameError struct{}

func (sameError) Error() string { return "nothing to change" }

// The kinds of operation.
const (
	kindJoin         = "join"
	kindLeave        = "leave"
	kindName         = "name"
	kindChapter      = "chapter"
	kindValues       = "values"
	kindLock         = "lock"
	kindSpot         = "spot"
	kindHand         = "hand"
	kindClearHand    = "hand.clear"
	kindKick         = "kick"
	kindContribute   = "contribute"
	kindClearTallies = "tallies.clear"
	kindPollOpen     = "poll.open"
	kindPollReveal   = "poll.reveal"
	kindPollClose    = "poll.close"
	kindAnswer       = "answer"
	kindMoves        = "moves"
	kindServer       = "server"
	kindServerGone   = "server.gone"
)

// op is one action as the server that received it authorised it: what
// every server holding the class applies, in one order. Everything the
// change depends on travels with it (the member, their role, the time), so
// applying it gives the same room on every server.
type op struct {
	// ID names the op for the sender's waiter and for the transport's
	// de-duplication: the server, its start and a count.
	ID string `json:"id"`
	// Server is the server the member's session is on.
	Server string    `json:"srv,omitempty"`
	Kind   string    `json:"k"`
	Member string    `json:"m,omitempty"`
	Role   Role      `json:"r,omitempty"`
	At     time.Time `json:"at"`

	Keyless bool              `json:"kl,omitempty"`
	Addr    string            `json:"addr,omitempty"`
	Text    string            `json:"t,omitempty"` // a name, a spot
	Chapter string            `json:"ch,omitempty"`
	Group   string            `json:"g,omitempty"`
	Key     string            `json:"key,omitempty"`
	Values  map[string]string `json:"v,omitempty"`
	Flag    bool              `json:"f,omitempty"` // lock, hand up, ban
	Target  string            `json:"to,omitempty"`
	Poll    *PollSpec         `json:"poll,omitempty"`
	Answer  *Answer           `json:"a,omitempty"`
	Moves   []move            `json:"mv,omitempty"`
}

// move is where a member is and when they last pressed a key, as their
// server reports it once a second.
type move struct {
	Member string    `json:"m"`
	Pos    *Position `json:"p,omitempty"`
	Active time.Time `json:"at"`
}

// Op is an operation on its way through a Transport.
type Op struct{ o *op }

// ID names the operation: a transport that sends it twice (a retry) uses
// it so that the class applies it once.
func (o Op) ID() string { return o.o.ID }

// Encode is the operation as bytes, for a transport that carries bytes.
func (o Op) Encode() ([]byte, error) {
	b, err := json.Marshal(o.o)
	if err != nil {
		return nil, fmt.Errorf("encode operation: %w", err)
	}
	return b, nil
}

// instructorOnly is what only an instructor may do.
func instructorOnly(kind string) bool {
	switch kind {
	case kindChapter, kindValues, kindLock, kindSpot, kindClearHand, kindKick, kindClearTallies,
		kindPollOpen, kindPollReveal, kindPollClose:
		return true
	}
	return false
}

// paced is what a student's budget pays for (see ActionBurst).
func paced(kind string) bool {
	switch kind {
	case kindName, kindHand, kindContribute, kindAnswer:
		return true
	}
	return false
}

// waiter is a session waiting for its own operation to come back applied;
// seat is the seat a join attaches.
type waiter struct {
	seat *Seat
	done chan result
}

type result struct {
	text string
	err  error
}

// act is every seat action: checked here against the room as this server
// holds it (so a refusal is told at once and only a change is paced), then
// sent, and applied when it comes back in the class's order.
func (s *Seat) act(o op) (string, error) {
	r := s.room
	r.mu.Lock()
	if s.left {
		r.mu.Unlock()
		return "", ErrLeft
	}
	now := r.cfg.Now()
	if !r.shared {
		s.m.active = now
	}
	o.Member, o.Role, o.At = s.m.id, s.role, now
	text, err := r.run(&o, s.m, false)
	if err == nil && paced(o.Kind) {
		err = s.spend(r)
	}
	r.mu.Unlock()
	if errors.Is(err, sameError{}) {
		return text, nil
	}
	if err != nil {
		return "", err
	}
	text, _, err = r.send(o, nil)
	return text, err
}

// send sends o and waits for it to be applied here, and for its result.
// ordered says whether the class's order took o, even if the wait for it
// ended first.
func (r *Room) send(o op, seat *Seat) (text string, ordered bool, err error) {
	if t, ok := r.tr.(*inProcess); ok {
		// Alone, the operation is applied here and now: no waiter, no
		// timer, no name.
		text, err = t.apply(&o, seat)
		return text, true, err
	}
	w := &waiter{seat: seat, done: make(chan result, 1)}
	r.mu.Lock()
	r.stamp(&o)
	r.pending[o.ID] = w
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	defer cancel()
	sendErr := r.tr.Send(ctx, Op{&o})
	if sendErr == nil {
		select {
		case res := <-w.done:
			return res.text, true, res.err
		case <-ctx.Done():
		}
	}
	if r.abandon(o.ID) {
		return "", sendErr == nil, ErrUnreachable
	}
	res := <-w.done // applied as the wait ended
	return res.text, true, res.err
}

// abandon stops waiting for op id; false means it was applied meanwhile.
func (r *Room) abandon(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.pending[id]
	delete(r.pending, id)
	return ok
}

// post sends o without waiting.
func (r *Room) post(o op) {
	r.mu.Lock()
	r.stamp(&o)
	r.mu.Unlock()
	r.tr.Post(Op{&o})
}

// stamp names o and marks it as this server's. Callers hold r.mu.
func (r *Room) stamp(o *op) {
	r.sent++
	o.ID = r.cfg.Server + "." + r.boot + "." + strconv.FormatUint(r.sent, 36)
	o.Server = r.cfg.Server
	if o.At.IsZero() {
		o.At = r.cfg.Now()
	}
}

// Deliver applies one operation that reached this server in the class's
// order; seq is its place in that order. An operation at or before the last
// one applied is a duplicate and changes nothing. Bytes that are not an
// operation are an error, and are skipped as every server skips them.
func (r *Room) Deliver(seq uint64, data []byte) error {
	var o op
	if err := json.Unmarshal(data, &o); err != nil {
		r.mu.Lock()
		r.applied = max(r.applied, seq)
		r.mu.Unlock()
		return fmt.Errorf("operation %d: %w", seq, err)
	}
	r.deliver(seq, &o)
	return nil
}

// Applied is the place in the class's order of the last operation applied.
func (r *Room) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// deliver applies o at seq and hands the result to the session waiting for
// it, if it was sent from here.
func (r *Room) deliver(seq uint64, o *op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= r.applied {
		return
	}
	r.applied = seq
	var w *waiter
	if o.Server == r.cfg.Server {
		w = r.pending[o.ID]
		delete(r.pending, o.ID)
	}
	var seat *Seat
	if w != nil {
		seat = w.seat
	}
	text, err := r.apply(o, seat)
	if w != nil {
		w.done <- result{text, err}
	}
}

// apply makes o's change. Callers hold r.mu.
func (r *Room) apply(o *op, seat *Seat) (string, error) {
	switch o.Kind {
	case kindJoin:
		return "", r.join(o, seat)
	case kindServer:
		r.serverStarted(o.Server)
		return "", nil
	case kindServerGone:
		r.serverStarted(o.Target)
		if o.Target == r.cfg.Server && r.cfg.Evicted != nil {
			go r.cfg.Evicted()
		}
		return "", nil
	case kindMoves:
		r.applyMoves(o.Moves)
		return "", nil
	}
	m := r.members[o.Member]
	if m == nil {
		return "", ErrLeft
	}
	if o.Kind == kindLeave {
		r.leave(m, o.Server)
		return "", nil
	}
	if o.At.After(m.active) {
		m.active = o.At
	}
	text, err := r.run(o, m, true)
	if errors.Is(err, sameError{}) {
		err = nil
	}
	return text, err
}

// run checks o against the room as it is and, when commit is set, makes
// the change: the one place each action's rules live. The server that
// receives an action runs it first without commit, to refuse what it can
// at once; every server then runs it with commit in the class's order,
// where the same rules decide the same way everywhere. Callers hold r.mu.
func (r *Room) run(o *op, m *member, commit bool) (string, error) {
	if instructorOnly(o.Kind) && o.Role != Instructor {
		return "", ErrNotInstructor
	}
	switch o.Kind {
	case kindName:
		return r.setName(o, m, commit)
	case kindChapter:
		return "", r.setChapter(o, m, commit)
	case kindValues:
		return "", r.setValues(o, m, commit)
	case kindLock:
		if commit {
			r.locked = o.Flag
			r.changed(event{kind: "lock", actor: m, data: map[string]any{"locked": o.Flag}})
		}
	case kindSpot:
		if commit {
			r.spot = o.Text
			r.changed(event{kind: "spot", actor: m, data: map[string]any{"spot": o.Text}})
		}
	case kindHand:
		if m.hand == o.Flag {
			return "", sameError{}
		}
		if commit {
			r.setHand(m, o.Flag)
			r.quiet(event{kind: "hand", actor: m, data: map[string]any{"up": o.Flag}, touched: []*member{m}})
		}
	case kindClearHand:
		t := r.members[o.Target]
		if t == nil {
			return "", sameError{}
		}
		if commit {
			r.setHand(t, false)
			r.quiet(event{kind: "hand", actor: m, data: map[string]any{"member": o.Target, "up": false}, touched: []*member{t}})
		}
	case kindKick:
		return "", r.kick(o, m, commit)
	case kindContribute:
		return "", r.contribute(o, m, commit)
	case kindClearTallies:
		if commit {
			r.clearTallies(o.Chapter, m)
		}
	case kindPollOpen:
		return "", r.openPoll(o, m, commit)
	case kindPollReveal, kindPollClose:
		if r.poll == nil {
			return "", ErrNoPoll
		}
		if commit {
			r.endPoll(o.Kind, m)
		}
	case kindAnswer:
		return "", r.answer(o, m, commit)
	default:
		return "", ErrUnknown
	}
	return "", nil
}

// Started tells the class this server has (re)started: sessions the class
// still counts on it were cut when it stopped, and end now on every server.
// A transport calls it once it holds the class, before anyone joins here;
// it returns once the class has applied it.
func (r *Room) Started() error {
	_, _, err := r.send(op{Kind: kindServer}, nil)
	return err
}

// Servers are the other servers the class counts sessions on, by name.
func (r *Room) Servers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range r.members {
		for server := range m.at {
			if server != r.cfg.Server {
				seen[server] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// ServerGone tells the class that server stopped without saying so (it
// has not been heard from for a while): the sessions counted on it end on
// every server. Its students have reconnected elsewhere by then.
func (r *Room) ServerGone(server string) {
	r.post(op{Kind: kindServerGone, Target: server})
}
