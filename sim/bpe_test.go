package sim

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The corpus of Sennrich et al. (2016), Algorithm 1: low ×5, lower ×2,
// newest ×6, widest ×3. Worked by hand, writing _ for </w>:
//
//	start: l o w _ ×5 | l o w e r _ ×2 | n e w e s t _ ×6 | w i d e s t _ ×3
//	pairs: e s 9, s t 9, t _ 9, w e 8, l o 7, o w 7, n e 6, e w 6, w _ 5,
//	       w i 3, i d 3, d e 3, e r 2, r _ 2
//	1. (e, s) 9: three pairs tie at 9; Left "e" < "s" < "t".
//	   now n e w es t _, w i d es t _; pairs es t 9, t _ 9, w es 6, d es 3
//	2. (es, t) 9: ties with (t, _) 9; "es" < "t".
//	3. (est, _) 9: the only pair at 9. Word-final "est" is now one symbol.
//	4. (l, o) 7: ties with (o, w) 7; "l" < "o".
//	5. (lo, w) 7.
//	   now low _ ×5 | low e r _ ×2 | n e w est_ ×6 | w i d est_ ×3
//	   pairs n e 6, e w 6, w est_ 6, low _ 5, w i 3, i d 3, d est_ 3,
//	         low e 2, e r 2, r _ 2
//	6. (e, w) 6: ties with (n, e) and (w, est_); "e" < "n" < "w".
//	7. (ew, est</w>) 6: ties with (n, ew) 6; "ew" < "n".
//	8. (n, ewest</w>) 6.
//	9. (low, </w>) 5.
//
// The paper's code breaks ties by dictionary order, so from step 6 on it
// picks (n, e) where this rule picks (e, w).
const sennrichCorpus = "low low low low low lower lower " +
	"newest newest newest newest newest newest widest widest widest"

func TestTrainBPEWorkedExample(t *testing.T) {
	b := TrainBPE(sennrichCorpus, 9)
	want := []Merge{
		{"e", "s", 9},
		{"es", "t", 9},
		{"est", EndOfWord, 9},
		{"l", "o", 7},
		{"lo", "w", 7},
		{"e", "w", 6},
		{"ew", "est" + EndOfWord, 6},
		{"n", "ewest" + EndOfWord, 6},
		{"low", EndOfWord, 5},
	}
	if got := b.Merges(); !slices.Equal(got, want) {
		t.Fatalf("merges:\n got %v\nwant %v", got, want)
	}
	segs := []struct {
		word string
		n    int
		want []string
	}{
		{"widest", 0, []string{"w", "i", "d", "e", "s", "t", EndOfWord}},
		{"widest", 2, []string{"w", "i", "d", "est", EndOfWord}},
		{"widest", 3, []string{"w", "i", "d", "est" + EndOfWord}},
		{"newest", 3, []string{"n", "e", "w", "est" + EndOfWord}},
		{"newest", 8, []string{"newest" + EndOfWord}},
		{"lower", 5, []string{"low", "e", "r", EndOfWord}},
		{"low", 9, []string{"low" + EndOfWord}},
		// Never seen: the merges still apply.
		{"lowest", 5, []string{"low", "est" + EndOfWord}},
		{"slower", 9, []string{"s", "low", "e", "r", EndOfWord}},
		{"estes", 3, []string{"est", "es", EndOfWord}},
	}
	for _, s := range segs {
		if got := b.Segment(s.word, s.n); !slices.Equal(got, s.want) {
			t.Errorf("Segment(%q, %d) = %q, want %q", s.word, s.n, got, s.want)
		}
	}
	// l o w e r s t n i d and </w>: 11 symbols, then one per merge.
	for n := range 10 {
		if got := b.VocabSize(n); got != 11+n {
			t.Errorf("VocabSize(%d) = %d, want %d", n, got, 11+n)
		}
	}
}

