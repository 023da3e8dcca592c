package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
)

// KeyMap is every key Expedition answers to, with its help: the one place a
// key is given a meaning and a word. The session's key handling, its "?"
// screen, its footer and every screen's own line of keys read it, and a
// test holds the README's key tables to it. It is built per session so that
// no two sessions share mutable state.
//
// A key means one thing per role and screen: s draws a word for the class
// in a student's hands and moves the spotlight in the instructor's, since a
// student has no spotlight and the instructor draws nothing.
type KeyMap struct {
	// Getting around, for everyone.
	Next, Prev, Jump, Contents key.Binding
	ScrollDown, ScrollUp       key.Binding
	LineDown, LineUp           key.Binding
	// A chapter's controls.
	FocusNext, FocusPrev, Increase, Decrease, IncreaseMore, DecreaseMore key.Binding
	Edit, Toggle                                                         key.Binding
	// Typing: a text control, a name, an estimate. Confirm ends the typing
	// (join, answer, stop editing; a chapter number too); Back leaves it.
	Field         FieldKeys
	Confirm, Back key.Binding
	// Lists: choose with FocusNext/FocusPrev, open with Select. Pages of
	// the help screen turn with PageNext/PagePrev.
	Select, PageNext, PagePrev key.Binding
	Help, Quit, Leave          key.Binding

	// A student in class.
	Follow, Hand, Draw, Answer, Estimate key.Binding
	// The instructor.
	OpenPoll, Reveal, ClosePoll, Lock, Spot, ClearSpot, ClearTallies, Dashboard key.Binding
	// The instructor's dashboard.
	LowerHand, Remove, Ban key.Binding
}

// FieldKeys edit the text in a TextField: the keys of a shell's line
// editor, so that nobody has to learn new ones.
type FieldKeys struct {
	Left, Right, Home, End, Backspace, Delete, ClearBefore, ClearAfter, DeleteWord key.Binding
}

// NewKeyMap builds the key map for one session.
func NewKeyMap() KeyMap {
	b := func(keys []string, label, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(label, desc))
	}
	ks := func(k ...string) []string { return k }
	return KeyMap{
		Next:       b(ks("n"), "n", "next chapter"),
		Prev:       b(ks("p"), "p", "previous chapter"),
		Jump:       b(ks("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), "0-9", "go to a chapter (past 9: the number, then enter)"),
		Contents:   b(ks("t"), "t", "contents"),
		ScrollDown: b(ks("pgdown"), "pgdn", "scroll the chapter down a screen"),
		ScrollUp:   b(ks("pgup"), "pgup", "scroll the chapter up a screen"),
		LineDown:   b(ks("shift+down"), "shift+↓", "scroll the chapter down a line"),
		LineUp:     b(ks("shift+up"), "shift+↑", "scroll the chapter up a line"),

		FocusNext:    b(ks("down", "tab"), "↓/tab", "next control"),
		FocusPrev:    b(ks("up", "shift+tab"), "↑/shift+tab", "previous control"),
		Increase:     b(ks("right"), "→", "increase / next option"),
		Decrease:     b(ks("left"), "←", "decrease / previous option"),
		IncreaseMore: b(ks("shift+right"), "shift+→", "ten steps up"),
		DecreaseMore: b(ks("shift+left"), "shift+←", "ten steps down"),
		Edit:         b(ks("enter"), "enter", "edit text / toggle"),
		Toggle:       b(ks("space", "enter"), "space", "toggle"),

		Field: FieldKeys{
			Left:        b(ks("left", "ctrl+b"), "←/→", "move the cursor"),
			Right:       b(ks("right", "ctrl+f"), "→", "cursor right"),
			Home:        b(ks("home", "ctrl+a"), "home/end", "to the start / the end"),
			End:         b(ks("end", "ctrl+e"), "end", "to the end"),
			Backspace:   b(ks("backspace", "ctrl+h"), "backspace/delete", "delete before / after the cursor"),
			Delete:      b(ks("delete", "ctrl+d"), "delete", "delete after the cursor"),
			ClearBefore: b(ks("ctrl+u"), "ctrl+u/ctrl+k", "clear before / after the cursor"),
			ClearAfter:  b(ks("ctrl+k"), "ctrl+k", "clear after the cursor"),
			DeleteWord:  b(ks("ctrl+w", "alt+backspace"), "ctrl+w", "delete the word before the cursor"),
		},
		Confirm: b(ks("enter"), "enter", "done typing: join, answer, stop editing"),
		Back:    b(ks("esc"), "esc", "stop editing; cancel an estimate; close a screen"),

		Select:   b(ks("enter", "space", "right"), "enter", "open"),
		PageNext: b(ks("right", "pgdown", "shift+down", "space"), "→", "next page"),
		PagePrev: b(ks("left", "pgup", "shift+up"), "←", "back"),
		Help:     b(ks("?"), "?", "help"),
		Quit:     b(ks("q"), "q", "quit"),
		Leave:    b(ks("ctrl+c"), "ctrl+c", "quit from any screen, even while typing"),

		Follow:   b(ks("f"), "f", "follow the instructor again"),
		Hand:     b(ks("h"), "h", "raise / lower your hand"),
		Draw:     b(ks("s"), "s", "send your part of a class activity"),
		Answer:   b(ks("1", "2", "3", "4", "5", "6", "7", "8", "9"), "1-9", "answer the open question"),
		Estimate: b(ks("a", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "-"), "a", "type an estimate (a digit begins one too)"),

		OpenPoll:     b(ks("o"), "o", "open the chapter's next question"),
		Reveal:       b(ks("r"), "r", "reveal the answers"),
		ClosePoll:    b(ks("c"), "c", "close the question (answers are kept)"),
		Lock:         b(ks("L"), "L", "lock / unlock: everyone follows"),
		Spot:         b(ks("s"), "s", "spotlight the next element"),
		ClearSpot:    b(ks("S"), "S", "clear the spotlight"),
		ClearTallies: b(ks("C"), "C", "clear the chapter's pooled samples or votes"),
		Dashboard:    b(ks("d"), "d", "dashboard: who is here"),

		LowerHand: b(ks("space"), "space", "lower the chosen student's hand"),
		Remove:    b(ks("x"), "x", "remove the chosen student (they may rejoin)"),
		Ban:       b(ks("B"), "B", "ban the chosen student from this class"),
	}
}

// Short is b under a shorter label and word, for a line of keys that must
// fit 80 columns; it answers to the same keys.
func Short(b key.Binding, label, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(label, desc))
}

