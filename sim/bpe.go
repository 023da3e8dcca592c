package sim

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// EndOfWord is the symbol the BPE trainer appends to every word. It lets
// merges tell a word's ending from its middle, so the trainer can learn
// "est</w>" as a suffix separately from "est" inside "estimate". The notation
// is the one in Sennrich et al. (2016), which introduced BPE for subwords.
const EndOfWord = "</w>"

// MaxBPEMerges caps TrainBPE's maxMerges, keeping training on a pasted corpus
// interactive.
const MaxBPEMerges = 10000

// Merge is one learned rule: the adjacent pair (Left, Right) became
// Left+Right.
type Merge struct {
	Left, Right string
	// Count is how often the pair occurred in the corpus when it was chosen,
	// counting every adjacent position (so "aaa" holds the pair (a, a)
	// twice), weighted by word frequency.
	Count int
}

// BPE is a trained byte-pair-encoding model: an ordered list of merges.
// Screens slide n from 0 to Len() to show the vocabulary growing, so every
// method takes n and a BPE is never changed after training, which also makes
// it safe for concurrent use.
type BPE struct {
	merges []Merge
	// rank maps a pair to its position in merges; Segment applies the pair
	// with the lowest rank first.
	rank map[[2]string]int
	// vocab[n] is the number of distinct symbols after n merges.
	vocab []int
}

// TrainBPE learns up to maxMerges merges from corpus, the way Sennrich et al.
// (2016) describe, on characters rather than bytes so every symbol a learner
// sees is readable.
//
// Pre-tokenisation: a word is a maximal run of letters, combining marks and
// digits (Unicode categories L, M and N). Everything else, including spaces,
// punctuation, apostrophes, emoji and invalid UTF-8, separates words and is
// dropped, so "don't" is the two words "don" and "t". Case is kept, as GPT
// tokenizers keep it, so "The" and "the" are different words. Each word
// starts as its characters (Unicode code points) followed by the separate
// symbol EndOfWord: "low" is l, o, w, </w>.
//
// Each step merges the pair of adjacent symbols with the highest Count,
// everywhere it occurs, scanning each word left to right. Ties go to the
// pair whose Left is smaller in Go string order (code point order), then the
// one whose Right is smaller, so training is reproducible. EndOfWord starts
// with '<', so it sorts after digits and before letters. Training stops
// early when no pair occurs at least twice, since a merge used once teaches
// nothing about reuse.
//
// maxMerges is clamped to [0, MaxBPEMerges]. Training to n merges gives the
// first n merges of any longer training on the same corpus.
func TrainBPE(corpus string, maxMerges int) *BPE {
	maxMerges = min(max(maxMerges, 0), MaxBPEMerges)
	t := newBPETrainer(corpus)
	b := &BPE{rank: make(map[[2]string]int), vocab: []int{len(t.syms)}}
	for range maxMerges {
		best := t.best()
		if best < 0 || t.pairs[best].count < 2 {
			break
		}
		p := t.pairs[best]
		left, right := t.syms[p.a], t.syms[p.b]
		b.merges = append(b.merges, Merge{Left: left, Right: right, Count: p.count})
		if _, dup := b.rank[[2]string{left, right}]; !dup {
			b.rank[[2]string{left, right}] = len(b.merges) - 1
		}
		before := len(t.syms)
		t.merge(best)
		b.vocab = append(b.vocab, b.vocab[len(b.vocab)-1]+len(t.syms)-before)
	}
	return b
}

// Merges returns a copy of the learned merges in the order they were learned.
func (b *BPE) Merges() []Merge {
	if b == nil {
		return nil
	}
	return append([]Merge(nil), b.merges...)
}

// Len is the number of learned merges.
func (b *BPE) Len() int {
	if b == nil {
		return 0
	}
	return len(b.merges)
}

// VocabSize returns the number of distinct symbols after n merges: the base
// alphabet (every character of the corpus's words, plus EndOfWord) plus one
// per merge, counted as distinct strings in case two merges ever spell the
// same symbol. n is clamped to [0, Len()]. An empty corpus has no symbols.
func (b *BPE) VocabSize(n int) int {
	if b == nil || len(b.vocab) == 0 {
		return 0
	}
	return b.vocab[min(max(n, 0), len(b.vocab)-1)]
}

