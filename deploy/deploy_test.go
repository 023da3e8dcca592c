package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"
	"gopkg.in/yaml.v3"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
)

// deadline bounds every wait in these tests: generous, since the machine
// is shared and haproxy's first health checks take a few seconds.
const deadline = 20 * time.Second

// lookTool finds a program the tests run for real, failing (never
// skipping) with how to install it when it is missing. Debian puts haproxy
// in /usr/sbin, which a user's PATH often lacks.
func lookTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	for _, candidate := range []string{name, "/usr/sbin/" + name} {
		if path, err := exec.LookPath(candidate); err == nil {
			return path
		}
	}
	t.Fatalf("%s is not installed: these tests run the real one. Install Debian's package: apt-get install %s (.ci/run does)",
		name, debianPackage)
	return ""
}

// readFile reads a file of this folder (or, with "../", of the repository).
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --- haproxy.cfg -----------------------------------------------------------

// haproxyConfig is what the tests read of haproxy.cfg: its sections by
// kind and name, each a list of lines with comments and blanks dropped.
type haproxyConfig map[string][]string

// parseHAProxy splits haproxy.cfg into its sections: a line that does not
// start with white space opens one ("global", "defaults", "frontend ssh").
func parseHAProxy(text string) haproxyConfig {
	cfg := haproxyConfig{}
	section := ""
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			section = strings.Join(strings.Fields(trimmed), " ")
			cfg[section] = nil
			continue
		}
		cfg[section] = append(cfg[section], strings.Join(strings.Fields(trimmed), " "))
	}
	return cfg
}

// value is the rest of the first line of section that starts with keyword.
func (c haproxyConfig) value(section, keyword string) (string, bool) {
	for _, line := range c[section] {
		if rest, ok := strings.CutPrefix(line, keyword+" "); ok {
			return rest, true
		}
	}
	return "", false
}

// haproxyServer is one server line of a backend.
type haproxyServer struct {
	name, host, port string
	options          []string
}

// servers are a backend's server lines.
func (c haproxyConfig) servers(t *testing.T, backend string) []haproxyServer {
	t.Helper()
	var out []haproxyServer
	for _, line := range c["backend "+backend] {
		f := strings.Fields(line)
		if f[0] != "server" {
			continue
		}
		if len(f) < 3 {
			t.Fatalf("backend %s: server line without an address: %q", backend, line)
		}
		host, port, err := net.SplitHostPort(f[2])
		if err != nil {
			t.Fatalf("backend %s: server %s: %v", backend, f[1], err)
		}
		out = append(out, haproxyServer{name: f[1], host: host, port: port, options: f[3:]})
	}
	return out
}

// frontendPort is the port a frontend binds and the backend it sends to.
func (c haproxyConfig) frontendPort(t *testing.T, frontend string) (port, backend string) {
	t.Helper()
	bind, ok := c.value("frontend "+frontend, "bind")
	if !ok {
		t.Fatalf("haproxy.cfg: frontend %s binds nothing", frontend)
	}
	_, port, err := net.SplitHostPort(strings.Fields(bind)[0])
	if err != nil {
		t.Fatalf("haproxy.cfg: frontend %s: bind %q: %v", frontend, bind, err)
	}
	backend, ok = c.value("frontend "+frontend, "default_backend")
	if !ok {
		t.Fatalf("haproxy.cfg: frontend %s has no default_backend", frontend)
	}
	return port, backend
}

// TestHAProxyConfigIsValid runs haproxy's own check on haproxy.cfg. The
// servers' names (expedition-a, expedition-b) resolve only inside the
// compose network, so the check passes here only because the config tells
// haproxy to start without them (init-addr ... none): the warnings may
// say so, or that this machine's resolv.conf names no nameserver, and
// nothing else.
func TestHAProxyConfigIsValid(t *testing.T) {
	haproxy := lookTool(t, "haproxy", "haproxy")
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, haproxy, "-c", "-f", "haproxy.cfg").CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c -f haproxy.cfg: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Configuration file is valid")) {
		t.Fatalf("haproxy -c did not say the configuration is valid:\n%s", out)
	}
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "[ALERT]") ||
			strings.Contains(line, "[WARNING]") && !strings.Contains(line, "could not resolve address") &&
				!strings.Contains(line, "has no nameservers configured") {
			t.Errorf("haproxy -c: %s", strings.TrimSpace(line))
		}
	}
}

