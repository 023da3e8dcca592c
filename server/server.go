// Package server wires Expedition to SSH: the host key, authentication, the
// middleware chain, one session model per connection on its own loop,
// limits, and a shutdown that tells every student before it closes.
//
// It lives apart from cmd/server so the end-to-end tests can start the real
// server in-process on 127.0.0.1:0.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/recover"
	"github.com/coder/websocket"
	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/frame"
	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/session"
	"github.com/expedition-llm/expedition/session/room"
	"github.com/expedition-llm/expedition/store"
	"github.com/expedition-llm/expedition/store/natsroom"
)

// Defaults for Config fields left zero.
const (
	DefaultListen = "127.0.0.1:2222"
	// DefaultWeb is where the browser door listens, beside SSH.
	DefaultWeb         = "127.0.0.1:8080"
	DefaultDataDir     = "./expedition-data"
	DefaultIdleTimeout = 2 * time.Hour
	// DefaultMaxSessions is what a 2-vCPU machine was measured to carry:
	// 2,000 students following every change (docs/PERFORMANCE.md).
	DefaultMaxSessions = 2000
	// DefaultConnBurst is how many sessions one address may open at once. A
	// whole classroom often shares one address behind the school's NAT, so
	// the burst is a class, not a person.
	DefaultConnBurst = 200
	// DefaultConnRate is the sustained sessions per second per address once
	// the burst is spent.
	DefaultConnRate = 5
	// DefaultRoom names the class on NATS when --room is not given.
	DefaultRoom = "class"
	// natsGrace is how long a stopping server keeps trying to tell NATS
	// of the sessions that just ended.
	natsGrace = 2 * time.Second
	// HandshakeTimeout bounds a connection that never finishes the SSH
	// handshake (a port scanner, a stuck client).
	HandshakeTimeout = 30 * time.Second
)

// ShutdownText is what every student reads when the server stops. The class
// is saved, so a restart picks up where it left off.
const ShutdownText = "The server is shutting down for a restart — reconnect in a moment."

// RemovedText is what a student removed by the instructor reads once their
// connection closes; BannedText what a banned student reads on trying to
// come back.
const (
	RemovedText = "You were removed from this class by the instructor."
	BannedText  = "You were removed from this class by the instructor and cannot rejoin it."
)

// EvictedText is what a student reads when their server lost touch with the
// class it shares with others for too long: reconnecting rejoins it.
const EvictedText = "This server lost touch with the class for a while. Reconnect to rejoin it."

// UnreachableText is what a student reads when this server cannot reach
// the class it shares with others (NATS is away): nothing is wrong with
// them, and trying again shortly works.
const UnreachableText = "This server cannot reach the class right now. Please try again in a moment."

// PanicText is what a student reads when their session broke: the class
// goes on, and reconnecting rejoins it.
const PanicText = "Sorry, something broke in this session and it had to close. The class goes on: reconnect to rejoin."

// Config is everything the server needs to know at start-up.
type Config struct {
	// Listen is the TCP address to serve SSH on.
	Listen string
	// DataDir holds the host key and the class's database.
	DataDir string
	// IdleTimeout closes a connection with no traffic either way for this
	// long. Broadcasts count as traffic, so a following student is never
	// idle while the class moves.
	IdleTimeout time.Duration
	// MaxSessions is the most sessions served at once; the next one is told
	// the class is full.
	MaxSessions int
	// Instructors is an authorized_keys file of the keys that teach; empty
	// means a token printed at start-up makes "ssh instructor@host" the
	// instructor.
	Instructors string
	// ConnBurst and ConnRate limit new sessions per client address.
	ConnBurst int
	ConnRate  float64
	// NewToken replaces the instructor token kept in DataDir with a new
	// one (without an instructors file).
	NewToken bool
	// DrawAlone has every session build and encode its own screens: frame
	// sharing off, to measure what sharing saves.
	DrawAlone bool
	// WebOrigins are the Origin patterns, besides the page's own host, the
	// web door accepts WebSockets from: the public address of a reverse
	// proxy in front of it, e.g. "https://class.example.org".
	WebOrigins []string
	// PublicSSH and PublicWeb, when set, are how students reach the class
	// when it is not at this server's own address (a load balancer, a DNS
	// name): host[:port] for ssh, a URL for the browser door. The
	// instructor's dashboard and the logs show them instead.
	PublicSSH, PublicWeb string
	// NATS, when set, is the NATS server (nats://host:4222) through which
	// this server and others holding the same Room are one class.
	NATS string
	// NATSReplicas is how many NATS servers keep the class's stream and
	// bucket (0 or 1 for one NATS server, 3 for a cluster of three).
	NATSReplicas int
	// Room names the class on NATS (DefaultRoom when empty).
	Room string
	// ProxyFrom are the TCP load balancers (HAProxy in TCP mode with
	// send-proxy, several servers behind it) trusted to open a connection
	// with a PROXY protocol header, v1 or v2, naming the client: from
	// them, by either door, the client's address is the header's, so the
	// per-address limits and the log see students, not the balancer. A
	// header from any other address is refused, never believed. Empty
	// means the PROXY protocol is off: a header is then just bad SSH. The
	// browser door also believes X-Forwarded-For from these addresses (an
	// HTTP proxy on another machine), as it does from loopback.
	ProxyFrom []netip.Prefix
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.ConnBurst <= 0 {
		c.ConnBurst = DefaultConnBurst
	}
	if c.ConnRate <= 0 {
		c.ConnRate = DefaultConnRate
	}
	if c.Room == "" {
		c.Room = DefaultRoom
	}
	return c
}

