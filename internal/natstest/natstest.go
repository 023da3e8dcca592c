// Package natstest runs a real NATS server with JetStream inside a test
// process, on a loopback port and a temporary directory, so tests of a
// class shared over NATS need nothing installed.
package natstest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one embedded NATS server; it stops when the test ends.
type Server struct {
	t    testing.TB
	dir  string
	port int
	ns   *server.Server
}

// Start runs a NATS server with JetStream for t.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), port: -1}
	s.run()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) run() {
	s.t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		s.t.Fatalf("NATS server: %v", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		s.t.Fatal("NATS server not ready within 20 s")
	}
	s.ns = ns
	_, port, _ := net.SplitHostPort(ns.Addr().String())
	s.port, _ = strconv.Atoi(port)
}

// URL is where clients connect: the same across a Restart.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Stop shuts the server down (what it stored stays in its directory).
func (s *Server) Stop() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
}

// Restart stops the server and starts it again on the same port with the
// same store, as a NATS server restarted mid-class.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.run()
}