// TestHAProxyConfigKeepsClassesConnected checks what haproxy -c cannot:
// that the config sends students to both servers with the PROXY protocol,
// checks their health, and never closes an idle student before the server
// itself would (a student reading a chapter sends nothing for minutes).
func TestHAProxyConfigKeepsClassesConnected(t *testing.T) {
	cfg := parseHAProxy(readFile(t, "haproxy.cfg"))
	for _, name := range []string{"timeout client", "timeout server", "timeout tunnel"} {
		v, ok := cfg.value("defaults", name)
		if !ok {
			t.Errorf("haproxy.cfg: defaults has no %s", name)
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Errorf("haproxy.cfg: %s %s: %v", name, v, err)
			continue
		}
		if d <= server.DefaultIdleTimeout {
			t.Errorf("haproxy.cfg: %s %s would cut a quiet student before the server's idle timeout (%s) does", name, v, server.DefaultIdleTimeout)
		}
	}
	if mode, _ := cfg.value("defaults", "mode"); mode != "tcp" {
		t.Errorf("haproxy.cfg: defaults mode %q, want tcp (SSH and the WebSocket pass through whole)", mode)
	}
	for _, door := range []struct{ frontend, port string }{{"ssh", "2222"}, {"web", "8080"}} {
		port, backend := cfg.frontendPort(t, door.frontend)
		if port != door.port {
			t.Errorf("haproxy.cfg: frontend %s binds port %s, want %s", door.frontend, port, door.port)
		}
		if balance, _ := cfg.value("backend "+backend, "balance"); balance != "leastconn" {
			t.Errorf("haproxy.cfg: backend %s balance %q, want leastconn (students stay connected for hours)", backend, balance)
		}
		servers := cfg.servers(t, backend)
		var names []string
		for _, s := range servers {
			names = append(names, s.name)
			if s.host != s.name || s.port != door.port {
				t.Errorf("haproxy.cfg: backend %s: server %s at %s:%s, want %s:%s (the compose service and the server's %s port)",
					backend, s.name, s.host, s.port, s.name, door.port, door.frontend)
			}
			for _, opt := range []string{"check", "send-proxy-v2", "check-send-proxy", "init-addr"} {
				if !slices.Contains(s.options, opt) {
					t.Errorf("haproxy.cfg: backend %s: server %s lacks %s", backend, s.name, opt)
				}
			}
		}
		if !slices.Equal(names, []string{"expedition-a", "expedition-b"}) {
			t.Errorf("haproxy.cfg: backend %s serves %v, want expedition-a and expedition-b", backend, names)
		}
	}
}

// proxyHeader is what a server read from a PROXY protocol v2 header.
type proxyHeader struct {
	local bool           // a health check (LOCAL), not a student (PROXY)
	src   netip.AddrPort // the student's address, for PROXY
}

// proxySignature opens every PROXY protocol v2 header.
var proxySignature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// readProxyHeader reads a PROXY protocol v2 header the way a server behind
// haproxy must before anything else on the connection.
func readProxyHeader(r io.Reader) (proxyHeader, error) {
	var fixed [16]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY header: %w", err)
	}
	if !bytes.Equal(fixed[:12], proxySignature) {
		return proxyHeader{}, fmt.Errorf("no PROXY v2 signature: %q", fixed[:])
	}
	if fixed[12]>>4 != 2 {
		return proxyHeader{}, fmt.Errorf("PROXY version %d, want 2", fixed[12]>>4)
	}
	rest := make([]byte, binary.BigEndian.Uint16(fixed[14:16]))
	if _, err := io.ReadFull(r, rest); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY addresses: %w", err)
	}
	switch fixed[12] & 0xf {
	case 0: // LOCAL: haproxy speaking for itself
		return proxyHeader{local: true}, nil
	case 1:
	default:
		return proxyHeader{}, fmt.Errorf("PROXY command %d", fixed[12]&0xf)
	}
	if fixed[13] != 0x11 { // TCP over IPv4, as the test's clients connect
		return proxyHeader{}, fmt.Errorf("PROXY family %#x, want TCP over IPv4", fixed[13])
	}
	if len(rest) < 12 {
		return proxyHeader{}, fmt.Errorf("PROXY addresses %d bytes long", len(rest))
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(rest[0:4])), binary.BigEndian.Uint16(rest[8:10]))
	return proxyHeader{src: src}, nil
}

// event is one connection a fake server took from haproxy.
type event struct {
	server  string // "expedition-a" or "expedition-b"
	door    string // "ssh" or "web"
	header  proxyHeader
	request string // a web health check's request line and headers
}

