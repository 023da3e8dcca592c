package room

import (
	"maps"
	"math"
	"slices"
	"sort"
)

// PollKind is how a poll is answered.
type PollKind int

// The kinds of poll (mirroring lessons.PollKind, which the room does not
// import).
const (
	MultipleChoice PollKind = iota
	Estimate
)

// PollSpec is a question as the instructor opened it: its truth was
// computed from the instructor's values at that moment and stays fixed.
type PollSpec struct {
	Chapter  string
	ID       string
	Question string
	Kind     PollKind
	Choices  []string
	Correct  int
	Truth    float64
	Unit     string
	Explain  string
}

func (p PollSpec) key() string { return p.Chapter + "/" + p.ID }

// sameQuestion reports whether two specs ask the same thing with the same
// answer.
func sameQuestion(a, b PollSpec) bool {
	return a.Chapter == b.Chapter && a.ID == b.ID && a.Question == b.Question && a.Kind == b.Kind &&
		slices.Equal(a.Choices, b.Choices) && a.Correct == b.Correct && a.Truth == b.Truth
}

// LastPoll is the ID of the question most recently opened in chapter ("" if
// none), so the instructor's next question follows on after a close.
func (c *Class) LastPoll(chapter string) string { return c.lastPoll[chapter] }

// Answer is one member's answer: a choice index or a number.
type Answer struct {
	Choice int
	Number float64
}

type pollRecord struct {
	spec     PollSpec
	open     bool
	revealed bool
	answers  map[string]Answer // by member ID
}

// PollView is a poll as a screen shows it. Counts and Estimates are nil for
// students until the instructor reveals them.
type PollView struct {
	Spec     PollSpec
	Open     bool
	Revealed bool
	Answered int
	// Counts is how many picked each choice.
	Counts []int
	// Estimates are the numeric answers, sorted.
	Estimates []float64
}

func (p *pollRecord) view(instructor bool) *PollView {
	v := &PollView{Spec: p.spec, Open: p.open, Revealed: p.revealed, Answered: len(p.answers)}
	v.Spec.Choices = slices.Clone(p.spec.Choices)
	if !instructor && !p.revealed {
		return v
	}
	if p.spec.Kind == MultipleChoice {
		v.Counts = make([]int, len(p.spec.Choices))
		for _, a := range p.answers {
			if a.Choice >= 0 && a.Choice < len(v.Counts) {
				v.Counts[a.Choice]++
			}
		}
	} else {
		for _, a := range p.answers {
			v.Estimates = append(v.Estimates, a.Number)
		}
		sort.Float64s(v.Estimates)
	}
	return v
}

// OpenPoll opens a question for the class. Opening a poll that was opened
// before brings back its answers; opening another closes the current one
// (its results are kept).
func (s *Seat) OpenPoll(spec PollSpec) error {
	return s.instructor(func(r *Room) error {
		if _, ok := r.cfg.Validate(spec.Chapter, "", ""); !ok || spec.ID == "" {
			return ErrUnknown
		}
		if spec.Kind == MultipleChoice && (len(spec.Choices) < 2 || len(spec.Choices) > 9) {
			return ErrBadAnswer
		}
		if r.poll != nil {
			r.poll.open = false
		}
		rec := r.polls[spec.key()]
		if rec == nil || !sameQuestion(rec.spec, spec) {
			// A new question, or the same one asked about other values
			// (another truth): answers to the old one do not carry over.
			rec = &pollRecord{answers: map[string]Answer{}}
			r.polls[spec.key()] = rec
			for _, m := range r.members {
				if _, ok := m.answers[spec.key()]; ok {
					answers := maps.Clone(m.answers)
					delete(answers, spec.key())
					m.answers = answers
				}
			}
		}
		// Reopening a question asked before keeps its answers, and if they
		// were revealed they stay revealed and final.
		rec.spec = spec
		rec.spec.Choices = slices.Clone(spec.Choices)
		rec.open = true
		r.poll = rec
		r.lastPoll[spec.Chapter] = spec.ID
		r.changed("poll.open", s.m, map[string]any{"poll": spec.key()})
		return nil
	})
}

// RevealPoll shows the open poll's distribution and truth to everyone.
func (s *Seat) RevealPoll() error {
	return s.instructor(func(r *Room) error {
		if r.poll == nil {
			return ErrNoPoll
		}
		r.poll.revealed = true
		r.changed("poll.reveal", s.m, map[string]any{"poll": r.poll.spec.key()})
		return nil
	})
}

// ClosePoll takes the poll off everyone's screen, keeping its answers.
func (s *Seat) ClosePoll() error {
	return s.instructor(func(r *Room) error {
		if r.poll == nil {
			return ErrNoPoll
		}
		key := r.poll.spec.key()
		r.poll.open = false
		r.poll = nil
		r.changed("poll.close", s.m, map[string]any{"poll": key})
		return nil
	})
}

// Answer records the seat's answer to the open poll. Answering again before
// the reveal replaces the earlier answer; after the reveal answers are
// final.
func (s *Seat) Answer(a Answer) error {
	return s.do(func(r *Room) error {
		p := r.poll
		if p == nil || !p.open {
			return ErrNoPoll
		}
		if p.revealed {
			return ErrBadAnswer
		}
		switch p.spec.Kind {
		case MultipleChoice:
			if a.Choice < 0 || a.Choice >= len(p.spec.Choices) {
				return ErrBadAnswer
			}
			a.Number = 0
		case Estimate:
			if math.IsNaN(a.Number) || math.IsInf(a.Number, 0) || math.Abs(a.Number) > 1e40 {
				return ErrBadAnswer
			}
			a.Choice = 0
		}
		p.answers[s.m.id] = a
		// Copy on write: snapshots already published hold the old map.
		answers := maps.Clone(s.m.answers)
		answers[p.spec.key()] = a
		s.m.answers = answers
		r.quiet("answer", s.m, map[string]any{"poll": p.spec.key(), "choice": a.Choice, "number": a.Number}, s.m)
		return nil
	})
}
