package room

import (
	"fmt"
	"testing"
)

// BenchmarkSetValues1000 is one instructor change fanned out to a class of
// 1,000 seats (none reading: publishing never waits for them).
func BenchmarkSetValues1000(b *testing.B) {
	r := New(Config{FirstChapter: "tokens"})
	in, _ := r.Join(Identity{ID: "teacher", Role: Instructor})
	for i := 0; i < 1000; i++ {
		r.Join(Identity{ID: fmt.Sprintf("key:%d", i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = in.SetValues("tokens", map[string]string{"text": fmt.Sprint(i)})
	}
}

// BenchmarkAnswer1000 is one answer in a class of 1,000 with an open poll.
func BenchmarkAnswer1000(b *testing.B) {
	r := New(Config{FirstChapter: "tokens"})
	in, _ := r.Join(Identity{ID: "teacher", Role: Instructor})
	var seats []*Seat
	for i := 0; i < 1000; i++ {
		s, _ := r.Join(Identity{ID: fmt.Sprintf("key:%d", i)})
		seats = append(seats, s)
	}
	in.OpenPoll(PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"a", "b", "c"}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = seats[i%1000].Answer(Answer{Choice: i % 3})
	}
}
