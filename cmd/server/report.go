package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
	"github.com/expedition-llm/expedition/session/room"
	"github.com/expedition-llm/expedition/store"
	"github.com/expedition-llm/expedition/store/natsroom"
)

// report prints what a class did: every poll with its answers and every
// member with theirs. With --nats it reads the class's shared record on
// NATS (what every server of the class holds); without, this server's
// database. It only reads, so it is safe while the class runs.
func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", server.DefaultDataDir, "the data directory of the server whose class to report (without --nats)")
	natsURL := fs.String("nats", "", "read the class shared over this NATS server instead (nats://host:4222)")
	roomName := fs.String("room", server.DefaultRoom, "the class's name on NATS")
	if err := envTwins(fs); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "report: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	catalog, err := lessons.NewCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "build chapters: %v\n", err)
		return 1
	}
	var (
		state   room.Saved
		members []room.SavedMember
		source  string
	)
	if *natsURL != "" {
		r := room.New(room.Config{FirstChapter: catalog.At(0).ID(), MaxChoices: lessons.MaxChoices})
		seq, err := natsroom.Read(natsroom.Config{URL: *natsURL, Room: *roomName}, r)
		if err != nil {
			fmt.Fprintf(stderr, "report: %v\n", err)
			return 1
		}
		state, members = r.Record()
		source = fmt.Sprintf("class %q on NATS at %s, as of operation %d", *roomName, *natsURL, seq)
	} else {
		var ok bool
		state, members, ok, err = store.Read(*data)
		if err != nil {
			fmt.Fprintf(stderr, "report: %v\n", err)
			return 1
		}
		if !ok {
			fmt.Fprintf(stderr, "report: no class saved in %s\n", *data)
			return 1
		}
		source = "the class saved in " + *data
	}
	writeReport(stdout, catalog, source, state, members)
	return 0
}

// writeReport is the report as text: plain, so it pastes into an email or
// a spreadsheet.
func writeReport(w io.Writer, catalog *lessons.Catalog, source string, state room.Saved, members []room.SavedMember) {
	title := func(chapter string) string {
		if i, ok := catalog.Index(chapter); ok {
			if l := catalog.At(i); l.Number() > 0 {
				return fmt.Sprintf("%d %s", l.Number(), l.Title())
			}
			return catalog.At(i).Title()
		}
		return chapter
	}
	fmt.Fprintf(w, "Class report: %s\n\n", source)
	fmt.Fprintf(w, "Chapter now: %s%s\n", title(state.Chapter), map[bool]string{true: " (locked)"}[state.Locked])

	var students, staff []room.SavedMember
	for _, m := range members {
		if m.Role == room.Instructor {
			staff = append(staff, m)
		} else {
			students = append(students, m)
		}
	}
	fmt.Fprintf(w, "Members remembered: %s, %s\n", lessons.Count(len(students), "student", "students"), lessons.Count(len(staff), "instructor seat", "instructor seats"))

	asked := 0
	for _, p := range state.Polls {
		if len(p.Answers) > 0 || p.Open || p.Revealed {
			asked++
		}
	}
	fmt.Fprintf(w, "\nQuestions asked: %d\n", asked)
	for _, p := range state.Polls {
		if len(p.Answers) == 0 && !p.Open && !p.Revealed {
			continue
		}
		fmt.Fprintf(w, "\n  %s · %s\n", title(p.Spec.Chapter), p.Spec.Question)
		writePoll(w, p)
	}

	slices.SortFunc(students, func(a, b room.SavedMember) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	fmt.Fprintf(w, "\nStudents: questions answered, and answered right where a question has one right answer\n")
	nameW := len("name")
	for _, m := range students {
		nameW = max(nameW, len([]rune(displayName(m))))
	}
	for _, m := range students {
		answered, right := 0, 0
		for _, p := range state.Polls {
			a, ok := p.Answers[m.ID]
			if !ok {
				continue
			}
			answered++
			if p.Spec.Kind == room.MultipleChoice && a.Choice == p.Spec.Correct {
				right++
			}
		}
		name := displayName(m)
		fmt.Fprintf(w, "  %s%s  %d answered · %d right\n", name, strings.Repeat(" ", nameW-len([]rune(name))), answered, right)
	}
}

// writePoll is one question's answers: each choice's count, or the
// estimates' median beside the truth.
func writePoll(w io.Writer, p room.SavedPoll) {
	n := len(p.Answers)
	if p.Spec.Kind == room.MultipleChoice {
		counts := make([]int, len(p.Spec.Choices))
		for _, a := range p.Answers {
			if a.Choice >= 0 && a.Choice < len(counts) {
				counts[a.Choice]++
			}
		}
		right := 0
		if p.Spec.Correct >= 0 && p.Spec.Correct < len(counts) {
			right = counts[p.Spec.Correct]
		}
		fmt.Fprintf(w, "    %d answered · %d right%s\n", n, right, percent(right, n))
		for i, c := range p.Spec.Choices {
			mark := " "
			if i == p.Spec.Correct {
				mark = "✓"
			}
			fmt.Fprintf(w, "    %d) %-24s %s %4d\n", i+1, c, mark, counts[i])
		}
		return
	}
	est := make([]float64, 0, n)
	for _, a := range p.Answers {
		est = append(est, a.Number)
	}
	slices.Sort(est)
	within := 0
	for _, v := range est {
		if p.Spec.Truth > 0 && v > 0 && math.Abs(math.Log2(v/p.Spec.Truth)) <= 1 {
			within++
		}
	}
	line := fmt.Sprintf("    %d answered · the answer %s %s", n, lessons.FormatEstimate(p.Spec.Truth), p.Spec.Unit)
	if n > 0 {
		line += fmt.Sprintf(" · median %s · within a factor of 2: %d%s", lessons.FormatEstimate(room.Median(est)), within, percent(within, n))
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

func displayName(m room.SavedMember) string {
	if m.Name == "" {
		return "(no name)"
	}
	return m.Name
}

func percent(k, n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", (100*k+n/2)/n)
}
