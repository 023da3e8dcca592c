package lessons

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expedition-llm/expedition/sim"
)

// Catalog is the chapter registry: every lesson in tour order, and the only
// list of chapters there is. It is built once at start-up and then only
// read, so all sessions share it.
type Catalog struct {
	lessons  []Lesson
	defaults []Values // by index: every session starts from these, so they are made once
}

// tourGuide is a chapter about the tour itself: the welcome's route, the
// recap's entries. The catalog makes it for itself, so the chapters it
// names are the catalog's and no second list has to be kept in step.
type tourGuide interface {
	// forTour returns the chapter made for c, whose other chapters are in
	// place (another guide may not be made for c yet). The guide it is
	// called on is left as it was.
	forTour(c *Catalog) Lesson
}

// NewCatalog builds every chapter, doing the expensive work (loading the
// tokenizers, training the BPE demo) once. Each builder is one chapter;
// the catalog orders them by number.
func NewCatalog() (*Catalog, error) {
	tokens, err := NewTokens()
	if err != nil {
		return nil, fmt.Errorf("build chapters: %w", err)
	}
	o200k := tokens.Tokenizer(sim.O200kBase)
	builders := []func() (Lesson, error){
		func() (Lesson, error) { return NewWelcome(), nil },
		func() (Lesson, error) { return tokens, nil },
		func() (Lesson, error) { return NewStack() },
		func() (Lesson, error) { return NewAttention() },
		func() (Lesson, error) { return NewScaling() },
		func() (Lesson, error) { return NewParallel() },
		func() (Lesson, error) { return NewPosttrain(o200k) },
		func() (Lesson, error) { return NewSampling(), nil },
		func() (Lesson, error) { return NewInference() },
		func() (Lesson, error) { return NewRecap(), nil },
	}
	var ls []Lesson
	for _, build := range builders {
		l, err := build()
		if err != nil {
			return nil, fmt.Errorf("build chapters: %w", err)
		}
		ls = append(ls, l)
	}
	return NewCatalogOf(ls...), nil
}

// NewCatalogOf makes a catalog of the given lessons, sorted by number. The
// welcome and the recap among them are made for this catalog: the welcome
// routes through its chapters and the recap sums them up, numbered one past
// the last of them.
func NewCatalogOf(ls ...Lesson) *Catalog {
	c := &Catalog{lessons: append([]Lesson(nil), ls...)}
	c.sort()
	for i, l := range c.lessons {
		if g, ok := l.(tourGuide); ok {
			c.lessons[i] = g.forTour(c)
		}
	}
	// The recap's number came from the chapters it follows.
	c.sort()
	for _, l := range c.lessons {
		c.defaults = append(c.defaults, Defaults(l.Controls()))
	}
	return c
}

// Defaults is chapter i's values before anyone moves a control. It is
// shared by every session that has not: change a copy (Values.With), never
// the map itself.
func (c *Catalog) Defaults(i int) Values { return c.defaults[i] }

// sort puts the chapters in tour order, keeping the given order among
// chapters of the same number.
func (c *Catalog) sort() {
	sort.SliceStable(c.lessons, func(i, j int) bool { return c.lessons[i].Number() < c.lessons[j].Number() })
}

// Len is the number of chapters.
func (c *Catalog) Len() int { return len(c.lessons) }

// At is the i-th chapter in tour order (not its number).
func (c *Catalog) At(i int) Lesson {
	if i < 0 || i >= len(c.lessons) {
		return nil
	}
	return c.lessons[i]
}

// Index finds a chapter by ID.
func (c *Catalog) Index(id string) (int, bool) {
	for i, l := range c.lessons {
		if l.ID() == id {
			return i, true
		}
	}
	return 0, false
}

// ByNumber finds a chapter by its number.
func (c *Catalog) ByNumber(n int) (int, bool) {
	for i, l := range c.lessons {
		if l.Number() == n {
			return i, true
		}
	}
	return 0, false
}

// IDs lists the chapter IDs in tour order, for error messages.
func (c *Catalog) IDs() string {
	ids := make([]string, len(c.lessons))
	for i, l := range c.lessons {
		ids[i] = l.ID()
	}
	return strings.Join(ids, ", ")
}
