package lessons

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// MaxText is the most characters the tokenizer's text field holds. A
// paragraph or two is plenty to learn from, and the cap keeps a 1 MB paste
// from costing every render a megabyte of tokenizing.
const MaxText = 2000

// bpeMaxMerges is how far the BPE demo's slider goes.
const bpeMaxMerges = 300

//go:embed corpus/bpe.txt
var bpeCorpus string

// Tokens is chapter 1, "From letters to numbers": the real o200k_base and
// cl100k_base tokenizers on any text, and a BPE trainer on a small corpus.
type Tokens struct {
	meta
	tokenizers map[string]*sim.Tokenizer
	bpe        *sim.BPE
	// samples are the words whose split the BPE view shows.
	samples  []string
	controls []Control
}

// The lesson contract and the optional parts of it that Tokens keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Tokens)(nil)
	_ Poller     = (*Tokens)(nil)
	_ KeyFigurer = (*Tokens)(nil)
)

// NewTokens loads both tokenizers and trains the BPE demo once.
func NewTokens() (*Tokens, error) {
	t := &Tokens{meta: meta{id: "tokens", number: 1, title: "From letters to numbers", route: "letters to numbers",
		summary: "Tokenizers: how text becomes the numbers a model reads (real o200k_base, BPE by hand)"}, tokenizers: map[string]*sim.Tokenizer{}}
	var encOpts []Option
	notes := map[sim.Encoding]string{
		sim.O200kBase:  "GPT-4o, GPT-5",
		sim.CL100kBase: "GPT-4, GPT-3.5",
	}
	for _, enc := range sim.Encodings() {
		tk, err := sim.NewTokenizer(enc)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", enc, err)
		}
		t.tokenizers[string(enc)] = tk
		encOpts = append(encOpts, Option{Value: string(enc), Note: notes[enc]})
	}
	t.bpe = sim.TrainBPE(bpeCorpus, bpeMaxMerges)
	t.samples = []string{"lowest", "newer", "tokenizer", "strawberry", "walking", "unbelievable"}
	t.controls = []Control{
		{Key: "text", Label: "Text", Kind: Text, MaxLen: MaxText, When: "view=tokens",
			Default: "Counting the r's in strawberry is hard for a model: it sees tokens 🍓, not letters.",
			Help:    "enter to edit, esc when done · paste anything, up to 2,000 characters"},
		{Key: "encoding", Label: "Encoding", Kind: Choice, Default: string(sim.O200kBase), When: "view=tokens",
			Help: "←/→ switch vocabulary: the same text, different pieces and numbers", Options: encOpts},
		{Key: "spaces", Label: "Spaces", Kind: Toggle, Default: "false", When: "view=tokens",
			Help: "space or ←/→ to mark spaces as · inside tokens"},
		{Key: "merges", Label: "Merges", Kind: Slider, Min: 0, Max: float64(t.bpe.Len()), Step: 1,
			Default: fmt.Sprint(min(12, t.bpe.Len())), Format: "%.0f", When: "view=bpe",
			Help: "←/→ one merge, shift+←/→ ten: watch pieces grow into words"},
		{Key: "view", Label: "View", Kind: Choice, Default: "tokens",
			Help: "←/→ switch between the real tokenizer and BPE step by step",
			Options: []Option{
				{Value: "tokens", Label: "Real tokenizer"},
				{Value: "bpe", Label: "BPE, step by step"},
			}},
	}
	return t, nil
}

// Tokenizer is the chapter's tokenizer for enc (nil if it has none), for
// other chapters to share.
func (t *Tokens) Tokenizer(enc sim.Encoding) *sim.Tokenizer { return t.tokenizers[string(enc)] }

// Controls implements Lesson.
func (t *Tokens) Controls() []Control { return t.controls }

// Render implements Lesson.
func (t *Tokens) Render(f Frame) string {
	th, width, height := f.Theme, f.Width, f.Height
	v := Normalize(t.controls, f.Values)
	var out string
	if v["view"] == "bpe" {
		out = t.renderBPE(th, v, width, height)
	} else {
		out = t.renderTokens(th, v, width, height)
	}
	return ui.FitWidth(out, width)
}

// tokChipRows is the fewest rows of chips the tokens view draws however
// short the frame: enough to read a sentence's worth of tokens, with the
// rest counted under them.
const tokChipRows = 3

const tokensProse = "A model never reads letters. A tokenizer first cuts text into pieces it met " +
	"often in training, called tokens, and swaps each piece for its number in a fixed " +
	"vocabulary. Those numbers are all the model ever sees."

const strawberryProse = "That is why counting the r's in \"strawberry\" is hard. On its own the " +
	"model gets %s: %s; after a space, as in a sentence, %s. Either way no letter is in sight: " +
	"the model has to have learned which letters hide inside each piece."

