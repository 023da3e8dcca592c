package session

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// TestREADMEListsTheKeyMap: the README's key tables list exactly the keys
// the key map has, by role: the key map is the one place a key is given a
// meaning, and the README is where a teacher reads it.
func TestREADMEListsTheKeyMap(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	km := ui.NewKeyMap()
	labels := func(groups []ui.Group, titles ...string) []string {
		var out []string
		for _, g := range groups {
			if len(titles) > 0 && !slices.Contains(titles, g.Title) {
				continue
			}
			for _, b := range g.Keys {
				out = append(out, b.Help().Key)
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("README's %s: %q\nkey map: %q", what, got, want)
		}
	}
	everyone, student, instructor := tableKeys(t, readme)
	check("keys for everyone", everyone, labels(km.Groups(false, false)))
	check("student keys", student, labels(km.Groups(true, false), "In class"))
	check("instructor keys", instructor, labels(km.Groups(true, true), "Teaching", "On the dashboard"))
}

// tableKeys reads the README's two key tables: "| key | does |" (everyone)
// and "| key | who | does |" (by role).
func tableKeys(t *testing.T, readme string) (everyone, student, instructor []string) {
	t.Helper()
	row := regexp.MustCompile("^\\| `([^`]+)` \\|")
	table := func(header string) []string {
		i := strings.Index(readme, header)
		if i < 0 {
			t.Fatalf("README has no table %q", header)
		}
		var rows []string
		for _, line := range strings.Split(readme[i:], "\n")[2:] {
			if !strings.HasPrefix(line, "|") {
				break
			}
			rows = append(rows, line)
		}
		return rows
	}
	for _, line := range table("| key | does |") {
		if m := row.FindStringSubmatch(line); m != nil {
			everyone = append(everyone, m[1])
		}
	}
	for _, line := range table("| key | who | does |") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		who := strings.TrimSpace(strings.Split(line, "|")[2])
		switch {
		case strings.HasPrefix(who, "student"):
			student = append(student, m[1])
		case strings.HasPrefix(who, "instructor"):
			instructor = append(instructor, m[1])
		default:
			t.Errorf("README key row for %q: who is %q", m[1], who)
		}
	}
	return everyone, student, instructor
}
