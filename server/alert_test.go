package server

import (
	"errors"
	"fmt"
	"testing"
)

func TestShortError(t *testing.T) {
	for in, want := range map[string]string{
		"commit transaction: database is locked (5) (SQLITE_BUSY)": "database is locked",
		"write: attempt to write a readonly database (8)":          "attempt to write a readonly database",
		"disk I/O error": "disk I/O error",
		"insert event: database or disk is full (13)": "database or disk is full",
		"a: b (c) d": "b (c) d",
	} {
		if got := shortError(fmt.Errorf("wrapped: %w", errors.New(in))); got != want {
			t.Errorf("shortError(%q) = %q, want %q", in, got, want)
		}
	}
}
