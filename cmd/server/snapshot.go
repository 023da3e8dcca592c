package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/session"
)

// setFlags collects repeated --set key=value pairs.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// snapshot prints one chapter's screen, for docs, slides and tests. Input
// errors (unknown chapter or key, bad value) exit with code 2.
func snapshot(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chapter := fs.String("chapter", "tokens", "chapter ID")
	var sets setFlags
	fs.Var(&sets, "set", "key=value for one of the chapter's controls (repeatable)")
	width := fs.Int("width", 100, "screen width in cells")
	height := fs.Int("height", 30, "screen height in lines")
	color := fs.Bool("color", false, "keep colour escape codes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "snapshot: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *width < 1 || *height < 1 || *width > 1000 || *height > 1000 {
		fmt.Fprintln(stderr, "snapshot: --width and --height must be between 1 and 1000")
		return 2
	}
	catalog, err := lessons.NewCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "build chapters: %v\n", err)
		return 1
	}
	values, err := ParseSets(catalog, *chapter, sets)
	if err != nil {
		fmt.Fprintf(stderr, "snapshot: %v\n", err)
		return 2
	}
	screen := session.Snapshot(catalog, *chapter, values, *width, *height, *color)
	if !*color {
		screen = ansi.Strip(screen)
	}
	fmt.Fprintln(stdout, screen)
	return 0
}

// ParseSets checks a chapter ID and key=value pairs against the catalog,
// strictly: anything unknown or out of range is an error naming what is
// allowed.
func ParseSets(catalog *lessons.Catalog, chapter string, sets []string) (lessons.Values, error) {
	i, ok := catalog.Index(chapter)
	if !ok {
		return nil, fmt.Errorf("unknown chapter %q (chapters: %s)", chapter, catalog.IDs())
	}
	l := catalog.At(i)
	values := lessons.Defaults(l.Controls())
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		c, ok := lessons.ControlByKey(l, k)
		if !ok {
			var keys []string
			for _, c := range l.Controls() {
				keys = append(keys, c.Key)
			}
			return nil, fmt.Errorf("chapter %s has no control %q (controls: %s)", chapter, k, strings.Join(keys, ", "))
		}
		canon, err := c.Parse(v)
		if err != nil {
			return nil, err
		}
		values = values.With(k, canon)
		if ln, ok := l.(lessons.Linker); ok {
			values = ln.Link(values, k)
		}
	}
	return values, nil
}
