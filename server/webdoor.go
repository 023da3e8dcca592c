package server

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	"github.com/coder/websocket"

	"github.com/expedition-llm/expedition/session/room"
)

// The browser door: a page with a terminal in it (xterm.js, embedded) and a
// WebSocket that carries the same session as an SSH student gets, under the
// same limits. The wire, both ways binary frames:
//
//	browser → server: a kind byte, then its body
//	  0x01 hello, first and once: JSON {"key": 43 base64url chars, "cols": C, "rows": R, "token": "…" (instructors)}
//	  0x00 input: the bytes typed
//	  0x02 resize: cols, rows as big-endian uint16
//	server → browser: terminal output, as is
//
// A session ends with a close code that tells the page whether to come
// back by itself (see closeCode).

//go:embed web/index.html web/app.js web/app.css web/vendor/xterm.js web/vendor/xterm.css web/vendor/addon-fit.js web/vendor/LICENSE-*
var webFiles embed.FS

// Limits on what a browser may send.
const (
	// MaxWebMessage is the largest message a browser may send: a paste
	// past it ends the connection (the page reconnects), and the session
	// cuts pastes far shorter anyway.
	MaxWebMessage = 64 << 10
	// helloTimeout is how long a new connection has to say who it is.
	helloTimeout = 10 * time.Second
	// maxTokenLen bounds the instructor token a hello may carry.
	maxTokenLen = 64
	// MaxWebHellos is how many pages may be between opening the socket
	// and their hello at once, from all addresses (as MaxStartups is
	// for SSH).
	MaxWebHellos = 1000
)

// webKeyLen is the length of a page's key: 32 random bytes, base64url.
const webKeyLen = 43

// Close codes: 1000 is a session the student ended; 4000–4099 end it for
// good (the page waits to be asked to join again); 4100–4199 ask the page
// to come back after a while.
const (
	closeRefused   websocket.StatusCode = 4000 // removed, banned, a wrong token, a bad hello
	closeIdle      websocket.StatusCode = 4003 // closed for idleness: come back when someone is there
	closeTryLater  websocket.StatusCode = 4100 // the class is full, or too many from one network
	closeRestart   websocket.StatusCode = 4101 // the server is restarting
	closeSessionUp websocket.StatusCode = 4102 // this session broke; a new one will do
)

// hello is the first message a page sends.
type hello struct {
	Key   string `json:"key"`
	Cols  int    `json:"cols"`
	Rows  int    `json:"rows"`
	Token string `json:"token,omitempty"`
}

// webHandler serves the page, its files and the WebSocket.
func (s *Server) webHandler() http.Handler {
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.webSocket)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		http.ServeFileFS(w, r, static, "index.html")
	})
	for _, name := range []string{"/app.js", "/app.css", "/vendor/"} {
		mux.Handle("GET "+name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pageHeaders(w)
			files.ServeHTTP(w, r)
		}))
	}
	return mux
}

// pageHeaders keeps the page to itself: its own scripts and styles only, no
// framing, no sniffing, no referrer.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

// ServeWeb serves the browser door on ln until Shutdown.
func (s *Server) ServeWeb(ln net.Listener) error {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	hosts := joinHosts(ln.Addr().String())
	for _, h := range hosts {
		s.log.Info("students join from a browser at " + webURL(h, port))
	}
	public := webURL(hosts[0], port)
	if s.cfg.PublicWeb != "" {
		public = s.cfg.PublicWeb
		s.log.Info("students join from a browser at " + public + " (--public-web)")
	}
	s.log.Info("instructor from a browser: " + public + "#instructor and type the token")
	s.addJoin(public)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return nil
	}
	srv := &http.Server{Handler: s.webHandler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
	s.webServers = append(s.webServers, srv)
	s.mu.Unlock()
	if len(s.cfg.ProxyFrom) > 0 {
		// Behind a TCP load balancer the request's RemoteAddr is then
		// already the client's.
		ln = webProxyListener(ln, s.cfg.ProxyFrom)
		srv.ConnContext = withProxyConn
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web door: %w", err)
	}
	return nil
}