// recorder collects the fake servers' events for the test to wait on.
type recorder struct {
	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced at every event
	errs    []error
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// snapshot is the events so far.
func (r *recorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// waitFor waits until ok holds for the events so far, failing at the
// deadline with what was seen.
func (r *recorder) waitFor(t *testing.T, what string, ok func([]event) bool) {
	t.Helper()
	timeout := time.After(deadline)
	for {
		r.mu.Lock()
		events, changed, errs := slices.Clone(r.events), r.changed, slices.Clone(r.errs)
		r.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("a server behind haproxy: %v", errors.Join(errs...))
		}
		if ok(events) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("waited %s for %s; the servers saw %+v", deadline, what, events)
		}
	}
}

// fakeServer stands in for one door of one Expedition server behind
// haproxy: it reads the PROXY header, answers health checks (healthy or
// not) and greets students with its name, then holds their connection.
func fakeServer(t *testing.T, rec *recorder, name, door string, healthy bool) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	t.Cleanup(func() { ln.Close(); held.Wait() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			held.Go(func() {
				defer conn.Close()
				if err := serveFake(conn, rec, name, door, healthy); err != nil {
					rec.fail(fmt.Errorf("%s %s: %w", name, door, err))
				}
			})
		}
	}()
	return ln.Addr().String()
}

// serveFake is one connection to a fake server.
func serveFake(conn net.Conn, rec *recorder, name, door string, healthy bool) error {
	if err := conn.SetDeadline(time.Now().Add(2 * deadline)); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	h, err := readProxyHeader(br)
	if err != nil {
		return err
	}
	e := event{server: name, door: door, header: h}
	switch {
	case door == "ssh" && h.local:
		banner := "SSH-2.0-Go\r\n"
		if !healthy {
			banner = "HTTP/1.0 400 Bad Request\r\n\r\n"
		}
		_, err = io.WriteString(conn, banner)
	case door == "ssh":
		_, err = io.WriteString(conn, "SSH-2.0-"+name+"\r\n")
	default:
		var req strings.Builder
		for {
			line, rerr := br.ReadString('\n')
			if rerr != nil {
				return fmt.Errorf("read the HTTP request: %w", rerr)
			}
			if line == "\r\n" {
				break
			}
			req.WriteString(line)
		}
		e.request = req.String()
		status := "200 OK"
		if !healthy {
			status = "503 Service Unavailable"
		}
		body := name
		_, err = fmt.Fprintf(conn, "HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(body), body)
	}
	rec.add(e)
	if err != nil || h.local || door == "web" {
		return err // the page is sent: its connection closes
	}
	_, _ = io.Copy(io.Discard, br) // a student by SSH stays until the test ends
	return nil
}

// lockedBuffer is haproxy's output, read while haproxy writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// localConfig is haproxy.cfg pointed at this machine: the frontends bind
// the listening sockets haproxy inherits (fd@3, fd@4), each server line
// names a fake server, and the user switch goes (the test may not be root).
// Everything else is the file as shipped.
func localConfig(t *testing.T, text string, servers map[string]string) string {
	t.Helper()
	replace := map[string]string{"bind :2222": "bind fd@3", "bind :8080": "bind fd@4", "user haproxy": "", "group haproxy": ""}
	for from, to := range servers {
		replace[from] = to
	}
	done := map[string]int{}
	var out strings.Builder
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			for from, to := range replace {
				if strings.Contains(line, from) {
					line = strings.Replace(line, from, to, 1)
					done[from]++
				}
			}
		}
		out.WriteString(line)
	}
	for from := range replace {
		if done[from] != 1 {
			t.Fatalf("haproxy.cfg: %q appears %d times outside comments, want once", from, done[from])
		}
	}
	return out.String()
}