// Server is a running Expedition SSH server.
type Server struct {
	cfg     Config
	log     *log.Logger
	catalog *lessons.Catalog
	ssh     *ssh.Server
	hostKey gossh.Signer
	auth    *auth
	room    *room.Room
	store   *store.Store
	nats    *natsroom.Transport // nil when the class is this server's alone
	renders *session.Renders
	themes  *ui.Themes // the two themes every session points at

	// joins are how students join, as the doors started serving (guarded
	// by mu): the instructor's dashboard shows them.
	joins []string

	// The web door's servers and open sessions (guarded by mu), and a
	// wake for Shutdown each time a session leaves.
	webServers []*http.Server
	webConns   map[*websocket.Conn]struct{}
	webLeft    chan struct{}
	webHellos  chan struct{} // a slot per page saying hello (MaxWebHellos)
	frames     *frame.Cache  // nil when every session draws alone

	gate     *gate
	limiter  *sessionLimiter
	refusals *refusals

	active  atomic.Int64
	closing atomic.Bool
	stop    chan struct{} // closed at shutdown; ends the refresh loop

	mu       sync.Mutex
	sessions map[*liveSession]struct{}
}

// New prepares a server: it loads (or creates) the host key and builds the
// SSH server, but does not listen yet.
func New(cfg Config, logger *log.Logger, catalog *lessons.Catalog) (*Server, error) {
	cfg = cfg.withDefaults()
	if logger == nil {
		return nil, errors.New("new server: nil logger")
	}
	key, err := loadHostKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	refused := newRefusals(logger)
	token := ""
	if cfg.Instructors == "" {
		if token, err = loadToken(cfg.DataDir, cfg.NewToken); err != nil {
			return nil, fmt.Errorf("new server: %w", err)
		}
	}
	a, err := newAuth(logger, refused, cfg.Instructors, token)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	db, err := store.Open(cfg.DataDir, logger)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	rc := room.Config{FirstChapter: catalog.At(0).ID(), Validate: validator(catalog), Journal: db, MaxChoices: lessons.MaxChoices}
	var shared *natsroom.Transport
	var s *Server
	if cfg.NATS != "" {
		rc.Evicted = func() { s.evicted() }
		rc.Server = serverName(cfg.DataDir)
		shared, err = natsroom.Dial(natsroom.Config{URL: cfg.NATS, Room: cfg.Room, Server: rc.Server,
			Replicas: cfg.NATSReplicas, Logger: logger})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("new server: %w", err)
		}
		rc.Transport = shared
	}
	s = &Server{
		cfg:       cfg,
		log:       logger,
		catalog:   catalog,
		hostKey:   key,
		auth:      a,
		store:     db,
		nats:      shared,
		renders:   session.NewRenders(256),
		themes:    ui.NewThemes(),
		gate:      newGate(startupsPerAddr(cfg.ConnBurst)),
		limiter:   newSessionLimiter(cfg.ConnRate, cfg.ConnBurst),
		refusals:  refused,
		stop:      make(chan struct{}),
		room:      room.New(rc),
		sessions:  map[*liveSession]struct{}{},
		webConns:  map[*websocket.Conn]struct{}{},
		webLeft:   make(chan struct{}, 1),
		webHellos: make(chan struct{}, MaxWebHellos),
	}
	if !cfg.DrawAlone {
		s.frames = frame.NewCache()
	}
	if err := s.restore(); err != nil {
		s.closeStores()
		return nil, fmt.Errorf("new server: %w", err)
	}
	db.Watch(s.savingTrouble)
	srv, err := wish.NewServer(
		wish.WithAddress(cfg.Listen),
		// Passing the signer ourselves keeps wish from writing a key into
		// the working directory.
		func(srv *ssh.Server) error { srv.AddHostKey(key); return nil },
		wish.WithPublicKeyAuth(a.publicKey),
		wish.WithKeyboardInteractiveAuth(a.keyboardInteractive),
		// Sessions tell the student and close at the idle timeout
		// themselves; the SSH layer's own cut is the backstop.
		wish.WithIdleTimeout(cfg.IdleTimeout+idleGrace),
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = HandshakeTimeout
			srv.ConnCallback = connCallback
			srv.ConnectionFailedCallback = s.connFailed
			// Sessions only: no direct-tcpip (port forwarding) or other
			// channel types, and a filter on what a session may ask for.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": sessionHandler}
			return nil
		},
		wish.WithMiddleware(
			// The last listed runs first: recover wraps everything, then
			// the limits turn sessions away before anything is logged.
			s.programMiddleware,
			s.terminalMiddleware,
			s.logMiddleware,
			s.capacityMiddleware,
			s.rateMiddleware,
			onePty,
			recover.MiddlewareWithLogger(printfLogger{logger}),
		),
	)
	if err != nil {
		s.closeStores()
		return nil, fmt.Errorf("build ssh server: %w", err)
	}
	s.ssh = srv
	go s.refreshLoop()
	return s, nil
}

