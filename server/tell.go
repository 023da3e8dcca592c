package server

import (
	"fmt"

	"charm.land/ssh"
)

// tell writes a line for the person at the other end, after their program
// (if any) has ended. With a terminal it goes to the session's output, the
// stream the screen was drawn on, so it lands after the last frame and the
// terminal's restore: stderr is another stream, and a client may show the
// two in either order (the line would be drawn on the full-screen view
// that the restore then clears). Without a terminal it goes to stderr, where
// a script expects errors.
func tell(sess ssh.Session, text string) {
	if _, _, ok := sess.Pty(); ok {
		// The emulated PTY turns "\n" into "\r\n".
		_, _ = fmt.Fprint(sess, text+"\n")
		return
	}
	_, _ = fmt.Fprint(sess.Stderr(), text+"\n")
}

// refuse tells the person why and ends the session with exit status 1.
func refuse(sess ssh.Session, text string) {
	tell(sess, text)
	_ = sess.Exit(1)
	_ = sess.Close()
}
