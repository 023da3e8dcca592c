package session

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
)

// counting is a lesson that counts its renders.
type counting struct{ n atomic.Int64 }

func (c *counting) ID() string                  { return "count" }
func (c *counting) Number() int                 { return 1 }
func (c *counting) Title() string               { return "count" }
func (c *counting) Summary() string             { return "" }
func (c *counting) Controls() []lessons.Control { return nil }
func (c *counting) Render(f lessons.Frame) string {
	c.n.Add(1)
	return f.Values["x"]
}

func TestRendersShareOneRender(t *testing.T) {
	l := &counting{}
	r := NewRenders(2)
	frame := func(x string, mono bool, w int) lessons.Frame {
		return lessons.Frame{Theme: ui.NewTheme(mono), Values: lessons.Values{"x": x}, Width: w, Height: 10}
	}
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := r.Render(l, frame("a", false, 80)); got != "a" {
				t.Errorf("got %q", got)
			}
		}()
	}
	wg.Wait()
	if n := l.n.Load(); n != 1 {
		t.Errorf("100 followers caused %d renders, want 1", n)
	}
	r.Render(l, frame("a", true, 80))  // mono is another frame
	r.Render(l, frame("a", false, 81)) // so is another width; evicts the first
	r.Render(l, frame("a", false, 80))
	if n := l.n.Load(); n != 4 {
		t.Errorf("renders %d, want 4 (two new frames, one evicted and redrawn)", n)
	}
	if h, m := r.Stats(); h < 1 || m != 4 {
		t.Errorf("hits %d misses %d", h, m)
	}
}