// Fingerprint is the host key's SHA256 fingerprint, for students to check.
func (s *Server) Fingerprint() string { return gossh.FingerprintSHA256(s.hostKey.PublicKey()) }

// HostKey is the server's public host key.
func (s *Server) HostKey() gossh.PublicKey { return s.hostKey.PublicKey() }

// JoinLine is the command a student types to join a server listening on
// addr: loopback and unspecified addresses read as "localhost", and the
// port is left out when it is 22.
func JoinLine(addr string) string { return joinLineAs("", addr) }

// joinLineAs is JoinLine for a given SSH user ("" for none).
func joinLineAs(user, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "22"
	}
	ip := net.ParseIP(host)
	if host == "" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	if user != "" {
		host = user + "@" + host
	}
	if port == "22" {
		return "ssh " + host
	}
	return "ssh -p " + port + " " + host
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info("serving", "addr", ln.Addr().String(), "host_key", s.Fingerprint())
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	hosts := joinHosts(ln.Addr().String())
	for _, h := range hosts {
		s.log.Info("students join with: " + JoinLine(net.JoinHostPort(h, port)))
	}
	public := net.JoinHostPort(hosts[0], port)
	if s.cfg.PublicSSH != "" {
		public = s.cfg.PublicSSH
		s.log.Info("students join with: " + JoinLine(public) + " (--public-ssh)")
	}
	s.addJoin(JoinLine(public))
	if s.auth.token != "" {
		s.log.Info("instructor: "+joinLineAs(InstructorUser, public)+" and answer the token", "token", s.auth.token)
	} else {
		s.log.Info("instructors: keys listed in "+s.cfg.Instructors, "keys", len(s.auth.keys))
	}
	if len(s.cfg.ProxyFrom) > 0 {
		// Wrapped here rather than by the SSH server's own
		// EnableProxyProtocol, which would believe a header from anyone.
		ln = sshProxyListener(ln, s.cfg.ProxyFrom)
		s.log.Info("PROXY protocol headers believed from load balancers", "proxy_from", s.cfg.ProxyFrom)
	}
	err := s.ssh.Serve(&gatedListener{Listener: ln, gate: s.gate, refusals: s.refusals})
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// addJoin records a way in for the instructor's dashboard.
func (s *Server) addJoin(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joins = append(s.joins, line)
}

// joinLines are the ways in, the ssh command first, whichever door opened
// first.
func (s *Server) joinLines() []string {
	s.mu.Lock()
	lines := slices.Clone(s.joins)
	s.mu.Unlock()
	web := func(line string) bool { return !strings.HasPrefix(line, "ssh") }
	slices.SortStableFunc(lines, func(a, b string) int {
		switch {
		case web(a) == web(b):
			return 0
		case web(a):
			return 1
		}
		return -1
	})
	return lines
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ln)
}

// Sessions is the number of sessions being served now.
func (s *Server) Sessions() int { return int(s.active.Load()) }

