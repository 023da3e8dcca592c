package server

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxLoggedText is the most bytes of a client's words (a user name, a
// TERM) that reach the log.
const maxLoggedText = 64

// clientText makes something a client chose safe and small for the log:
// cut to maxLoggedText bytes (with the full length said), and with control
// characters, escape sequences and invalid UTF-8 escaped, so no client can
// flood the log or write to the terminal of whoever reads it.
func clientText(s string) string {
	n := len(s)
	cut := n > maxLoggedText
	if cut {
		s = s[:maxLoggedText]
		// Drop a rune cut in half (at most UTFMax-1 bytes); invalid bytes
		// sent as such are escaped below all the same.
		for i := 1; i < utf8.UTFMax && !utf8.ValidString(s); i++ {
			s = s[:len(s)-1]
		}
	}
	q := strconv.QuoteToGraphic(s)
	q = q[1 : len(q)-1]
	if cut {
		q += fmt.Sprintf("…(%d bytes)", n)
	}
	return q
}
