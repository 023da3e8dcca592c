package room

import (
	"strings"
	"testing"
	"time"
)

func newRoom() *Room {
	return New(Config{
		FirstChapter: "tokens",
		Validate: func(ch, key, v string) (string, bool) {
			if ch != "tokens" && ch != "scaling" {
				return "", false
			}
			if key == "" || key == "text" || key == "encoding" {
				return v, true
			}
			return "", false
		},
	})
}

func join(t *testing.T, r *Room, id string, role Role) *Seat {
	t.Helper()
	s, err := r.Join(Identity{ID: id, Role: role})
	if err != nil {
		t.Fatalf("join %s: %v", id, err)
	}
	return s
}

func TestStudentsCannotDoInstructorActions(t *testing.T) {
	r := newRoom()
	st := join(t, r, "s1", Student)
	before := st.Latest().Class.Version
	for name, err := range map[string]error{
		"chapter": st.SetChapter("scaling"),
		"values":  st.SetValues("tokens", map[string]string{"text": "x"}),
		"lock":    st.SetLock(true),
		"spot":    st.SetSpot("row:it"),
		"open":    st.OpenPoll(PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"a", "b"}}),
		"reveal":  st.RevealPoll(),
		"close":   st.ClosePoll(),
		"kick":    st.Kick("s1", true),
		"hand":    st.ClearHand("s1"),
	} {
		if err != ErrNotInstructor {
			t.Errorf("student %s: err %v, want ErrNotInstructor", name, err)
		}
	}
	if c := st.Latest().Class; c.Version != before || c.Chapter != "tokens" || c.Locked {
		t.Errorf("room changed after refused actions: %+v", c)
	}
}

