package frame

import (
	"container/list"
	"sync"
)

const (
	// MaxScreens is how many shared screens a Cache keeps by key, and
	// MaxScreenBytes how much memory they may hold: room for every group of
	// a large class (one per terminal size, colour profile, focus and poll
	// state in play) several changes deep.
	MaxScreens     = 256
	MaxScreenBytes = 4 << 20
	// MaxEncodings is how many encodings (the bytes from one screen to
	// another) a Cache keeps, and MaxEncodingBytes their total size.
	MaxEncodings     = 1024
	MaxEncodingBytes = 2 << 20
)

// Cache shares screens and their encodings between terminals. A screen is
// kept by a key the caller chooses (any comparable value naming everything
// the screen is drawn from); concurrent requests for a key wait for one
// build. Encodings are kept by the pair of screens they go between, so
// every terminal that shows one screen and wants another is written bytes
// encoded once. Both are bounded, least recently used first out; a
// terminal that still shows an evicted screen keeps it alive by its pointer.
type Cache struct {
	mu      sync.Mutex
	screens map[any]*list.Element // of *screenEntry
	sorder  *list.List
	sbytes  int
	encs    map[pair]*list.Element // of *encEntry
	eorder  *list.List
	ebytes  int
	lastID  uint64

	stats Stats
}

// Stats counts a cache's work.
type Stats struct {
	// Built and Shared count screens built and screens found built.
	Built, Shared int64
	// Encoded and Reused count encodings made and encodings found made.
	Encoded, Reused int64
}

type screenEntry struct {
	key   any
	ready chan struct{}
	s     *Screen
}

// pair names an encoding by its screens' ids (0 for a blank terminal).
type pair struct{ a, b uint64 }

type encEntry struct {
	p   pair
	buf []byte
}

// NewCache makes an empty cache.
func NewCache() *Cache {
	return &Cache{screens: map[any]*list.Element{}, sorder: list.New(), encs: map[pair]*list.Element{}, eorder: list.New()}
}

// Stats reports the cache's work so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Screen returns the screen kept under key, building it with build when
// there is none. While one caller builds, others asking for the same key
// wait for it. If build panics, the key is freed for the next caller and
// the panic goes on in the caller that built.
func (c *Cache) Screen(key any, build func() *Screen) *Screen {
	for {
		c.mu.Lock()
		if el, ok := c.screens[key]; ok {
			c.sorder.MoveToFront(el)
			e := el.Value.(*screenEntry)
			c.mu.Unlock()
			<-e.ready
			if e.s != nil {
				c.mu.Lock()
				c.stats.Shared++
				c.mu.Unlock()
				return e.s
			}
			continue // its build panicked: try again
		}
		e := &screenEntry{key: key, ready: make(chan struct{})}
		c.screens[key] = c.sorder.PushFront(e)
		c.stats.Built++
		c.lastID++
		id := c.lastID
		c.mu.Unlock()
		return c.build(e, id, build)
	}
}

func (c *Cache) build(e *screenEntry, id uint64, build func() *Screen) *Screen {
	done := false
	defer func() {
		c.mu.Lock()
		el, ok := c.screens[e.key]
		switch {
		case !ok || el.Value != e:
			// Evicted while building: the callers waiting still get it.
		case !done:
			c.sorder.Remove(el)
			delete(c.screens, e.key)
		default:
			c.sbytes += e.s.Bytes()
			c.evict()
		}
		c.mu.Unlock()
		close(e.ready)
	}()
	s := build()
	s.id = id
	e.s = s
	done = true
	return s
}

// evict drops the least recently used screens past the bounds. Callers
// hold c.mu.
func (c *Cache) evict() {
	for c.sorder.Len() > MaxScreens || c.sbytes > MaxScreenBytes && c.sorder.Len() > 1 {
		el := c.sorder.Back()
		old := el.Value.(*screenEntry)
		select {
		case <-old.ready:
		default:
			// Still building (its builder holds no lock): the newest
			// ready one goes instead, or nothing.
			if el = el.Prev(); el == nil {
				return
			}
			old = el.Value.(*screenEntry)
		}
		c.sorder.Remove(el)
		delete(c.screens, old.key)
		if old.s != nil {
			c.sbytes -= old.s.Bytes()
		}
	}
}

// encoding returns what turns a terminal showing a into one showing b
// (a nil: a blank terminal), encoding it once for every terminal that asks
// when both screens are shared. A screen of one terminal's own is encoded
// where it is used and not kept.
func (c *Cache) encoding(a, b *Screen) []byte {
	if b.id == 0 || a != nil && a.id == 0 {
		return encode(a, b)
	}
	p := pair{b: b.id}
	if a != nil {
		p.a = a.id
	}
	c.mu.Lock()
	if el, ok := c.encs[p]; ok {
		c.eorder.MoveToFront(el)
		c.stats.Reused++
		buf := el.Value.(*encEntry).buf
		c.mu.Unlock()
		return buf
	}
	c.mu.Unlock()
	// Two terminals may encode the same pair at once; both get the same
	// bytes, and encoding is cheap beside building the screen.
	buf := encode(a, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Encoded++
	if _, ok := c.encs[p]; !ok {
		c.encs[p] = c.eorder.PushFront(&encEntry{p: p, buf: buf})
		c.ebytes += len(buf)
		for c.eorder.Len() > MaxEncodings || c.ebytes > MaxEncodingBytes {
			old := c.eorder.Remove(c.eorder.Back()).(*encEntry)
			delete(c.encs, old.p)
			c.ebytes -= len(old.buf)
		}
	}
	return buf
}

// encode is what turns a terminal showing a into one showing b: a diff when
// the sizes match, otherwise a clear and a paint.
func encode(a, b *Screen) []byte {
	b.load()
	if a != nil {
		a.load()
	}
	if a == nil || a.w != b.w || a.h != b.h {
		return paint([]byte(clearScreen), b)
	}
	if a == b {
		return nil
	}
	return diff(nil, a, b)
}

const clearScreen = "\x1b[H\x1b[m\x1b[2J"