func (t *Tokens) renderTokens(th *ui.Theme, v Values, width, height int) string {
	tk := t.tokenizers[v["encoding"]]
	if tk == nil {
		tk = t.tokenizers[string(sim.O200kBase)]
	}
	text := v["text"]
	toks := tk.Encode(text)
	showSpace := v.Bool("spaces")

	chips := make([]ui.Chip, len(toks))
	for i, tok := range toks {
		chips[i] = ui.Chip{Text: tok.Visible(showSpace), Sub: fmt.Sprint(tok.ID)}
	}
	prose := th.Text.Render(ui.Wrap(tokensProse, width))
	split := func(word string) (string, string) {
		toks := tk.Encode(word)
		pieces := make([]string, len(toks))
		for i, s := range toks {
			pieces[i] = "\"" + s.Visible(true) + "\""
		}
		return strings.Join(pieces, " + "), Count(len(toks), "number", "numbers")
	}
	alone, aloneN := split("strawberry")
	spaced, spacedN := split(" strawberry")
	why := th.Subtle.Render(ui.Wrap(fmt.Sprintf(strawberryProse, alone, aloneN, spaced+", "+spacedN), width))

	// The chips are the one part that stretches: they get the rows the
	// prose, the counts and the note leave (each chip row is two lines),
	// but never fewer than tokChipRows, and the counts say how many more
	// there are. Everything else is always drawn; the body scrolls.
	strong := func(n int, one, many string) string {
		num, noun, _ := strings.Cut(Count(n, one, many), " ")
		return th.Strong.Render(num) + " " + noun
	}
	count := func(shown int) string {
		s := fmt.Sprintf("%s · %s · %s  %s",
			strong(len(toks), "token", "tokens"),
			strong(utf8.RuneCountInString(text), "character", "characters"),
			strong(len(text), "byte", "bytes"),
			th.Badge(ui.Computed))
		if shown < len(toks) {
			s += th.Subtle.Render(fmt.Sprintf("  · %s more not shown", numGroup(int64(len(toks)-shown))))
		}
		return ui.Wrap(s, width)
	}
	fixed := ui.Lines(prose) + 1 + ui.Lines(count(len(toks))) + 1 + ui.Lines(why)
	rows := max(tokChipRows, (height-fixed)/2)
	chipText, shown := th.Chips(chips, width, rows)
	if len(toks) == 0 {
		chipText = th.Subtle.Render(ui.Wrap("(no text: select Text and press enter to type)", width))
	}
	return ui.Column(prose, chipText+"\n"+count(shown), why)
}

// bpeProse says which BPE the demo is: the original character-level one
// (sim.TrainBPE), not the byte-level one with a regex pre-split that
// o200k_base and cl100k_base were trained with (sim.Tokenizer's patterns).
const bpeProse = "Byte-pair encoding learns its vocabulary by counting: find the pair of symbols " +
	"that sits side by side most often in the corpus, glue it into one new symbol, repeat. This " +
	"demo is the original, character-level BPE (Sennrich et al. 2016): each word starts as its " +
	"characters, · marking its end. o200k_base and cl100k_base are byte-level: they start from " +
	"the 256 byte values, after a regular expression splits text into words (with their leading " +
	"space), numbers of up to three digits, and punctuation."

// bpeSymbol shows a BPE symbol with the end-of-word marker as one cell.
func bpeSymbol(s string) string { return strings.ReplaceAll(s, sim.EndOfWord, "·") }

