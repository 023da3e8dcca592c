package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clkTck is the unit of utime and stime in /proc/N/stat (sysconf(_SC_CLK_TCK)).
// It is 100 on every Linux kernel this tool is meant for; reading it properly
// needs cgo, which the project does without.
const clkTck = 100

// errNoPID is returned when no --pid was given: the server's figures are
// then simply left out of the report.
var errNoPID = errors.New("no --pid given")

// readRSS returns the resident set of process pid, in bytes.
func readRSS(pid int) (int64, error) {
	if pid <= 0 {
		return 0, errNoPID
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return parseVmRSS(string(data))
}

// parseVmRSS reads the "VmRSS:  123456 kB" line of a /proc/N/status text,
// in bytes.
func parseVmRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("odd VmRSS line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	// Kernel threads and zombies have no VmRSS line.
	return 0, errors.New("no VmRSS line (is the process a zombie?)")
}

// readCPU returns the CPU time process pid has used, user and system
// together, in seconds.
func readCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errNoPID
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(data))
}

// parseStatCPU reads utime and stime (fields 14 and 15, counting from 1)
// of a /proc/N/stat line, in seconds. The second field, the command name in
// parentheses, may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseStatCPU(stat string) (float64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in stat line %q", stat)
	}
	// After ')' come the fields from 3 (state) on: utime is the 12th of
	// them, stime the 13th.
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the command name, want at least 13", len(fields))
	}
	utime, err := strconv.ParseUint(fields[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseUint(fields[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return float64(utime+stime) / clkTck, nil
}

// alive reports whether process pid still exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	end := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[end+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

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
	rss, err := readRSS(s.pid)
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
	rss, err := readRSS(tg.pid)
	if err != nil {
		return ""
	}
	return " rss_held=" + mib(rss)
}
