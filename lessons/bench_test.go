package lessons

import (
	"testing"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// BenchmarkRender renders each chapter's body at its defaults at 100×30, the
// work each following session would do after an instructor's change without
// a shared render.
func BenchmarkRender(b *testing.B) {
	c := mustCatalog(b)
	th := ui.NewTheme(false)
	for i := 0; i < c.Len(); i++ {
		l := c.At(i)
		v := Defaults(l.Controls())
		b.Run(l.ID(), func(b *testing.B) {
			b.ReportAllocs()
			for n := 0; n < b.N; n++ {
				l.Render(Frame{Theme: th, Values: v, Width: 100, Height: 26})
			}
		})
	}
}
