package server

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// tokenFile is the instructor token's file in the data directory. The token
// is kept across restarts, so a server restarted mid-class (an upgrade, a
// crash) does not leave the instructor outside with a token that no longer
// works; Config.NewToken makes a new one.
const tokenFile = "instructor_token"

// tokenShape is what a token looks like: four groups of four base32 letters.
var tokenShape = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)

// loadToken reads the instructor token from dataDir, or makes one (and keeps
// it, readable by the owner only) when there is none, it is malformed, or
// fresh is set.
func loadToken(dataDir string, fresh bool) (string, error) {
	path := filepath.Join(dataDir, tokenFile)
	if !fresh {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if t := strings.TrimSpace(string(data)); tokenShape.MatchString(t) {
				return t, nil
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("read instructor token %s: %w", path, err)
		}
	}
	t := newToken()
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write instructor token %s: %w", path, err)
	}
	// WriteFile keeps the mode of a file that was there: make sure.
	if err := os.Chmod(path, 0o600); err != nil {
		return "", fmt.Errorf("protect instructor token %s: %w", path, err)
	}
	return t, nil
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