// TestHAProxyPassesStudentsOn runs the real haproxy with haproxy.cfg in
// front of fake servers: students by SSH are spread over both servers,
// each server reads a PROXY v2 header with the student's own address,
// health checks pass through the PROXY protocol too, and a server whose
// web door fails its check gets no browser students.
func TestHAProxyPassesStudentsOn(t *testing.T) {
	haproxy := lookTool(t, "haproxy", "haproxy")
	rec := newRecorder()
	servers := map[string]string{
		"expedition-a:2222": fakeServer(t, rec, "expedition-a", "ssh", true),
		"expedition-b:2222": fakeServer(t, rec, "expedition-b", "ssh", true),
		"expedition-a:8080": fakeServer(t, rec, "expedition-a", "web", true),
		"expedition-b:8080": fakeServer(t, rec, "expedition-b", "web", false),
	}
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(localConfig(t, readFile(t, "haproxy.cfg"), servers)), 0o600); err != nil {
		t.Fatal(err)
	}

	// haproxy inherits its listening sockets, so there is no free port to
	// guess and lose to another process.
	var doors []string
	var files []*os.File
	for range 2 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		doors = append(doors, ln.Addr().String())
		files = append(files, f)
		ln.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var output lockedBuffer
	cmd := exec.CommandContext(ctx, haproxy, "-db", "-f", cfgPath)
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("haproxy's output:\n%s", output.String())
		}
	})

	// The health checks reach every server through the PROXY protocol
	// (as LOCAL connections), and the web check asks for the page.
	rec.waitFor(t, "a health check on each door of each server", func(events []event) bool {
		seen := map[string]bool{}
		for _, e := range events {
			if e.header.local {
				seen[e.server+" "+e.door] = true
			}
		}
		return len(seen) == 4
	})
	for _, e := range rec.snapshot() {
		if e.door == "web" && e.header.local && !strings.HasPrefix(e.request, "GET / HTTP/1.1\r\n") {
			t.Errorf("the web health check asked %q, want GET / HTTP/1.1", e.request)
		}
	}

	// Two students by SSH at once: leastconn sends the second to the
	// server the first is not on, and each server reads who it is.
	students := map[netip.AddrPort]string{}
	for range 2 {
		conn, err := net.DialTimeout("tcp4", doors[0], deadline)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(deadline)); err != nil {
			t.Fatal(err)
		}
		banner, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			t.Fatalf("a student by SSH read no banner through haproxy: %v", err)
		}
		students[netip.MustParseAddrPort(conn.LocalAddr().String())] = strings.TrimSpace(strings.TrimPrefix(banner, "SSH-2.0-"))
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for _, s := range students {
			if !yield(s) {
				return
			}
		}
	}); !slices.Equal(got, []string{"expedition-a", "expedition-b"}) {
		t.Errorf("two students at once landed on %v, want one on each server", got)
	}
	rec.waitFor(t, "both students' PROXY headers", func(events []event) bool {
		n := 0
		for _, e := range events {
			if e.door == "ssh" && !e.header.local {
				n++
			}
		}
		return n == 2
	})
	for _, e := range rec.snapshot() {
		if e.door != "ssh" || e.header.local {
			continue
		}
		server, ok := students[e.header.src]
		if !ok {
			t.Errorf("%s read a PROXY header naming %s, which is none of the students %v", e.server, e.header.src, students)
		} else if server != e.server {
			t.Errorf("%s read the PROXY header of the student on %s", e.server, server)
		}
	}

	// The failing web door is taken out; browsers all go to the other.
	waitOutput(t, &output, "expedition_web/expedition-b is DOWN")
	for range 2 {
		body := httpGet(t, doors[1])
		if body != "expedition-a" {
			t.Errorf("a browser was sent to %q, whose health check fails", body)
		}
	}
}

// waitOutput waits until haproxy has said want, polling its output.
func waitOutput(t *testing.T, output *lockedBuffer, want string) {
	t.Helper()
	stop := time.Now().Add(deadline)
	for !strings.Contains(output.String(), want) {
		if time.Now().After(stop) {
			t.Fatalf("haproxy did not say %q within %s", want, deadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpGet is a browser asking haproxy's web door for the page: the body
// names the server that answered.
func httpGet(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp4", addr, deadline)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(deadline)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(reply), "\r\n\r\n")
	if !ok {
		t.Fatalf("a browser got %q through haproxy", reply)
	}
	return body
}

// --- compose.yaml ----------------------------------------------------------

// composeFile is what the tests read of compose.yaml.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet  string `yaml:"subnet"`
				IPRange string `yaml:"ip_range"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
	Volumes map[string]any `yaml:"volumes"`
}

type composeService struct {
	Image    string `yaml:"image"`
	Hostname string `yaml:"hostname"`
	Build    *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
		Target     string `yaml:"target"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	// Networks is a list of names, or names with settings.
	Networks  yaml.Node `yaml:"networks"`
	DependsOn dependsOn `yaml:"depends_on"`
}

// dependsOn is a service's depends_on: the services it waits for and on
// what condition ("" for the list form, which waits only for the start).
type dependsOn map[string]string

// UnmarshalYAML reads either form of depends_on.
func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	var names []string
	if n.Decode(&names) == nil {
		for _, name := range names {
			(*d)[name] = ""
		}
		return nil
	}
	var conditions map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&conditions); err != nil {
		return fmt.Errorf("depends_on: %w", err)
	}
	for name, c := range conditions {
		(*d)[name] = c.Condition
	}
	return nil
}

// address is the service's fixed IPv4 address on network, if it has one.
func (s composeService) address(t *testing.T, network string) (netip.Addr, bool) {
	t.Helper()
	var nets map[string]struct {
		IPv4 string `yaml:"ipv4_address"`
	}
	if err := s.Networks.Decode(&nets); err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(nets[network].IPv4)
	return a, err == nil
}

// mount is the volume source mounted at target, if any.
func (s composeService) mount(target string) (string, bool) {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return parts[0], true
		}
	}
	return "", false
}

