package lessons

import "github.com/expedition-llm/expedition/lessons/ui"

// Lesson is one chapter of the tour.
type Lesson interface {
	// ID is the chapter's short name, used on command lines and in the room
	// state ("tokens").
	ID() string
	// Number is the chapter's place in the tour (DESIGN.md §1).
	Number() int
	// Title is the chapter's name as the header shows it.
	Title() string
	// Summary is the one line the contents screen shows.
	Summary() string
	// Controls are the chapter's inputs, in focus order.
	Controls() []Control
	// Render draws the chapter body for f. It must not draw a line wider
	// than f.Width, and it must not panic for any values a Normalize call
	// can produce. It should fit f.Height where it can (a plot may stretch
	// into the rows it is given), but it never drops or cuts what it says
	// to get there: a body taller than f.Height is drawn in full, the idea
	// first and the details after, and the session scrolls it.
	Render(f Frame) string
}

// Frame is everything a chapter body is drawn from. Two equal frames give the
// same screen, which is what lets followers share a render.
type Frame struct {
	Theme  *ui.Theme
	Values Values
	Width  int
	Height int
	// Spot is the ID of the element the instructor is pointing at (one of
	// the chapter's Spots), or "" when nothing is spotlit.
	Spot string
	// Class is what the class has put in together (pooled samples, votes),
	// keyed by names the chapter chooses; nil when there is no class input.
	Class Tally
	// Solo is set when the tour is taken alone (the local and snapshot
	// commands): no instructor, no classmates, no classroom keys to show.
	Solo bool
}

// Tally counts the class's contributions by key, e.g. "sample:mat" → 12.
type Tally map[string]int

// Linker is a Lesson whose controls move together: choosing a preset sets
// the dials, and touching a dial turns the preset to "custom".
type Linker interface {
	// Link returns v after the control changed has been set, with every
	// control that follows from it updated.
	Link(v Values, changed string) Values
}

// Activity is a Lesson whose learners add to a class tally (pooled samples,
// preference votes), which every screen then draws from Frame.Class.
type Activity interface {
	// Contribute is what a learner with values v adds to the class when
	// they press the activity key; seed makes each learner's draw their
	// own. Grouped contributions (votes) are also sent whenever the learner
	// changes a Personal control.
	Contribute(v Values, seed uint64) []Contribution
	// ActivityHelp names the activity key's action in a few words.
	ActivityHelp() string
}

// Contribution is one addition to a class tally.
type Contribution struct {
	// Group, when set, makes the contribution a vote: a learner holds at
	// most one key per group, and a new key replaces the old (an empty Key
	// withdraws it). Without a group, each contribution counts once more.
	Group string
	Key   string
}

// Spot is an element of a chapter the instructor can point everyone at.
type Spot struct {
	ID    string
	Label string
}

// Spotter is a Lesson with elements worth pointing at (a row of a grid, a
// bar of a chart).
type Spotter interface {
	Spots(v Values) []Spot
}

// KeyFigurer is a Lesson the recap sums up: the recap lists every chapter
// of the catalog that is one, in tour order, so a chapter joins the recap by
// saying what it is about here rather than by the recap reaching into it.
type KeyFigurer interface {
	// KeyFigure is the chapter's idea and key figure at v. The recap asks
	// once, at the chapter's defaults, so it repeats what the chapter opens
	// on and follows if a default changes.
	KeyFigure(v Values) KeyFigure
}

// KeyFigure is a chapter's entry in the recap. The figure is a piece of the
// fact rather than a value passed beside it, so the sentence reads whole
// wherever it is shown and the recap only has to find the figure to bold it.
type KeyFigure struct {
	// Idea is the chapter in one short sentence.
	Idea string
	// Fact is a sentence stating the key figure; Figure is the figure as
	// written in Fact, which the recap draws bold.
	Fact, Figure string
	// Badge says how the figure was found: computed, illustrative or an
	// estimate.
	Badge ui.Badge
}

// Poller is a Lesson that carries questions for the class.
type Poller interface {
	// Polls are the chapter's questions, with their truth computed for v
	// (the values on the instructor's screen when the poll opens).
	Polls(v Values) []Poll
}

// PollKind is how a poll is answered.
type PollKind int

// The kinds of poll.
const (
	// MultipleChoice is answered by picking one of Choices.
	MultipleChoice PollKind = iota
	// Estimate is answered with a number, judged by how close it is to
	// Truth (on a log scale: being off by 10× is the same miss either way).
	Estimate
)

// Poll is one question a chapter asks the class.
type Poll struct {
	// ID is unique within the chapter and stable across releases: saved
	// answers refer to it.
	ID       string
	Question string
	Kind     PollKind
	// Choices are the options of a MultipleChoice poll (at most
	// MaxChoices); Correct indexes the right one, -1 for an opinion.
	Choices []string
	Correct int
	// Truth is an Estimate's computed answer, and Unit what it counts.
	Truth float64
	Unit  string
	// Min and Max bound the answers an Estimate accepts (a share is 0 to
	// 100 %, a weight 0 to 1, a count at least 0): an answer outside is
	// refused with the range shown. Both zero means any number at least 0.
	Min, Max float64
	// Explain is the sentence shown with the answer at the reveal.
	Explain string
	// When, if set as "key=value" (as for a Control), is the view of the
	// chapter the question is about: the instructor opens it only while the
	// values hold, and it closes when the class leaves that view.
	When string
}

// MaxChoices is the most choices a MultipleChoice poll offers: a student
// answers with a single key press, a digit from 1 to MaxChoices.
const MaxChoices = 9

// Holds reports whether the question is about what values v show (see When).
func (p Poll) Holds(v Values) bool { return holds(p.When, v) }

// meta is what every chapter says about itself. Chapters embed it, so a
// chapter's name, number and blurb are one literal instead of four methods.
type meta struct {
	id, title, summary string
	// route is the chapter's name on the welcome's route, a few words
	// where the title is a line, so the stops fit three across 80 columns.
	route  string
	number int
}

// ID implements Lesson.
func (m meta) ID() string { return m.id }

// Number implements Lesson.
func (m meta) Number() int { return m.number }

// Title implements Lesson.
func (m meta) Title() string { return m.title }

// Summary implements Lesson.
func (m meta) Summary() string { return m.summary }

// routeName is the chapter's name on the welcome's route (see route).
func (m meta) routeName() string { return m.route }

// ControlByKey finds a lesson's control.
func ControlByKey(l Lesson, key string) (Control, bool) {
	for _, c := range l.Controls() {
		if c.Key == key {
			return c, true
		}
	}
	return Control{}, false
}