func TestTrainBPETieBreak(t *testing.T) {
	cases := []struct {
		corpus string
		want   Merge
	}{
		// All pairs occur twice: the smallest Left wins.
		{"cd ab cd ab", Merge{"a", "b", 2}},
		// Same Left, so the smaller Right wins.
		{"ac ab ac ab", Merge{"a", "b", 2}},
		// A higher count beats any ordering. (z, z) ties with (z, </w>) at
		// 3, and "</w>" sorts first: '<' comes before every letter.
		{"zz zz zz ab ab", Merge{"z", EndOfWord, 3}},
		{"ab ab a a", Merge{"a", EndOfWord, 2}},
		// Go string order is code point order: "B" < "a".
		{"ab ab Bc Bc", Merge{"B", "c", 2}},
	}
	for _, c := range cases {
		got := TrainBPE(c.corpus, 1).Merges()
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("TrainBPE(%q, 1) = %v, want [%v]", c.corpus, got, c.want)
		}
	}
}

func TestBPEWords(t *testing.T) {
	cases := []struct {
		corpus string
		want   []string
	}{
		{"Hello, world!", []string{"Hello", "world"}},
		{"don't stop-2nd_place", []string{"don", "t", "stop", "2nd", "place"}},
		{"cafe\u0301 naïve 日本語 x²", []string{"cafe\u0301", "naïve", "日本語", "x²"}},
		{"emoji👍between", []string{"emoji", "between"}},
		{"bad\xffbyte\xe3", []string{"bad", "byte"}},
		{"  \n\t ", nil},
	}
	for _, c := range cases {
		if got := bpeWords(c.corpus); !slices.Equal(got, c.want) {
			t.Errorf("bpeWords(%q) = %q, want %q", c.corpus, got, c.want)
		}
	}
}

func TestTrainBPEKeepsCase(t *testing.T) {
	// Lower-cased, "the" would occur four times.
	got := TrainBPE("The the THE the", 3).Merges()
	want := []Merge{{"e", EndOfWord, 3}, {"h", "e" + EndOfWord, 3}, {"t", "he" + EndOfWord, 2}}
	if !slices.Equal(got, want) {
		t.Errorf("merges = %v, want %v", got, want)
	}
}

func TestTrainBPEPrefixIsShorterTraining(t *testing.T) {
	corpus := syntheticBPECorpus(20000)
	full := TrainBPE(corpus, 400)
	if full.Len() != 400 {
		t.Fatalf("Len() = %d, want 400 merges from a 20 KB corpus", full.Len())
	}
	for _, n := range []int{0, 1, 2, 7, 50, 199, 399} {
		short := TrainBPE(corpus, n)
		if !slices.Equal(short.Merges(), full.Merges()[:n]) {
			t.Errorf("TrainBPE(corpus, %d) is not the first %d merges of TrainBPE(corpus, 400)", n, n)
		}
		if short.VocabSize(n) != full.VocabSize(n) {
			t.Errorf("VocabSize(%d) = %d after %d merges, %d after 400", n, short.VocabSize(n), n, full.VocabSize(n))
		}
		for _, w := range []string{"tokenization", "the", "unbelievable"} {
			if !slices.Equal(short.Segment(w, n), full.Segment(w, n)) {
				t.Errorf("Segment(%q, %d) differs between trainings", w, n)
			}
		}
	}
}

func TestTrainBPEDeterministic(t *testing.T) {
	corpus := syntheticBPECorpus(5000)
	a, b := TrainBPE(corpus, 300), TrainBPE(corpus, 300)
	if !slices.Equal(a.Merges(), b.Merges()) {
		t.Fatal("two trainings on the same corpus differ")
	}
}

