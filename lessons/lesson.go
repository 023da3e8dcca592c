// Package lessons holds Expedition's chapters and the contract they keep.
//
// A lesson declares its controls as data (see Control) and draws itself with
// Render, a pure function of the theme, its values and the size it is given:
// the same inputs always give the same screen. That purity is what lets
// followers share a render, golden files pin a chapter, and the snapshot
// command print one.
package lessons

import "github.com/expedition-llm/expedition/lessons/ui"

// Lesson is one chapter of the tour.
type Lesson interface {
	// ID is the chapter's short name, used on command lines and in the room
	// state ("tokens").
	ID() string
	// Number is the chapter's place in the tour (DESIGN.md §1).
	Number() int
	// Title is the chapter's name as the header shows it.
	Title() string
	// Summary is the one line the contents screen shows.
	Summary() string
	// Controls are the chapter's inputs, in focus order.
	Controls() []Control
	// Render draws the chapter body for v in width×height cells. It must not
	// draw a line wider than width nor more than height lines, and it must
	// not panic for any values a Normalize call can produce.
	Render(th *ui.Theme, v Values, width, height int) string
}

// ControlByKey finds a lesson's control.
func ControlByKey(l Lesson, key string) (Control, bool) {
	for _, c := range l.Controls() {
		if c.Key == key {
			return c, true
		}
	}
	return Control{}, false
}