// loadCompose reads compose.yaml.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal([]byte(readFile(t, "compose.yaml")), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// TestComposeFileIsOneClass checks the structure a teacher trying the
// several-server setup relies on: NATS with JetStream kept on a volume,
// two servers built from the Containerfile in one class on that NATS, the
// same host key and token put into both before they start, and HAProxy at
// a fixed address that both servers trust, with haproxy.cfg mounted.
func TestComposeFileIsOneClass(t *testing.T) {
	c := loadCompose(t)
	stages := parseContainerfile(t, readFile(t, "Containerfile"))

	nats, ok := c.Services["nats"]
	if !ok {
		t.Fatal("compose.yaml has no nats service")
	}
	if !strings.HasPrefix(nats.Image, "nats:") {
		t.Errorf("nats: image %q, want the official nats image", nats.Image)
	}
	if !slices.Contains(nats.Command, "-js") {
		t.Errorf("nats: command %q does not turn JetStream on (-js)", nats.Command)
	}
	if i := slices.Index(nats.Command, "-sd"); i < 0 || i+1 >= len(nats.Command) {
		t.Errorf("nats: command %q names no JetStream store directory (-sd DIR)", nats.Command)
	} else if vol, ok := nats.mount(nats.Command[i+1]); !ok {
		t.Errorf("nats: the JetStream store %s is not on a volume", nats.Command[i+1])
	} else if _, ok := c.Volumes[vol]; !ok {
		t.Errorf("nats: the JetStream store is on %q, not a named volume", vol)
	}

	haproxy, ok := c.Services["haproxy"]
	if !ok {
		t.Fatal("compose.yaml has no haproxy service")
	}
	if src, ok := haproxy.mount("/usr/local/etc/haproxy/haproxy.cfg"); !ok || filepath.Clean(src) != "haproxy.cfg" {
		t.Errorf("haproxy: haproxy.cfg is not mounted where the official image reads it (got %q)", src)
	}
	cfg := parseHAProxy(readFile(t, "haproxy.cfg"))
	for _, door := range []string{"ssh", "web"} {
		port, _ := cfg.frontendPort(t, door)
		published := false
		for _, p := range haproxy.Ports {
			if strings.HasSuffix(p, ":"+port) {
				published = true
			}
		}
		if !published {
			t.Errorf("haproxy: the %s door's port %s is not published (ports %q)", door, port, haproxy.Ports)
		}
	}

	// HAProxy's address is fixed, in the network's subnet and outside the
	// range Docker hands out, so no other container can take it.
	if len(c.Networks["class"].IPAM.Config) != 1 {
		t.Fatal("compose.yaml: network class has no single ipam config")
	}
	ipam := c.Networks["class"].IPAM.Config[0]
	subnet, err := netip.ParsePrefix(ipam.Subnet)
	if err != nil {
		t.Fatalf("network class: subnet: %v", err)
	}
	dynamic, err := netip.ParsePrefix(ipam.IPRange)
	if err != nil {
		t.Fatalf("network class: ip_range: %v", err)
	}
	proxyAddr, ok := haproxy.address(t, "class")
	if !ok {
		t.Fatal("haproxy has no fixed ipv4_address on network class")
	}
	if !subnet.Contains(proxyAddr) || dynamic.Contains(proxyAddr) {
		t.Errorf("haproxy's %s must be in %s and outside the dynamic range %s", proxyAddr, subnet, dynamic)
	}

	keys, ok := c.Services["keys"]
	if !ok {
		t.Fatal("compose.yaml has no keys service to give both servers one host key and token")
	}
	if keys.Build == nil || keys.Build.Target == "" || !slices.ContainsFunc(stages, func(s stage) bool { return s.name == keys.Build.Target }) {
		t.Errorf("keys: not built from a stage of the Containerfile")
	}

	room := ""
	dataVolumes := map[string]string{}
	hostnames := map[string]string{}
	for _, name := range []string{"expedition-a", "expedition-b"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("compose.yaml has no %s service", name)
			continue
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Containerfile" || s.Build.Target != "" {
			t.Errorf("%s: not built from deploy/Containerfile's server stage (build %+v)", name, s.Build)
		} else if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: build context %q does not hold %s: %v", name, s.Build.Context, s.Build.Dockerfile, err)
		}
		u, err := url.Parse(s.Environment["EXPEDITION_NATS"])
		if err != nil || u.Scheme != "nats" || u.Port() != "4222" {
			t.Errorf("%s: EXPEDITION_NATS %q, want nats://nats:4222", name, s.Environment["EXPEDITION_NATS"])
		} else if svc, ok := c.Services[u.Hostname()]; !ok || !strings.HasPrefix(svc.Image, "nats:") {
			t.Errorf("%s: EXPEDITION_NATS names %q, not the nats service", name, u.Hostname())
		}
		switch r := s.Environment["EXPEDITION_ROOM"]; {
		case r == "":
			t.Errorf("%s: no EXPEDITION_ROOM", name)
		case room == "":
			room = r
		case r != room:
			t.Errorf("%s: EXPEDITION_ROOM %q, but the other server is in %q: two classes, not one", name, r, room)
		}
		// The class counts a server's sessions by its host name: a fixed
		// one per server survives compose recreating the container.
		if s.Hostname == "" {
			t.Errorf("%s: hostname %q; each server needs a fixed one of its own", name, s.Hostname)
		}
		for other, h := range hostnames {
			if h == s.Hostname {
				t.Errorf("%s and %s share the hostname %q", name, other, h)
			}
		}
		hostnames[name] = s.Hostname
		if !proxyTrusted(t, s.Environment["EXPEDITION_PROXY_FROM"], proxyAddr) {
			t.Errorf("%s: EXPEDITION_PROXY_FROM %q does not include haproxy's %s", name, s.Environment["EXPEDITION_PROXY_FROM"], proxyAddr)
		}
		vol, ok := s.mount("/data")
		if !ok {
			t.Errorf("%s: no volume on /data", name)
			continue
		}
		if _, ok := c.Volumes[vol]; !ok {
			t.Errorf("%s: /data is on %q, not a named volume", name, vol)
		}
		if other, ok := dataVolumes[vol]; ok {
			t.Errorf("%s and %s share the data volume %s: each server keeps its own database", name, other, vol)
		}
		dataVolumes[vol] = name
		// The keys service fills this volume before the server starts.
		if s.DependsOn["keys"] != "service_completed_successfully" {
			t.Errorf("%s: does not wait for the keys service to finish", name)
		}
		if at, ok := mountPoint(keys, vol); !ok {
			t.Errorf("keys: does not mount %s's data volume %s", name, vol)
		} else if !slices.Contains(keys.Command, at) {
			t.Errorf("keys: does not copy into %s (%s's data), command %q", at, name, keys.Command)
		}
		if len(s.Ports) > 0 {
			t.Errorf("%s publishes %q: students must come through haproxy", name, s.Ports)
		}
	}
}

