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

// starLike reports the characters close enough to the badge to fool a
// glance: stars, asterisms and florettes of the Arabic, punctuation,
// mathematical, symbol, dingbat, arrow and emoji blocks.
func starLike(r rune) bool {
	for _, rg := range [...][2]rune{
		{0x066D, 0x066D},   // ٭ Arabic five pointed star
		{0x2042, 0x2042},   // ⁂ asterism
		{0x204E, 0x204E},   // ⁎ low asterisk
		{0x2051, 0x2051},   // ⁑ two asterisks
		{0x2055, 0x2055},   // ⁕ flower punctuation mark
		{0x22C6, 0x22C6},   // ⋆ star operator
		{0x235F, 0x235F},   // ⍟ APL circle star
		{0x2605, 0x2606},   // ★ ☆
		{0x262A, 0x262A},   // ☪
		{0x269D, 0x269D},   // ⚝ outlined white star
		{0x26E4, 0x26E7},   // ⛤ ⛥ ⛦ ⛧ pentagrams
		{0x2721, 0x2721},   // ✡
		{0x2726, 0x274B},   // ✦ … ❋ dingbat stars, asterisks, florettes
		{0x2B50, 0x2B52},   // ⭐ ⭑ ⭒
		{0x2BE8, 0x2BEF},   // half stars
		{0xFE61, 0xFE61},   // ﹡ small asterisk
		{0x1F31F, 0x1F320}, // 🌟 🌠
		{0x1F4AB, 0x1F4AB}, // 💫
		{0x1F52F, 0x1F52F}, // 🔯
		{0x1F7C0, 0x1F7D8}, // geometric stars
		{0x1F929, 0x1F929}, // 🤩
	} {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// invisible reports letters and symbols that take a cell but show nothing
// (the Hangul fillers, the blank Braille pattern) and other code points
// Unicode says to ignore when drawing: a name made of them would be a blank
// row on the dashboard and a blank name on every screen.
func invisible(r rune) bool {
	return r == 0x2800 || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// maxNameInput is the most bytes of a name CleanName reads: 24 cells of the
// most elaborate script, with their marks, and room for junk around them.
const maxNameInput = 1024

// maxMarks is how many combining marks one letter may carry: enough for any
// real script, too few to stack "zalgo" text over the rows around a name.
const maxMarks = 2

// CleanName makes a display name safe to show on everyone's screen: escape
// sequences and control characters go, as do bidirectional overrides and
// other invisible characters (which could reorder what others read, or
// leave a blank name), the instructor's badge and its look-alikes; runs of
// spaces fold to one; the result is cut to MaxNameWidth cells. A name with
// nothing visible left cleans to "".
func CleanName(s string) string {
	if len(s) > maxNameInput {
		// An SSH user name can be hundreds of KiB; no name needs more.
		s = s[:maxNameInput]
	}
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
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), starLike(r), invisible(r):
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
