// Command server runs Expedition: a guided tour through a GPT-5-class
// language model, served over SSH to a whole class.
//
//	server [serve] [flags]      serve over SSH (the default)
//	server local                run the tour in this terminal, without SSH
//	server snapshot [flags]     print one chapter's screen as text
//	server report [flags]       print what a class did, from its database or NATS
//
// Every serve flag has an EXPEDITION_* environment twin (EXPEDITION_LISTEN,
// EXPEDITION_DATA, EXPEDITION_IDLE_TIMEOUT, EXPEDITION_MAX_SESSIONS,
// EXPEDITION_CONN_BURST, EXPEDITION_CONN_RATE, EXPEDITION_INSTRUCTORS,
// EXPEDITION_NEW_TOKEN, EXPEDITION_NATS, EXPEDITION_ROOM, ...); a flag given
// on the command line wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"

	"github.com/expedition-llm/expedition/lessons"
	"github.com/expedition-llm/expedition/server"
	"github.com/expedition-llm/expedition/session"
	"github.com/expedition-llm/expedition/store/natsroom"
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
	case "report":
		return report(args, stdout, stderr)
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
  report    print what a class did: every question with its answers, and each student's
            (from the data directory, or with --nats from the class's shared record)
  help      print this

"server COMMAND -h" lists a command's flags; every serve flag has an EXPEDITION_* environment twin.
`

// splitList reads "a, b,c" as [a b c], dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// envTwins gives every flag of fs its environment twin, EXPEDITION_ and
// the flag's name in capitals (--idle-timeout, EXPEDITION_IDLE_TIMEOUT): the
// one place the pairs are made. A variable that is set becomes the flag's
// default (a flag on the command line still wins), and the flag's help
// names it. A value the flag would refuse is an error naming the variable.
func envTwins(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "EXPEDITION_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		f.Usage += " (env " + env + ")"
		if v, ok := os.LookupEnv(env); ok && err == nil {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %w", env, serr)
				return
			}
			f.DefValue = f.Value.String()
		}
	})
	return err
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", server.DefaultListen, "address to serve SSH on; 0.0.0.0:2222 for a workshop")
	data := fs.String("data", server.DefaultDataDir, "directory for the host key, the instructor token and the class data")
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "close a session with no key pressed and nothing new on screen this long")
	maxSessions := fs.Int("max-sessions", server.DefaultMaxSessions, "most sessions at once")
	connBurst := fs.Int("conn-burst", server.DefaultConnBurst, "sessions one address may open at once, e.g. a class behind one NAT")
	connRate := fs.Float64("conn-rate", server.DefaultConnRate, "new sessions per second per address once the burst is spent")
	instructors := fs.String("instructors", "",
		"authorized_keys file of instructor keys; without one a token kept in the data directory makes ssh instructor@host the instructor")
	newToken := fs.Bool("new-token", false, "replace the instructor token kept in the data directory with a new one")
	shareFrames := fs.Bool("share-frames", true,
		"build each distinct screen once and write the same bytes to every student who sees it; false draws every session alone")
	web := fs.String("web", server.DefaultWeb, `address to serve the browser door on (a page with a terminal, for students without ssh); "" for none`)
	publicSSH := fs.String("public-ssh", "", "host[:port] students ssh to when it is not this server's own address (a load balancer, a DNS name); shown on the instructor's dashboard")
	publicWeb := fs.String("public-web", "", "the browser door's page as students open it when not at this server (https://class.example.org/); shown on the dashboard")
	webOrigins := fs.String("web-origin", "", "comma-separated public origins of a reverse proxy in front of the browser door, e.g. https://class.example.org")
	natsURL := fs.String("nats", "", "NATS server with JetStream (nats://host:4222) through which several servers are one class; empty for a class on this server alone")
	natsReplicas := fs.Int("nats-replicas", 1, "how many NATS servers keep the class's stream and bucket: 1 for one NATS server, 3 for a cluster of three")
	roomName := fs.String("room", server.DefaultRoom, "the class's name on NATS: servers with the same --nats and --room are one class")
	var proxies proxyFrom
	fs.Var(&proxies, "proxy-from", "comma-separated IP `addresses` or CIDR prefixes of TCP load balancers (HAProxy with send-proxy) "+
		"whose PROXY protocol header, v1 or v2, names the client; off when empty")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060; off when empty")
	if err := envTwins(fs); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
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
	if *publicSSH != "" {
		if err := checkPublicSSH(*publicSSH); err != nil {
			fmt.Fprintf(stderr, "--public-ssh: %v\n", err)
			return 2
		}
	}
	if *publicWeb != "" {
		if err := checkPublicWeb(*publicWeb); err != nil {
			fmt.Fprintf(stderr, "--public-web: %v\n", err)
			return 2
		}
	}
	if *natsURL != "" {
		if *natsReplicas < 1 || *natsReplicas > 5 {
			fmt.Fprintln(stderr, "--nats-replicas must be 1 to 5 (NATS keeps at most 5 copies)")
			return 2
		}
		if err := natsroom.CheckRoom(*roomName); err != nil {
			fmt.Fprintf(stderr, "--room: %v\n", err)
			return 2
		}
	}
	if *pprofAddr != "" {
		if err := serveProfiler(*pprofAddr); err != nil {
			fmt.Fprintf(stderr, "--pprof: %v\n", err)
			return 2
		}
	}

	logger := log.NewWithOptions(stderr, log.Options{ReportTimestamp: true, Prefix: "expedition"})
	catalog, err := lessons.NewCatalog()
	if err != nil {
		logger.Error("build chapters", "err", err)
		return 1
	}
	srv, err := server.New(server.Config{
		Listen: *listen, DataDir: *data, IdleTimeout: *idle, MaxSessions: *maxSessions, Instructors: *instructors,
		ConnBurst: *connBurst, ConnRate: *connRate, NewToken: *newToken, DrawAlone: !*shareFrames,
		WebOrigins: splitList(*webOrigins), ProxyFrom: proxies, PublicSSH: *publicSSH, PublicWeb: *publicWeb,
		NATS: *natsURL, NATSReplicas: *natsReplicas, Room: *roomName,
	}, logger, catalog)
	if err != nil {
		logger.Error("start", "err", err)
		return 1
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan error, 2)
	go func() { done <- srv.ListenAndServe() }()
	if *web != "" {
		ln, err := net.Listen("tcp", *web)
		if err != nil {
			logger.Error("start the browser door", "err", err)
			_ = srv.Shutdown(context.Background())
			return 1
		}
		go func() {
			if err := srv.ServeWeb(ln); err != nil {
				done <- err
			}
		}()
	}
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
