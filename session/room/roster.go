package room

import (
	"slices"
	"strings"
)

// Roster is every member for the instructor's dashboard: those here first,
// then those away, each by name. It is built when the dashboard asks, not
// with every change, so a hand raised costs the same in a class of three
// thousand as in one of thirty.
func (s *Seat) Roster() ([]MemberView, error) {
	var out []MemberView
	err := s.instructor(func(r *Room) error {
		out = make([]MemberView, 0, len(r.members))
		for _, m := range r.members {
			out = append(out, r.view(m))
		}
		return nil
	})
	slices.SortFunc(out, func(a, b MemberView) int {
		switch {
		case a.Role != b.Role:
			return int(b.Role) - int(a.Role)
		case a.Connected != b.Connected:
			if a.Connected {
				return -1
			}
			return 1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}
