// Command attack plays one hostile student's attack against a running
// Expedition server and reports what it cost the server: its resident
// memory before, at the peak of and after the attack, the CPU time it spent,
// and whether a fresh student can still join afterwards. It exists so that
// docs/RELIABILITY.md can give a measured figure per attack, reproducibly.
//
//	go build -o /tmp/exp ./cmd/server
//	/tmp/exp --data /tmp/attackdata --listen 127.0.0.1:2400 2> /tmp/attack-server.log &
//	go run ./cmd/attack env --addr 127.0.0.1:2400 --pid $! --count 200
//
// Run it with no arguments for the list of attacks and their flags. It only
// ever connects to the address given: point it at a server on loopback or
// at the project's own test hosts, never at anyone else's.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// An attack is one thing a hostile student can do to the server.
type attack struct {
	name  string
	about string
	// setup adds the attack's own flags to fs and returns the function that
	// plays it once they are parsed.
	setup func(fs *flag.FlagSet) playFunc
}

// playFunc plays an attack against the target and adds what it saw to r.
// The common measurements (memory, CPU, log, database, health) are taken
// around it.
type playFunc func(tg *target, r *report) error

// target is the server under attack, as the common flags describe it.
type target struct {
	addr string // where it listens
	pid  int    // its process, for RSS and CPU; 0 if not given
	data string // its data directory, for the database; "" if not given
	log  string // the file its stderr goes to; "" if not given

	showScreen bool // print the attack's last screen in full
}

// attacks are listed in the order of the usage text.
var attacks = []attack{
	{"hugepty", "sessions asking for a 65535×65535 terminal", setupHugePTY},
	{"resize", "a storm of window changes between tiny and enormous sizes", setupResize},
	{"env", "thousands of large env requests on one session", setupEnv},
	{"usernames", "many keyless logins with a 244 KiB user name each", setupUsernames},
	{"handshakes", "key exchanges as fast as possible, never authenticating", setupHandshakes},
	{"tokens", "simultaneous instructor logins with a wrong token", setupTokens},
	{"actions", "a student pressing h (raise/lower hand) as fast as it can", setupActions},
	{"samples", "a student drawing samples in chapter 7 as fast as it can", setupSamples},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its outputs and exit code made testable: 0 when the
// attack ran and a fresh student could join afterwards, 1 when either
// failed, 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return 2
	}
	var a *attack
	for i := range attacks {
		if attacks[i].name == args[0] {
			a = &attacks[i]
		}
	}
	if a == nil {
		fmt.Fprintf(stderr, "attack: unknown attack %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("attack "+a.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	play := a.setup(fs)
	own := flagNames(fs) // the attack's own flags, before the common ones
	tg := &target{}
	settle := commonFlags(fs, tg)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "attack %s: unexpected argument %q\n", a.name, fs.Arg(0))
		return 2
	}

	r := &report{}
	r.addf("attack", "%s %s", a.name, flagValues(fs, own))
	before := measure(tg)
	peak := startSampler(tg.pid, 100*time.Millisecond)
	begin := time.Now()
	err := play(tg, r)
	took := time.Since(begin)
	// The figure before counts too: memory the collector hands back while
	// the attack starts would otherwise leave the peak below it.
	peakRSS := max(peak.stopPeak(), before.rss)
	// Sessions the attack closed take a moment to be torn down on the
	// server; the figures after are taken once that is done.
	time.Sleep(*settle)
	after := measure(tg)
	if err != nil {
		r.addf("error", "%v", err)
	}
	r.addf("took", "%v", took.Round(time.Millisecond))
	before.report(r, after, peakRSS, tg)
	h := checkHealth(tg.addr)
	r.addf("health", "%s", h)
	if !h.ok && h.screen != "" {
		r.block("health screen", h.screen)
	}
	r.print(stdout)
	if err != nil || !h.ok {
		return 1
	}
	return 0
}