// Hint is a screen's own line of keys: each binding's label and word,
// joined by " · ".
func Hint(bs ...key.Binding) string {
	parts := make([]string, 0, len(bs))
	for _, b := range bs {
		h := b.Help()
		parts = append(parts, strings.TrimSpace(h.Key+" "+h.Desc))
	}
	return strings.Join(parts, " · ")
}

// ShortHelp is the footer's line of keys on a chapter, worded to fit 80
// columns.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		Short(k.Next, "n/p", "chapter"),
		Short(k.FocusNext, "↑/↓", "control"),
		Short(k.Increase, "←/→", "change"),
		k.Contents, k.Help, k.Quit,
	}
}

// ScrollHint is the footer's first key while the chapter does not fit.
func (k KeyMap) ScrollHint() key.Binding { return Short(k.ScrollDown, "pgdn/pgup", "scroll") }

// TeachingHelp is the instructor's footer in class, after the first three
// of ShortHelp: what the chapter and the open question allow.
func (k KeyMap) TeachingHelp(activity, pollOpen bool) []key.Binding {
	var out []key.Binding
	if activity {
		out = append(out, Short(k.ClearTallies, k.ClearTallies.Help().Key, "clear class tallies"))
	}
	if pollOpen {
		out = append(out, Short(k.Reveal, k.Reveal.Help().Key, "reveal"), Short(k.ClosePoll, k.ClosePoll.Help().Key, "close poll"))
	} else {
		out = append(out, Short(k.OpenPoll, k.OpenPoll.Help().Key, "poll"))
	}
	return append(out, Short(k.Dashboard, k.Dashboard.Help().Key, "dashboard"), Short(k.Lock, k.Lock.Help().Key, "lock"), k.Help)
}

// StudentHelp is a student's footer in class, after the first three of
// ShortHelp: the chapter's activity (worded by the chapter), follow while
// exploring, the hand.
func (k KeyMap) StudentHelp(activity string, following bool) []key.Binding {
	var out []key.Binding
	if activity != "" {
		out = append(out, Short(k.Draw, k.Draw.Help().Key, activity))
	}
	if !following {
		out = append(out, Short(k.Follow, k.Follow.Help().Key, "follow"))
	}
	return append(out, Short(k.Hand, k.Hand.Help().Key, "hand"), k.Contents, k.Help, k.Quit)
}

// ContentsHint is the contents screen's line of keys.
func (k KeyMap) ContentsHint() string {
	return Hint(Short(k.FocusNext, "↑/↓", "choose"), k.Select, Short(k.Jump, "a digit", "jumps to a chapter"),
		Short(k.Help, k.Help.Help().Key, "keys"), k.Quit)
}

// DashboardHint is the dashboard's line of keys.
func (k KeyMap) DashboardHint() string {
	return Hint(Short(k.FocusNext, "↑/↓", "choose"), Short(k.LowerHand, k.LowerHand.Help().Key, "lower hand"),
		Short(k.Remove, k.Remove.Help().Key, "remove"), Short(k.Ban, k.Ban.Help().Key, "ban")) + " · any other key closes"
}