// Segment splits word into symbols using only the first n merges (n clamped
// to [0, Len()]), as a BPE tokenizer would: it starts from the word's
// characters plus EndOfWord and repeatedly applies the earliest-learned merge
// present, leftmost first. That gives the same pieces training did for words
// of the corpus, and works for words it never saw.
//
// word is taken whole, without pre-tokenisation; bytes that are not valid
// UTF-8 stay single-byte symbols that no merge touches. The pieces joined
// together always equal word+EndOfWord. An empty word gives nil.
func (b *BPE) Segment(word string, n int) []string {
	if word == "" {
		return nil
	}
	n = min(max(n, 0), b.Len())
	s := word + EndOfWord
	type node struct{ start, end, prev, next int }
	nodes := make([]node, 0, len(word)+1)
	for i := 0; i < len(word); {
		_, size := utf8.DecodeRuneInString(word[i:])
		nodes = append(nodes, node{start: i, end: i + size, prev: len(nodes) - 1, next: len(nodes) + 1})
		i += size
	}
	nodes = append(nodes, node{start: len(word), end: len(s), prev: len(nodes) - 1, next: -1})

	// rankAt is the rank of the pair starting at node i, or -1 when it is not
	// among the first n merges.
	rankAt := func(i int) int {
		j := nodes[i].next
		if j < 0 {
			return -1
		}
		r, ok := b.rank[[2]string{s[nodes[i].start:nodes[i].end], s[nodes[j].start:nodes[j].end]}]
		if !ok || r >= n {
			return -1
		}
		return r
	}

	// A heap keeps long inputs at O(k log k); stale entries are skipped when
	// popped rather than removed when they go stale.
	var h mergeHeap
	if n > 0 {
		for i := range nodes {
			if r := rankAt(i); r >= 0 {
				h = append(h, mergeCandidate{rank: r, pos: i})
			}
		}
		h.init()
	}
	for len(h) > 0 {
		c := h.pop()
		i := c.pos
		if nodes[i].start < 0 || rankAt(i) != c.rank {
			continue
		}
		j := nodes[i].next
		nodes[i].end = nodes[j].end
		nodes[i].next = nodes[j].next
		if k := nodes[j].next; k >= 0 {
			nodes[k].prev = i
		}
		nodes[j].start = -1
		if r := rankAt(i); r >= 0 {
			h.push(mergeCandidate{rank: r, pos: i})
		}
		if p := nodes[i].prev; p >= 0 {
			if r := rankAt(p); r >= 0 {
				h.push(mergeCandidate{rank: r, pos: p})
			}
		}
	}

	var out []string
	for i := 0; i >= 0; i = nodes[i].next {
		out = append(out, s[nodes[i].start:nodes[i].end])
	}
	return out
}

// mergeCandidate is a possible merge, in Segment or Tokenizer.Encode: the
// pair starting at node pos.
type mergeCandidate struct{ rank, pos int }

// mergeHeap is a min-heap ordered by rank, then position, so equal ranks
// merge leftmost first as training does.
type mergeHeap []mergeCandidate

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].pos < h[b].pos
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(c mergeCandidate) {
	*h = append(*h, c)
	h.up(len(*h) - 1)
}

