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
	// Min and Max bound an Estimate's answers; both zero means any number
	// at least 0.
	Min, Max float64
	// When is the view of the chapter the question is about ("key=value",
	// or ""): the instructor's session closes the poll when it stops holding.
	When string
}

// InRange reports whether v is an answer the estimate accepts.
func (p PollSpec) InRange(v float64) bool {
	if p.Max > p.Min {
		return v >= p.Min && v <= p.Max
	}
	return v >= 0
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
	// counts (per choice) and estimates (sorted) are the answers tallied,
	// kept up to date answer by answer so a snapshot need not count them
	// again. Both are replaced, never changed in place: published views
	// share them.
	counts    []int
	estimates []float64
}

// newPollRecord makes the record of spec holding answers.
func newPollRecord(spec PollSpec, answers map[string]Answer) *pollRecord {
	p := &pollRecord{spec: spec, answers: map[string]Answer{}}
	p.spec.Choices = slices.Clone(spec.Choices)
	p.counts = make([]int, len(spec.Choices))
	for id, a := range answers {
		p.answers[id] = a
		if spec.Kind == MultipleChoice {
			if a.Choice >= 0 && a.Choice < len(p.counts) {
				p.counts[a.Choice]++
			}
		} else {
			p.estimates = append(p.estimates, a.Number)
		}
	}
	sort.Float64s(p.estimates)
	return p
}

// set records member id's answer a, replacing theirs if they had one.
func (p *pollRecord) set(id string, a Answer) {
	prev, had := p.answers[id]
	p.answers[id] = a
	if p.spec.Kind == MultipleChoice {
		counts := slices.Clone(p.counts)
		if had && prev.Choice >= 0 && prev.Choice < len(counts) {
			counts[prev.Choice]--
		}
		counts[a.Choice]++
		p.counts = counts
		return
	}
	est := make([]float64, 0, len(p.estimates)+1)
	est = append(est, p.estimates...)
	if had {
		if i, ok := slices.BinarySearch(est, prev.Number); ok {
			est = slices.Delete(est, i, i+1)
		}
	}
	i, _ := slices.BinarySearch(est, a.Number)
	p.estimates = slices.Insert(est, i, a.Number)
}

// PollView is a poll as a screen shows it. Counts and Estimates are nil for
// students until the instructor reveals them. A view and its slices are
// shared by every seat: never change them.
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

// view is the poll for a snapshot. Its slices are shared with the record
// and with every other view: readers must not change them.
func (p *pollRecord) view(instructor bool) *PollView {
	v := &PollView{Spec: p.spec, Open: p.open, Revealed: p.revealed, Answered: len(p.answers)}
	if !instructor && !p.revealed {
		return v
	}
	if p.spec.Kind == MultipleChoice {
		v.Counts = p.counts
	} else {
		v.Estimates = p.estimates
	}
	return v
}

// OpenPoll opens a question for the class. Opening a poll that was opened
// before brings back its answers; opening another closes the current one
// (its results are kept).
func (s *Seat) OpenPoll(spec PollSpec) error {
	spec.Choices = slices.Clone(spec.Choices)
	_, err := s.act(op{Kind: kindPollOpen, Poll: &spec})
	return err
}

// RevealPoll shows the open poll's distribution and truth to everyone.
func (s *Seat) RevealPoll() error {
	_, err := s.act(op{Kind: kindPollReveal})
	return err
}

// ClosePoll takes the poll off everyone's screen, keeping its answers.
func (s *Seat) ClosePoll() error {
	_, err := s.act(op{Kind: kindPollClose})
	return err
}

// Answer records the seat's answer to the open poll. Answering again before
// the reveal replaces the earlier answer; after the reveal answers are
// final.
func (s *Seat) Answer(a Answer) error {
	_, err := s.act(op{Kind: kindAnswer, Answer: &a})
	return err
}

func (r *Room) openPoll(o *op, m *member, commit bool) error {
	if o.Poll == nil {
		return ErrUnknown
	}
	spec := *o.Poll
	if _, ok := r.cfg.Validate(spec.Chapter, "", ""); !ok || spec.ID == "" {
		return ErrUnknown
	}
	if !r.choicesOK(spec) {
		return ErrBadAnswer
	}
	if !commit {
		return nil
	}
	if r.poll != nil {
		r.poll.open = false
	}
	rec := r.polls[spec.key()]
	reset := ""
	if rec != nil && !sameQuestion(rec.spec, spec) {
		reset = spec.key()
	}
	if rec == nil || reset != "" {
		// A new question, or the same one asked about other values
		// (another truth): answers to the old one do not carry over.
		rec = newPollRecord(spec, nil)
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
	if len(rec.counts) != len(spec.Choices) {
		rec = newPollRecord(rec.spec, rec.answers)
		r.polls[spec.key()] = rec
	}
	rec.open = true
	r.poll = rec
	r.lastPoll[spec.Chapter] = spec.ID
	r.changed(event{kind: "poll.open", actor: m, data: map[string]any{"poll": spec.key()}, reset: reset})
	return nil
}

// endPoll reveals (kind poll.reveal) or closes the open poll. Callers hold
// r.mu and have checked there is one.
func (r *Room) endPoll(kind string, m *member) {
	key := r.poll.spec.key()
	if kind == kindPollReveal {
		r.poll.revealed = true
	} else {
		r.poll.open = false
		r.poll = nil
	}
	r.changed(event{kind: kind, actor: m, data: map[string]any{"poll": key}})
}

func (r *Room) answer(o *op, m *member, commit bool) error {
	p := r.poll
	if p == nil || !p.open {
		return ErrNoPoll
	}
	if p.revealed || o.Answer == nil {
		return ErrBadAnswer
	}
	a := *o.Answer
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
		if !p.spec.InRange(a.Number) {
			return ErrOutOfRange
		}
		a.Choice = 0
	}
	if prev, ok := p.answers[m.id]; ok && prev == a {
		return sameError{}
	}
	if !commit {
		return nil
	}
	p.set(m.id, a)
	// Copy on write: snapshots already published hold the old map.
	answers := maps.Clone(m.answers)
	answers[p.spec.key()] = a
	m.answers = answers
	r.quiet(event{kind: "answer", actor: m, data: map[string]any{"poll": p.spec.key(), "choice": a.Choice, "number": a.Number},
		touched: []*member{m}, answer: &SavedAnswer{Poll: p.spec.key(), Member: m.id, Answer: a}})
	return nil
}

// choicesOK reports a poll the room can hold: an estimate, or two choices
// up to the chapters' limit (Config.MaxChoices: a digit answers).
func (r *Room) choicesOK(spec PollSpec) bool {
	if spec.Kind != MultipleChoice {
		return true
	}
	return len(spec.Choices) >= 2 && (r.cfg.MaxChoices <= 0 || len(spec.Choices) <= r.cfg.MaxChoices)
}

// Median is the middle of sorted estimates: the mean of the two middle ones
// when there is an even number (0 for none). One place, so the class's
// screen and the report agree.
func Median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
