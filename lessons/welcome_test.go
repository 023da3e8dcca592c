package lessons

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/expedition-llm/expedition/lessons/ui"
)

// The welcome promises only estimates the tour shows: its example of an
// [estimate] is chapter 4's GPU-years at an assumed MFU, which that chapter
// badges as an estimate. No screen shows a GPT-5-class model's size (no
// such figure is published), so the welcome does not promise one.
func TestWelcomeEstimateExampleIsShown(t *testing.T) {
	w := chapter(t, "welcome")
	out := flat(renderPlain(w, nil, 80, 40, ""))
	if !strings.Contains(out, "[estimate] an informed guess, such as GPU-years at an assumed utilisation") {
		t.Errorf("welcome badges:\n%s", out)
	}
	if strings.Contains(out, "model's size") {
		t.Errorf("welcome still promises a model-size estimate:\n%s", out)
	}
	sc := chapter(t, "scaling")
	found := false
	for _, ln := range strings.Split(renderPlain(sc, Defaults(sc.Controls()), 120, 40, ""), "\n") {
		found = found || strings.Contains(ln, "GPU-years") && strings.Contains(ln, "[estimate]")
	}
	if !found {
		t.Error("the scaling chapter no longer shows GPU-years badged as an estimate: change the welcome's example")
	}
}

// Taken alone (server local, server snapshot) there is no instructor and
// no class: the welcome shows no classroom keys, only the getting-around
// ones. In class, both sections are there.
func TestWelcomeSoloHasNoClassroomKeys(t *testing.T) {
	w := chapter(t, "welcome")
	classroom := []string{"In class", "follow the instructor", "raise or lower your hand", "answer a poll", "An instructor leads"}
	for _, size := range [][2]int{{80, 24}, {60, 24}, {120, 40}} {
		class := flat(ansi.Strip(w.Render(Frame{Theme: ui.NewTheme(true), Width: size[0], Height: size[1]})))
		raw := w.Render(Frame{Theme: ui.NewTheme(false), Width: size[0], Height: size[1], Solo: true})
		checkFits(t, fmt.Sprintf("welcome alone %v", size), raw, size[0])
		solo := flat(ansi.Strip(raw))
		for _, k := range classroom {
			if !strings.Contains(class, k) {
				t.Errorf("%v in class lacks %q:\n%s", size, k, class)
			}
			if strings.Contains(solo, k) {
				t.Errorf("%v alone shows the classroom's %q:\n%s", size, k, solo)
			}
		}
		for _, k := range []string{"Getting around", "next / previous chapter", "change it (shift: 10 steps)", "all keys · quit"} {
			if !strings.Contains(solo, k) {
				t.Errorf("%v alone lacks %q:\n%s", size, k, solo)
			}
		}
	}
}
