package sim

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// visibleTokenProblem reports why s is unsafe to put in a terminal cell, or "".
func visibleTokenProblem(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r < 0x20, r == 0x7f:
			return "a C0 control or DEL"
		case r >= 0x80 && r <= 0x9f:
			return "a C1 control"
		case r == utf8.RuneError:
			return "U+FFFD"
		}
	}
	return ""
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"",
		"hello world",
		"Hello, world!",
		"👍👨‍👩‍👧‍👦🇯🇵👍🏽",
		"お誕生日おめでとう",
		" Ġ除",
		"\xff\xfe\x80",
		"\xe3\x81",
		"a\xed\xa0\x80b",
		"\x00\x00nul\x00",
		"\x1b[31mred\x1b[0m\x07\x08",
		"\u0085\u009b\u200d\u202e\ufeff\ufffd",
		"\r\n\r\n\t \n \n",
		"today\n \n",
		"<|endoftext|><|fim_prefix|>",
		"func main() {\n\tfmt.Println(\"hi\")\n}\n",
		strings.Repeat(" ", 200),
		strings.Repeat("a", 300),
	} {
		f.Add(s)
	}
	var toks []*Tokenizer
	for _, enc := range Encodings() {
		toks = append(toks, testTokenizer(f, enc))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range toks {
			checkEncode(t, tk, s)
			for _, tok := range tk.Encode(s) {
				checkTokenDisplay(t, tok)
			}
		}
		// Visible must be safe for any bytes, not just tokens Encode made.
		checkTokenDisplay(t, Token{Bytes: s})
	})
}

func checkTokenDisplay(t *testing.T, tok Token) {
	t.Helper()
	d := tok.Display()
	if !utf8.ValidString(d) {
		t.Fatalf("Display(%q) = %q is not valid UTF-8", tok.Bytes, d)
	}
	if !tok.Partial() && d != tok.Bytes {
		t.Fatalf("Display(%q) = %q, want the text unchanged", tok.Bytes, d)
	}
	if tok.Partial() && (!strings.HasPrefix(d, "<") || !strings.HasSuffix(d, ">") || len(d) != 3*len(tok.Bytes)+1) {
		t.Fatalf("Display(%q) = %q, want hex bytes", tok.Bytes, d)
	}
	for _, showSpace := range []bool{false, true} {
		v := tok.Visible(showSpace)
		if p := visibleTokenProblem(v); p != "" {
			t.Fatalf("Visible(%q, %v) = %q contains %s", tok.Bytes, showSpace, v, p)
		}
		if showSpace && !tok.Partial() && strings.Contains(v, " ") {
			t.Fatalf("Visible(%q, true) = %q still has a space", tok.Bytes, v)
		}
	}
}
