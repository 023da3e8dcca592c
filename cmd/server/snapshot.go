package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
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
	chapter := fs.String("chapter", "tokens", "chapter, by ID (tokens) or number (1)")
	var sets setFlags
	fs.Var(&sets, "set", "key=value for one of the chapter's controls (repeatable)")
	width := fs.Int("width", 100, fmt.Sprintf("screen width in cells (%d to %d)", session.MinWidth, session.MaxWidth))
	height := fs.Int("height", 30, fmt.Sprintf("screen height in lines (%d to %d)", session.MinHeight, session.MaxHeight))
	color := fs.Bool("color", false, "keep colour escape codes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "snapshot: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	// A size a session would refuse is an error, not a screen saying so.
	if *width < session.MinWidth || *width > session.MaxWidth || *height < session.MinHeight || *height > session.MaxHeight {
		fmt.Fprintf(stderr, "snapshot: --width must be %d to %d and --height %d to %d (got %d×%d)\n",
			session.MinWidth, session.MaxWidth, session.MinHeight, session.MaxHeight, *width, *height)
		return 2
	}
	catalog, err := lessons.NewCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "build chapters: %v\n", err)
		return 1
	}
	id, err := chapterID(catalog, *chapter)
	if err != nil {
		fmt.Fprintf(stderr, "snapshot: %v\n", err)
		return 2
	}
	values, err := ParseSets(catalog, id, sets)
	if err != nil {
		fmt.Fprintf(stderr, "snapshot: %v\n", err)
		return 2
	}
	screen := session.Snapshot(catalog, id, values, *width, *height, *color)
	if !*color {
		screen = ansi.Strip(screen)
	}
	fmt.Fprintln(stdout, screen)
	return 0
}

// chapterID finds a chapter by ID or by its number.
func chapterID(catalog *lessons.Catalog, s string) (string, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if i, ok := catalog.ByNumber(n); ok {
			return catalog.At(i).ID(), nil
		}
		return "", fmt.Errorf("there is no chapter %d (chapters: %s)", n, catalog.IDs())
	}
	if _, ok := catalog.Index(s); !ok {
		return "", fmt.Errorf("unknown chapter %q (chapters: %s)", s, catalog.IDs())
	}
	return s, nil
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
