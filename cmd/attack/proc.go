package main

import (
	"sync"
	"time"

	"github.com/expedition-llm/expedition/internal/procstat"
)

// sampler reads a process's RSS every interval in the background and keeps
// the highest figure: the peak of an attack is often over before it ends
// (a burst of allocations the garbage collector then gives back).
type sampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak int64
}

// startSampler starts sampling pid's RSS every interval until stopPeak.
func startSampler(pid int, interval time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	rss, err := procstat.RSS(s.pid)
	if err != nil {
		return // the process is gone or was never given; the report says so
	}
	s.mu.Lock()
	s.peak = max(s.peak, rss)
	s.mu.Unlock()
}

// stopPeak stops sampling (taking one last sample) and returns the highest
// RSS seen, in bytes; 0 when none could be read.
func (s *sampler) stopPeak() int64 {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// heldRSS is " rss_held=…", the server's RSS now, while the attack holds
// its sessions open, for a report line; "" without --pid.
func heldRSS(tg *target) string {
	rss, err := procstat.RSS(tg.pid)
	if err != nil {
		return ""
	}
	return " rss_held=" + mib(rss)
}
