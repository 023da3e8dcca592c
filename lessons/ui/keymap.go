package ui

import "charm.land/bubbles/v2/key"

// KeyMap is every key Expedition answers to, with the help text the "?"
// overlay and the footer show. It is built per session so that no two
// sessions share mutable state.
type KeyMap struct {
	Next, Prev, Contents, Help, Quit key.Binding
	Jump                             key.Binding
	FocusNext, FocusPrev             key.Binding
	Increase, Decrease               key.Binding
	IncreaseMore, DecreaseMore       key.Binding
	Edit, Done, Toggle               key.Binding
	Select                           key.Binding
	// ScrollDown and ScrollUp move a chapter that does not fit the screen
	// a page at a time (shift+↓/↑: a line).
	ScrollDown, ScrollUp key.Binding
}

// NewKeyMap builds the key map for one session.
func NewKeyMap() KeyMap {
	return KeyMap{
		Next:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next chapter")),
		Prev:         key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "previous chapter")),
		ScrollDown:   key.NewBinding(key.WithKeys("pgdown", "shift+down"), key.WithHelp("pgdn", "scroll the chapter down")),
		ScrollUp:     key.NewBinding(key.WithKeys("pgup", "shift+up"), key.WithHelp("pgup", "scroll the chapter up")),
		Jump:         key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("0-9", "go to chapter")),
		Contents:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "contents")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:         key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		FocusNext:    key.NewBinding(key.WithKeys("down", "tab"), key.WithHelp("↓/tab", "next control")),
		FocusPrev:    key.NewBinding(key.WithKeys("up", "shift+tab"), key.WithHelp("↑/shift+tab", "previous control")),
		Increase:     key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "increase / next option")),
		Decrease:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "decrease / previous option")),
		IncreaseMore: key.NewBinding(key.WithKeys("shift+right"), key.WithHelp("shift+→", "ten steps up")),
		DecreaseMore: key.NewBinding(key.WithKeys("shift+left"), key.WithHelp("shift+←", "ten steps down")),
		Edit:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "edit text / toggle")),
		Done:         key.NewBinding(key.WithKeys("esc", "enter"), key.WithHelp("esc", "stop editing")),
		Toggle:       key.NewBinding(key.WithKeys("space", "enter"), key.WithHelp("space", "toggle")),
		Select:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	}
}

// ShortHelp is the footer's line of keys, worded to fit 80 columns.
func (k KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(keys, desc))
	}
	return []key.Binding{
		short(k.Next, "n/p", "chapter"),
		short(k.FocusNext, "↑/↓", "control"),
		short(k.Increase, "←/→", "change"),
		k.Contents, k.Help, k.Quit,
	}
}

// FullHelp is the "?" overlay, one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.Jump, k.Contents, k.ScrollDown, k.ScrollUp},
		{k.FocusNext, k.FocusPrev, k.Increase, k.Decrease, k.IncreaseMore, k.DecreaseMore},
		{k.Edit, k.Done, k.Toggle, k.Help, k.Quit},
	}
}
