package store

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"charm.land/log/v2"
)

// nobody is the user the root case runs as: root writes read-only files.
const nobody = 65534

// unwritableEnv tells TestHelperOpenUnwritable, in a child process, where
// the read-only database is.
const unwritableEnv = "STORE_TEST_UNWRITABLE_DIR"

// TestUnwritableDatabaseIsRefused makes the database file read-only in a
// folder that is writable (SQLite then opens it read-only without a word)
// and checks that Open refuses it. Root writes read-only files anyway, so
// as root the check runs in a child process as nobody.
func TestUnwritableDatabaseIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		makeReadOnlyDatabase(t, dir, os.Getuid(), os.Getgid())
		db, err := Open(dir, log.New(io.Discard))
		if err == nil {
			db.Close()
			t.Fatal("Open accepted a database it cannot write")
		}
		checkUnwritable(t, err.Error(), dir)
		return
	}

	// Everything the child touches must be reachable by nobody: the test
	// binary and the data folder, under a folder of our own (t.TempDir's
	// parents may be private to root).
	top, err := os.MkdirTemp("", "store-unwritable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(top, "store.test")
	copyFile(t, os.Args[0], bin, 0o755)
	dir := filepath.Join(top, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	makeReadOnlyDatabase(t, dir, nobody, nobody)

	cmd := exec.Command(bin, "-test.run=^TestHelperOpenUnwritable$", "-test.v")
	cmd.Dir = top
	cmd.Env = append(os.Environ(), unwritableEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child running as nobody failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Open refused:") {
		t.Fatalf("the child did not run the check:\n%s", out)
	}
	checkUnwritable(t, string(out), dir)
	t.Logf("as nobody: %s", out)
}

// TestHelperOpenUnwritable is the child of TestUnwritableDatabaseIsRefused
// when the tests run as root; on its own it has nothing to check.
func TestHelperOpenUnwritable(t *testing.T) {
	dir := os.Getenv(unwritableEnv)
	if dir == "" {
		return
	}
	if os.Geteuid() == 0 {
		t.Fatal("the helper runs as root, which can write anything")
	}
	db, err := Open(dir, log.New(io.Discard))
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database it cannot write")
	}
	fmt.Printf("Open refused: %v\n", err)
}

// makeReadOnlyDatabase leaves in dir a database (with data) that the user
// uid can read but not write, in a folder uid can write.
func makeReadOnlyDatabase(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	db, err := Open(dir, log.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	db.Record(event(1, "key:ada"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	for _, p := range []string{dir, path} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if leftovers, _ := filepath.Glob(path + "-*"); len(leftovers) > 0 {
		t.Fatalf("files left by Close: %v", leftovers)
	}
}

func checkUnwritable(t *testing.T, msg, dir string) {
	t.Helper()
	// What Open's error must say, plainly: which file, and what to check.
	for _, w := range []string{"cannot be written", "permissions", "free space", filepath.Join(dir, FileName)} {
		if !strings.Contains(msg, w) {
			t.Errorf("Open's error does not say %q:\n%s", w, msg)
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}
