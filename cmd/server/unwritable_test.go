package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/store"
)

// TestUnwritableDatabaseStopsTheServer: a database file the server cannot
// write (read-only, in a writable folder) once let it teach a whole class
// and save nothing. Now the real binary refuses to start and says why. Root
// writes read-only files anyway, so as root the binary runs as nobody.
func TestUnwritableDatabaseStopsTheServer(t *testing.T) {
	const nobody = 65534
	uid, gid := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		uid, gid = nobody, nobody
	}
	// A folder of our own that uid can reach (t.TempDir's parents may be
	// private to root), holding the binary and the data.
	top, err := os.MkdirTemp("", "expedition-unwritable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(top, "expedition")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(top, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(data, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(data, store.FileName)
	for _, p := range []string{data, dbFile} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dbFile, 0o444); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--data", data)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the server kept running on a database it cannot write:\n%s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	for _, want := range []string{"cannot be written", dbFile, "permissions"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the server's words lack %q:\n%s", want, out)
		}
	}
	t.Logf("the server says:\n%s", out)
	if strings.Contains(string(out), "serving") {
		t.Errorf("the server served:\n%s", out)
	}
}