// Shutdown tells every session the server is going, gives them until ctx is
// done to leave on their own, then closes whatever is left. It returns once
// every connection is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) {
		return nil
	}
	close(s.stop)
	s.log.Info("shutting down", "sessions", s.endAll(ShutdownText))
	webClosed := make(chan error, 1)
	go func() { webClosed <- s.closeWeb(ctx) }()
	err := s.ssh.Shutdown(ctx)
	if err != nil {
		// Sessions that did not leave in time (a stalled client) are cut.
		if cerr := s.ssh.Close(); cerr != nil && !errors.Is(cerr, ssh.ErrServerClosed) {
			return fmt.Errorf("close ssh server: %w", cerr)
		}
	}
	if werr := <-webClosed; werr != nil {
		// Browsers that did not leave in time were cut, as above.
		s.log.Warn("web door closed with sessions cut", "err", werr)
	}
	// Sessions leaving write their last events; then the database closes.
	s.mu.Lock()
	left := len(s.sessions)
	s.mu.Unlock()
	if left > 0 {
		s.log.Warn("sessions still ending at close", "sessions", left)
	}
	s.room.Refresh() // positions waiting for their once-a-second save
	if s.nats != nil {
		s.nats.Close(natsGrace)
	}
	if err := s.store.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// restore brings the class back: from NATS when the class is shared (the
// shared record is the class; this server's database is only its journal),
// else from this server's database.
func (s *Server) restore() error {
	if s.nats != nil {
		if err := s.nats.Start(s.room); err != nil {
			return fmt.Errorf("join the class on NATS: %w", err)
		}
		s.log.Info("class shared over NATS", "nats", s.cfg.NATS, "room", s.cfg.Room, "server", serverName(s.cfg.DataDir))
		return nil
	}
	saved, members, ok, err := s.store.Load()
	if err != nil {
		return err
	}
	if ok {
		s.room.Restore(saved, members)
		s.log.Info("class restored", "version", saved.Version, "chapter", saved.Chapter, "members", len(members))
	}
	return nil
}

// evicted ends every session here when the other servers sharing the
// class gave this one up (it was out of touch with NATS too long): the
// class no longer counts them, and reconnecting joins them again.
func (s *Server) evicted() {
	s.log.Warn("the other servers gave this one up; ending its sessions so they rejoin", "sessions", s.endAll(EvictedText))
}

// endAll ends every live session with text and returns how many there
// were. The sessions are ended outside the lock: each one leaving takes it.
func (s *Server) endAll(text string) int {
	s.mu.Lock()
	live := make([]*liveSession, 0, len(s.sessions))
	for ls := range s.sessions {
		live = append(live, ls)
	}
	s.mu.Unlock()
	for _, ls := range live {
		ls.end(text)
	}
	return len(live)
}

// closeStores closes what New opened when it cannot finish.
func (s *Server) closeStores() {
	if s.nats != nil {
		s.nats.Close(0)
	}
	s.store.Close()
}

// serverName names this server among those sharing a class, the same
// across its restarts: its host and its data directory (two servers on one
// machine have two).
func serverName(dataDir string) string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return host + ":" + dataDir
}

// refreshLoop brings head counts and tallies that quiet events changed to
// every screen, once a second at most.
func (s *Server) refreshLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.room.Refresh()
		}
	}
}

// savingTrouble hears from the store when saving the class starts failing
// (err) and when it works again (nil): the instructor reads it on screen,
// since a class that is silently not saved is lost at the next restart.
func (s *Server) savingTrouble(err error) {
	if err != nil {
		s.log.Error("the class is not being saved", "err", err)
		// Short enough for one line at 80 columns, "⚠ " included.
		s.room.SetAlert("Saving failed: " + shortError(err) + " · check the disk")
		return
	}
	s.log.Info("saving the class works again")
	s.room.SetAlert("")
}

// shortError is an error's last words, enough for a one-line alert: the
// cause without its wrapping, and without SQLite's codes ("database is
// locked (5) (SQLITE_BUSY)" reads "database is locked").
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	for strings.HasSuffix(msg, ")") {
		i := strings.LastIndex(msg, " (")
		if i <= 0 {
			break
		}
		msg = msg[:i]
	}
	if r := []rune(msg); len(r) > 44 {
		msg = string(r[:43]) + "…"
	}
	return msg
}

// InstructorToken is the token that makes "ssh instructor@host" the
// instructor ("" when an instructors file is used).
func (s *Server) InstructorToken() string { return s.auth.token }

// validator checks room input against the catalog: chapters by ID, values
// clamped by their control.
func validator(cat *lessons.Catalog) func(chapter, key, value string) (string, bool) {
	return func(chapter, key, value string) (string, bool) {
		i, ok := cat.Index(chapter)
		if !ok {
			return "", false
		}
		if key == "" {
			return "", true
		}
		c, ok := lessons.ControlByKey(cat.At(i), key)
		if !ok {
			return "", false
		}
		return c.Clamp(value), true
	}
}

// printfLogger adapts a structured logger to wish's Printf-style one.
type printfLogger struct{ l *log.Logger }

func (p printfLogger) Printf(format string, v ...any) { p.l.Error(fmt.Sprintf(format, v...)) }

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return strconv.Itoa(22)
	}
	return port
}
