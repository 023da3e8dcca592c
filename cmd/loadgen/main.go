// Command loadgen measures how fast a class follows its instructor: it
// connects N students and one instructor to a running Expedition server,
// has the instructor move a slider again and again, and reports how long
// each change takes to reach every student's terminal.
//
//	go run ./cmd/server --data /tmp/x &        # note the instructor token it logs
//	go run ./cmd/loadgen --addr 127.0.0.1:2222 --token xxxx-xxxx-xxxx-xxxx --students 200
//
// It only ever connects to the address given; point it at loopback or the
// project's own test hosts.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

type client struct {
	in   io.Writer
	last atomic.Int64 // unix nanos of the newest output byte
	seen atomic.Bool  // saw the first screen
}

func main() {
	addr := flag.String("addr", "127.0.0.1:2222", "server address")
	token := flag.String("token", "", "instructor token the server logged at start")
	students := flag.Int("students", 100, "students to connect")
	changes := flag.Int("changes", 20, "slider moves to time")
	pause := flag.Duration("pause", 300*time.Millisecond, "time between moves")
	pid := flag.Int("pid", 0, "server process ID, to report its memory (optional)")
	flag.Parse()
	if err := run(*addr, *token, *students, *changes, *pause, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func connect(addr, user string, auth gossh.AuthMethod) (*client, error) {
	cfg := &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{auth},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second}
	conn, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	c := &client{in: in}
	go func() {
		buf := make([]byte, 64<<10)
		var head []byte
		for {
			n, err := out.Read(buf)
			if n > 0 {
				c.last.Store(time.Now().UnixNano())
				if !c.seen.Load() {
					head = append(head, buf[:n]...)
					if bytes.Contains(head, []byte("call you?")) {
						c.seen.Store(true)
						head = nil
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return c, nil
}

func waitSeen(c *client) error {
	deadline := time.Now().Add(30 * time.Second)
	for !c.seen.Load() {
		if time.Now().After(deadline) {
			return fmt.Errorf("no first screen within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func run(addr, token string, n, changes int, pause time.Duration, pid int) error {
	if token == "" {
		return fmt.Errorf("--token is required (the server logs it at start)")
	}
	teacher, err := connect(addr, "instructor", gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		out := make([]string, len(qs))
		for i := range out {
			out[i] = token
		}
		return out, nil
	}))
	if err != nil {
		return fmt.Errorf("instructor: %w", err)
	}
	if err := waitSeen(teacher); err != nil {
		return fmt.Errorf("instructor: %w", err)
	}
	io.WriteString(teacher.in, "\r")
	time.Sleep(200 * time.Millisecond)
	io.WriteString(teacher.in, "4") // the scaling chapter: its first control is a slider
	memBefore := rss(pid)
	begin := time.Now()
	var (
		mu    sync.Mutex
		class []*client
		wg    sync.WaitGroup
		fails atomic.Int64
	)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			signer, _ := gossh.NewSignerFromKey(priv)
			c, err := connect(addr, fmt.Sprintf("student%d", i), gossh.PublicKeys(signer))
			if err == nil {
				err = waitSeen(c)
			}
			if err != nil {
				fails.Add(1)
				fmt.Fprintf(os.Stderr, "student %d: %v\n", i, err)
				return
			}
			io.WriteString(c.in, fmt.Sprintf("student %d\r", i))
			mu.Lock()
			class = append(class, c)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Printf("%d students connected in %v (%d failed)\n", len(class), time.Since(begin).Round(time.Millisecond), fails.Load())
	time.Sleep(time.Second)
	memJoined := rss(pid)

	io.WriteString(teacher.in, "\x1b[B") // focus the slider below the preset
	time.Sleep(pause)
	var worst []time.Duration
	var all []time.Duration
	for k := 0; k < changes; k++ {
		key := "\x1b[C"
		if k%2 == 1 {
			key = "\x1b[D"
		}
		t0 := time.Now()
		io.WriteString(teacher.in, key)
		deadline := t0.Add(10 * time.Second)
		var lat []time.Duration
		for _, c := range class {
			for c.last.Load() < t0.UnixNano() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Duration(c.last.Load()-t0.UnixNano()))
		}
		slices.Sort(lat)
		all = append(all, lat...)
		worst = append(worst, lat[len(lat)-1])
		time.Sleep(pause)
	}
	slices.Sort(all)
	slices.Sort(worst)
	pct := func(xs []time.Duration, p float64) time.Duration { return xs[int(p*float64(len(xs)-1))] }
	fmt.Printf("%d changes × %d students: latency to each student p50 %v, p99 %v; slowest student per change: median %v, max %v\n",
		changes, len(class), pct(all, .5).Round(time.Millisecond), pct(all, .99).Round(time.Millisecond),
		pct(worst, .5).Round(time.Millisecond), worst[len(worst)-1].Round(time.Millisecond))
	if pid > 0 {
		fmt.Printf("server RSS: %s before students, %s with %d students (%s each)\n", mib(memBefore), mib(memJoined), len(class),
			mib((memJoined-memBefore)/int64(max(len(class), 1))))
	}
	return nil
}

// rss reads a process's resident memory from /proc (Linux), in bytes.
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
