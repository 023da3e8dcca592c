// Command loadtest measures how fast a class follows its instructor, and
// what that costs the server, against a floor: a minimal server on the same
// SSH library that writes the same bytes to every student.
//
// It connects N students (mixed terminal sizes, at a bounded rate) and one
// instructor to a running Expedition server. The instructor opens a chapter,
// focuses a slider and moves it K times; for every student and every step it
// times the key press until that student's screen shows the new value. Each
// student's terminal is a lightweight screen model (screen.go) fed the
// server's output; a sample of them is cross-checked against a real
// terminal emulator, github.com/charmbracelet/x/vt, and any screen where the
// two differ is reported. With --pid it reads the server's CPU (per step,
// per student per step, and idle) and memory per session from /proc.
//
// Every simulated student comes from 127.0.0.1, so the server's per-address
// limits must be raised first:
//
//	go build -o /tmp/exp ./cmd/server && go build -o /tmp/loadtest ./cmd/loadtest
//	/tmp/exp --data /tmp/lt --listen 127.0.0.1:2300 --max-sessions 3000 --conn-burst 3000 --conn-rate 1000 2> /tmp/lt.log &
//	/tmp/loadtest run --addr 127.0.0.1:2300 --pid $! --floor --students 300 --steps 20 \
//	    --token "$(grep -ao 'token=[a-z0-9-]*' /tmp/lt.log | cut -d= -f2)"
//
// --door web sends the students through the browser door instead: each
// opens the WebSocket at --web, says hello with a key of its own and its
// size, types as input messages and reads every binary message into the
// same screen model and cross-check as an SSH student. The instructor stays
// on SSH (--addr, --token) either way, so the timing reference is the same:
//
//	/tmp/exp --data /tmp/lt --listen 127.0.0.1:2300 --web 127.0.0.1:8080 --max-sessions 3000 --conn-burst 3000 --conn-rate 1000 2> /tmp/lt.log &
//	/tmp/loadtest run --door web --web ws://127.0.0.1:8080/ws --addr 127.0.0.1:2300 --pid $! --floor \
//	    --students 300 --steps 20 --token "$(grep -ao 'token=[a-z0-9-]*' /tmp/lt.log | cut -d= -f2)"
//
// The per-address limits and the session cap apply to both doors alike.
//
// Several addresses, comma-separated, spread the students over one class
// served at several places (servers sharing the class, or one server's
// listeners): student i goes to the (i mod n)th address of --addr, or of
// --web with --door web, and the instructor to the first --addr. Latency
// is still from the instructor's key press to each student's screen,
// wherever the student is, and the report gives each address's students,
// latency and misses beside the totals:
//
//	/tmp/loadtest run --addr 127.0.0.1:2300,127.0.0.1:2301 --students 300 --token …
//
// The host keys are not checked (see dialSSH), so servers with data
// directories, and so host keys, of their own are all let in. --pid names
// one process: with several servers its CPU and memory are that one's,
// yet the per-student figures divide by every student.
//
// --floor starts `loadtest floor` as a child process on a free loopback port
// once the server is measured, runs the same class against it and prints
// every figure beside the floor's and as a ratio to it; --json prints one
// JSON object instead of the table. `--pace 0` is lockstep: the next step
// only once every student shows the current one. The floor also runs on its
// own (`loadtest floor --listen 127.0.0.1:2301 --payload 1200`) and stops by
// itself once its last session leaves after a run, or after --for. The
// floor has an SSH door only: with --door web its students still come by
// SSH, since it stands for the least a server can do per student, and the
// report says which door each column's students used.
//
// The floor is always one server on one address, however many --addr or
// --web name.
//
// It only ever connects to the addresses it is given (--addr and --web,
// following no redirect and no proxy): a server on loopback or the
// project's own test hosts, never anyone else's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main made testable: 0 when the run is done and every cross-checked
// screen matched, 1 when it failed, 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runClass(args, stdout, stderr)
	case "floor":
		return runFloor(args, stdout, stderr)
	case "help":
		fmt.Fprintln(stderr, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n%s\n", cmd, usage)
		return 2
	}
}

