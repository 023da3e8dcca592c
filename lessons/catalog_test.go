package lessons

import (
	"strings"
	"testing"
)

// The catalog is the one list of chapters: the welcome's route and its
// count of stops, and the recap's entries and its count of ideas, come from
// it. A catalog of fewer chapters (given in any order) reads right, with
// the recap numbered after the last of them, and the welcome and recap it
// was given are left as they were.
func TestTourIsTheCatalog(t *testing.T) {
	welcome, recap := NewWelcome(), NewRecap()
	c := NewCatalogOf(recap, chapter(t, "stack"), welcome, chapter(t, "tokens"))
	var got []string
	for i := range c.Len() {
		got = append(got, c.At(i).ID())
	}
	if strings.Join(got, " ") != "welcome tokens stack recap" {
		t.Errorf("tour order %v, want welcome tokens stack recap", got)
	}
	if i, ok := c.Index("recap"); !ok || c.At(i).Number() != 3 {
		t.Errorf("the recap after chapters 1 and 2 is not number 3")
	}
	w, _ := c.Index("welcome")
	out := flat(screen(c.At(w), nil, 80, 40))
	siWant(t, "short welcome", out, "language model in three stops.", "1 letters to numbers", "2 a stack of blocks", "3 recap")
	if strings.Contains(out, "looking back") || strings.Contains(out, "nine stops") {
		t.Errorf("short welcome routes through chapters it does not have:\n%s", out)
	}
	r, _ := c.Index("recap")
	out = flat(screen(c.At(r), nil, 80, 40))
	siWant(t, "short recap", out, "the word the model says, in two ideas.", "1 From letters to numbers",
		"2 A stack of identical blocks", "124,439,808")
	if strings.Contains(out, "The act of looking back") || strings.Contains(out, "eight ideas") {
		t.Errorf("short recap sums up chapters it does not have:\n%s", out)
	}
	if spots := c.At(r).(Spotter).Spots(nil); len(spots) != 2 || spots[0].ID != "ch:tokens" || spots[1].ID != "ch:stack" {
		t.Errorf("short recap's spots %v, want ch:tokens and ch:stack", spots)
	}
	if welcome.stops() != nil || recap.items != nil || recap.Number() != 0 {
		t.Error("NewCatalogOf changed the welcome or recap it was given")
	}

	one := NewCatalogOf(NewWelcome(), chapter(t, "tokens"), NewRecap())
	siWant(t, "one-chapter recap", flat(screen(one.At(2), nil, 80, 40)), "in one idea.")
	siWant(t, "one-chapter welcome", flat(screen(one.At(0), nil, 80, 40)), "in two stops.", "2 recap")
	// The whole tour's words ("nine stops", "eight ideas") are pinned by
	// the welcome's and the recap's goldens.
}

// The recap bolds each chapter's figure where it stands in its fact, so the
// fact must contain it, at the defaults the recap asks at and at any other
// values a chapter's controls can hold (its views' defaults).
func TestKeyFiguresStandInTheirFacts(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for i := range c.Len() {
		l := c.At(i)
		k, ok := l.(KeyFigurer)
		if !ok {
			continue
		}
		n++
		d := Defaults(l.Controls())
		vals := []Values{d, nil}
		for _, ctl := range l.Controls() {
			for _, o := range ctl.Options {
				vals = append(vals, d.With(ctl.Key, o.Value))
			}
		}
		for _, v := range vals {
			f := k.KeyFigure(v)
			if f.Idea == "" || f.Figure == "" || !strings.Contains(f.Fact, f.Figure) {
				t.Errorf("%s at %v: idea %q, fact %q does not hold figure %q", l.ID(), v, f.Idea, f.Fact, f.Figure)
			}
		}
	}
	if n != c.Len()-2 {
		t.Errorf("%d chapters offer a key figure, want the %d between the welcome and the recap", n, c.Len()-2)
	}
}
