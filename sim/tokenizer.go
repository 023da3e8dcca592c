package sim

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/tiktoken-go/tokenizer"
)

// Encoding names a real byte-level BPE vocabulary. The values are tiktoken's
// names, so they can be shown to learners and looked up elsewhere verbatim.
type Encoding string

const (
	// O200kBase is the vocabulary of GPT-4o and GPT-5.
	O200kBase Encoding = "o200k_base"
	// CL100kBase is the vocabulary of GPT-4 and GPT-3.5.
	CL100kBase Encoding = "cl100k_base"
)

// Encodings lists the encodings Expedition offers, in menu order. It returns
// a fresh slice so a caller may reorder or trim it without affecting others.
func Encodings() []Encoding {
	return []Encoding{O200kBase, CL100kBase}
}

// Tokenizer splits text into the tokens a real model sees.
//
// Building one is expensive (up to 200,000 vocabulary entries are indexed),
// so build it once and share it: after NewTokenizer returns, a Tokenizer is
// read-only and safe for concurrent use by any number of goroutines.
//
// The vocabulary comes from github.com/tiktoken-go/tokenizer, but splitting
// and merging are done here. That library's pre-generated splitting regexp
// backtracks to the first newline of a whitespace run instead of the last,
// so "\n \n" becomes two pieces where tiktoken makes one ("today\n \n" is
// [31213, 27907] in cl100k_base per tiktoken's own tests; the library gives
// [31213, 198, 720]). Blank lines holding indentation are everywhere in code,
// so the regexp is compiled here with the interpreter instead.
type Tokenizer struct {
	enc   Encoding
	split *regexp2.Regexp
	// rank maps a token's bytes to its ID; token is the reverse.
	rank  map[string]int
	token []string
}

// Splitting patterns, as in tiktoken_ext/openai_public.py and the library.
// Since v0.8 tiktoken spells cl100k_base's with possessive quantifiers and an
// extra `\s++$` branch, for speed. That keeps a trailing whitespace run whole
// where this pattern cuts it after its last newline, but the tokens are the
// same: no whitespace token of cl100k_base has whitespace after its last
// newline, so no token could span the cut (a test checks this).
const (
	o200kPattern  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// NewTokenizer loads the vocabulary for enc. It fails for an encoding that
// Encodings does not list, rather than silently falling back to another one
// whose token IDs would differ.
func NewTokenizer(enc Encoding) (*Tokenizer, error) {
	var pattern string
	switch enc {
	case O200kBase:
		pattern = o200kPattern
	case CL100kBase:
		pattern = cl100kPattern
	default:
		return nil, fmt.Errorf("sim: unknown encoding %q", string(enc))
	}
	// regexp2.MustCompile would pick up the library's faulty generated
	// matcher, which is registered under this exact pattern; Compile never
	// does. The backtracking stack is left unbounded because a limit can only
	// turn a long paste into a match error, and Encode has no error to return.
	split, err := regexp2.Compile(pattern, regexp2.None, regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", enc, err)
	}
	codec, err := tokenizer.Get(tokenizer.Encoding(enc))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", enc, err)
	}

	// The library keeps its vocabulary unexported, so read it back one ID at
	// a time; IDs are dense, and the first missing one ends the vocabulary.
	t := &Tokenizer{enc: enc, split: split}
	for id := 0; ; id++ {
		b, err := codec.Decode([]uint{uint(id)})
		if err != nil {
			break
		}
		t.token = append(t.token, b)
	}
	t.rank = make(map[string]int, len(t.token))
	for id, b := range t.token {
		t.rank[b] = id
	}
	// Encode falls back to single bytes, so all 256 must be tokens.
	for b := range 256 {
		if _, ok := t.rank[string([]byte{byte(b)})]; !ok {
			return nil, fmt.Errorf("load %s: no token for byte %#02x", enc, b)
		}
	}
	return t, nil
}

// Encoding reports which vocabulary t uses.
func (t *Tokenizer) Encoding() Encoding {
	return t.enc
}