func TestInstructorChangesReachEveryone(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "a", Student)
	b := join(t, r, "b", Student)
	if err := in.SetChapter("scaling"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetValues("tokens", map[string]string{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Seat{a, b, in} {
		c := s.Latest().Class
		if c.Chapter != "scaling" || c.Values["tokens"]["text"] != "hi" || c.Connected != 3 {
			t.Errorf("seat %s sees %+v", s.ID(), c)
		}
	}
	if err := in.SetChapter("nope"); err != ErrUnknown {
		t.Errorf("unknown chapter: %v", err)
	}
	if err := in.SetValues("tokens", map[string]string{"bogus": "1"}); err != ErrUnknown {
		t.Errorf("unknown key: %v", err)
	}
}

// TestPublishNeverBlocks: a seat whose session never reads must not slow
// anyone; it just holds the newest snapshot.
func TestPublishNeverBlocks(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	stuck := join(t, r, "stuck", Student) // never drained
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10000; i++ {
			_ = in.SetValues("tokens", map[string]string{"text": strings.Repeat("x", i%50)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("10,000 changes with a stalled seat did not finish")
	}
	if got := stuck.Latest().Class.Values["tokens"]["text"]; got != strings.Repeat("x", 9999%50) {
		t.Errorf("stalled seat holds %q, not the newest value", got)
	}
	if len(stuck.Ready()) != 1 {
		t.Errorf("mailbox holds %d signals, want 1", len(stuck.Ready()))
	}
}

func TestPollHiddenUntilReveal(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "a", Student)
	b := join(t, r, "b", Student)
	spec := PollSpec{Chapter: "tokens", ID: "q1", Question: "?", Choices: []string{"x", "y", "z"}, Correct: 1}
	if err := in.OpenPoll(spec); err != nil {
		t.Fatal(err)
	}
	if err := a.Answer(Answer{Choice: 0}); err != nil {
		t.Fatal(err)
	}
	if err := a.Answer(Answer{Choice: 1}); err != nil { // replaces
		t.Fatal(err)
	}
	if err := b.Answer(Answer{Choice: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Answer(Answer{Choice: 7}); err != ErrBadAnswer {
		t.Errorf("out-of-range choice: %v", err)
	}
	r.Refresh() // answers are quiet: the head count reaches others on the next refresh
	if p := a.Latest().Class.Poll; p.Counts != nil || p.Answered != 2 || !a.Latest().Me.Answered {
		t.Errorf("student sees before reveal: %+v", p)
	}
	if p := in.Latest().Class.Poll; p.Counts[1] != 2 || p.Counts[0] != 0 {
		t.Errorf("instructor counts: %+v", p.Counts)
	}
	if err := in.RevealPoll(); err != nil {
		t.Fatal(err)
	}
	if p := b.Latest().Class.Poll; !p.Revealed || p.Counts[1] != 2 {
		t.Errorf("after reveal: %+v", p)
	}
	if err := a.Answer(Answer{Choice: 2}); err != ErrBadAnswer {
		t.Errorf("answer after reveal: %v", err)
	}
	if err := in.ClosePoll(); err != nil {
		t.Fatal(err)
	}
	if a.Latest().Class.Poll != nil {
		t.Error("poll still shown after close")
	}
	// Reopening brings the answers back.
	if err := in.OpenPoll(spec); err != nil {
		t.Fatal(err)
	}
	if p := in.Latest().Class.Poll; p.Answered != 2 {
		t.Errorf("reopened poll lost answers: %+v", p)
	}
}

func TestRejoinRestoresNameAnswersPosition(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	name, _ := a.SetName("Ada")
	_ = in.OpenPoll(PollSpec{Chapter: "tokens", ID: "q", Kind: Estimate})
	_ = a.Answer(Answer{Number: 42})
	_ = a.Report(Position{Following: false, Chapter: "scaling"})
	a.Leave()
	if c := in.Latest().Class; c.Connected != 1 {
		t.Errorf("connected after leave: %d", c.Connected)
	}
	a2 := join(t, r, "key:a", Student)
	me := a2.Latest().Me
	if me.Name != name || me.Answers["tokens/q"].Number != 42 || me.Position.Following || me.Position.Chapter != "scaling" || !me.Answered {
		t.Errorf("rejoin view: %+v", me)
	}
}

func TestNamesAreCleanedAndUnique(t *testing.T) {
	r := newRoom()
	a := join(t, r, "a", Student)
	b := join(t, r, "b", Student)
	n1, _ := a.SetName("  Ada\x1b[31m Love\u202elace\n★ ")
	if n1 != "Ada Lovelace" {
		t.Errorf("cleaned name %q", n1)
	}
	n2, _ := b.SetName("ada lovelace")
	if n2 != "ada lovelace 2" {
		t.Errorf("clash got %q", n2)
	}
	long, _ := b.SetName(strings.Repeat("界", 40))
	if w := len([]rune(long)); w != 12 {
		t.Errorf("wide name kept %d runes, want 12 (24 cells)", w)
	}
	if got := SuggestName("root"); got != "" {
		t.Errorf("SuggestName(root) = %q", got)
	}
	if got := SuggestName("grace"); got != "grace" {
		t.Errorf("SuggestName(grace) = %q", got)
	}
}

func TestKickAndBan(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	if err := in.Kick("key:a", false); err != nil {
		t.Fatal(err)
	}
	if !a.Latest().Me.Kicked {
		t.Error("kicked seat not told")
	}
	a.Leave()
	a2 := join(t, r, "key:a", Student) // a kick without a ban allows rejoining
	if a2.Latest().Me.Kicked {
		t.Error("rejoined member still marked kicked")
	}
	_ = in.Kick("key:a", true)
	if _, err := r.Join(Identity{ID: "key:a"}); err != ErrBanned {
		t.Errorf("banned rejoin: %v", err)
	}
	if err := in.Kick("teacher", true); err != ErrUnknown {
		t.Errorf("instructor kicked: %v", err)
	}
}

func TestVotesReplaceAndSamplesAdd(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "a", Student)
	b := join(t, r, "b", Student)
	for _, c := range []struct {
		s          *Seat
		group, key string
	}{
		{a, "pair:ab", "vote:ab:a"}, {a, "pair:ab", "vote:ab:b"}, {a, "pair:ab", "vote:ab:b"},
		{b, "pair:ab", "vote:ab:b"}, {a, "", "sample:mat"}, {b, "", "sample:mat"}, {b, "", "sample:sofa"},
	} {
		if err := c.s.Contribute("tokens", c.group, c.key); err != nil {
			t.Fatal(err)
		}
	}
	got := in.Latest().Class.Tallies["tokens"]
	want := map[string]int{"vote:ab:b": 2, "sample:mat": 2, "sample:sofa": 1}
	if len(got) != len(want) {
		t.Fatalf("tallies %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	_ = a.Contribute("tokens", "pair:ab", "") // withdraw
	if n := in.Latest().Class.Tallies["tokens"]["vote:ab:b"]; n != 1 {
		t.Errorf("after withdrawing: %d", n)
	}
	if err := a.ClearTallies("tokens"); err != ErrNotInstructor {
		t.Errorf("student cleared tallies: %v", err)
	}
	_ = in.ClearTallies("tokens")
	if len(in.Latest().Class.Tallies["tokens"]) != 0 {
		t.Error("tallies not cleared")
	}
	_ = b.Contribute("tokens", "pair:ab", "vote:ab:a") // b's old vote was cleared: counts once
	if n := in.Latest().Class.Tallies["tokens"]["vote:ab:a"]; n != 1 {
		t.Errorf("after clear and revote: %d", n)
	}
}

// TestQuietEventsWakeOnlyWhoTheyConcern: a join or an answer wakes the
// member and the instructors, not every student; Refresh then brings the
// head counts to everyone.
func TestQuietEventsWakeOnlyWhoTheyConcern(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "a", Student)
	<-a.Ready()
	<-in.Ready()
	b := join(t, r, "b", Student)
	select {
	case <-a.Ready():
		t.Fatal("another student's join woke a")
	default:
	}
	select {
	case <-in.Ready():
	default:
		t.Fatal("the instructor was not told of the join")
	}
	if b.Latest().Class.Connected != 3 {
		t.Errorf("the joiner sees %d connected", b.Latest().Class.Connected)
	}
	r.Refresh()
	select {
	case <-a.Ready():
		if a.Latest().Class.Connected != 3 {
			t.Errorf("after refresh a sees %d connected", a.Latest().Class.Connected)
		}
	default:
		t.Fatal("Refresh did not wake a")
	}
	r.Refresh() // nothing new: nobody is woken
	select {
	case <-a.Ready():
		t.Fatal("an idle Refresh woke a")
	default:
	}
}

// TestKeylessBanSparesTheRestOfTheNAT: banning a keyless student bans that
// session only; every other student behind the same address, keyless or
// not, still joins (a school's NAT gives the whole class one address).
func TestKeylessBanSparesTheRestOfTheNAT(t *testing.T) {
	r := newRoom()
	in := join(t, r, "instructor", Instructor)
	troll, _ := r.Join(Identity{ID: "session:1", Addr: "10.0.0.9", Keyless: true})
	if err := in.Kick("session:1", true); err != nil {
		t.Fatal(err)
	}
	troll.Leave()
	if _, err := r.Join(Identity{ID: "session:1", Addr: "10.0.0.9", Keyless: true}); err != ErrBanned {
		t.Errorf("the banned session itself: %v", err)
	}
	if _, err := r.Join(Identity{ID: "session:2", Addr: "10.0.0.9", Keyless: true}); err != nil {
		t.Errorf("another keyless student from the banned student's address was turned away: %v", err)
	}
	if _, err := r.Join(Identity{ID: "key:ada", Addr: "10.0.0.9"}); err != nil {
		t.Errorf("a student with a key behind the same NAT was turned away: %v", err)
	}
	if _, err := r.Join(Identity{ID: "instructor", Role: Instructor, Addr: "10.0.0.9"}); err != nil {
		t.Errorf("the instructor behind the same NAT was turned away: %v", err)
	}
}

// TestLeavingTheChapterClosesItsPoll: a poll belongs to its chapter.
func TestLeavingTheChapterClosesItsPoll(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	q := PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"x", "y"}}
	_ = in.OpenPoll(q)
	_ = a.Answer(Answer{Choice: 1})
	_ = in.SetChapter("scaling")
	if p := a.Latest().Class.Poll; p != nil {
		t.Fatalf("the tokens poll is still up in scaling: %+v", p)
	}
	_ = in.SetChapter("tokens")
	_ = in.OpenPoll(q)
	if p := in.Latest().Class.Poll; p == nil || p.Answered != 1 {
		t.Errorf("reopened in its chapter, the poll lost its answers: %+v", p)
	}
}

// TestHandsAreCountedForInstructors: the instructor's snapshot counts hands
// up without the dashboard; students' snapshots do not carry the count.
func TestHandsAreCountedForInstructors(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	b := join(t, r, "key:b", Student)
	_ = a.RaiseHand(true)
	_ = b.RaiseHand(true)
	if n := in.Latest().Class.Hands; n != 2 {
		t.Errorf("hands up: %d, want 2", n)
	}
	_ = in.ClearHand("key:a")
	b.Leave()
	if n := in.Latest().Class.Hands; n != 0 {
		t.Errorf("after one lowered and one left: %d hands up", n)
	}
	_ = a.RaiseHand(true)
	r.Refresh()
	if n := a.Latest().Class.Hands; n != 0 {
		t.Errorf("a student's snapshot counts hands: %d", n)
	}
	if !a.Latest().Class.Teaching {
		t.Error("the student is not told an instructor is here")
	}
	in.Leave()
	r.Refresh()
	if a.Latest().Class.Teaching {
		t.Error("the instructor left, but the student still reads that one is here")
	}
}

// TestEstimatesOutsideTheRangeAreRefused: a percentage question refuses 128.
func TestEstimatesOutsideTheRangeAreRefused(t *testing.T) {
	r := newRoom()
	in := join(t, r, "teacher", Instructor)
	a := join(t, r, "key:a", Student)
	_ = in.OpenPoll(PollSpec{Chapter: "tokens", ID: "pct", Kind: Estimate, Truth: 12, Unit: "%", Min: 0, Max: 100})
	if err := a.Answer(Answer{Number: 128}); err != ErrOutOfRange {
		t.Errorf("128 %% accepted: %v", err)
	}
	if err := a.Answer(Answer{Number: 100}); err != nil {
		t.Errorf("100 %% refused: %v", err)
	}
	_ = in.OpenPoll(PollSpec{Chapter: "tokens", ID: "count", Kind: Estimate, Truth: 12})
	if err := a.Answer(Answer{Number: -3}); err != ErrOutOfRange {
		t.Errorf("a negative count accepted: %v", err)
	}
}

func TestReopenedPollKeepsRevealedAnswers(t *testing.T) {
	r := newRoom()
	in := join(t, r, "instructor", Instructor)
	a := join(t, r, "key:a", Student)
	q1 := PollSpec{Chapter: "tokens", ID: "q1", Choices: []string{"x", "y"}, Correct: 1}
	q2 := PollSpec{Chapter: "tokens", ID: "q2", Choices: []string{"x", "y"}}
	_ = in.OpenPoll(q1)
	_ = a.Answer(Answer{Choice: 1})
	_ = in.RevealPoll()
	_ = in.ClosePoll()
	if got := in.Latest().Class.LastPoll("tokens"); got != "q1" {
		t.Errorf("LastPoll = %q", got)
	}
	_ = in.OpenPoll(q1) // the same question again: still revealed, answers final
	if p := in.Latest().Class.Poll; !p.Revealed || p.Answered != 1 {
		t.Errorf("reopened poll: %+v", p)
	}
	if err := a.Answer(Answer{Choice: 0}); err != ErrBadAnswer {
		t.Errorf("changing a revealed answer: %v", err)
	}
	q1.Correct = 0 // asked about other values: a new question
	_ = in.OpenPoll(q1)
	if p := in.Latest().Class.Poll; p.Revealed || p.Answered != 0 {
		t.Errorf("a changed question kept old answers: %+v", p)
	}
	_ = in.OpenPoll(q2)
	if got := in.Latest().Class.LastPoll("tokens"); got != "q2" {
		t.Errorf("LastPoll = %q", got)
	}
}

func TestRoleIsFixedAtJoin(t *testing.T) {
	r := newRoom()
	st := join(t, r, "key:x", Student)
	join(t, r, "key:x", Instructor) // the same member, somehow, as instructor
	if st.Role() != Student || st.SetLock(true) != ErrNotInstructor {
		t.Error("a student seat gained the instructor's role from a later join")
	}
}

func TestNamesLoseLookalikesAndZalgo(t *testing.T) {
	for in, want := range map[string]string{
		"✩ Prof ⋆ 🟊": "Prof",
		"Zóe":       "Zóe",
		"Ź̂̃̄̅a":    "Ź̂a",
		"́lone":      "lone",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNamesLoseInvisibleLettersAndMoreStars(t *testing.T) {
	for in, want := range map[string]string{
		"\u3164\u3164\u3164":   "",
		"\u2800\u2800":         "",
		"\u115f\u1160\uffa0":   "",
		"⚝ Prof":               "Prof",
		"⛤Teacher⭐":            "Teacher",
		"Ada\u3164Lovelace":    "AdaLovelace",
		"\u2800 \u3164 Grace ": "Grace",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{7}, 7}, {[]float64{96, 100}, 98}, {[]float64{1, 2, 10}, 2}, {[]float64{1, 2, 3, 10}, 2.5}} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
