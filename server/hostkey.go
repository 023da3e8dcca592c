package server

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/charmbracelet/keygen"
	gossh "golang.org/x/crypto/ssh"
)

// hostKeyFile is the name of the host key inside the data directory.
const hostKeyFile = "host_ed25519"

// loadHostKey reads the ed25519 host key from dataDir, creating the
// directory (owner-only) and the key on first start. Reusing the key is what
// keeps students' known_hosts happy across restarts.
func loadHostKey(dataDir string) (gossh.Signer, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dataDir, hostKeyFile)
	kp, err := keygen.New(path, keygen.WithKeyType(keygen.Ed25519), keygen.WithWrite())
	if err != nil {
		return nil, fmt.Errorf("open host key %s: %w", path, err)
	}
	return kp.Signer(), nil
}