func (h *mergeHeap) pop() mergeCandidate {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// bpeWords splits corpus into words as TrainBPE documents: maximal runs of
// letters, marks and digits.
func bpeWords(corpus string) []string {
	var words []string
	start := -1
	for i := 0; i < len(corpus); {
		r, size := utf8.DecodeRuneInString(corpus[i:])
		inWord := (r != utf8.RuneError || size > 1) &&
			(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r))
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			words = append(words, corpus[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		words = append(words, corpus[start:])
	}
	return words
}

// bpeTrainer holds the incremental state of TrainBPE. Recounting every pair
// after each merge costs O(corpus) per merge; instead each pair remembers
// which words contain it, and a merge only revisits those words.
type bpeTrainer struct {
	syms  []string         // symbol ID → text
	symID map[string]int32 // text → symbol ID
	words []bpeTrainWord
	pairs []bpePair        // live pairs, scanned for the maximum
	index map[uint64]int32 // pair key → position in pairs
	// stamp de-duplicates a pair's word list during one merge.
	stamp []int
	step  int
}

type bpeTrainWord struct {
	syms []int32
	freq int
}

type bpePair struct {
	a, b  int32
	count int
	// words lists the words that contain the pair, possibly with repeats and
	// with words that no longer contain it; merge tolerates both.
	words []int32
}

func bpePairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPETrainer(corpus string) *bpeTrainer {
	freq := make(map[string]int)
	for _, w := range bpeWords(corpus) {
		freq[w]++
	}
	// Sorting fixes symbol and word IDs, so the work done (and thus the
	// timing) does not depend on map order; the result never would.
	uniq := make([]string, 0, len(freq))
	for w := range freq {
		uniq = append(uniq, w)
	}
	sort.Strings(uniq)

	t := &bpeTrainer{
		symID: make(map[string]int32),
		index: make(map[uint64]int32),
		words: make([]bpeTrainWord, len(uniq)),
		stamp: make([]int, len(uniq)),
	}
	var end int32
	if len(uniq) > 0 {
		end = t.intern(EndOfWord)
	}
	for wi, w := range uniq {
		syms := make([]int32, 0, utf8.RuneCountInString(w)+1)
		for _, r := range w {
			syms = append(syms, t.intern(string(r)))
		}
		syms = append(syms, end)
		t.words[wi] = bpeTrainWord{syms: syms, freq: freq[w]}
		for k := 0; k+1 < len(syms); k++ {
			t.add(syms[k], syms[k+1], freq[w], int32(wi))
		}
	}
	return t
}

func (t *bpeTrainer) intern(s string) int32 {
	if id, ok := t.symID[s]; ok {
		return id
	}
	id := int32(len(t.syms))
	t.syms = append(t.syms, s)
	t.symID[s] = id
	return id
}

// add counts n more occurrences of the pair (a, b) in word w.
func (t *bpeTrainer) add(a, b int32, n int, w int32) {
	key := bpePairKey(a, b)
	i, ok := t.index[key]
	if !ok {
		i = int32(len(t.pairs))
		t.index[key] = i
		t.pairs = append(t.pairs, bpePair{a: a, b: b})
	}
	p := &t.pairs[i]
	p.count += n
	if len(p.words) == 0 || p.words[len(p.words)-1] != w {
		p.words = append(p.words, w)
	}
}

// sub removes n occurrences of the pair (a, b), forgetting the pair when none
// are left so best scans only live pairs.
func (t *bpeTrainer) sub(a, b int32, n int) {
	key := bpePairKey(a, b)
	i, ok := t.index[key]
	if !ok {
		return
	}
	t.pairs[i].count -= n
	if t.pairs[i].count > 0 {
		return
	}
	last := int32(len(t.pairs) - 1)
	if i != last {
		t.pairs[i] = t.pairs[last]
		t.index[bpePairKey(t.pairs[i].a, t.pairs[i].b)] = i
	}
	t.pairs[last] = bpePair{}
	t.pairs = t.pairs[:last]
	delete(t.index, key)
}

// best returns the position in pairs of the pair to merge next, or -1.
func (t *bpeTrainer) best() int {
	best := -1
	for i := range t.pairs {
		if best < 0 || t.better(&t.pairs[i], &t.pairs[best]) {
			best = i
		}
	}
	return best
}

// better reports whether p beats q under TrainBPE's tie rule.
func (t *bpeTrainer) better(p, q *bpePair) bool {
	if p.count != q.count {
		return p.count > q.count
	}
	if p.a != q.a {
		return t.syms[p.a] < t.syms[q.a]
	}
	return t.syms[p.b] < t.syms[q.b]
}

// merge replaces every occurrence of the pair at position bi of pairs with a
// new symbol, updating the counts of only the pairs around each occurrence.
func (t *bpeTrainer) merge(bi int) {
	t.step++
	a, b := t.pairs[bi].a, t.pairs[bi].b
	c := t.intern(t.syms[a] + t.syms[b])
	words := t.pairs[bi].words
	var merged []bool
	for _, w := range words {
		if t.stamp[w] == t.step {
			continue
		}
		t.stamp[w] = t.step
		old := t.words[w].syms
		freq := t.words[w].freq

		// Merge left to right into a new slice, remembering which output
		// symbols are new: only pairs touching them change.
		out := make([]int32, 0, len(old))
		merged = merged[:0]
		hit := false
		for i := 0; i < len(old); i++ {
			if i+1 < len(old) && old[i] == a && old[i+1] == b {
				out = append(out, c)
				merged = append(merged, true)
				hit = true
				i++
				continue
			}
			out = append(out, old[i])
			merged = append(merged, false)
		}
		if !hit {
			continue // a stale entry in the pair's word list
		}

		// Count the new pairs before removing the old ones, so a pair that
		// survives the merge never drops to zero and loses its word list.
		for j := 0; j+1 < len(out); j++ {
			if merged[j] || merged[j+1] {
				t.add(out[j], out[j+1], freq, w)
			}
		}
		// An old pair is gone when either of its symbols was merged. The same
		// left-to-right scan finds the same occurrences as above.
		prev := -2 // start of the previous occurrence
		for i := 0; i+1 < len(old); {
			if old[i] != a || old[i+1] != b {
				i++
				continue
			}
			if i > 0 && prev != i-2 {
				t.sub(old[i-1], a, freq) // already gone if it was the last right neighbour
			}
			t.sub(a, b, freq)
			if i+2 < len(old) {
				t.sub(b, old[i+2], freq)
			}
			prev = i
			i += 2
		}
		t.words[w].syms = out
	}
}
