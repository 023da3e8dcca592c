package lessons

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expedition-llm/expedition/sim"
)

// Catalog is the chapter registry: every lesson in tour order. It is built
// once at start-up and then only read, so all sessions share it.
type Catalog struct {
	lessons []Lesson
}

// NewCatalog builds every chapter, doing the expensive work (loading the
// tokenizers, training the BPE demo) once.
func NewCatalog() (*Catalog, error) {
	tokens, err := NewTokens()
	if err != nil {
		return nil, fmt.Errorf("build chapters: %w", err)
	}
	o200k := tokens.Tokenizer(sim.O200kBase)
	builders := []func() (Lesson, error){
		func() (Lesson, error) { return tokens, nil },
		// Chapters 2–4 (stack, attention, scaling).
		func() (Lesson, error) { return NewStack() },
		func() (Lesson, error) { return NewAttention() },
		func() (Lesson, error) { return NewScaling() },
		// Chapters 5–6 (parallel, posttrain).
		func() (Lesson, error) { return NewParallel() },
		func() (Lesson, error) { return NewPosttrain(o200k) },
		// Chapters 7–8 (sampling, inference), welcome (0) and recap.
		func() (Lesson, error) { return NewSampling(), nil },
		func() (Lesson, error) { return NewInference() },
		func() (Lesson, error) { return NewWelcome(), nil },
		func() (Lesson, error) { return NewRecap(o200k) },
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

// NewCatalogOf makes a catalog of the given lessons, sorted by number.
func NewCatalogOf(ls ...Lesson) *Catalog {
	c := &Catalog{lessons: append([]Lesson(nil), ls...)}
	sort.SliceStable(c.lessons, func(i, j int) bool { return c.lessons[i].Number() < c.lessons[j].Number() })
	return c
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