// mountPoint is where service s mounts volume vol.
func mountPoint(s composeService, vol string) (string, bool) {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[0] == vol {
			return parts[1], true
		}
	}
	return "", false
}

// proxyTrusted reports whether a --proxy-from list (IPs and CIDRs,
// comma-separated) includes addr.
func proxyTrusted(t *testing.T, list string, addr netip.Addr) bool {
	t.Helper()
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if p, err := netip.ParsePrefix(item); err == nil {
			if p.Contains(addr) {
				return true
			}
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			t.Errorf("EXPEDITION_PROXY_FROM: %q is neither an IP nor a CIDR", item)
			continue
		}
		if a == addr {
			return true
		}
	}
	return false
}

// --- Containerfile ---------------------------------------------------------

// stage is one FROM of the Containerfile and its instructions, with line
// continuations joined.
type stage struct {
	from, name   string
	instructions []string
}

// parseContainerfile splits a Containerfile into stages.
func parseContainerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var pending string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" && pending == "" {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			s := stage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				s.name = f[3]
			}
			stages = append(stages, s)
		case "ARG":
			if len(stages) == 0 {
				continue // a build argument for the FROM lines
			}
			fallthrough
		default:
			if len(stages) == 0 {
				t.Fatalf("Containerfile: %q before the first FROM", line)
			}
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, strings.Join(f, " "))
		}
	}
	return stages
}