// Token is one piece of encoded text.
type Token struct {
	// ID is the token's rank in the vocabulary, the number the model sees.
	ID int
	// Bytes is the raw text of the token. Byte-level BPE may cut a multi-byte
	// character, so Bytes can be an incomplete UTF-8 sequence; see Partial.
	Bytes string
	// Start is the byte offset of the token in the string given to Encode.
	Start int
}

// Partial reports whether the token's bytes are not valid UTF-8 on their own:
// a piece of an emoji or CJK character that only makes sense next to its
// neighbours.
func (tk Token) Partial() bool {
	return !utf8.ValidString(tk.Bytes)
}

// Display is how a screen shows the token: valid text as is, and a partial
// token as its bytes in hex, like "<e3 81>". Printing a partial token as text
// would show U+FFFD, hiding the very thing the learner should see: that a
// token can be less than a character.
func (tk Token) Display() string {
	if tk.Partial() {
		return tokenHex(tk.Bytes)
	}
	return tk.Bytes
}

// Visible is Display made safe and legible for a terminal cell: nothing it
// returns moves the cursor, rings a bell, starts an escape sequence or
// reorders text, and invisible characters become visible.
//
// Partial tokens are shown as hex, as in Display. In text, "\n" becomes "↵",
// "\t" becomes "⇥", other C0 controls and DEL become their Unicode control
// pictures ("\r" → "␍", ESC → "␛", DEL → "␡"), and C1 controls, format
// characters (zero-width joiner, bidi overrides, BOM), line and paragraph
// separators and U+FFFD become Go-style escapes such as `\u200d`. When
// showSpace is true, each ASCII space becomes "·" so runs of spaces can be
// counted; other whitespace is left alone.
//
// The result never contains bytes below 0x20, DEL, C1 controls or U+FFFD.
func (tk Token) Visible(showSpace bool) string {
	if tk.Partial() {
		return tokenHex(tk.Bytes)
	}
	var sb strings.Builder
	sb.Grow(len(tk.Bytes))
	for _, r := range tk.Bytes {
		switch {
		case r == '\n':
			sb.WriteString("↵")
		case r == '\t':
			sb.WriteString("⇥")
		case r == ' ' && showSpace:
			sb.WriteString("·")
		case r < 0x20:
			sb.WriteRune(0x2400 + r) // Control Pictures mirror C0 one to one.
		case r == 0x7f:
			sb.WriteString("␡")
		case r >= 0x80 && r <= 0x9f,
			r == utf8.RuneError,
			r == '\u2028', r == '\u2029',
			unicode.Is(unicode.Cf, r):
			writeRuneEscape(&sb, r)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// writeRuneEscape writes r the way Go source would spell it, so the reader can
// search for the code point.
func writeRuneEscape(sb *strings.Builder, r rune) {
	if r > 0xffff {
		fmt.Fprintf(sb, `\U%08x`, r)
		return
	}
	fmt.Fprintf(sb, `\u%04x`, r)
}

// tokenHex renders b as lower-case hex bytes in angle brackets. It is pure
// ASCII, so it is safe wherever text is not.
func tokenHex(b string) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(3*len(b) + 1)
	sb.WriteByte('<')
	for i := 0; i < len(b); i++ {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteByte(digits[b[i]>>4])
		sb.WriteByte(digits[b[i]&0x0f])
	}
	sb.WriteByte('>')
	return sb.String()
}

// Encode splits s into tokens exactly as tiktoken's encode_ordinary would:
// text that looks like a special token, such as "<|endoftext|>", is encoded
// as plain text, because a learner typing it is writing text, not a control
// signal.
//
// The concatenated Bytes of the result always equal s, for any input. Valid
// UTF-8 gets tiktoken's tokens, except that characters newer than Go's
// Unicode tables (unicode.Version) may be classed differently from tiktoken's
// more recent regexp engine. Python strings cannot hold invalid UTF-8, so
// tiktoken has no answer for it; here each byte of an invalid sequence becomes
// its own single-byte token and the valid runs on either side are encoded
// separately. That keeps every byte and every Start offset honest instead of
// silently substituting U+FFFD.
//
// Encode returns nil for an empty string.
func (t *Tokenizer) Encode(s string) []Token {
	if s == "" {
		return nil
	}
	toks := make([]Token, 0, len(s)/4+1)
	if utf8.ValidString(s) {
		return t.encodeValid(toks, s, 0)
	}
	for start := 0; start < len(s); {
		end := start
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			end += n
		}
		if end > start {
			toks = t.encodeValid(toks, s[start:end], start)
			start = end
			continue
		}
		toks = append(toks, t.byteToken(s, start))
		start++
	}
	return toks
}

// byteToken is the single-byte token for s[i].
func (t *Tokenizer) byteToken(s string, i int) Token {
	return Token{ID: t.rank[s[i:i+1]], Bytes: s[i : i+1], Start: i}
}

// encodeValid appends the tokens of seg, valid UTF-8 found at byte offset base
// of the caller's input: it splits seg into pieces with the encoding's
// pattern, then merges the bytes of each piece.
func (t *Tokenizer) encodeValid(toks []Token, seg string, base int) []Token {
	pos := 0
	m, err := t.split.FindStringMatch(seg)
	for err == nil && m != nil {
		// Matches count runes; ByteRange converts. Pieces are contiguous,
		// but take the offset from the match rather than assume it.
		i, n := m.ByteRange()
		if i != pos || n <= 0 {
			break
		}
		toks = t.appendPiece(toks, seg[i:i+n], base+i)
		pos = i + n
		m, err = t.split.FindNextMatch(m)
	}
	// Every string matches the pattern piece by piece, and the regexp has no
	// time or stack limit, so this only guards against a library change:
	// spell out what is left in bytes rather than drop text.
	for ; pos < len(seg); pos++ {
		tk := t.byteToken(seg, pos)
		tk.Start += base
		toks = append(toks, tk)
	}
	return toks
}

// appendPiece appends the tokens of one pre-tokenised piece at offset base.
// Like tiktoken it starts from single bytes and repeatedly merges the
// adjacent pair whose concatenation has the lowest rank, leftmost first; a
// heap keeps that O(n log n) on long pieces such as a pasted run of spaces.
func (t *Tokenizer) appendPiece(toks []Token, piece string, base int) []Token {
	if id, ok := t.rank[piece]; ok {
		return append(toks, Token{ID: id, Bytes: piece, Start: base})
	}
	// Part i spans piece[start[i]:start[next[i]]]; the sentinel part
	// len(piece) marks the end.
	n := len(piece)
	next := make([]int, n+1)
	prev := make([]int, n+1)
	for i := range next {
		next[i], prev[i] = i+1, i-1
	}
	rankAt := func(i int) int {
		if i < 0 || i >= n {
			return -1
		}
		j := next[i]
		if j >= n {
			return -1
		}
		r, ok := t.rank[piece[i:next[j]]]
		if !ok {
			return -1
		}
		return r
	}
	var h mergeHeap
	for i := 0; i < n; i++ {
		if r := rankAt(i); r >= 0 {
			h = append(h, mergeCandidate{rank: r, pos: i})
		}
	}
	h.init()
	dead := make([]bool, n)
	for len(h) > 0 {
		c := h.pop()
		i := c.pos
		if dead[i] || rankAt(i) != c.rank {
			continue
		}
		j := next[i]
		dead[j] = true
		next[i] = next[j]
		prev[next[j]] = i
		if r := rankAt(i); r >= 0 {
			h.push(mergeCandidate{rank: r, pos: i})
		}
		if p := prev[i]; p >= 0 {
			if r := rankAt(p); r >= 0 {
				h.push(mergeCandidate{rank: r, pos: p})
			}
		}
	}
	for i := 0; i < n; i = next[i] {
		b := piece[i:next[i]]
		toks = append(toks, Token{ID: t.rank[b], Bytes: b, Start: base + i})
	}
	return toks
}

// Decode joins the bytes of the given token IDs. The result is raw bytes: IDs
// that cut a character, such as a single partial token, give a string that is
// not valid UTF-8, just as Encode produced them. Special-token IDs (such as
// <|endoftext|>) are rejected, because Encode never produces them.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	var sb strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(t.token) {
			return "", fmt.Errorf("decode %s: no token %d", t.enc, id)
		}
		sb.WriteString(t.token[id])
	}
	return sb.String(), nil
}