// commonFlags adds the flags every attack takes and returns the settle time.
func commonFlags(fs *flag.FlagSet, tg *target) *time.Duration {
	fs.StringVar(&tg.addr, "addr", "127.0.0.1:2222", "the server's SSH address (loopback or the project's test hosts only)")
	fs.IntVar(&tg.pid, "pid", 0, "the server's process ID, to report its RSS and CPU time from /proc")
	fs.StringVar(&tg.data, "data", "", "the server's data directory, to report the events table and database size")
	fs.StringVar(&tg.log, "log", "", "the file the server's stderr goes to, to report its growth and longest line")
	fs.BoolVar(&tg.showScreen, "screen", false, "print the attacking session's last screen in full")
	return fs.Duration("settle", time.Second, "wait this long after the attack before the figures after it")
}

// usage lists every attack with its own flags and their defaults.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: attack ATTACK [flags] [--addr 127.0.0.1:2222] [--pid N] [--data DIR] [--log FILE] [--settle 1s] [--screen]")
	fmt.Fprintln(w)
	for _, a := range attacks {
		fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
		a.setup(fs)
		var b strings.Builder
		fs.VisitAll(func(f *flag.Flag) { fmt.Fprintf(&b, " [--%s %s]", f.Name, f.DefValue) })
		fmt.Fprintf(w, "  attack %s%s\n      %s\n", a.name, b.String(), a.about)
	}
	fmt.Fprintln(w, "\n`attack ATTACK -h` describes each flag. Only ever point it at your own test server.")
}

// flagNames are the names of the flags defined in fs so far.
func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// flagValues spells the named flags' values as name=value, so a report
// says exactly what was run.
func flagValues(fs *flag.FlagSet, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+fs.Lookup(n).Value.String())
	}
	return strings.Join(parts, " ")
}

// report is the result of one run: a few labelled lines of name=value
// fields, and blocks of screen text, printed aligned for pasting.
type report struct {
	lines  [][2]string
	blocks [][2]string
}

// addf adds a line under label.
func (r *report) addf(label, format string, args ...any) {
	r.lines = append(r.lines, [2]string{label, fmt.Sprintf(format, args...)})
}

// screen adds the attacking session's last screen, if it was asked for.
func (r *report) screen(tg *target, text string) {
	if tg.showScreen {
		r.block("last screen", text)
	}
}

// block adds a multi-line text (a screen) printed after the lines.
func (r *report) block(title, text string) {
	r.blocks = append(r.blocks, [2]string{title, text})
}

func (r *report) print(w io.Writer) {
	width := 0
	for _, l := range r.lines {
		width = max(width, len(l[0]))
	}
	for _, l := range r.lines {
		fmt.Fprintf(w, "%-*s  %s\n", width, l[0], l[1])
	}
	for _, b := range r.blocks {
		fmt.Fprintf(w, "%s:\n", b[0])
		for line := range strings.Lines(b[1]) {
			fmt.Fprintf(w, "    │ %s", line)
		}
		if !strings.HasSuffix(b[1], "\n") {
			fmt.Fprintln(w)
		}
	}
}

// atLeastOne checks a count flag: an attack of nothing measures nothing.
func atLeastOne(name string, v int) error {
	if v < 1 {
		return fmt.Errorf("--%s must be at least 1, not %d", name, v)
	}
	return nil
}

// mib spells a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

// fileSize spells a file size: in KiB below a MiB, where MiB would read 0.0.
func fileSize(b int64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%dKiB", (b+512)>>10)
	}
	return mib(b)
}

// signedSize spells a change in bytes with its sign, like fileSize.
func signedSize(b int64) string {
	if b > -1<<20 && b < 1<<20 {
		return fmt.Sprintf("%+dKiB", b/1024)
	}
	return fmt.Sprintf("%+.1fMiB", float64(b)/(1<<20))
}

// errText is an error's text for a report line, cut to one line.
func errText(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// errFirst keeps the first error of many, with how many there were. It is
// safe for concurrent use.
type errFirst struct {
	mu    sync.Mutex
	n     int
	first error
}

func (e *errFirst) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if e.first == nil {
		e.first = err
	}
}

// count is how many errors there were.
func (e *errFirst) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func (e *errFirst) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (first: %s)", e.n, errText(e.first))
}

// err is the errors as one, or nil.
func (e *errFirst) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return nil
	}
	return fmt.Errorf("%d failed, the first: %w", e.n, e.first)
}
