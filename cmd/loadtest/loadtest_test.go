package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
)

// TestMain lets this test binary stand in for the command: `run --floor`
// starts os.Executable() floor …, which under go test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startServer runs the real server in-process on 127.0.0.1:0 and returns
// its SSH address and instructor token.
func startServer(t *testing.T) (addr, token string) {
	t.Helper()
	addr, _, token = startServerWeb(t)
	return addr, token
}

// startServerWeb runs the real server in-process with its browser door
// too, each on 127.0.0.1:0, and returns its SSH address, its WebSocket's
// address and the instructor token.
func startServerWeb(t *testing.T) (addr, ws, token string) {
	t.Helper()
	addrs, wss, token := startServerOn(t, 1, 1)
	return addrs[0], wss[0], token
}

// startServerOn runs the real server in-process, one class, serving SSH
// on nSSH listeners and the browser door on nWeb, each on 127.0.0.1:0,
// and returns their SSH addresses, their WebSockets' addresses and the
// instructor token. Several listeners of one server are one class at
// several addresses, as several servers sharing their class would be.
func startServerOn(t *testing.T, nSSH, nWeb int) (addrs, wss []string, token string) {
	t.Helper()
	cat, err := lessons.NewCatalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	srv, err := server.New(server.Config{DataDir: t.TempDir()}, log.New(io.Discard), cat)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	type serving struct {
		what string
		done chan error
	}
	var all []serving
	listen := func(what string, serve func(net.Listener) error) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		s := serving{what: what + " " + ln.Addr().String(), done: make(chan error, 1)}
		all = append(all, s)
		go func() { s.done <- serve(ln) }()
		return ln.Addr().String()
	}
	for range nSSH {
		addrs = append(addrs, listen("Serve", srv.Serve))
	}
	for range nWeb {
		wss = append(wss, "ws://"+listen("ServeWeb", srv.ServeWeb)+"/ws")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for _, s := range all {
			select {
			case err := <-s.done:
				if err != nil {
					t.Errorf("%s: %v", s.what, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("%s: still serving 20 s after Shutdown", s.what)
			}
		}
	})
	return addrs, wss, srv.InstructorToken()
}

