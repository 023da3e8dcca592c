package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// feedBoth writes chunks to a model and to x/vt and fails at the first
// chunk after which their screens differ.
func feedBoth(t *testing.T, w, h int, chunks [][]byte) {
	t.Helper()
	s := newScreen(w, h)
	c := newCrossCheck(w, h)
	defer c.close()
	var sent []byte
	for i, ch := range chunks {
		s.Write(ch)
		c.Write(ch)
		sent = append(sent, ch...)
		c.compare(s.Text(), func() string { return fmt.Sprintf("after chunk %d", i) })
		if c.mismatches > 0 {
			t.Fatalf("%dx%d: %s\nbytes so far: %q\nmodel:\n%s\nx/vt:\n%s", w, h, c.first, sent, s.Text(), vtText(c.emu))
		}
	}
}

func TestScreenMatchesVT(t *testing.T) {
	cases := []struct{ name, stream string }{
		{"text and wrap", "hello\r\nworld" + strings.Repeat("x", 100) + "\r\nnext"},
		{"last column without autowrap", "\x1b[?7l" + strings.Repeat("ab", 50) + "\x1b[?7h\r\nz"},
		{"lower right corner", "\x1b[24;80Hq\x1b[?7ld\x1b[?7h"},
		{"pending wrap then CR", strings.Repeat("y", 80) + "\rZ"},
		{"pending wrap then text", strings.Repeat("y", 80) + "Z"},
		{"cursor moves", "\x1b[5;10Hmid\x1b[2Aup\x1b[3Bdown\x1b[4Cright\x1b[6Dleft\x1b[Enext\x1b[Fprev\x1b[20Gcol\x1b[9dvpa\x1b[30`hpa\x1b[2aR\x1b[2eV\x1b[3;4fhvp"},
		{"cursor clamps", "\x1b[99;999Hc\x1b[0;0Ho\x1b[99Au\x1b[99Dl\x1b[99Bd\x1b[99Cr"},
		{"backspace and tab", "abc\b\bX\tT\t\tU\x1b[2IV\x1b[3ZW\x1b[HH\x1b[3g\tno stops\x1b[?5W\tstop"},
		{"tab stops set and cleared", "\x1b[5G\x1bH\x1b[G\tA\x1b[0g\x1b[G\tB\x1b[3g\x1b[G\tC"},
		{"erase in line", "0123456789\x1b[5G\x1b[K\r\n0123456789\x1b[5G\x1b[1K\r\n0123456789\x1b[5G\x1b[2K\r\nabcdefghij\x1b[3G\x1b[4X"},
		{"erase in display", "line1\r\nline2\r\nline3\x1b[2;3H\x1b[J\x1b[1;1Hz\x1b[3;1Hbottom\x1b[2;2H\x1b[1J"},
		{"erase all", "junk\r\nmore\x1b[2Jafter\x1b[3J"},
		{"ECH and REP", "abc\x1b[5bdef\x1b[10X\x1b[20C=\x1b[3b"},
		{"REP after wide", "a你\x1b[3b"},
		{"insert and delete chars", "abcdefghij\x1b[3G\x1b[2@XY\x1b[8G\x1b[3P\x1b[1G\x1b[100P\r\n0123456789\x1b[5G\x1b[100@"},
		{"insert and delete lines", "1\r\n2\r\n3\r\n4\r\n5\r\n6\x1b[2;1H\x1b[2L\x1b[4;1H\x1b[1M"},
		{"scroll region SU SD", "a\r\nb\r\nc\r\nd\r\ne\r\nf\x1b[2;5r\x1b[5;1H\x1b[2S\x1b[1T\x1b[r\x1b[24;1Hlast"},
		{"scroll region LF at bottom", "\x1b[3;6r\x1b[6;1Hx\ny\nz\n\x1b[1;1Htop\x1b[r"},
		{"IND RI", "\x1b[2;4r\x1b[2;1Htop\x1bMrev\x1b[4;1Hbot\x1bDind\x1b[1;1H\x1bMabove\x1b[r"},
		{"IL DL inside a region", "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\x1b[3;6r\x1b[4;2H\x1b[2LX\x1b[5;1H\x1b[1MY\x1b[r"},
		{"renderer hard scroll", "\x1b[H" + strings.Repeat("row\r\n", 23) + "end\x1b[19;23r\x1b[23;1H\x1b[3S\x1b[1;24r\x1b[19;1Hnew"},
		{"wide characters", "你好世界 🙂 ✋ ok\r\n" + strings.Repeat("宽", 45)},
		{"wide at the last column", "\x1b[1;80H你\x1b[2;79H好x\x1b[3;78H界yz"},
		{"overwrite half a wide char", "你好世界\x1b[1;2Hx\x1b[1;5Hy\r\n你好\x1b[2;1H\x1b[1K"},
		{"erase through a wide char", "你好世界\x1b[1;4H\x1b[2X\r\n你好世界\x1b[2;3H\x1b[K"},
		{"insert and delete around wide", "a你b好c\x1b[1;2H\x1b[1P\r\na你b好c\x1b[2;3H\x1b[1@\r\n你好\x1b[3;1H\x1b[2P"},
		{"wide overwrites wide", "ab你好\x1b[1;2H世"},
		{"emoji sequences", "👍🏽 👨‍👩‍👧 🇫🇷 ❤️ x"},
		{"combining marks", "e\u0301 cafe\u0301 \u0301alone n\u0303\u0323"},
		{"box drawing and symbols", "── ━━━●─── ▸ ‹ › · ★ ⠤⠒⠋ ◆ │"},
		{"SGR OSC DCS APC ignored", "\x1b[1;38;5;212mbold\x1b[m\x1b]2;title\x07t\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x1bP1$r0m\x1b\\\x1b_apc\x1b\\end"},
		{"private modes of Bubble Tea", "\x1b[?2026$p\x1b[?2027$p\x1b[>4m\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b]2;Expedition\x07\x1b[>4;2m\x1b[>1u\x1b[?u\x1b[H\x1b[2Jhi\x1b[<u\x1b[?2026h\x1b[2;3Hframe\x1b[K\x1b[?2026l"},
		{"alt screen round trip", "main text\x1b[?1049halt text\x1b[?1049lback\x1b[?1049hagain"},
		{"alt screen 1047 and 1048", "m\x1b[5;5H\x1b[?1048h\x1b[?1047hA\x1b[?1047l\x1b[?1048lB"},
		{"save and restore cursor", "\x1b[3;3Hab\x1b7\x1b[10;10Hcd\x1b8ef\x1b[s\x1b[1;1Hgh\x1b[5;5H\x1b8ij"},
		{"full reset", "junk\x1b[?1049hmore\x1b[5;10r\x1bcclean"},
		{"LNM", "\x1b[20ha\nb\x1b[20lc\nd"},
		{"C1 controls", "a\u0084b\u008dc\u0088\td\x84e\x8df\x88\tg"},
		{"control chars ignored", "a\x00b\x07c\x0ed\x0fe"},
		{"invalid utf8", "a\xffb\xc3(c\xe2\x82"},
		{"long line through many wraps", strings.Repeat("wrap me ", 300)},
		{"scroll whole screen by LF", strings.Repeat("line\n", 40) + "end"},
	}
	for _, size := range [][2]int{{80, 24}, {100, 30}} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s %dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				feedBoth(t, size[0], size[1], [][]byte{[]byte(tc.stream)})
				// The same bytes a byte at a time: sequences and runes split
				// across reads.
				var bytewise [][]byte
				for i := range len(tc.stream) {
					bytewise = append(bytewise, []byte{tc.stream[i]})
				}
				feedBoth(t, size[0], size[1], bytewise)
			})
		}
	}
}

