package room

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// MaxNameWidth is the most terminal cells a display name takes.
const MaxNameWidth = 24

// InstructorBadge marks the instructor's name. CleanName strips it (and its
// look-alikes) from every name, so no student can wear it.
const InstructorBadge = "★"

// badgeLike are characters close enough to the badge to fool a glance: the
// stars of the Dingbats and Miscellaneous Symbols blocks, and a few others.
const badgeLike = "★☆✩✪✫✬✭✮✯✰✱✲✳✴✵✶✷✸✹✺✻✼✽✾✿⋆⭐⭑⭒🌟🟊🟉🟋🟌🟍🟎🟏🟐🟑✡✦✧"

// maxMarks is how many combining marks one letter may carry: enough for any
// real script, too few to stack "zalgo" text over the rows around a name.
const maxMarks = 2

// CleanName makes a display name safe to show on everyone's screen: escape
// sequences and control characters go, as do bidirectional overrides and
// other invisible format characters (which could reorder what others read),
// the instructor's badge and its look-alikes; runs of spaces fold to one;
// the result is cut to MaxNameWidth cells.
func CleanName(s string) string {
	s = ansi.Strip(s)
	var b strings.Builder
	space := false
	marks := 0
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) {
			if marks++; marks > maxMarks || b.Len() == 0 {
				continue
			}
		} else {
			marks = 0
		}
		switch {
		case r == unicode.ReplacementChar:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), strings.ContainsRune(badgeLike, r):
			continue
		case r == 0x2028 || r == 0x2029:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if ansi.StringWidth(out) > MaxNameWidth {
		out = ansi.Truncate(out, MaxNameWidth, "")
	}
	return strings.TrimSpace(out)
}

// genericUsers are SSH user names that say nothing about the person, so the
// name prompt starts empty instead of offering them.
const genericUsers = " root user ubuntu student admin guest pi ec2-user debian test tester instructor teacher workshop anonymous nobody git ssh "

// SuggestName is the name the prompt is prefilled with: the SSH user name,
// cleaned, unless it is one of the generic ones.
func SuggestName(sshUser string) string {
	n := CleanName(sshUser)
	if n == "" || strings.Contains(genericUsers, " "+strings.ToLower(n)+" ") {
		return ""
	}
	return n
}

// truncateName cuts a cleaned name to cells terminal cells.
func truncateName(s string, cells int) string {
	return strings.TrimSpace(ansi.Truncate(s, max(cells, 1), ""))
}