func TestTrainBPEMatchesNaive(t *testing.T) {
	corpora := []string{
		sennrichCorpus,
		syntheticBPECorpus(3000),
		"aaaa aaa aa a aaaaaaa abab ababab baba",
		"日本語 日本 本語 語日本 日日日",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 30 {
		// A three-letter alphabet forces long repeats, overlaps and ties.
		var sb strings.Builder
		for range 200 {
			if rng.IntN(5) == 0 {
				sb.WriteByte(' ')
			} else {
				sb.WriteByte("abc"[rng.IntN(3)])
			}
		}
		corpora = append(corpora, sb.String())
	}
	for _, corpus := range corpora {
		want, _ := naiveTrainBPE(corpus, 200)
		if got := TrainBPE(corpus, 200).Merges(); !slices.Equal(got, want) {
			t.Errorf("corpus %.40q:\n got %v\nwant %v", corpus, got, want)
		}
	}
}

func TestBPESegmentMatchesTraining(t *testing.T) {
	corpora := []string{sennrichCorpus, syntheticBPECorpus(4000), "aaaa aaa aa a aaaaaaa abab ababab baba abba"}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, corpus := range corpora {
		b := TrainBPE(corpus, 150)
		_, seen := naiveTrainBPE(corpus, 150)
		// Words of the corpus come out as training left them.
		for w, want := range seen {
			if got := b.Segment(w, b.Len()); !slices.Equal(got, want) {
				t.Errorf("Segment(%q, %d) = %q, training left %q", w, b.Len(), got, want)
			}
		}
		// Any word, seen or not, matches applying merges one after another.
		words := slices.Collect(func(yield func(string) bool) {
			for w := range seen {
				if !yield(w) {
					return
				}
			}
		})
		for range 200 {
			w := words[rng.IntN(len(words))]
			if rng.IntN(2) == 0 {
				w += words[rng.IntN(len(words))] // an unseen compound
			}
			n := rng.IntN(b.Len() + 1)
			if got, want := b.Segment(w, n), naiveSegment(b.Merges()[:n], w); !slices.Equal(got, want) {
				t.Errorf("Segment(%q, %d) = %q, want %q", w, n, got, want)
			}
		}
	}
}

func TestBPESegmentEdgeCases(t *testing.T) {
	b := TrainBPE(sennrichCorpus, 100)
	chars := []string{"w", "i", "d", "e", "s", "t", EndOfWord}
	for _, n := range []int{0, -1, -1 << 40} {
		if got := b.Segment("widest", n); !slices.Equal(got, chars) {
			t.Errorf("Segment(\"widest\", %d) = %q, want characters", n, got)
		}
	}
	if got, want := b.Segment("widest", 1<<40), b.Segment("widest", b.Len()); !slices.Equal(got, want) {
		t.Errorf("Segment with huge n = %q, want %q", got, want)
	}
	if got := b.Segment("", 5); got != nil {
		t.Errorf("Segment(\"\", 5) = %q, want nil", got)
	}
	for _, w := range []string{"zebra", "日本", "a b", "x\xffy", "es\xe3", strings.Repeat("est", 5000)} {
		got := b.Segment(w, b.Len())
		if strings.Join(got, "") != w+EndOfWord {
			t.Errorf("Segment(%.20q) = %.60q, does not join back to the word", w, got)
		}
	}
	var nilBPE *BPE
	if nilBPE.Len() != 0 || nilBPE.VocabSize(3) != 0 || nilBPE.Merges() != nil {
		t.Error("a nil BPE is not empty")
	}
	if got := nilBPE.Segment("ab", 3); !slices.Equal(got, []string{"a", "b", EndOfWord}) {
		t.Errorf("nil BPE Segment = %q", got)
	}
}

func TestTrainBPEEdgeCases(t *testing.T) {
	for _, corpus := range []string{"", "   ", "!?, ...", "\xff\xfe"} {
		b := TrainBPE(corpus, 100)
		if b.Len() != 0 || b.VocabSize(0) != 0 || len(b.Merges()) != 0 {
			t.Errorf("TrainBPE(%q) = %d merges, vocab %d; want nothing", corpus, b.Len(), b.VocabSize(0))
		}
		if got := b.Segment("ab", 10); !slices.Equal(got, []string{"a", "b", EndOfWord}) {
			t.Errorf("Segment after empty training = %q", got)
		}
	}
	// One word of each: no pair occurs twice, so nothing is learned.
	if b := TrainBPE("abc def", 100); b.Len() != 0 || b.VocabSize(0) != 7 {
		t.Errorf("TrainBPE of unique pairs: %d merges, vocab %d", b.Len(), b.VocabSize(0))
	}
	if b := TrainBPE(sennrichCorpus, -5); b.Len() != 0 || b.VocabSize(0) != 11 {
		t.Errorf("negative maxMerges: %d merges, vocab %d", b.Len(), b.VocabSize(0))
	}
	// A huge limit stops when pairs run out, at most at MaxBPEMerges.
	b := TrainBPE(syntheticBPECorpus(3000), 1<<40)
	if b.Len() == 0 || b.Len() > MaxBPEMerges {
		t.Fatalf("huge maxMerges gave %d merges", b.Len())
	}
	for _, m := range b.Merges() {
		if m.Count < 2 {
			t.Fatalf("merge %v occurs fewer than twice", m)
		}
	}
	// One 40,000-letter word: (a, b) ×20000, then (ab, ab) ×19999 counted
	// at every position, and so on, doubling until no pair repeats.
	long := TrainBPE(strings.Repeat("ab", 20000), 1<<40)
	if m := long.Merges(); len(m) < 2 || m[0] != (Merge{"a", "b", 20000}) || m[1] != (Merge{"ab", "ab", 19999}) {
		t.Errorf("one long word gave %v", m)
	}
	// Invalid UTF-8 separates words and never reaches a symbol.
	bad := TrainBPE("lo\xffw lo\xe3\x81w \xed\xa0\x80lo", 10)
	for _, m := range bad.Merges() {
		if !utf8.ValidString(m.Left) || !utf8.ValidString(m.Right) {
			t.Errorf("merge %v holds invalid UTF-8", m)
		}
	}
	// The words are lo ×3 and w ×2.
	if got, want := bad.Merges(), []Merge{{"l", "o", 3}, {"lo", EndOfWord, 3}, {"w", EndOfWord, 2}}; !slices.Equal(got, want) {
		t.Errorf("merges around invalid bytes = %v, want %v", got, want)
	}
}

func TestBPEMergesIsACopy(t *testing.T) {
	b := TrainBPE(sennrichCorpus, 5)
	m := b.Merges()
	m[0].Left = "scribbled"
	if b.Merges()[0].Left != "e" {
		t.Error("Merges exposes the model's own slice")
	}
}

func TestBPEVocabSizeClamps(t *testing.T) {
	b := TrainBPE(sennrichCorpus, 5)
	if b.VocabSize(-3) != b.VocabSize(0) || b.VocabSize(99) != b.VocabSize(5) {
		t.Errorf("VocabSize does not clamp: %d %d %d %d", b.VocabSize(-3), b.VocabSize(0), b.VocabSize(99), b.VocabSize(5))
	}
}

// naiveTrainBPE is TrainBPE's rule written as plainly as possible: recount
// every pair each step. It also returns each word's final symbols.
func naiveTrainBPE(corpus string, maxMerges int) ([]Merge, map[string][]string) {
	freq := map[string]int{}
	for _, w := range bpeWords(corpus) {
		freq[w]++
	}
	seqs := map[string][]string{}
	for w := range freq {
		seqs[w] = naiveSegment(nil, w)
	}
	var merges []Merge
	for len(merges) < maxMerges {
		counts := map[[2]string]int{}
		for w, s := range seqs {
			for k := 0; k+1 < len(s); k++ {
				counts[[2]string{s[k], s[k+1]}] += freq[w]
			}
		}
		var best Merge
		for p, c := range counts {
			if c > best.Count || c == best.Count && (p[0] < best.Left || p[0] == best.Left && p[1] < best.Right) {
				best = Merge{p[0], p[1], c}
			}
		}
		if best.Count < 2 {
			break
		}
		merges = append(merges, best)
		for w, s := range seqs {
			seqs[w] = applyBPEMerge(s, best)
		}
	}
	return merges, seqs
}

// naiveSegment applies merges to word one after another, each everywhere,
// left to right.
func naiveSegment(merges []Merge, word string) []string {
	var s []string
	for _, r := range word {
		s = append(s, string(r))
	}
	s = append(s, EndOfWord)
	for _, m := range merges {
		s = applyBPEMerge(s, m)
	}
	return s
}

func applyBPEMerge(s []string, m Merge) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && s[i] == m.Left && s[i+1] == m.Right {
			out = append(out, m.Left+m.Right)
			i++
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// syntheticBPECorpus returns about size bytes of English-like text: common
// words drawn with a skew towards the front of the list, as word frequencies
// are, from a fixed seed so every run trains on the same text.
func syntheticBPECorpus(size int) string {
	words := strings.Fields(`the of and to in is that it was for on are as with
		his they be at one have this from or had by word but what some we can out
		other were all there when up use your how said an each she which do their
		time if will way about many then them write would like so these her long
		make thing see him two has look more day could go come did number sound no
		most people my over know water than call first who may down side been now
		find any new work part take get place made live where after back little
		only round man year came show every good me give our under name very
		through just form sentence great think say help low line differ turn cause
		much mean before move right boy old too same tell does set three want air
		well also play small end put home read hand port large spell add even land
		here must big high such follow act why ask men change went light kind off
		need house picture try us again animal point mother world near build self
		earth father head stand own page should country found answer school grow
		study still learn plant cover food sun four between state keep eye never
		last let thought city tree cross farm hard start might story saw far sea
		draw left late run while press close night real life few north token
		tokenization tokenizer unbelievable believe lower lowest newest widest`)
	rng := rand.New(rand.NewPCG(7, 8))
	var sb strings.Builder
	for sb.Len() < size {
		u := rng.Float64()
		sb.WriteString(words[int(u*u*u*float64(len(words)))])
		switch rng.IntN(12) {
		case 0:
			sb.WriteString(". ")
		case 1:
			sb.WriteString(", ")
		default:
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// BenchmarkTrainBPE trains 400 merges on 20 KB: English-like text, the
// interactive case; one unbroken word, where every merge revisits the whole
// corpus; and random CJK, where pairs are many and rarely repeat.
func BenchmarkTrainBPE(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	var cjk strings.Builder
	for cjk.Len() < 20000 {
		cjk.WriteRune(rune(0x4e00 + rng.IntN(300)))
		if rng.IntN(6) == 0 {
			cjk.WriteByte(' ')
		}
	}
	for _, c := range []struct{ name, corpus string }{
		{"english", syntheticBPECorpus(20000)},
		{"one-word", strings.Repeat("abcab", 4000)},
		{"cjk", cjk.String()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.corpus)))
			for b.Loop() {
				TrainBPE(c.corpus, 400)
			}
		})
	}
}

func BenchmarkSegment(b *testing.B) {
	bpe := TrainBPE(syntheticBPECorpus(20000), 400)
	for b.Loop() {
		bpe.Segment("tokenization", bpe.Len())
	}
}

func FuzzTrainBPE(f *testing.F) {
	for _, s := range []string{"", sennrichCorpus, "aaaa aaa aa", "日本 日本語", "lo\xffw lo\x00w", "é e\u0301 é"} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, corpus string, n int) {
		if len(corpus) > 2000 {
			return // keep the naive reference quick
		}
		b := TrainBPE(corpus, n)
		want, _ := naiveTrainBPE(corpus, min(max(n, 0), 60))
		if got := b.Merges(); !slices.Equal(got[:min(len(got), 60)], want) {
			t.Fatalf("TrainBPE(%q, %d) = %v, naive gives %v", corpus, n, got, want)
		}
		for _, w := range append(bpeWords(corpus), corpus) {
			if got := b.Segment(w, n); w != "" && strings.Join(got, "") != w+EndOfWord {
				t.Fatalf("Segment(%q, %d) = %q", w, n, got)
			}
		}
	})
}

