package room

import "time"

// The room's limits on what one member can make it hold or do. Each is a
// constant so docs/RELIABILITY.md can name it.
const (
	// ActionBurst and ActionRate pace a student's class actions (hands,
	// answers, votes, draws, names): a burst of ActionBurst, as fast as a
	// person types, then ActionRate a second. A script gets no further, so
	// one student cannot flood the log or the instructor's screen.
	ActionBurst = 30
	ActionRate  = 3.0
	// MaxSamplesPerMember is a student's share of a chapter's pooled draws.
	MaxSamplesPerMember = 50
	// MaxRoster is how many members the room remembers; a new member past
	// it makes the room forget the student away the longest.
	MaxRoster = 10000
	// movesPerOp bounds the members in one operation of positions, so
	// that a class of explorers never makes one larger than a NATS message.
	movesPerOp = 100
	// maxTallyKeys bounds the distinct keys of one chapter's tally.
	maxTallyKeys = 256
)

// bucket is a token bucket over the room's clock: full at first, refilled at
// ActionRate up to ActionBurst.
type bucket struct {
	tokens float64
	at     time.Time
}

// take spends one token at now, or reports that none is left.
func (b *bucket) take(now time.Time) bool {
	if b.at.IsZero() {
		b.tokens = ActionBurst
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(ActionBurst, b.tokens+d.Seconds()*ActionRate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// SendTimeout is how long an action waits for the class's order to take
// it and apply it (with several servers: for NATS) before the member is
// told to try again.
const SendTimeout = 5 * time.Second
