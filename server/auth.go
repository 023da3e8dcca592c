package server

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"charm.land/log/v2"
	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/session/room"
)

// InstructorUser is the SSH user name that asks for the instructor token.
const InstructorUser = "instructor"

// roleExtension marks, in the permissions of the authentication attempt that
// succeeded, a connection that answered the instructor token. Permissions
// are reset for every attempt, unlike context values, so a failed or merely
// probed method can never leave the mark behind.
const roleExtension = "expedition-role@expedition"

// auth decides who is the instructor. A key listed in the instructors file
// is the instructor under any user name; without a file, whoever answers
// the start-up token as user "instructor" is.
type auth struct {
	log      *log.Logger
	refusals *refusals
	keys     map[string]bool // instructor key fingerprints
	token    string          // "" when an instructors file is in use

	mu       sync.Mutex
	failures map[string]*failure // by client IP
	now      func() time.Time
}

// failure is one address's token attempts since its last success.
type failure struct {
	tries int       // attempts begun, counted before they are checked
	last  time.Time // when the latest began
}

// throttle settings: after freeFailures tries from one address each further
// try waits twice as long (up to maxDelay), and past lockFailures the
// address is refused outright until lockFor after its last try.
const (
	freeFailures = 3
	lockFailures = 10
	maxDelay     = 8 * time.Second
	lockFor      = 10 * time.Minute
)

// newAuth reads the instructors file, or, without one, takes token as what
// "ssh instructor@host" must answer.
func newAuth(logger *log.Logger, refused *refusals, instructorsFile, token string) (*auth, error) {
	a := &auth{log: logger, refusals: refused, keys: map[string]bool{}, failures: map[string]*failure{}, now: time.Now}
	if instructorsFile == "" {
		if token == "" {
			return nil, errors.New("no instructors file and no token: nobody could teach")
		}
		a.token = token
		return a, nil
	}
	data, err := os.ReadFile(instructorsFile)
	if err != nil {
		return nil, fmt.Errorf("read instructors file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("instructors file %s line %d: %w", instructorsFile, line, err)
		}
		a.keys[gossh.FingerprintSHA256(pk)] = true
	}
	if len(a.keys) == 0 {
		return nil, fmt.Errorf("instructors file %s lists no keys", instructorsFile)
	}
	return a, nil
}

// publicKey lets any key in. It decides nothing about roles: it is also
// called for keys a client only offers and never proves it holds, so the
// role is read after authentication from the key that did authenticate.
func (a *auth) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if a.keys[gossh.FingerprintSHA256(key)] {
		return true
	}
	// As "instructor" a key that is not listed is turned down so the
	// client moves on to the token prompt.
	return ctx.User() != InstructorUser
}

func (a *auth) keyboardInteractive(ctx ssh.Context, ask gossh.KeyboardInteractiveChallenge) bool {
	if ctx.User() != InstructorUser {
		return true // keyless students get in with no questions
	}
	if a.token == "" {
		a.log.Warn("instructor login refused: only keys in the instructors file may teach", "addr", ctx.RemoteAddr().String())
		return false
	}
	ip := hostOf(ctx.RemoteAddr())
	wait, until := a.begin(ip)
	if !until.IsZero() {
		a.refusals.note("instructor login refused: too many wrong tokens", ip)
		// A challenge with no questions shows its instruction: the person
		// at the keyboard reads why instead of a bare "Permission denied".
		_, _ = ask("Expedition", lockedText(until), nil, nil)
		return false
	}
	if wait > 0 {
		time.Sleep(wait)
	}
	answers, err := ask(InstructorUser, "Expedition instructor login", []string{"Instructor token: "}, []bool{false})
	if err != nil || len(answers) != 1 {
		return false
	}
	if !a.tokenMatches(answers[0]) {
		a.log.Warn("wrong instructor token", "addr", ip)
		// Said at the prompt, before the client asks again: a bare
		// "Permission denied" reads like a broken server.
		_, _ = ask("Expedition", wrongTokenText, nil, nil)
		return false
	}
	a.succeeded(ip)
	perms := ctx.Permissions()
	if perms.Extensions == nil {
		perms.Extensions = map[string]string{}
	}
	perms.Extensions[roleExtension] = "instructor"
	return true
}

