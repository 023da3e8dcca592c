package room

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// FuzzCleanName: any bytes in, a name out that is valid UTF-8, at most
// MaxNameWidth cells, with no escape, control, bidi or badge character.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"Ada", "\x1b[31mred\x1b[0m", "a\u202eb", "★ teacher", "\xff\x00", "界界界界界界界界界界界界界界"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := CleanName(s)
		if !utf8.ValidString(n) {
			t.Fatalf("not UTF-8: %q", n)
		}
		if ansi.StringWidth(n) > MaxNameWidth {
			t.Fatalf("%d cells: %q", ansi.StringWidth(n), n)
		}
		for _, r := range n {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x202e || r == 0x2066 || r == '★' {
				t.Fatalf("kept %U in %q", r, n)
			}
		}
		if CleanName(n) != n {
			t.Fatalf("not idempotent: %q → %q", n, CleanName(n))
		}
	})
}

// FuzzRestore decodes a saved room and its members from any JSON and
// restores them: nothing panics, and the room still works.
func FuzzRestore(f *testing.F) {
	f.Add(`{"version":7,"chapter":"tokens","values":{"tokens":{"text":"hi"}},"locked":true,"polls":[{"spec":{"Chapter":"tokens","ID":"q","Kind":0,"Choices":["a","b"]},"open":true,"answers":{"key:a":{"Choice":1}}}],"open_poll":"tokens/q","banned":["key:x"]}`,
		`[{"id":"key:a","name":"Ada","answers":{"tokens/q":{"Choice":1}}}]`)
	f.Add(`{"chapter":"nope","values":{"nope":{"x":"y"}},"polls":[{"spec":{"Chapter":"tokens","ID":"q","Kind":0,"Choices":[]},"open":true}],"open_poll":"tokens/q"}`, `[{}]`)
	f.Add(`null`, `null`)
	f.Fuzz(func(t *testing.T, state, members string) {
		var s Saved
		var ms []SavedMember
		if json.Unmarshal([]byte(state), &s) != nil || json.Unmarshal([]byte(members), &ms) != nil {
			return
		}
		r := New(Config{FirstChapter: "tokens", Validate: func(ch, key, v string) (string, bool) {
			return v, ch == "tokens" && (key == "" || key == "text")
		}})
		r.Restore(s, ms)
		in, err := r.Join(Identity{ID: "teacher", Role: Instructor})
		if err != nil {
			t.Fatal(err)
		}
		st, _ := r.Join(Identity{ID: "key:new"})
		_ = in.OpenPoll(PollSpec{Chapter: "tokens", ID: "z", Choices: []string{"a", "b"}})
		if st != nil {
			_ = st.Answer(Answer{Choice: 1})
		}
		_ = in.RevealPoll()
		_ = in.SetChapter("tokens")
		if in.Latest().Class == nil {
			t.Fatal("no snapshot after restore")
		}
	})
}
