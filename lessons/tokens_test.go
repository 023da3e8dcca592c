package lessons

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

func TestTokensShowsRealIDsAndCounts(t *testing.T) {
	l := chapter(t, "tokens")
	th := ui.NewTheme(true)
	v := Defaults(l.Controls()).With("text", "Hello, world!")
	// cl100k_base "Hello, world!" = [9906, 11, 1917, 0], as tiktoken prints it.
	out := ansi.Strip(l.Render(Frame{Theme: th, Values: v.With("encoding", "cl100k_base"), Width: 100, Height: 30}))
	for _, want := range []string{"9906", "1917", "4 tokens", "13 characters", "13 bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("cl100k_base render lacks %q:\n%s", want, out)
		}
	}
	o200k := ansi.Strip(l.Render(Frame{Theme: th, Values: v.With("encoding", "o200k_base"), Width: 100, Height: 30}))
	if o200k == out {
		t.Error("switching the encoding changed nothing on screen")
	}
}

func TestTokensShowsPartialBytesNotReplacement(t *testing.T) {
	l := chapter(t, "tokens")
	th := ui.NewTheme(true)
	// A rare CJK character is split below the character level by cl100k_base.
	v := Defaults(l.Controls()).With("text", "鑫🦜").With("encoding", "cl100k_base")
	out := ansi.Strip(l.Render(Frame{Theme: th, Values: v, Width: 100, Height: 30}))
	if strings.Contains(out, "\uFFFD") {
		t.Errorf("render shows U+FFFD for a partial token:\n%s", out)
	}
	if !strings.Contains(out, "<") || !strings.Contains(out, ">") {
		t.Errorf("render shows no <hex bytes> for a partial token:\n%s", out)
	}
}

func TestTokensEscapesControlCharacters(t *testing.T) {
	l := chapter(t, "tokens")
	th := ui.NewTheme(false)
	v := Defaults(l.Controls()).With("text", "red \x1b[31mALERT\x1b[0m\x07 bell\r\nnext")
	out := l.Render(Frame{Theme: th, Values: v, Width: 100, Height: 30})
	// The render may hold the theme's own SGR codes but never the user's.
	if strings.Contains(out, "\x1b[31m") || strings.Contains(out, "\x07") || strings.Contains(out, "\r") {
		t.Errorf("user's control characters reached the screen raw: %q", out)
	}
	if !strings.Contains(ansi.Strip(out), "␛") {
		t.Errorf("escape not shown as ␛:\n%s", ansi.Strip(out))
	}
}

func TestBPEViewGrowsWithMerges(t *testing.T) {
	l := chapter(t, "tokens")
	th := ui.NewTheme(true)
	base := Defaults(l.Controls()).With("view", "bpe")
	zero := ansi.Strip(l.Render(Frame{Theme: th, Values: base.With("merges", "0"), Width: 120, Height: 40}))
	if !strings.Contains(zero, "no merges yet") || !strings.Contains(zero, "l|o|w|e|s|t|·") {
		t.Errorf("at 0 merges words should be single characters:\n%s", zero)
	}
	many := ansi.Strip(l.Render(Frame{Theme: th, Values: base.With("merges", "250"), Width: 120, Height: 40}))
	if !strings.Contains(many, "250 of") || strings.Contains(many, "l|o|w|e|s|t|·") {
		t.Errorf("after 250 merges words should be in bigger pieces:\n%s", many)
	}
}

func TestTokensPollsAreComputed(t *testing.T) {
	l := chapter(t, "tokens")
	p, ok := l.(Poller)
	if !ok {
		t.Fatal("tokens carries no polls")
	}
	polls := p.Polls(Defaults(l.Controls()).With("text", "Hello, world!").With("encoding", "cl100k_base"))
	if len(polls) < 2 {
		t.Fatalf("%d polls", len(polls))
	}
	for _, q := range polls {
		switch q.ID {
		case "count":
			// cl100k_base "Hello, world!" = [9906, 11, 1917, 0].
			if q.Truth != 4 {
				t.Errorf("count truth %v, want 4", q.Truth)
			}
		case "strawberry", "firstmerge":
			if q.Correct < 0 || q.Correct >= len(q.Choices) {
				t.Errorf("%s: correct %d of %d choices", q.ID, q.Correct, len(q.Choices))
			}
		}
	}
}

func TestTokensViews(t *testing.T) {
	l := chapter(t, "tokens")
	bpe := Defaults(l.Controls()).With("view", "bpe").With("merges", "60")
	checkGolden(t, "tokens-bpe", l, bpe)
	checkFitsEverywhere(t, "tokens-bpe", l, bpe)
	long := Defaults(l.Controls()).With("text", strings.Repeat("東京🍓 tokens\t\n", 150))
	checkFitsEverywhere(t, "tokens-long", l, long)
}