// wrongTokenText is what an instructor who typed a wrong token reads.
const wrongTokenText = "Wrong instructor token. It is in the server's log (or in instructor_token " +
	"in its data folder); letters and dashes, case does not matter."

// tokenMatches reports whether given is the token, as a person may type it.
func (a *auth) tokenMatches(given string) bool {
	given = strings.ToLower(strings.TrimSpace(given))
	return subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) == 1
}

// succeeded forgets ip's failed tries once it logs in.
func (a *auth) succeeded(ip string) {
	a.mu.Lock()
	delete(a.failures, ip)
	a.mu.Unlock()
	a.log.Info("instructor logged in", "addr", ip)
}

// checkToken is one instructor login by token from ip through a door with
// no prompt of its own (the web page sends the token with its hello): the
// try is counted before it is checked, as at the SSH prompt. It returns ""
// when the token is right, else what the person reads.
func (a *auth) checkToken(ip, given string) (refusal string) {
	if a.token == "" {
		return "Instructor login by token is off on this server: only keys listed in its instructors file may teach."
	}
	wait, until := a.begin(ip)
	if !until.IsZero() {
		a.refusals.note("instructor login refused: too many wrong tokens", ip)
		return lockedText(until)
	}
	if wait > 0 {
		time.Sleep(wait)
	}
	if !a.tokenMatches(given) {
		a.log.Warn("wrong instructor token", "addr", ip, "door", "web")
		return wrongTokenText
	}
	a.succeeded(ip)
	return ""
}

// lockedText is what a locked-out instructor reads.
func lockedText(until time.Time) string {
	return fmt.Sprintf("Instructor login is locked for your address until %s UTC: %d wrong tokens in a row. "+
		"Students can still join. To teach now, restart the server (which forgets the lockout), "+
		"or list your key in a file and start with --instructors.", until.UTC().Format("15:04"), lockFailures)
}

// begin counts a token attempt from ip before it is checked, so a flood of
// simultaneous guesses cannot all slip in before the first failure is
// recorded. It says how long this attempt waits first, or, when the address
// has used all its tries, until when it is locked out.
func (a *auth) begin(ip string) (wait time.Duration, lockedUntil time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	f := a.failures[ip]
	if f != nil && now.Sub(f.last) > lockFor {
		f = nil
	}
	if f == nil {
		a.forgetOld(now)
		f = &failure{}
		a.failures[ip] = f
	}
	if f.tries >= lockFailures {
		return 0, f.last.Add(lockFor)
	}
	f.tries++
	f.last = now
	if f.tries <= freeFailures {
		return 0, time.Time{}
	}
	return min(time.Second<<(f.tries-freeFailures-1), maxDelay), time.Time{}
}

// forgetOld drops addresses quiet for lockFor rather than grow without
// bound under a flood of addresses. Callers hold a.mu.
func (a *auth) forgetOld(now time.Time) {
	if len(a.failures) < 10000 {
		return
	}
	for k, v := range a.failures {
		if now.Sub(v.last) > lockFor {
			delete(a.failures, k)
		}
	}
}

func hostOf(addr net.Addr) string {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// roleOf is the role of an authenticated session: instructor when the key
// it authenticated with is listed, or when it answered the token.
func (a *auth) roleOf(sess ssh.Session) room.Role {
	if pk := sess.PublicKey(); pk != nil && a.keys[gossh.FingerprintSHA256(pk)] {
		return room.Instructor
	}
	if sess.PublicKey() == nil && sess.Permissions().Extensions[roleExtension] == "instructor" {
		return room.Instructor
	}
	return room.Student
}