// TestClassFollows is the CI smoke test: 20 students follow 5 steps on the
// real server and then on the floor (a child process, as with --floor), in
// lockstep, every screen cross-checked with x/vt. It asserts what the run
// saw, never how long it took.
func TestClassFollows(t *testing.T) {
	addr, token := startServer(t)
	var out, errs bytes.Buffer
	code := run([]string{"run", "--addr", addr, "--token", token, "--students", "20", "--steps", "5",
		"--pace", "0", "--verify", "all", "--timeout", "60s", "--idle", "0", "--quiet", "300ms",
		"--connect-rate", "1000/s", "--floor", "--json"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if rep.Floor == nil {
		t.Fatalf("no floor in the report:\n%s", out.String())
	}
	for _, r := range []*result{rep.Server, rep.Floor} {
		if r.Joined != 20 || r.JoinFailures != 0 {
			t.Errorf("%s: %d joined, %d failed (%s)", r.Target, r.Joined, r.JoinFailures, r.JoinFirstError)
		}
		if r.Samples != 100 || r.Shown != 100 || r.Misses != 0 {
			t.Errorf("%s: %d samples, %d shown, %d misses (%d superseded, %d timed out)",
				r.Target, r.Samples, r.Shown, r.Misses, r.MissesSuperseded, r.MissesTimedOut)
		}
		// Every student and the instructor, each compared at least at the
		// end of its session.
		if r.Verify.Clients != 21 || r.Verify.Mismatches != 0 {
			t.Errorf("%s: x/vt cross-check: %d clients, %d screens, %d mismatched: %s",
				r.Target, r.Verify.Clients, r.Verify.Screens, r.Verify.Mismatches, r.Verify.First)
		}
		if r.BytesPerStudentPerStep <= 0 {
			t.Errorf("%s: %v bytes per student per step", r.Target, r.BytesPerStudentPerStep)
		}
		// One address: its share is the whole class.
		if len(r.ByAddr) != 1 || r.ByAddr[0].Addr != r.Addr || r.ByAddr[0].Joined != 20 || r.ByAddr[0].Shown != 100 {
			t.Errorf("%s at %s: by_addr %+v, want one address with all 20 students", r.Target, r.Addr, r.ByAddr)
		}
	}
	if want := int(rep.Server.BytesPerStudentPerStep + 0.5); rep.Config.Payload != want {
		t.Errorf("floor payload %d, want the server's %d bytes per student per step", rep.Config.Payload, want)
	}
	if rep.Floor.PID == 0 || rep.Floor.CPUPerStepMs == nil {
		t.Errorf("the floor's process was not measured: pid %d", rep.Floor.PID)
	}
}

// TestClassFollowsByWeb is TestClassFollows with the students at the
// browser door: 20 of them open the real server's WebSocket (the
// instructor stays on SSH) and follow 5 steps in lockstep, every screen
// cross-checked with x/vt. The floor, SSH only, is left to
// TestClassFollows. It asserts what the run saw, never how long it took.
func TestClassFollowsByWeb(t *testing.T) {
	addr, ws, token := startServerWeb(t)
	var out, errs bytes.Buffer
	code := run([]string{"run", "--door", "web", "--web", ws, "--addr", addr, "--token", token,
		"--students", "20", "--steps", "5", "--pace", "0", "--verify", "all", "--timeout", "60s", "--idle", "0",
		"--quiet", "300ms", "--connect-rate", "1000/s", "--json"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	r := rep.Server
	if rep.Config.Door != "web" || r.Door != "web" || r.Web != ws {
		t.Errorf("door %q, server's %q at %q; want web at %s", rep.Config.Door, r.Door, r.Web, ws)
	}
	if r.Joined != 20 || r.JoinFailures != 0 {
		t.Errorf("%d joined, %d failed (%s)", r.Joined, r.JoinFailures, r.JoinFirstError)
	}
	if r.Samples != 100 || r.Shown != 100 || r.Misses != 0 {
		t.Errorf("%d samples, %d shown, %d misses (%d superseded, %d timed out)",
			r.Samples, r.Shown, r.Misses, r.MissesSuperseded, r.MissesTimedOut)
	}
	// Every student and the instructor, each compared at least at the end
	// of its session.
	if r.Verify.Clients != 21 || r.Verify.Mismatches != 0 {
		t.Errorf("x/vt cross-check: %d clients, %d screens, %d mismatched: %s",
			r.Verify.Clients, r.Verify.Screens, r.Verify.Mismatches, r.Verify.First)
	}
	if r.BytesPerStudentPerStep <= 0 || r.FramesPerStudentPerStep <= 0 {
		t.Errorf("%v bytes and %v frames per student per step", r.BytesPerStudentPerStep, r.FramesPerStudentPerStep)
	}
}

// TestClassSplits spreads 20 students round-robin over two addresses of
// one class (one server listening twice: the same class at two places, as
// servers sharing their class are), by either door, the instructor at the
// first SSH address, and checks the split and each address's figures in
// the JSON and in the table. It asserts what the run saw, never how long
// it took.
func TestClassSplits(t *testing.T) {
	for _, door := range []string{doorSSH, doorWeb} {
		t.Run(door, func(t *testing.T) {
			addrs, wss, token := startServerOn(t, 2, 2)
			args := []string{"run", "--addr", strings.Join(addrs, ","), "--token", token}
			students := addrs
			if door == doorWeb {
				args = []string{"run", "--door", "web", "--web", strings.Join(wss, ","), "--addr", addrs[1], "--token", token}
				students = wss
			}
			args = append(args, "--students", "20", "--steps", "5", "--pace", "0", "--verify", "all", "--timeout", "60s",
				"--idle", "0", "--quiet", "300ms", "--connect-rate", "1000/s", "--json")
			var out, errs bytes.Buffer
			if code := run(args, &out, &errs); code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
			}
			var rep report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("report is not JSON: %v\n%s", err, out.String())
			}
			r := rep.Server
			if r.Joined != 20 || r.Samples != 100 || r.Shown != 100 || r.Misses != 0 {
				t.Errorf("%d joined, %d samples, %d shown, %d misses (first join failure: %s)",
					r.Joined, r.Samples, r.Shown, r.Misses, r.JoinFirstError)
			}
			if r.Verify.Clients != 21 || r.Verify.Mismatches != 0 {
				t.Errorf("x/vt cross-check: %d clients, %d mismatched: %s", r.Verify.Clients, r.Verify.Mismatches, r.Verify.First)
			}
			if len(r.ByAddr) != 2 {
				t.Fatalf("%d addresses in by_addr, want 2:\n%s", len(r.ByAddr), out.String())
			}
			for j, a := range r.ByAddr {
				if a.Addr != students[j] || a.Students != 10 || a.Joined != 10 || a.JoinFailures != 0 {
					t.Errorf("by_addr[%d]: %s, %d/%d joined, %d failed; want %s, 10/10", j, a.Addr, a.Joined, a.Students,
						a.JoinFailures, students[j])
				}
				if a.Samples != 50 || a.Shown != 50 || a.Misses != 0 || a.Latency.N != 50 {
					t.Errorf("%s: %d samples, %d shown, %d misses, %d latencies; want 50, 50, 0, 50",
						a.Addr, a.Samples, a.Shown, a.Misses, a.Latency.N)
				}
			}
			var table bytes.Buffer
			if err := rep.writeTable(&table); err != nil {
				t.Fatal(err)
			}
			for _, a := range students {
				for _, want := range []string{"students joined at " + a, "latency p50 / p99 at " + a, "misses at " + a} {
					if !strings.Contains(table.String(), want) {
						t.Errorf("no %q row in the table:\n%s", want, table.String())
					}
				}
			}
		})
	}
}

// record asks TestScreenRecordedStreams to record the streams afresh, as
// -update does for goldens: go test ./cmd/loadtest -run RecordedStreams -record
var record = flag.Bool("record", false, "record testdata/student-WxH.stream from the real server")

// recordStreams writes testdata/student-WxH.stream, the server's output to
// one student of each size (name prompt, joining, chapter 4, five steps).
func recordStreams(t *testing.T) {
	addr, token := startServer(t)
	sizes, _ := parseSizes(defaultSizes)
	opt := options{students: len(sizes), steps: 5, sizes: sizes, connectRate: 100, connectConc: 4, verify: -1,
		timeout: 30 * time.Second, quiet: 300 * time.Millisecond, chapter: "4", label: "Params N", record: true}
	ctx := context.Background()
	c := &class{opt: opt, tg: target{name: "server", addr: addr, students: []string{addr}, token: token}, log: io.Discard,
		epoch: time.Now(), notify: make(chan struct{}, 1)}
	defer c.closeAll()
	start, err := c.teach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.join(ctx, string(start.value))
	if len(c.students) != len(sizes) {
		t.Fatalf("%d of %d joined: %v", len(c.students), len(sizes), c.firstErr)
	}
	c.settle(ctx)
	if _, _, err := c.play(ctx, start); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.students {
		s.mu.Lock()
		raw := bytes.Clone(s.raw)
		s.mu.Unlock()
		name := filepath.Join("testdata", fmt.Sprintf("student-%s.stream", s.size))
		if err := os.WriteFile(name, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", name, len(raw))
	}
}

func TestShown(t *testing.T) {
	steps := []step{{at: 100, value: "b"}, {at: 200, value: "c"}, {at: 300, value: "b"}}
	cases := []struct {
		name   string
		events []valueEvent
		k      int
		lat    time.Duration
		why    string
	}{
		{"shown", []valueEvent{{50, "a"}, {130, "b"}}, 0, 30, ""},
		{"superseded", []valueEvent{{50, "a"}, {230, "c"}, {250, "b"}}, 0, 0, missSuperseded},
		{"after the timeout", []valueEvent{{50, "a"}, {1200, "b"}}, 0, 0, missTimedOut},
		{"never", []valueEvent{{50, "a"}}, 0, 0, missTimedOut},
		{"same value again later", []valueEvent{{130, "b"}, {220, "c"}, {310, "b"}}, 2, 10, ""},
	}
	for _, tc := range cases {
		lat, why := shown(tc.events, steps, tc.k, 1000)
		if lat != tc.lat || why != tc.why {
			t.Errorf("%s: got (%v, %q), want (%v, %q)", tc.name, lat, why, tc.lat, tc.why)
		}
	}
}

func TestParseControl(t *testing.T) {
	cases := []struct {
		row, value string
		knob       float64
		focused    bool
	}{
		{"  Params N     ━━━━━━━━━━━━━━━━━━━━━━●───────────────── 70 B", "70 B", 22.0 / 39, false},
		{"model's loss from N and D    │ ▸ Params N     ━━━━━━━━━━●────── 117 B", "117 B", 10.0 / 16, true},
		{"  Params N     ======================O----------------- 70 B            ↓ 1 more", "70 B", 22.0 / 39, false},
		{"  Params N     ●───── 0.1 B", "0.1 B", 0, false},
		{"  Params N     ━━━━━━● 1e+04 B", "1e+04 B", 1, false},
	}
	for _, tc := range cases {
		c, ok := parseControl([]byte(tc.row), []byte("Params N"))
		if !ok || string(c.value) != tc.value || c.knob != tc.knob || c.focused != tc.focused {
			t.Errorf("%q: got (%q, %v, focused %v, %v), want (%q, %v, focused %v)",
				tc.row, c.value, c.knob, c.focused, ok, tc.value, tc.knob, tc.focused)
		}
	}
	if _, ok := parseControl([]byte("  Tokens/param ━━━●── 20"), []byte("Params N")); ok {
		t.Error("found a control on a row without its label")
	}
}

func TestFloorPayload(t *testing.T) {
	f := newFloor(0, "Params N")
	row := f.row(10, false)
	for _, n := range []int{1, 100, 1200, 1201, 1202, 5000} {
		p := floorPayload(n, row)
		if n >= 200 && len(p) != n {
			t.Errorf("payload of %d bytes is %d long", n, len(p))
		}
		// Every size of terminal shows the value the same way.
		for _, sz := range []size{{80, 24}, {160, 50}} {
			s := newScreen(sz.w, sz.h)
			s.Write(p)
			if s.sync {
				t.Errorf("payload of %d leaves a synchronized update open", n)
			}
			var buf []byte
			var got control
			found := false
			for y := range sz.h {
				buf = s.appendRow(buf[:0], y)
				if c, ok := parseControl(buf, []byte("Params N")); ok {
					// The value points into buf, which the next row reuses.
					c.value = bytes.Clone(c.value)
					got, found = c, true
				}
			}
			if !found || string(got.value) != floorValue(10) {
				t.Errorf("payload of %d at %s: value %q, want %q:\n%s", n, sz, got.value, floorValue(10), s.Text())
			}
		}
	}
}

func TestFlags(t *testing.T) {
	if r, err := parseRate("50/s"); err != nil || r != 50 {
		t.Errorf("50/s: %v %v", r, err)
	}
	if r, err := parseRate("120/m"); err != nil || r != 2 {
		t.Errorf("120/m: %v %v", r, err)
	}
	if _, err := parseRate("fast"); err == nil {
		t.Error("fast is a rate")
	}
	if s, err := parseSizes("100x30"); err != nil || len(s) != 1 || s[0] != (size{100, 30}) {
		t.Errorf("100x30: %v %v", s, err)
	}
	if _, err := parseSizes("100"); err == nil {
		t.Error("100 is a size")
	}
	if v, err := parseVerify("all"); err != nil || v != -1 {
		t.Errorf("all: %v %v", v, err)
	}
	if got := pickVerified(8, 3); fmt.Sprint(got) != "[true false true false false true false false]" {
		t.Errorf("pickVerified(8, 3) = %v", got)
	}
	if a, err := parseList("--addr", " 127.0.0.1:1, [::1]:2", parseSSHAddr); err != nil || fmt.Sprint(a) != "[127.0.0.1:1 [::1]:2]" {
		t.Errorf("two SSH addresses: %q %v", a, err)
	}
	if u, err := parseWebURL("ws://127.0.0.1:8080/ws"); err != nil || u != "ws://127.0.0.1:8080/ws" {
		t.Errorf("ws://127.0.0.1:8080/ws: %v %v", u, err)
	}
	for _, bad := range []string{"http://127.0.0.1:8080/ws", "127.0.0.1:8080", "ws:///ws", "ws://u:p@127.0.0.1/ws"} {
		if _, err := parseWebURL(bad); err == nil {
			t.Errorf("%s is a WebSocket address", bad)
		}
	}
	for _, args := range [][]string{
		{"run", "--students", "5"},                                   // no token
		{"run", "--token", "x", "--door", "telnet"},                  // no such door
		{"run", "--token", "x", "--door", "web"},                     // web without --web
		{"run", "--token", "x", "--door", "web", "--web", "ftp://h"}, // not a WebSocket
		{"run", "--token", "x", "--web", "ws://127.0.0.1:8080/ws"},   // --web without --door web
		{"run", "--token", "x", "--addr", "127.0.0.1"},               // no port
		{"run", "--token", "x", "--addr", "127.0.0.1:1,127.0.0.1:1"}, // an address twice
		{"run", "--token", "x", "--addr", "127.0.0.1:1,"},            // an empty address
		{"run", "--token", "x", "--door", "web", "--web", "ws://127.0.0.1:8080/ws,ws://127.0.0.1:8080/ws"},
		{"run", "--token", "x", "--door", "web", "--web", "ws://127.0.0.1:8080/ws", "--addr", "127.0.0.1:1,127.0.0.1:2"},
	} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errs.String())
		}
	}
}
