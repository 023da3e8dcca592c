package lessons

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current renders")

// catalog is built once for the package's tests: loading the vocabularies
// takes a moment and the catalog is read-only.
var catalog = sync.OnceValues(NewCatalog)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

// cases are the screens pinned by golden files: every chapter at its
// defaults, plus the views a control switches to.
func goldenCases(c *Catalog) []struct {
	name   string
	lesson Lesson
	values Values
} {
	var out []struct {
		name   string
		lesson Lesson
		values Values
	}
	for i := 0; i < c.Len(); i++ {
		l := c.At(i)
		out = append(out, struct {
			name   string
			lesson Lesson
			values Values
		}{l.ID(), l, Defaults(l.Controls())})
	}
	if i, ok := c.Index("tokens"); ok {
		l := c.At(i)
		out = append(out, struct {
			name   string
			lesson Lesson
			values Values
		}{"tokens-bpe", l, Defaults(l.Controls()).With("view", "bpe").With("merges", "60")})
	}
	return out
}

func TestGolden(t *testing.T) {
	c := mustCatalog(t)
	th := ui.NewTheme(true)
	for _, tc := range goldenCases(c) {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			name := fmt.Sprintf("%s-%dx%d", tc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				got := ansi.Strip(tc.lesson.Render(Frame{Theme: th, Values: tc.values, Width: size[0], Height: size[1]}))
				got = trimRight(got) + "\n"
				path := filepath.Join("testdata", name+".golden")
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run go test ./lessons -update to create it): %v", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from %s (go test ./lessons -update refreshes it)\n--- got:\n%s\n--- want:\n%s", name, path, got, want)
				}
			})
		}
	}
}

func trimRight(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// TestRenderFits checks the contract every lesson keeps: never a line wider
// than it was given, never more lines, at every size a terminal may have.
func TestRenderFits(t *testing.T) {
	c := mustCatalog(t)
	for _, mono := range []bool{false, true} {
		th := ui.NewTheme(mono)
		for _, tc := range goldenCases(c) {
			for w := 80; w <= 250; w += 17 {
				for h := 24; h <= 80; h += 14 {
					out := tc.lesson.Render(Frame{Theme: th, Values: tc.values, Width: w, Height: h})
					checkFits(t, fmt.Sprintf("%s %dx%d mono=%v", tc.name, w, h, mono), out, w, h)
				}
			}
		}
	}
}

func checkFits(t *testing.T, name, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		t.Errorf("%s: %d lines, more than the height %d", name, len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%s: line %d is %d cells wide, more than %d: %q", name, i, lw, w, ansi.Strip(l))
		}
	}
}
