package procstat

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses must not shift the
	// fields: utime is 250 ticks and stime 75, 3.25 s at 100 ticks a second.
	line := "12345 (exp (x) y) S 1 12345 12345 34816 12345 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 " +
		"123456 1234567890 25000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3.25 {
		t.Fatalf("cpu = %v s, want 3.25", got)
	}
	if _, err := parseStatCPU("12345 (short) S 1 2 3"); err == nil {
		t.Fatal("a truncated stat line parsed without error")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\texpedition\nState:\tS (sleeping)\nVmPeak:\t 2461228 kB\nVmRSS:\t   67584 kB\nRssAnon:\t   40960 kB\n"
	got, err := parseVmRSS(status)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(67584 * 1024); got != want {
		t.Fatalf("rss = %d, want %d", got, want)
	}
	if _, err := parseVmRSS("Name:\tkthreadd\nState:\tS (sleeping)\n"); err == nil {
		t.Fatal("a status without VmRSS parsed without error")
	}
}

func TestReadSelf(t *testing.T) {
	pid := os.Getpid()
	rss, err := RSS(pid)
	if err != nil || rss <= 0 {
		t.Fatalf("RSS(self) = %d, %v", rss, err)
	}
	if _, err := CPU(pid); err != nil {
		t.Fatalf("CPU(self): %v", err)
	}
	if !Alive(pid) {
		t.Fatal("Alive(self) = false")
	}
}
