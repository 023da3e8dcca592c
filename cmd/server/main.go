// Command server runs Expedition: a guided tour through a GPT-5-class
// language model, served over SSH to a whole class.
//
//	server [serve] [flags]      serve over SSH (the default)
//	server local                run the tour in this terminal, without SSH
//	server snapshot [flags]     print one chapter's screen as text
//
// Every serve flag has an EXPEDITION_* environment twin (EXPEDITION_LISTEN,
// EXPEDITION_DATA, EXPEDITION_IDLE_TIMEOUT, EXPEDITION_MAX_SESSIONS,
// EXPEDITION_CONN_BURST, EXPEDITION_CONN_RATE, EXPEDITION_INSTRUCTORS,
// EXPEDITION_NEW_TOKEN); a flag given on the command line wins over the
// environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
	"github.com/expedition-llm/expedition/session"
)

// shutdownGrace is how long students get to read the shutdown notice before
// their connections are cut; with closing, the process is gone within 5 s.
const shutdownGrace = 3 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its outputs and exit code made testable.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	switch {
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		cmd, args = args[0], args[1:]
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		// Help with no command: the commands, not only serve's flags.
		cmd = "help"
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "local":
		return local(args, stderr)
	case "snapshot":
		return snapshot(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return 2
}

// usage is what "server help" and "server --help" print: the commands, and
// where each one's flags are listed.
const usage = `Expedition: a guided tour inside a GPT-5-class language model, served over SSH to a class.

usage: server [command] [flags]

commands:
  serve     serve the class over SSH (the default when no command is given)
  local     take the tour alone, in this terminal, without SSH
  snapshot  print one chapter's screen as text
  help      print this

"server COMMAND -h" lists a command's flags; every serve flag has an EXPEDITION_* environment twin.
`

// envDefault reads an EXPEDITION_* variable, falling back to def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", envDefault("EXPEDITION_LISTEN", server.DefaultListen),
		"address to serve SSH on; 0.0.0.0:2222 for a workshop (env EXPEDITION_LISTEN)")
	data := fs.String("data", envDefault("EXPEDITION_DATA", server.DefaultDataDir),
		"directory for the host key and class data (env EXPEDITION_DATA)")
	idleDefault, err := time.ParseDuration(envDefault("EXPEDITION_IDLE_TIMEOUT", server.DefaultIdleTimeout.String()))
	if err != nil {
		fmt.Fprintf(stderr, "EXPEDITION_IDLE_TIMEOUT: %v\n", err)
		return 2
	}
	idle := fs.Duration("idle-timeout", idleDefault, "close connections silent this long (env EXPEDITION_IDLE_TIMEOUT)")
	maxDefault, err := strconv.Atoi(envDefault("EXPEDITION_MAX_SESSIONS", strconv.Itoa(server.DefaultMaxSessions)))
	if err != nil {
		fmt.Fprintf(stderr, "EXPEDITION_MAX_SESSIONS: %v\n", err)
		return 2
	}
	maxSessions := fs.Int("max-sessions", maxDefault, "most sessions at once (env EXPEDITION_MAX_SESSIONS)")
	burstDefault, err := strconv.Atoi(envDefault("EXPEDITION_CONN_BURST", strconv.Itoa(server.DefaultConnBurst)))
	if err != nil {
		fmt.Fprintf(stderr, "EXPEDITION_CONN_BURST: %v\n", err)
		return 2
	}
	connBurst := fs.Int("conn-burst", burstDefault, "sessions one address may open at once, e.g. a class behind one NAT (env EXPEDITION_CONN_BURST)")
	rateDefault, err := strconv.ParseFloat(envDefault("EXPEDITION_CONN_RATE", strconv.Itoa(server.DefaultConnRate)), 64)
	if err != nil {
		fmt.Fprintf(stderr, "EXPEDITION_CONN_RATE: %v\n", err)
		return 2
	}
	connRate := fs.Float64("conn-rate", rateDefault, "new sessions per second per address once the burst is spent (env EXPEDITION_CONN_RATE)")
	instructors := fs.String("instructors", envDefault("EXPEDITION_INSTRUCTORS", ""),
		"authorized_keys file of instructor keys; without one a token kept in the data directory makes ssh instructor@host the instructor (env EXPEDITION_INSTRUCTORS)")
	newTokenDefault, err := strconv.ParseBool(envDefault("EXPEDITION_NEW_TOKEN", "false"))
	if err != nil {
		fmt.Fprintf(stderr, "EXPEDITION_NEW_TOKEN: %v\n", err)
		return 2
	}
	newToken := fs.Bool("new-token", newTokenDefault, "replace the instructor token kept in the data directory with a new one (env EXPEDITION_NEW_TOKEN)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: server [serve] [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nOther commands: local, snapshot, help (server help lists them).\n")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *idle <= 0 || *maxSessions <= 0 || *connBurst <= 0 || *connRate <= 0 {
		fmt.Fprintln(stderr, "--idle-timeout, --max-sessions, --conn-burst and --conn-rate must be positive")
		return 2
	}

	logger := log.NewWithOptions(stderr, log.Options{ReportTimestamp: true, Prefix: "expedition"})
	catalog, err := lessons.NewCatalog()
	if err != nil {
		logger.Error("build chapters", "err", err)
		return 1
	}
	srv, err := server.New(server.Config{
		Listen: *listen, DataDir: *data, IdleTimeout: *idle, MaxSessions: *maxSessions, Instructors: *instructors,
		ConnBurst: *connBurst, ConnRate: *connRate, NewToken: *newToken,
	}, logger, catalog)
	if err != nil {
		logger.Error("start", "err", err)
		return 1
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	select {
	case err := <-done:
		if err != nil {
			logger.Error("serve", "err", err)
			return 1
		}
		return 0
	case s := <-sig:
		logger.Info("signal received, telling every session", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func local(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	catalog, err := lessons.NewCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "build chapters: %v\n", err)
		return 1
	}
	p := tea.NewProgram(session.New(session.Options{Catalog: catalog}))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 1
	}
	return 0
}