// The trainer is character-level, as in Sennrich et al. (2016), and the
// real tokenizers are byte-level (GPT-2's byte-level BPE, kept by
// cl100k_base and o200k_base): the chapter says which is which, and this
// pins the difference. A two-byte "é" is one starting symbol here, and an
// emoji is not a symbol at all (it separates words); o200k_base has a token
// for each of the 256 byte values (IDs 0–255 in tiktoken's rank file), so
// any text, emoji included, can be spelled.
func TestBPEIsCharacterLevelNotByteLevel(t *testing.T) {
	b := TrainBPE("é é é", 1)
	if got := b.Segment("é", 0); !slices.Equal(got, []string{"é", EndOfWord}) {
		t.Errorf("é starts as %q, want one character and the end mark", got)
	}
	if got := b.VocabSize(0); got != 2 {
		t.Errorf("vocabulary before merges %d, want 2 (é and </w>), not its 2 bytes", got)
	}
	if got := bpeWords("a🍓b"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("the trainer keeps %q of a🍓b; an emoji should separate words", got)
	}
	tk, err := NewTokenizer(O200kBase)
	if err != nil {
		t.Fatal(err)
	}
	var spelled []byte
	for _, tok := range tk.Encode("🍓") {
		spelled = append(spelled, tok.Bytes...)
	}
	if string(spelled) != "🍓" {
		t.Errorf("o200k_base spells 🍓 as %q", spelled)
	}
	for _, b := range []byte{0x00, 0x41, 0xf0, 0xff} {
		if toks := tk.Encode(string([]byte{b})); len(toks) != 1 || len(toks[0].Bytes) != 1 || toks[0].Bytes[0] != b {
			t.Errorf("byte %#02x is not one single-byte token: %v", b, toks)
		}
	}
}
