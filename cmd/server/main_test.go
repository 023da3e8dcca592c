package main

import (
	"bytes"
	"flag"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expedition-llm/expedition/lessons"
)

func runCmd(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestSnapshotPrintsPlainScreen(t *testing.T) {
	out, errOut, code := runCmd("snapshot", "--chapter", "tokens", "--set", "text=Hello world", "--width", "100", "--height", "30")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("plain snapshot holds escape codes")
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 30 {
		t.Errorf("snapshot has %d lines, want 30", len(lines))
	}
	// o200k_base "Hello world" = [13225, 2375] (tiktoken).
	for _, want := range []string{"From letters to numbers", "13225", "2375", "2 tokens · 11 characters"} {
		if !strings.Contains(out, want) {
			t.Errorf("snapshot lacks %q:\n%s", want, out)
		}
	}
	colored, _, _ := runCmd("snapshot", "--chapter", "tokens", "--color")
	if !strings.Contains(colored, "\x1b[") {
		t.Errorf("--color snapshot has no escape codes")
	}
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--chapter", "nope"}, `unknown chapter "nope"`},
		{[]string{"--set", "colour=red"}, `no control "colour"`},
		{[]string{"--set", "view=bpe", "--set", "merges=9999"}, "out of range"},
		{[]string{"--set", "encoding=gpt2"}, "not one of o200k_base, cl100k_base"},
		{[]string{"--set", "novalue"}, "want key=value"},
		{[]string{"--width", "0"}, "--width must be 80 to 320"},
		{[]string{"--width", "60"}, "--width must be 80 to 320 and --height 24 to 100 (got 60×30)"},
		{[]string{"--height", "101"}, "(got 100×101)"},
		{[]string{"--chapter", "42"}, "there is no chapter 42"},
		{[]string{"--set", "text=" + strings.Repeat("x", 2001)}, "over the limit of 2000"},
	} {
		_, errOut, code := runCmd(append([]string{"snapshot"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("snapshot %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestSnapshotTakesAChapterNumber(t *testing.T) {
	byNumber, errOut, code := runCmd("snapshot", "--chapter", "3", "--width", "80", "--height", "24")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	byID, _, _ := runCmd("snapshot", "--chapter", "attention", "--width", "80", "--height", "24")
	if byNumber != byID || !strings.Contains(byNumber, "3  The act of looking back") {
		t.Errorf("--chapter 3 and --chapter attention differ:\n%s\n---\n%s", byNumber, byID)
	}
}

// TestHelpListsTheCommands: --help and help name every command and where
// each one's flags are.
func TestHelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, _, code := runCmd(args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, want := range []string{"serve", "local", "snapshot", "COMMAND -h", "EXPEDITION_"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v does not mention %q:\n%s", args, want, out)
			}
		}
	}
	_, errOut, _ := runCmd("serve", "-h")
	if !strings.Contains(errOut, "-new-token") || !strings.Contains(errOut, "Other commands: local, snapshot") {
		t.Errorf("serve -h:\n%s", errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, errOut, code := runCmd("fly"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// FuzzParseSets: any --set arguments give values or an error, never a
// panic, and accepted values are always valid for their control.
func FuzzParseSets(f *testing.F) {
	for _, s := range []string{"text=Hello", "view=bpe", "merges=9999", "encoding=gpt2", "=", "a=b=c", "text=\x1b[2J\x00", "merges=1e308", "merges=NaN"} {
		f.Add("tokens", s)
	}
	f.Add("stack", "layers=12")
	catalog := sync.OnceValues(lessons.NewCatalog)
	f.Fuzz(func(t *testing.T, chapter, set string) {
		cat, err := catalog()
		if err != nil {
			t.Fatal(err)
		}
		vals, err := ParseSets(cat, chapter, []string{set})
		if err != nil {
			return
		}
		i, _ := cat.Index(chapter)
		for _, c := range cat.At(i).Controls() {
			if got := c.Clamp(vals[c.Key]); got != vals[c.Key] {
				t.Fatalf("%s accepted as %q, which clamps to %q", c.Key, vals[c.Key], got)
			}
		}
	})
}

// TestEnvTwins: every serve flag has its EXPEDITION_ twin, from one table;
// a set variable is the default, the command line wins, and a bad value
// names the variable.
func TestEnvTwins(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	idle := fs.Duration("idle-timeout", time.Hour, "idle")
	burst := fs.Int("conn-burst", 200, "burst")
	t.Setenv("EXPEDITION_IDLE_TIMEOUT", "90m")
	t.Setenv("EXPEDITION_CONN_BURST", "50")
	if err := envTwins(fs); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--conn-burst", "7"}); err != nil {
		t.Fatal(err)
	}
	if *idle != 90*time.Minute || *burst != 7 {
		t.Errorf("idle %v (want 90m from the env), burst %d (want 7 from the command line)", *idle, *burst)
	}
	if u := fs.Lookup("idle-timeout").Usage; !strings.Contains(u, "(env EXPEDITION_IDLE_TIMEOUT)") {
		t.Errorf("the flag's help does not name its twin: %q", u)
	}
	bad := flag.NewFlagSet("t", flag.ContinueOnError)
	bad.Int("max-sessions", 1, "")
	t.Setenv("EXPEDITION_MAX_SESSIONS", "many")
	if err := envTwins(bad); err == nil || !strings.Contains(err.Error(), "EXPEDITION_MAX_SESSIONS") {
		t.Errorf("a bad value: %v", err)
	}
}

// TestProfilerOnlyOnLoopback: --pprof never opens the profiler to the room.
func TestProfilerOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		_, errOut, code := runCmd("serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--pprof", addr)
		if code != 2 || !strings.Contains(errOut, "--pprof") {
			t.Errorf("--pprof %s: exit %d, stderr %q", addr, code, errOut)
		}
	}
}

// TestBadNATSSettingsStopAtStart: a room name NATS cannot carry, or a
// replica count it cannot keep, is refused before anything starts.
func TestBadNATSSettingsStopAtStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--room", "class.a"}, "--room"},
		{[]string{"--room", ""}, "--room"},
		{[]string{"--nats-replicas", "0"}, "--nats-replicas"},
		{[]string{"--nats-replicas", "7"}, "--nats-replicas"},
	} {
		args := append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--web", "", "--nats", "nats://127.0.0.1:1"}, tc.args...)
		_, errOut, code := runCmd(args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, errOut, tc.want)
		}
	}
}