// TestScreenRandomStreams feeds the model and x/vt random mixes of every
// operation a Bubble Tea renderer emits, cut into random reads, and compares
// the screens after each read.
func TestScreenRandomStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := 300
	if testing.Short() {
		runs = 50
	}
	for run := range runs {
		w, h := 20+rng.IntN(60), 5+rng.IntN(20)
		stream := randomStream(rng, w, h, 200)
		var chunks [][]byte
		for len(stream) > 0 {
			n := min(len(stream), 1+rng.IntN(40))
			chunks = append(chunks, stream[:n])
			stream = stream[n:]
		}
		t.Run(fmt.Sprint(run), func(t *testing.T) { feedBoth(t, w, h, chunks) })
	}
}

// randomStream is ops random operations for a w×h screen.
func randomStream(rng *rand.Rand, w, h, ops int) []byte {
	texts := []string{"a", "hello", " ", "  ", "你", "好世", "🙂", "✋", "👍🏽", "👨‍👩‍👧", "🇫🇷", "e\u0301", "\u0301",
		"─━●", "▸ Params N", "‹ custom ›", "·", "⠤⠒", "x\u200dy", "é", "ß", "ｗｉｄｅ"}
	n := func(limit int) int { return rng.IntN(limit + 1) }
	var b strings.Builder
	for range ops {
		switch rng.IntN(34) {
		case 0, 1, 2, 3, 4, 5:
			b.WriteString(texts[rng.IntN(len(texts))])
		case 6:
			fmt.Fprintf(&b, "\x1b[%d;%dH", n(h+2), n(w+2))
		case 7:
			fmt.Fprintf(&b, "\x1b[%d%c", n(h), "ABCDEF"[rng.IntN(6)])
		case 8:
			fmt.Fprintf(&b, "\x1b[%d%c", n(w+2), "G`ad"[rng.IntN(4)])
		case 9:
			b.WriteString([]string{"\r", "\n", "\b", "\t", "\r\n"}[rng.IntN(5)])
		case 10:
			fmt.Fprintf(&b, "\x1b[%dK", n(2))
		case 11:
			fmt.Fprintf(&b, "\x1b[%dJ", n(2))
		case 12:
			fmt.Fprintf(&b, "\x1b[%dX", n(w))
		case 13:
			fmt.Fprintf(&b, "\x1b[%db", n(w))
		case 14:
			fmt.Fprintf(&b, "\x1b[%d@", n(w/2))
		case 15:
			fmt.Fprintf(&b, "\x1b[%dP", n(w/2))
		case 16:
			fmt.Fprintf(&b, "\x1b[%dL", n(h/2))
		case 17:
			fmt.Fprintf(&b, "\x1b[%dM", n(h/2))
		case 18:
			top := 1 + rng.IntN(h)
			fmt.Fprintf(&b, "\x1b[%d;%dr", top, top+rng.IntN(h-top+1))
		case 19:
			b.WriteString("\x1b[r")
		case 20:
			fmt.Fprintf(&b, "\x1b[%d%c", n(3), "ST"[rng.IntN(2)])
		case 21:
			b.WriteString([]string{"\x1bD", "\x1bM", "\x1b7", "\x1b8", "\x1b[s", "\x1bH"}[rng.IntN(6)])
		case 22:
			fmt.Fprintf(&b, "\x1b[%d;38;5;%dm", n(9), n(255))
		case 23:
			b.WriteString([]string{"\x1b]2;title\x07", "\x1b]8;;https://example.org\x1b\\", "\x1b]8;;\x1b\\", "\x1bP+q544e\x1b\\", "\x1b_x\x1b\\"}[rng.IntN(5)])
		case 24:
			b.WriteString([]string{"\x1b[?7l", "\x1b[?7h"}[rng.IntN(2)])
		case 25:
			b.WriteString([]string{"\x1b[?1049h", "\x1b[?1049l", "\x1b[?1047h", "\x1b[?1047l", "\x1b[?1048h", "\x1b[?1048l"}[rng.IntN(6)])
		case 26:
			b.WriteString([]string{"\x1b[?2026h", "\x1b[?2026l", "\x1b[?25l", "\x1b[?2004h", "\x1b[>4;2m", "\x1b[>1u", "\x1b[<u", "\x1b[?u"}[rng.IntN(8)])
		case 27:
			fmt.Fprintf(&b, "\x1b[%d%c", n(4), "IZ"[rng.IntN(2)])
		case 28:
			fmt.Fprintf(&b, "\x1b[%dg", 3*rng.IntN(2))
		case 29:
			b.WriteString(strings.Repeat("z", n(2*w)))
		case 30:
			fmt.Fprintf(&b, "\x1b[%dE", n(3))
		case 31:
			b.WriteString("\x1b[?5W")
		case 32:
			if rng.IntN(10) == 0 {
				b.WriteString("\x1bc")
			}
		case 33:
			fmt.Fprintf(&b, "\x1b[%d;%df", n(h+2), n(w+2))
		}
	}
	return []byte(b.String())
}

