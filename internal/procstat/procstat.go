// Package procstat reads a process's CPU time and memory from Linux's
// /proc, for the tools that measure a running server (cmd/loadtest,
// cmd/attack).
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clkTck is the unit of utime and stime in /proc/N/stat (sysconf(_SC_CLK_TCK)).
// It is 100 on every Linux kernel this tool is meant for; reading it properly
// needs cgo, which the project does without.
const clkTck = 100

// ErrNoPID is returned for a pid of 0 or less: no process was given, and
// its figures are left out.
var ErrNoPID = errors.New("no --pid given")

// RSS returns the resident set (VmRSS) of process pid, in bytes.
func RSS(pid int) (int64, error) {
	if pid <= 0 {
		return 0, ErrNoPID
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

// CPU returns the CPU time process pid has used, user and system
// together, all threads, in seconds.
func CPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, ErrNoPID
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

// Alive reports whether process pid still exists and is not a zombie.
func Alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	end := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[end+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