// instruction is every instruction of kind (RUN, USER, ...) in s, without
// the keyword.
func (s stage) instruction(kind string) []string {
	var out []string
	for _, in := range s.instructions {
		if k, rest, _ := strings.Cut(in, " "); strings.EqualFold(k, kind) {
			out = append(out, rest)
		}
	}
	return out
}

// TestContainerfileBuildsAStaticNonRootImage checks the image's promises:
// a static Go binary built in its own stage, run by a non-root user on an
// image with nothing else, the data directory a volume, the server
// listening on every interface of the container.
func TestContainerfileBuildsAStaticNonRootImage(t *testing.T) {
	stages := parseContainerfile(t, readFile(t, "Containerfile"))
	if len(stages) < 2 {
		t.Fatalf("Containerfile has %d stages, want a build stage and a runtime stage", len(stages))
	}
	final := stages[len(stages)-1]
	if strings.Contains(final.from, "golang") {
		t.Errorf("the image runs on %s: the Go toolchain belongs in the build stage only", final.from)
	}
	var built []string
	for _, cp := range final.instruction("COPY") {
		if from, ok := strings.CutPrefix(cp, "--from="); ok {
			built = append(built, strings.Fields(from)[0])
		}
	}
	if len(built) == 0 {
		t.Fatal("the runtime stage copies nothing from a build stage")
	}
	compiles := false
	for _, s := range stages {
		if s.name != built[0] {
			continue
		}
		for _, run := range s.instruction("RUN") {
			if strings.Contains(run, "go build") {
				compiles = true
				for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/server"} {
					if !strings.Contains(run, want) {
						t.Errorf("the go build in stage %s lacks %s: %q", s.name, want, run)
					}
				}
			}
		}
	}
	if !compiles {
		t.Errorf("stage %s, which the image copies from, runs no go build", built[0])
	}

	users := final.instruction("USER")
	if len(users) == 0 {
		t.Error("the runtime stage sets no USER: the server would run as root")
	}
	for _, u := range users {
		uid, _, _ := strings.Cut(u, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			t.Errorf("USER %s: want a numeric non-root user, which a runtime can check", u)
		}
	}
	if v := final.instruction("VOLUME"); !slices.Contains(v, "/data") {
		t.Errorf("the runtime stage's VOLUME %q, want /data", v)
	}
	env := map[string]string{}
	for _, e := range final.instruction("ENV") {
		for kv := range strings.FieldsSeq(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	for k, want := range map[string]string{
		"EXPEDITION_DATA": "/data", "EXPEDITION_LISTEN": "0.0.0.0:2222", "EXPEDITION_WEB": "0.0.0.0:8080",
	} {
		if env[k] != want {
			t.Errorf("ENV %s=%q, want %q", k, env[k], want)
		}
	}
	if expose := strings.Join(final.instruction("EXPOSE"), " "); !slices.Equal(strings.Fields(expose), []string{"2222", "8080"}) {
		t.Errorf("EXPOSE %q, want 2222 8080", expose)
	}

	// The build context is the repository root: a local data directory
	// there holds a host key and a token, which must stay out of images.
	ignore := strings.Fields(readFile(t, "../.dockerignore"))
	if !slices.Contains(ignore, "expedition-data") || !slices.Contains(ignore, ".git") {
		t.Errorf("../.dockerignore %q must leave out expedition-data and .git", ignore)
	}
}

// --- systemd -----------------------------------------------------------------

// TestSystemdUnitReadsTheEnvFile checks the unit's text: its settings come
// from /etc/expedition.env, it runs hardened with its own state directory,
// and deploy/expedition.env is a file systemd can read as that.
func TestSystemdUnitReadsTheEnvFile(t *testing.T) {
	service := map[string][]string{}
	section := ""
	for line := range strings.Lines(readFile(t, "expedition.service")) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("expedition.service: %q is not KEY=VALUE", line)
			}
			if section == "[Service]" {
				service[k] = append(service[k], v)
			}
		}
	}
	for k, want := range map[string]string{
		"EnvironmentFile":       "-/etc/expedition.env",
		"ExecStart":             "/usr/local/bin/expedition serve",
		"DynamicUser":           "yes",
		"StateDirectory":        "expedition",
		"Environment":           "EXPEDITION_DATA=/var/lib/expedition",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"CapabilityBoundingSet": "",
		"KillSignal":            "SIGTERM",
	} {
		if !slices.Contains(service[k], want) {
			t.Errorf("expedition.service [Service]: %s=%q, want %s=%s", k, service[k], k, want)
		}
	}

	// Every line of the example, commented out or not, is one systemd can
	// read: KEY=VALUE with an EXPEDITION_ key, no quotes, no "export".
	setting := regexp.MustCompile(`^#?(EXPEDITION_[A-Z_]+)=([^"'\s]*)$`)
	named := map[string]bool{}
	for line := range strings.Lines(readFile(t, "expedition.env")) {
		line = strings.TrimSpace(line)
		if m := setting.FindStringSubmatch(line); m != nil {
			named[m[1]] = true
			continue
		}
		if line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			t.Errorf("expedition.env: %q is neither a comment nor an EXPEDITION_*=value line", line)
		}
	}
	for _, want := range []string{"EXPEDITION_LISTEN", "EXPEDITION_WEB", "EXPEDITION_NATS", "EXPEDITION_ROOM", "EXPEDITION_PROXY_FROM"} {
		if !named[want] {
			t.Errorf("expedition.env does not show %s", want)
		}
	}
	if named["EXPEDITION_DATA"] {
		t.Error("expedition.env sets EXPEDITION_DATA, which the unit's StateDirectory decides")
	}
}