// TestScreenRecordedStreams replays what the server sent students of each
// size (recorded from the server's frame encoder: the name prompt, joining,
// chapter 4 and slider steps) in reads of random length. With -record it
// records them from the real server first.
func TestScreenRecordedStreams(t *testing.T) {
	if *record {
		recordStreams(t)
	}
	files, err := filepath.Glob("testdata/*.stream")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded streams in testdata: %v", err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, f := range files {
		var w, h int
		if _, err := fmt.Sscanf(filepath.Base(f), "student-%dx%d.stream", &w, &h); err != nil {
			t.Fatalf("%s: name is not student-WxH.stream", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			for range 5 {
				var chunks [][]byte
				rest := data
				for len(rest) > 0 {
					n := min(len(rest), 1+rng.IntN(2000))
					chunks = append(chunks, rest[:n])
					rest = rest[n:]
				}
				feedBoth(t, w, h, chunks)
			}
		})
	}
}

// TestScreenBeyondVT covers what x/vt does not model, against what xterm
// shows.
func TestScreenBeyondVT(t *testing.T) {
	cases := []struct{ name, stream, want string }{
		{"NEL", "ab\x1bEcd\x85ef", "ab\ncd\nef"},
		{"IRM", "abcdef\x1b[3G\x1b[4hXY\x1b[4lZ", "abXYZdef"},
	}
	for _, tc := range cases {
		s := newScreen(20, 5)
		s.Write([]byte(tc.stream))
		if got := s.Text(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestScreenAnswersQueries(t *testing.T) {
	s := newScreen(80, 24)
	s.Write([]byte("\x1b[?2026$p\x1b[?2027$p\x1b[5;7H\x1b[6n\x1b[?2026h\x1b[?2026$p\x1b[?2026l"))
	want := "\x1b[?2026;2$y\x1b[?2027;0$y\x1b[5;7R\x1b[?2026;1$y"
	if got := string(s.takeReplies()); got != want {
		t.Errorf("replies %q, want %q", got, want)
	}
	if s.frames != 1 || s.sync {
		t.Errorf("frames %d, sync %v; want 1 frame, ended", s.frames, s.sync)
	}
}

func FuzzScreenMatchesVT(f *testing.F) {
	stbm := regexp.MustCompile(`\x1b\[[<=>?]?([0-9]*)(?:[;:]([0-9]*))?[;:0-9]*r`)
	f.Add([]byte("a你\x1b[1;2Hx\x1b[2;5r\x1b[3S\x1b[3b"), uint8(7))
	f.Add([]byte("e\u0301\x1b[?1049h🙂\x1b[1@\x1b[2P\x1b[K"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		if len(data) > 4096 {
			return
		}
		// Origin mode, left/right margins and a region past the bottom are
		// not modelled (no renderer emits them).
		for _, seq := range []string{"?6h", "?69h", "?6;", "?69;", "\x1bE", "\x85", "4h", "4;"} {
			if strings.Contains(string(data), seq) {
				return
			}
		}
		// x/vt keeps a scroll region reaching past the bottom, after which
		// its cursor can leave the screen; xterm, and the model, clamp it.
		for _, m := range stbm.FindAllSubmatch(data, -1) {
			if n, _ := strconv.Atoi(string(m[1])); n > 8 {
				return
			}
			if n, _ := strconv.Atoi(string(m[2])); n > 8 {
				return
			}
		}
		var chunks [][]byte
		step := int(cut)%64 + 1
		for len(data) > 0 {
			n := min(len(data), step)
			chunks = append(chunks, data[:n])
			data = data[n:]
		}
		feedBoth(t, 30, 8, chunks)
	})
}
