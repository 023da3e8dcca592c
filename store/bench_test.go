package store

import (
	"fmt"
	"testing"

	"github.com/expedition-llm/expedition/session/room"
)

// BenchmarkRecord is the cost the room pays, under its lock, per change: a
// log row, the room's state, one member and one answer. It must not grow
// with the members already saved, and stay in microseconds while the
// writer works alongside.
func BenchmarkRecord(b *testing.B) {
	for _, stored := range []int{30, 3000} {
		b.Run(fmt.Sprintf("members=%d", stored), func(b *testing.B) {
			db := openStore(b, b.TempDir())
			// The changes are built beforehand: the room builds them, the
			// store only takes them.
			changes := make([]room.Change, 1024)
			for i := range changes {
				changes[i] = event(uint64(stored+i+1), fmt.Sprintf("key:%d", i%stored))
			}
			for i := range stored {
				db.Record(event(uint64(i+1), fmt.Sprintf("key:%d", i)))
			}
			if err := db.Flush(); err != nil {
				b.Fatal(err)
			}
			v := uint64(stored)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				v++
				c := changes[i%len(changes)]
				c.Version = v
				db.Record(c)
			}
		})
	}
}