// webURL is the page's address on host and port.
func webURL(host, port string) string {
	if port == "80" {
		return "http://" + host + "/"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// webSocket is one browser's session.
func (s *Server) webSocket(w http.ResponseWriter, r *http.Request) {
	// The page's own origin is always let in; --web-origin names the
	// public origins of a proxy in front (an https:// address).
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.WebOrigins})
	if err != nil {
		s.refusals.note("web: refused a WebSocket", hostOfString(r.RemoteAddr), "err", err.Error())
		return // Accept has answered
	}
	conn.SetReadLimit(MaxWebMessage)
	s.mu.Lock()
	s.webConns[conn] = struct{}{}
	s.mu.Unlock()
	defer func() {
		_ = conn.CloseNow()
		s.mu.Lock()
		delete(s.webConns, conn)
		s.mu.Unlock()
		select { // closeWeb may be waiting for the last one
		case s.webLeft <- struct{}{}:
		default:
		}
	}()
	addr := clientAddr(r, s.cfg.ProxyFrom)
	end := func(code websocket.StatusCode, text string) {
		if text != "" {
			_ = conn.Write(r.Context(), websocket.MessageBinary, []byte(text+"\r\n"))
		}
		_ = conn.Close(code, "")
	}

	// The address's new-session allowance is spent before the hello, and
	// only so many pages may be saying hello at once: a flood of sockets
	// that never say who they are holds a goroutine each for helloTimeout
	// at most, and no more of them than MaxWebHellos.
	if why := s.allowNew(addr); why != "" {
		end(closeTryLater, why)
		return
	}
	select {
	case s.webHellos <- struct{}{}:
	default:
		s.refusals.note("web: too many pages joining at once", addr, "max", MaxWebHellos)
		end(closeTryLater, "Too many people are joining at this moment. Please wait a few seconds and reload.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), helloTimeout)
	h, err := readHello(ctx, conn)
	cancel()
	<-s.webHellos
	if err != nil {
		s.refusals.note("web: bad hello", addr, "err", err.Error())
		end(closeRefused, "This page could not join the class ("+err.Error()+"). Reload the page to try again.")
		return
	}
	release, why := s.takeSession(addr)
	if why != "" {
		end(closeTryLater, why)
		return
	}
	defer release()

	id := room.Identity{Role: room.Student, Addr: addr, ID: webMember(h.Key)}
	user := ""
	if h.Token != "" {
		if why := s.auth.checkToken(addr, h.Token); why != "" {
			end(closeRefused, why)
			return
		}
		// Token logins share one seat, whichever door they come by.
		id.Role, id.ID, user = room.Instructor, "instructor", InstructorUser
	}
	start := time.Now()
	s.log.Info("connect", "door", "web", "addr", addr, "member", id.ID, "size", fmt.Sprintf("%dx%d", h.Cols, h.Rows))
	defer func() {
		s.log.Info("disconnect", "door", "web", "addr", addr, "after", time.Since(start).Round(time.Second).String())
	}()

	sessCtx, stop := context.WithCancel(r.Context())
	defer stop()
	wt := newWebTerm(sessCtx, conn)
	go wt.readLoop(stop)
	code, last := websocket.StatusNormalClosure, ""
	say := func(text string) {
		last = text
		_ = conn.Write(sessCtx, websocket.MessageBinary, []byte(text+"\r\n"))
	}
	s.runSession(&visitor{
		id: id, user: user, addr: addr, ctx: sessCtx, term: wt, w: h.Cols, h: h.Rows,
		// xterm.js shows 24-bit colour.
		profile: colorprofile.TrueColor, sizes: wt.sizes,
		tell:   say,
		refuse: func(text string) { say(text); code = closeRefused },
	})
	switch {
	case last == ShutdownText:
		code = closeRestart
	case last == PanicText:
		code = closeSessionUp
	case last == UnreachableText:
		code = closeTryLater
	case last == idleText(s.cfg.IdleTimeout):
		code = closeIdle
	}
	_ = conn.Close(code, "")
}

// readHello reads and checks the page's first message.
func readHello(ctx context.Context, conn *websocket.Conn) (hello, error) {
	var h hello
	typ, data, err := conn.Read(ctx)
	switch {
	case err != nil:
		return h, fmt.Errorf("no hello: %w", err)
	case typ != websocket.MessageBinary || len(data) < 2 || data[0] != kindHello:
		return h, errors.New("the first message was not a hello")
	}
	if err := json.Unmarshal(data[1:], &h); err != nil {
		return h, fmt.Errorf("hello: %w", err)
	}
	if b, err := base64.RawURLEncoding.DecodeString(h.Key); err != nil || len(h.Key) != webKeyLen || len(b) != 32 {
		return h, errors.New("the page's key is not 32 bytes of base64url")
	}
	if len(h.Token) > maxTokenLen {
		return h, errors.New("the token is too long")
	}
	// The session clamps the size it draws at; here it only has to fit
	// what a window change can say.
	h.Cols, h.Rows = min(max(h.Cols, 0), 0xffff), min(max(h.Rows, 0), 0xffff)
	return h, nil
}

// webMember is the member a page's key stands for: a hash of it, so the key
// itself (all a page needs to be that student) is never kept or logged.
func webMember(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "web:" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Message kinds from the page.
const (
	kindInput  = 0x00
	kindHello  = 0x01
	kindResize = 0x02
)

// webTerm is a browser's terminal as a session reads and writes it: keys
// come out of Read, frames go into Write, window changes come on sizes.
type webTerm struct {
	ctx   context.Context
	conn  *websocket.Conn
	in    *io.PipeReader
	inW   *io.PipeWriter
	sizes chan ssh.Window // the newest size; closed when the page is gone
}

func newWebTerm(ctx context.Context, conn *websocket.Conn) *webTerm {
	in, inW := io.Pipe()
	return &webTerm{ctx: ctx, conn: conn, in: in, inW: inW, sizes: make(chan ssh.Window, 1)}
}

func (t *webTerm) Read(p []byte) (int, error) { return t.in.Read(p) }

// Write sends one frame. A browser that stops reading holds up only this
// writer (frame.Terminal's), which skips to the newest frame meanwhile.
func (t *webTerm) Write(p []byte) (int, error) {
	if err := t.conn.Write(t.ctx, websocket.MessageBinary, p); err != nil {
		return 0, fmt.Errorf("web: %w", err)
	}
	return len(p), nil
}

// readLoop reads the page's messages until the connection ends, then ends
// the session (stop) and its input.
func (t *webTerm) readLoop(stop func()) {
	var err error
	defer func() {
		_ = t.inW.CloseWithError(io.EOF)
		close(t.sizes)
		stop()
	}()
	for {
		var typ websocket.MessageType
		var data []byte
		if typ, data, err = t.conn.Read(t.ctx); err != nil {
			return
		}
		if typ != websocket.MessageBinary || len(data) == 0 {
			continue // text frames carry nothing of ours
		}
		switch data[0] {
		case kindInput:
			if _, err = t.inW.Write(data[1:]); err != nil {
				return
			}
		case kindResize:
			if len(data) != 5 {
				continue
			}
			win := ssh.Window{Width: int(binary.BigEndian.Uint16(data[1:3])), Height: int(binary.BigEndian.Uint16(data[3:5]))}
			select { // only the newest size matters
			case <-t.sizes:
			default:
			}
			t.sizes <- win
		}
	}
}

// clientAddr is the browser's address for per-address limits and logs:
// the connection's own (the client's, when a load balancer in proxies sent
// a PROXY header), or, when that is a reverse proxy on this machine (a
// loopback peer) or one of proxies (an HTTP proxy on another machine), the
// address the proxy appended to X-Forwarded-For. Behind a proxy every
// student would otherwise be the proxy, one address for the whole class;
// only a proxy on this machine or one listed is trusted to say.
//
// A connection that came with a PROXY header is the client's, as its
// balancer saw it: any X-Forwarded-For on it is the client's own word (a
// TCP balancer adds none), even when the client's address happens to be
// loopback or listed, so it is not read.
func clientAddr(r *http.Request, proxies []netip.Prefix) string {
	host := hostOfString(r.RemoteAddr)
	if cameWithProxyHeader(r) {
		return host
	}
	if peer, err := netip.ParseAddr(host); err != nil || !peer.Unmap().IsLoopback() && !proxied(proxies, peer) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	hops := strings.Split(xff[len(xff)-1], ",")
	if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
		return ip.String()
	}
	return host
}

// hostOfString is the host of a "host:port" address.
func hostOfString(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// closeWeb ends the web door: no new connections, and the sessions still
// open once ctx is done are cut.
func (s *Server) closeWeb(ctx context.Context) error {
	s.mu.Lock()
	servers := s.webServers
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		// Shutdown does not wait for hijacked connections (the sessions):
		// they were told to leave and are waited for below.
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for {
		s.mu.Lock()
		n := len(s.webConns)
		s.mu.Unlock()
		if n == 0 {
			return errors.Join(errs...)
		}
		select {
		case <-s.webLeft:
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.webConns {
				_ = c.CloseNow()
			}
			s.mu.Unlock()
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
}