// --- shared-keys.sh ----------------------------------------------------------

// TestSharedKeysMakeOneClass runs shared-keys.sh as compose's keys service
// does, for two data directories, and starts a server on each: both must
// present the key the script made (its fingerprint is what the projector
// shows) and accept its token. A key the server could not read, or a
// token of the wrong shape, would make each server its own instead.
func TestSharedKeysMakeOneClass(t *testing.T) {
	sh := lookTool(t, "sh", "dash")
	sshKeygen := lookTool(t, "ssh-keygen", "openssh-client")
	dir := t.TempDir()
	keys, a, b := filepath.Join(dir, "keys"), filepath.Join(dir, "a"), filepath.Join(dir, "b")
	// The files go to this test's own user, who may not be root.
	script := func(dirs ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		cmd := exec.CommandContext(ctx, sh, append([]string{"shared-keys.sh"}, dirs...)...)
		cmd.Env = append(os.Environ(), "EXPEDITION_UID="+strconv.Itoa(os.Getuid()), "EXPEDITION_GID="+strconv.Itoa(os.Getgid()))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func() string {
		t.Helper()
		out, err := script(keys, a, b)
		if err != nil {
			t.Fatalf("shared-keys.sh: %v\n%s", err, out)
		}
		return out
	}
	first := run()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	fp, err := exec.CommandContext(ctx, sshKeygen, "-lf", filepath.Join(keys, "host_ed25519.pub")).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v", err)
	}
	fingerprint := strings.Fields(string(fp))[1]
	token := strings.TrimSpace(readFile(t, filepath.Join(keys, "instructor_token")))
	if !strings.Contains(first, fingerprint) || !strings.Contains(first, token) {
		t.Errorf("shared-keys.sh does not print the fingerprint %s and the token %s for the teacher:\n%s", fingerprint, token, first)
	}
	if again := run(); again != first {
		t.Errorf("a second run of shared-keys.sh changed the key or token:\n%s\nthen:\n%s", first, again)
	}

	catalog, err := lessons.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{a, b} {
		for _, f := range []string{"host_ed25519", "instructor_token"} {
			info, err := os.Stat(filepath.Join(data, f))
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s has mode %v, want 0600", data, f, info.Mode().Perm())
			}
		}
		srv, err := server.New(server.Config{Listen: "127.0.0.1:0", DataDir: data}, log.New(io.Discard), catalog)
		if err != nil {
			t.Fatalf("a server on %s: %v", data, err)
		}
		if got := srv.Fingerprint(); got != fingerprint {
			t.Errorf("the server on %s presents %s, not the shared key %s", data, got, fingerprint)
		}
		if got := srv.InstructorToken(); got != token {
			t.Errorf("the server on %s takes the token %q, not the shared %q", data, got, token)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down the server on %s: %v", data, err)
		}
		cancel()
	}

	// A token the server would silently replace is refused instead.
	if err := os.WriteFile(filepath.Join(keys, "instructor_token"), []byte("Not-A-Token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := script(keys, a); err == nil || !strings.Contains(out, "is not of the form") {
		t.Errorf("shared-keys.sh did not refuse a malformed token (%v):\n%s", err, out)
	}
}