const usage = `usage:
  loadtest [run] --addr HOST:PORT[,HOST:PORT…] --token TOKEN [--door web --web ws://HOST:PORT/ws[,…]]
                 [--pid PID] [--floor] [flags]
      a class against a running server, the students by SSH or by the
      browser door; several addresses (one class served at each) share the
      students round-robin, the instructor at the first --addr, and each
      has figures of its own beside the totals; --floor is always one
      server on one address; loadtest run --help lists the flags
  loadtest floor [--listen 127.0.0.1:0] [--payload 1200] [--for 10m]
      the floor: the same bytes to every session on each instructor key`

// defaultSizes are the students' terminals, student i getting sizes[i%4].
const defaultSizes = "80x24,100x30,120x40,160x50"

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadtest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func runClass(args []string, stdout, stderr io.Writer) int {
	// The floor's child process writes its errors here from a goroutine
	// of its own, beside the run's progress.
	stderr = &syncWriter{w: stderr}
	fs := newFlagSet("run", stderr)
	addr := fs.String("addr", "127.0.0.1:2222", "the server's SSH address, the instructor's whatever the door; several, comma-separated (one class at each), share the SSH students round-robin, the instructor at the first (loopback or the project's test hosts only)")
	door := fs.String("door", doorSSH, "how the students connect: ssh, or web (the browser door's WebSocket at --web)")
	webAddr := fs.String("web", "", "the browser door's WebSocket, ws://HOST:PORT/ws, for --door web; several, comma-separated, share the students round-robin (loopback or the project's test hosts only)")
	token := fs.String("token", "", "instructor token (the server logs token=… at start)")
	pid := fs.Int("pid", 0, "the server's process ID, for its CPU and memory from /proc (with several servers, one of them: the per-student figures still divide by every student)")
	students := fs.Int("students", 100, "students to connect")
	steps := fs.Int("steps", 20, "slider steps to time")
	pace := fs.Duration("pace", 400*time.Millisecond, "time between steps; 0 is lockstep (the next once every student shows this one)")
	sizes := fs.String("sizes", defaultSizes, "terminal sizes, student i getting the (i mod n)th; one size gives everyone that size")
	connectRate := fs.String("connect-rate", "50/s", "students connecting per second")
	connectConc := fs.Int("connect-concurrency", 32, "students connecting at once, at most")
	verify := fs.String("verify", "8", "students whose screens are cross-checked with x/vt (the instructor's always is), or all")
	timeout := fs.Duration("timeout", 10*time.Second, "how long a student may take to connect, to join, or to show a step's value")
	idle := fs.Duration("idle", 3*time.Second, "how long the idle CPU is measured, everyone connected and nothing changing")
	quiet := fs.Duration("quiet", 1500*time.Millisecond, "no output for this long means the class has settled after joining")
	chapter := fs.String("chapter", "4", "the chapter the instructor opens")
	label := fs.String("control", "Params N", "the label of the slider the instructor moves")
	withFloor := fs.Bool("floor", false, "then measure the floor the same way and compare (one server on one address, however many --addr or --web)")
	payload := fs.Int("payload", 0, "the floor's bytes per step (default: the server's bytes per student per step in this run)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opt := options{students: *students, steps: *steps, pace: *pace, timeout: *timeout, idle: *idle, quiet: *quiet,
		chapter: *chapter, label: *label, connectConc: *connectConc}
	var err error
	var addrs, webURLs []string
	if opt.sizes, err = parseSizes(*sizes); err == nil {
		if opt.connectRate, err = parseRate(*connectRate); err == nil {
			if opt.verify, err = parseVerify(*verify); err == nil {
				if addrs, err = parseList("--addr", *addr, parseSSHAddr); err == nil && *door == doorWeb && *webAddr != "" {
					webURLs, err = parseList("--web", *webAddr, parseWebURL)
				}
			}
		}
	}
	switch {
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *door != doorSSH && *door != doorWeb:
		err = fmt.Errorf("--door: %q is neither ssh nor web", *door)
	case *door == doorWeb && *webAddr == "":
		err = errors.New("--door web needs --web ws://HOST:PORT/ws, the browser door's WebSocket")
	case *door == doorSSH && *webAddr != "":
		err = errors.New("--web is the students' door with --door web; add --door web, or leave --web out")
	case *door == doorWeb && len(addrs) > 1:
		err = errors.New("--door web: the students go to the --web addresses and --addr is only the instructor's; give --addr one address")
	case *token == "":
		err = errors.New("--token is required (the server logs token=… at start)")
	case opt.students < 1 || opt.steps < 1 || opt.connectConc < 1:
		err = errors.New("--students, --steps and --connect-concurrency must be at least 1")
	case opt.pace < 0 || opt.timeout <= 0 || opt.idle < 0 || opt.quiet <= 0:
		err = errors.New("--pace and --idle must not be negative, --timeout and --quiet must be positive")
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest run: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep := &report{}
	rep.Config.Students, rep.Config.Door, rep.Config.Steps, rep.Config.Pace = opt.students, *door, opt.steps, opt.pace.String()
	rep.Config.Chapter, rep.Config.Control = opt.chapter, opt.label
	for _, s := range opt.sizes {
		rep.Config.Sizes = append(rep.Config.Sizes, s.String())
	}
	tg := target{name: "server", addr: addrs[0], students: addrs, token: *token, pid: *pid}
	if *door == doorWeb {
		tg.students, tg.web = webURLs, newWebDoor(opt.timeout)
	}
	rep.Server, err = measure(ctx, opt, tg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	if *withFloor {
		if rep.Floor, err = measureFloor(ctx, opt, rep.Server, *payload, stderr); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 1
		}
		rep.Config.Payload = int(math.Round(rep.Server.BytesPerStudentPerStep))
		if *payload > 0 {
			rep.Config.Payload = *payload
		}
		rep.Ratio = ratios(rep.Server, rep.Floor)
	}
	if *asJSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	for _, r := range []*result{rep.Server, rep.Floor} {
		if r != nil && r.Verify.Mismatches > 0 {
			fmt.Fprintf(stderr, "loadtest: %s: %d screens differ between the model and x/vt: the figures above cannot be trusted\n",
				r.Target, r.Verify.Mismatches)
			return 1
		}
	}
	return 0
}

// measureFloor starts the floor as a child process and runs the same class
// against it, with its process for CPU and memory. The floor has only an
// SSH door, whatever the server's students used: it stands for the least a
// server can do per student.
func measureFloor(ctx context.Context, opt options, server *result, payload int, stderr io.Writer) (*result, error) {
	if payload <= 0 {
		payload = max(int(math.Round(server.BytesPerStudentPerStep)), 1)
	}
	// Long enough for the whole run, should its end never come.
	forDur := 2*time.Minute + time.Duration(float64(opt.students)/opt.connectRate*float64(time.Second)) +
		time.Duration(opt.steps)*(opt.pace+opt.timeout) + opt.idle + 10*opt.quiet
	fc, err := startFloor(ctx, payload, opt.label, forDur, stderr)
	if err != nil {
		return nil, err
	}
	defer fc.stop()
	res, err := measure(ctx, opt, target{name: "floor", addr: fc.addr, students: []string{fc.addr}, token: "floor",
		pid: fc.cmd.Process.Pid}, stderr)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	return res, nil
}

// syncWriter lets several goroutines write to w, one write at a time.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// parseSizes reads "80x24,100x30".
func parseSizes(s string) ([]size, error) {
	var out []size
	for part := range strings.SplitSeq(s, ",") {
		var sz size
		if _, err := fmt.Sscanf(strings.TrimSpace(part), "%dx%d", &sz.w, &sz.h); err != nil || sz.w < 1 || sz.h < 1 {
			return nil, fmt.Errorf("--sizes: %q is not WIDTHxHEIGHT", part)
		}
		out = append(out, sz)
	}
	return out, nil
}

// parseRate reads "50/s", "50" or "3000/m".
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--connect-rate: %q is not a positive rate such as 50/s", s)
	}
	switch unit {
	case "", "s":
		return n, nil
	case "m", "min":
		return n / 60, nil
	}
	return 0, fmt.Errorf("--connect-rate: unit %q: use /s or /m", unit)
}

// parseList reads flag's comma-separated list of addresses, each checked
// by one, none twice: each address has figures of its own.
func parseList(flag, s string, one func(string) (string, error)) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		a, err := one(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, a) {
			return nil, fmt.Errorf("%s: %s is given twice", flag, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// parseSSHAddr checks one --addr: HOST:PORT.
func parseSSHAddr(s string) (string, error) {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return "", fmt.Errorf("--addr: %q is not HOST:PORT", s)
	}
	return s, nil
}

// parseVerify reads a count or "all" (-1).
func parseVerify(s string) (int, error) {
	if s == "all" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--verify: %q is neither a count nor all", s)
	}
	return n, nil
}
