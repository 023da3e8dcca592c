package session

import (
	"container/list"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/expedition-llm/expedition/lessons"
)

// Renders is a cache of chapter bodies shared by every session. A lesson's
// render is a pure function of its frame, so followers on the same chapter,
// values and terminal size share one render instead of each doing the same
// work after every instructor change: with a thousand followers that is the
// difference between one render and a thousand. Concurrent requests for the
// same frame wait for a single render.
type Renders struct {
	max int

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // most recent first; values are *renderEntry

	group        singleflight.Group
	hits, misses atomic.Int64
}

type renderEntry struct {
	key string
	out string
}

// NewRenders makes a cache holding the most recent max renders.
func NewRenders(max int) *Renders {
	return &Renders{max: max, entries: map[string]*list.Element{}, order: list.New()}
}

// Stats reports cache hits and misses so far.
func (r *Renders) Stats() (hits, misses int64) { return r.hits.Load(), r.misses.Load() }

// Render returns l's render of f, from the cache when another session has
// drawn the same frame.
func (r *Renders) Render(l lessons.Lesson, f lessons.Frame) string {
	key := frameKey(l, f)
	r.mu.Lock()
	if e, ok := r.entries[key]; ok {
		r.order.MoveToFront(e)
		out := e.Value.(*renderEntry).out
		r.mu.Unlock()
		r.hits.Add(1)
		return out
	}
	r.mu.Unlock()
	v, _, _ := r.group.Do(key, func() (any, error) {
		r.misses.Add(1)
		out := l.Render(f)
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.entries[key]; !ok {
			r.entries[key] = r.order.PushFront(&renderEntry{key: key, out: out})
			for r.order.Len() > r.max {
				old := r.order.Remove(r.order.Back()).(*renderEntry)
				delete(r.entries, old.key)
			}
		}
		return out, nil
	})
	return v.(string)
}

// frameKey names everything a render depends on. The theme enters only as
// mono or colour: every session's theme is built the same way from that.
func frameKey(l lessons.Lesson, f lessons.Frame) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%d\x00%d\x00%t\x00%s\x00%t\x00", l.ID(), f.Width, f.Height, f.Theme.Mono, f.Spot, f.Solo)
	for _, k := range slices.Sorted(maps.Keys(f.Values)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(f.Values[k])
		b.WriteByte(0)
	}
	b.WriteByte(1)
	for _, k := range slices.Sorted(maps.Keys(f.Class)) {
		fmt.Fprintf(&b, "%s=%d\x00", k, f.Class[k])
	}
	return b.String()
}
