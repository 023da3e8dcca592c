package lessons

import (
	"fmt"
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

// The BPE view says which BPE it is: the trainer starts from characters and
// drops everything between words (sim.TrainBPE, as in Sennrich et al.
// 2016), while o200k_base and cl100k_base start from the 256 byte values
// after a regex pre-split (sim's tokenizer patterns, \p{N}{1,3} for
// numbers); the screen must not pass the one off as the other.
func TestBPEViewSaysCharacterLevel(t *testing.T) {
	l := chapter(t, "tokens")
	v := Defaults(l.Controls()).With("view", "bpe")
	for _, size := range [][2]int{{80, 17}, {120, 40}} {
		out := flat(renderPlain(l, v, size[0], size[1], ""))
		for _, want := range []string{"character-level BPE (Sennrich et al. 2016)", "o200k_base and cl100k_base are byte-level",
			"256 byte values", "regular expression", "· character-level"} {
			if !strings.Contains(out, want) {
				t.Errorf("%dx%d BPE view lacks %q:\n%s", size[0], size[1], want, out)
			}
		}
	}
}

// The real-tokenizer questions are offered while the real tokenizer is on
// screen, and the BPE one while BPE is.
func TestTokensPollsNameTheirView(t *testing.T) {
	l := chapter(t, "tokens")
	checkPollWhens(t, l, map[string]string{"strawberry": "view=tokens", "count": "view=tokens", "firstmerge": "view=bpe"})
}

// A count of one reads in the singular.
func TestTokensCountsOne(t *testing.T) {
	l := chapter(t, "tokens")
	d := Defaults(l.Controls())
	one := screen(l, d.With("text", "a"), 80, 24)
	siWant(t, "one-letter text", one, "1 token · 1 character · 1 byte")
	bpe := screen(l, d.With("view", "bpe").With("merges", "1"), 80, 24)
	siWant(t, "one merge", flat(bpe), "Words after 1 merge ")
	if q := l.(Poller).Polls(d.With("text", "a")); !strings.Contains(q[1].Question, "(1 character)") {
		t.Errorf("count poll: %q", q[1].Question)
	}
}

// No word of the BPE view's word column is cut at 80 columns: the column
// is as wide as the widest split, at no merges, and the merge table wraps
// beside it instead.
func TestBPEWordsAreNotCut(t *testing.T) {
	l := chapter(t, "tokens")
	bpe := l.(*Tokens).bpe
	for _, merges := range []int{0, 1, 60, 300} {
		for _, w := range []int{80, 100} {
			out := screen(l, Defaults(l.Controls()).With("view", "bpe").With("merges", fmt.Sprint(merges)), w, 24)
			for _, word := range []string{"unbelievable", "strawberry", "tokenizer"} {
				parts := bpe.Segment(word, merges)
				for i, p := range parts {
					parts[i] = bpeSymbol(p)
				}
				if want := fmt.Sprintf("%s %s %d", word, strings.Join(parts, "|"), len(parts)); !strings.Contains(flat(out), want) {
					t.Errorf("%d merges at %d columns lacks %q:\n%s", merges, w, want, out)
				}
			}
		}
	}
}