// PollHint is the instructor's line of keys under an open question.
func (k KeyMap) PollHint() string {
	return Hint(Short(k.Reveal, k.Reveal.Help().Key, "reveal to everyone"), Short(k.ClosePoll, k.ClosePoll.Help().Key, "close"),
		Short(k.OpenPoll, k.OpenPoll.Help().Key, "next question"))
}

// SpotHint is the instructor's line of keys under a spotlight.
func (k KeyMap) SpotHint() string {
	return Hint(Short(k.Spot, k.Spot.Help().Key, "next"), Short(k.ClearSpot, k.ClearSpot.Help().Key, "clear"))
}

// FollowHint is how a student exploring is reminded to come back.
func (k KeyMap) FollowHint() string { return k.Follow.Help().Key + " to follow" }

// ContentsKey is how a notice points at the contents.
func (k KeyMap) ContentsKey() string { return k.Contents.Help().Key + " for the contents" }

// EditHint is the footer while a text control is being edited: that it is,
// then how to finish, since a narrow footer cuts the end.
func (k KeyMap) EditHint() string {
	return "editing · " + Hint(Short(k.Confirm, k.Back.Help().Key+"/"+k.Confirm.Help().Key, "done"),
		Short(k.Field.Left, k.Field.Left.Help().Key, "move"), Short(k.Field.ClearBefore, "ctrl+u", "clear"),
		Short(k.Field.Backspace, "backspace", "")) + " · type or paste"
}

// EstimateHint is the footer while an estimate is being typed: the keys
// first, since a narrow footer cuts the end.
func (k KeyMap) EstimateHint() string {
	return Hint(Short(k.Confirm, k.Confirm.Help().Key, "answer"), Short(k.Back, k.Back.Help().Key, "cancel")) +
		" · e.g. 1200, 3.5e6, 40M"
}

// NameHint is the footer at the name prompt.
func (k KeyMap) NameHint() string {
	return "type your name · " + Hint(Short(k.Confirm, k.Confirm.Help().Key, "to join the class"), Short(k.Leave, k.Leave.Help().Key, "to leave"))
}

// HelpPageHint is the help screen's last line, on page (from 0) of pages.
func (k KeyMap) HelpPageHint(page, pages int) string {
	next := Short(k.PageNext, k.PageNext.Help().Key, "next page")
	back := Short(k.PagePrev, k.PagePrev.Help().Key, "back")
	closes := "any other key closes this"
	switch {
	case pages <= 1:
		return "any key closes this"
	case page == 0:
		return fmt.Sprintf("page 1 of %d · %s · %s", pages, Hint(next), closes)
	case page == pages-1:
		return fmt.Sprintf("page %d of %d · %s · %s", page+1, pages, Hint(back), closes)
	default:
		return fmt.Sprintf("page %d of %d · %s · %s", page+1, pages, Hint(Short(k.PageNext, k.PageNext.Help().Key, "next"), back), closes)
	}
}

// Group is a titled list of keys for the help screen and the README.
type Group struct {
	Title string
	Keys  []key.Binding
}

// Groups are the keys the "?" screen lists, by what they are for: getting
// around, the controls and typing for everyone, then the classroom's for
// the role (student or teaching), nothing of the classroom when alone. A
// pair of keys that mirror each other (←/→ in a field, home/end) is listed
// once, under its first binding's label.
func (k KeyMap) Groups(inClass, teaching bool) []Group {
	gs := []Group{
		{"Getting around", []key.Binding{k.Next, k.Prev, k.Jump, k.Contents, k.ScrollDown, k.ScrollUp, k.LineDown, k.LineUp}},
		{"Controls", []key.Binding{k.FocusNext, k.FocusPrev, k.Increase, k.Decrease, k.IncreaseMore, k.DecreaseMore, k.Edit, k.Toggle}},
		{"Typing", []key.Binding{k.Field.Left, k.Field.Home, k.Field.Backspace, k.Field.ClearBefore, k.Field.DeleteWord, k.Confirm, k.Back}},
		{"Everywhere", []key.Binding{k.Help, k.Quit, k.Leave}},
	}
	switch {
	case inClass && teaching:
		gs = append(gs,
			Group{"Teaching", []key.Binding{k.OpenPoll, k.Reveal, k.ClosePoll, k.Lock, k.Spot, k.ClearSpot, k.ClearTallies, k.Dashboard}},
			Group{"On the dashboard", []key.Binding{k.LowerHand, k.Remove, k.Ban}})
	case inClass:
		gs = append(gs, Group{"In class", []key.Binding{k.Follow, k.Hand, k.Draw, k.Answer, k.Estimate}})
	}
	return gs
}
