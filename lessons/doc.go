// Package lessons holds Expedition's chapters and the contract they keep.
//
// A lesson declares its controls as data (see Control) and draws itself with
// Render, a pure function of the theme, its values and the size it is given:
// the same inputs always give the same screen. That purity is what lets
// followers share a render, golden files pin a chapter, and the snapshot
// command print one.
//
// The catalog (catalog.go) is the only list of chapters. The welcome's route
// and the recap's entries are made from it, and the recap is numbered one
// past the last chapter it sums up, so neither is edited when a chapter
// comes or goes.
//
// # Adding a chapter
//
// A new chapter, say "safety" numbered 9 (the recap then becomes 10), is
// these files, and a row in README.md's table of chapters for its readers:
//
//   - sim/safety.go and sim/safety_test.go: its computations, each tested
//     against a published figure named in the test.
//   - lessons/safety.go: the chapter type embedding meta (id, number,
//     title, summary, route), its Controls, Render and KeyFigure (its line
//     in the recap), any of Poller, Spotter, Linker and Activity it keeps,
//     and a var _ line for each of them beside the type. A chapter with
//     several views keeps the dispatch and what the views share there, and
//     each view in a file of its own, lessons/safety_<view>.go.
//   - lessons/catalog.go: one line in NewCatalog's list of builders.
//   - lessons/testdata/safety-80x24.golden and safety-120x40.golden, written
//     by go test ./lessons -update and read before they are committed.
//   - lessons/safety_test.go: its figures and questions, and checkGolden for
//     each view its controls switch to (and those views' goldens).
//
// Helpers several chapters draw with live apart from any one chapter:
// wrap.go (wrapping prose), spotlight.go (the instructor's spotlight marks),
// draw.go (bars, chip colours, columns side by side) and format.go
// (numbers and counts).
package lessons
