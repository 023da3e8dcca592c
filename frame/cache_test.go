package frame

import (
	"fmt"
	"sync"
	"testing"

	"github.com/charmbracelet/colorprofile"
)

func screenOf(text string, w, h int) func() *Screen {
	return func() *Screen { return Parse(text, w, h, colorprofile.TrueColor) }
}

// TestCacheBuildsOnce: terminals asking for one key at once get one screen,
// built once.
func TestCacheBuildsOnce(t *testing.T) {
	c := NewCache()
	release := make(chan struct{})
	build := func() *Screen { <-release; return Parse("shared", 10, 2, colorprofile.TrueColor) }
	const n = 8
	got := make([]*Screen, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = c.Screen("k", build) })
	}
	close(release)
	wg.Wait()
	for i := range got {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("terminal %d got screen %p, terminal 0 %p", i, got[i], got[0])
		}
	}
	if st := c.Stats(); st.Built != 1 || st.Shared != n-1 {
		t.Errorf("stats %+v, want 1 built and %d shared", st, n-1)
	}
}

// TestCachePanicFreesKey: a build that panics ends only its own caller;
// the next to ask builds the screen afresh.
func TestCachePanicFreesKey(t *testing.T) {
	c := NewCache()
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the build's panic", r)
			}
		}()
		c.Screen("k", func() *Screen { panic("boom") })
	}()
	s := c.Screen("k", screenOf("after", 10, 2))
	if s == nil || s.Text() != "after\n" {
		t.Fatalf("after a panic the key gave %v", s)
	}
	if st := c.Stats(); st.Built != 2 {
		t.Errorf("stats %+v, want the screen built again", st)
	}
}

// TestCacheBounds: past MaxScreens, or MaxScreenBytes, the least recently
// used screens go, and are built again when asked for.
func TestCacheBounds(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		c := NewCache()
		for i := range MaxScreens + 10 {
			c.Screen(i, screenOf(fmt.Sprint(i), 4, 1))
		}
		c.Screen(MaxScreens+9, screenOf("newest", 4, 1)) // kept
		c.Screen(0, screenOf("0", 4, 1))                 // evicted: built again
		if st := c.Stats(); st.Built != MaxScreens+11 || st.Shared != 1 {
			t.Errorf("stats %+v, want the oldest built again and the newest shared", st)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		c := NewCache()
		big := Parse("", 320, 100, colorprofile.TrueColor).Bytes()
		n := MaxScreenBytes/big + 5
		for i := range n {
			c.Screen(i, screenOf("big", 320, 100))
		}
		c.mu.Lock()
		kept, held := c.sorder.Len(), c.sbytes
		c.mu.Unlock()
		if held > MaxScreenBytes || kept >= n {
			t.Errorf("%d of %d screens kept, %d bytes: more than %d", kept, n, held, MaxScreenBytes)
		}
	})
}

// TestCacheEncodings: an encoding between two shared screens is made once;
// one from or to a terminal's own screen is made where it is used and never
// kept.
func TestCacheEncodings(t *testing.T) {
	c := NewCache()
	a := c.Screen("a", screenOf("one", 10, 2))
	b := c.Screen("b", screenOf("two", 10, 2))
	first, again := c.encoding(a, b), c.encoding(a, b)
	if string(first) != string(again) || len(first) == 0 {
		t.Fatalf("encodings differ: %q then %q", first, again)
	}
	if st := c.Stats(); st.Encoded != 1 || st.Reused != 1 {
		t.Errorf("stats %+v, want 1 encoded and 1 reused", st)
	}
	own := Parse("mine", 10, 2, colorprofile.TrueColor)
	c.encoding(a, own)
	c.encoding(own, b)
	c.mu.Lock()
	kept := len(c.encs)
	c.mu.Unlock()
	if kept != 1 {
		t.Errorf("%d encodings kept, want only the shared one", kept)
	}
}
