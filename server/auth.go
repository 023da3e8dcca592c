package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
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
	log   *log.Logger
	keys  map[string]bool // instructor key fingerprints
	token string          // "" when an instructors file is in use

	mu       sync.Mutex
	failures map[string]*failure // by client IP
	now      func() time.Time
}

type failure struct {
	count int
	last  time.Time
}

// throttle settings: after freeFailures wrong tokens from one address each
// further attempt waits twice as long (up to maxDelay), and past
// lockFailures the address is refused outright until a quiet lockFor.
const (
	freeFailures = 3
	lockFailures = 10
	maxDelay     = 8 * time.Second
	lockFor      = 10 * time.Minute
)

func newAuth(logger *log.Logger, instructorsFile string) (*auth, error) {
	a := &auth{log: logger, keys: map[string]bool{}, failures: map[string]*failure{}, now: time.Now}
	if instructorsFile == "" {
		a.token = newToken()
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

// newToken makes a token that is easy to read off a projector and type:
// 16 characters of base32 in groups of four.
func newToken() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand never fails on Linux
	}
	s := strings.ToLower(base32.StdEncoding.EncodeToString(b))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
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
	if wait, locked := a.delay(ip); locked {
		a.log.Warn("instructor login refused: too many wrong tokens", "addr", ip)
		return false
	} else if wait > 0 {
		time.Sleep(wait)
	}
	answers, err := ask(InstructorUser, "Expedition instructor login", []string{"Instructor token: "}, []bool{false})
	if err != nil || len(answers) != 1 {
		return false
	}
	given := strings.ToLower(strings.TrimSpace(answers[0]))
	if subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) != 1 {
		a.fail(ip)
		a.log.Warn("wrong instructor token", "addr", ip)
		return false
	}
	a.mu.Lock()
	delete(a.failures, ip)
	a.mu.Unlock()
	perms := ctx.Permissions()
	if perms.Extensions == nil {
		perms.Extensions = map[string]string{}
	}
	perms.Extensions[roleExtension] = "instructor"
	a.log.Info("instructor logged in", "addr", ip)
	return true
}

// delay is how long the next attempt from ip waits, or locked when it is
// refused outright.
func (a *auth) delay(ip string) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[ip]
	if f == nil {
		return 0, false
	}
	if a.now().Sub(f.last) > lockFor {
		delete(a.failures, ip)
		return 0, false
	}
	if f.count >= lockFailures {
		return 0, true
	}
	if f.count < freeFailures {
		return 0, false
	}
	return min(time.Second<<(f.count-freeFailures), maxDelay), false
}

func (a *auth) fail(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[ip]
	if f == nil {
		f = &failure{}
		a.failures[ip] = f
	}
	f.count++
	f.last = a.now()
	// Forget the oldest addresses rather than grow without bound under a
	// flood of addresses.
	if len(a.failures) > 10000 {
		for k, v := range a.failures {
			if a.now().Sub(v.last) > lockFor {
				delete(a.failures, k)
			}
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