func (t *Tokens) renderBPE(th *ui.Theme, v Values, width, height int) string {
	n := min(max(v.Int("merges"), 0), t.bpe.Len())
	prose := th.Text.Render(ui.Wrap(bpeProse, width))
	merges := t.bpe.Merges()[:n]
	status := ui.Wrap(fmt.Sprintf("%s of %d merges learned · vocabulary %s symbols · character-level  %s",
		th.Strong.Render(fmt.Sprint(n)), t.bpe.Len(), th.Strong.Render(fmt.Sprint(t.bpe.VocabSize(n))), th.Badge(ui.Computed)), width)

	// Right: sample words split so far. The column is as wide as the
	// widest split can be, at no merges, when every character is its own
	// piece (a merge only ever shortens a split), so no word is cut and the
	// column does not move as the slider does.
	nameW := 0
	for _, w := range t.samples {
		nameW = max(nameW, utf8.RuneCountInString(w)+2)
	}
	wordLine := func(w string, merges int) (plain, styled string) {
		parts := t.bpe.Segment(w, merges)
		shown := make([]string, len(parts))
		for i, p := range parts {
			shown[i] = bpeSymbol(p)
		}
		name := ui.PadRight(w, nameW)
		pieces, count := strings.Join(shown, "|"), fmt.Sprintf(" %d", len(parts))
		return name + pieces + count, name + th.Accent.Render(pieces) + th.Subtle.Render(count)
	}
	header := "Words after " + Count(n, "merge", "merges")
	words := []string{th.Header.Render(header)}
	wordsW := lipgloss.Width("Words after " + Count(t.bpe.Len(), "merge", "merges"))
	for _, w := range t.samples {
		widest, _ := wordLine(w, 0)
		wordsW = max(wordsW, lipgloss.Width(widest))
		_, styled := wordLine(w, n)
		words = append(words, styled)
	}

	// Left: the merge table, newest last. It is the part that stretches:
	// the rows the prose and the status leave, but never fewer than the
	// words beside it, the earlier merges counted on one line.
	const gap, minTableW = 2, 28
	sideBySide := width >= wordsW+gap+minTableW
	tableW := width
	if sideBySide {
		tableW = min(width-wordsW-gap, width/2)
	}
	var table []string
	table = append(table, th.Header.Render(ui.Wrap("Merges (most frequent pair first)", tableW)))
	slots := max(len(t.samples), height-ui.Lines(prose)-1-ui.Lines(status)-1-ui.Lines(table[0]))
	if n == 0 {
		table = append(table, th.Subtle.Render(ui.Wrap("no merges yet: every word is single characters", tableW)))
	}
	start := 0
	if n > slots {
		start = n - (slots - 1)
		table = append(table, th.Subtle.Render(fmt.Sprintf("  … %s", Count(start, "earlier merge", "earlier merges"))))
	}
	for i := start; i < n; i++ {
		m := merges[i]
		rule := fmt.Sprintf("%4d  %s + %s → %s", i+1, bpeSymbol(m.Left), bpeSymbol(m.Right), bpeSymbol(m.Left+m.Right))
		if i == n-1 {
			rule = th.Focus.Render(rule)
		}
		table = append(table, ui.Wrap(rule+th.Subtle.Render(fmt.Sprintf("  ×%d", m.Count)), tableW))
	}
	var grid string
	if sideBySide {
		grid = joinColumns(strings.Join(table, "\n"), strings.Join(words, "\n"), tableW+gap)
	} else {
		// Too narrow for both: the words, then the table, each wrapped
		// rather than cut.
		grid = ui.Wrap(strings.Join(words, "\n"), width) + "\n\n" + strings.Join(table, "\n")
	}
	return ui.Column(prose, status, grid)
}

// KeyFigure implements KeyFigurer: how many tokens the encoding on screen
// cuts "strawberry" into, the split that hides its letters.
func (t *Tokens) KeyFigure(v Values) KeyFigure {
	v = Normalize(t.controls, v)
	enc := v["encoding"]
	tk := t.tokenizers[enc]
	if tk == nil {
		enc = string(sim.O200kBase)
		tk = t.tokenizers[enc]
	}
	figure := Count(len(tk.Encode("strawberry")), "token", "tokens")
	return KeyFigure{
		Idea:   "A model reads numbers, not letters: text is cut into known pieces.",
		Fact:   enc + " cuts “strawberry” into " + figure + ".",
		Figure: figure, Badge: ui.Computed,
	}
}

// Polls implements Poller: questions whose answers the real tokenizer and the
// BPE trainer compute, each open only while its view is on screen.
func (t *Tokens) Polls(v Values) []Poll {
	v = Normalize(t.controls, v)
	tk := t.tokenizers[v["encoding"]]
	if tk == nil {
		tk = t.tokenizers[string(sim.O200kBase)]
	}
	straw := len(tk.Encode("strawberry"))
	choices := []string{"1", "2", "3", "10"}
	correct := -1
	for i, c := range choices {
		if c == fmt.Sprint(straw) {
			correct = i
		}
	}
	if correct < 0 {
		choices[3] = fmt.Sprint(straw)
		correct = 3
	}
	text := v["text"]
	chars := Count(utf8.RuneCountInString(text), "character", "characters")
	polls := []Poll{
		{
			ID:       "strawberry",
			Question: fmt.Sprintf("How many tokens does %s make of \"strawberry\"?", tk.Encoding()),
			Kind:     MultipleChoice, Choices: choices, Correct: correct, When: "view=tokens",
			Explain: "Common words are one token; rarer ones are split into pieces the model has to learn to spell.",
		},
		{
			ID:       "count",
			Question: fmt.Sprintf("How many %s tokens is the text on screen (%s)?", tk.Encoding(), chars),
			Kind:     Estimate, Truth: float64(len(tk.Encode(text))), Unit: "tokens", When: "view=tokens",
			Explain: "English runs about 4 characters per token; code, numbers and other scripts cost more.",
		},
	}
	if t.bpe.Len() > 0 {
		m := t.bpe.Merges()[0]
		first := bpeSymbol(m.Left + m.Right)
		opts := []string{first, "the", "ing·", "er"}
		seen := map[string]bool{}
		var uniq []string
		for _, o := range opts {
			if !seen[o] {
				seen[o] = true
				uniq = append(uniq, o)
			}
		}
		polls = append(polls, Poll{
			ID:       "firstmerge",
			Question: "Which symbol does BPE create first on our corpus?",
			Kind:     MultipleChoice, Choices: uniq, Correct: 0, When: "view=bpe",
			Explain: fmt.Sprintf("%s + %s is the most frequent adjacent pair (%s), so it is merged first.",
				bpeSymbol(m.Left), bpeSymbol(m.Right), Count(m.Count, "time", "times")),
		})
	}
	return polls
}
