package room

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"
	"time"
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
	now := time.Unix(1_000_000, 0)
	r := New(Config{FirstChapter: "tokens", Now: func() time.Time { return now }})
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
		now = now.Add(time.Second) // within every student's pace
		if err := seats[i%1000].Answer(Answer{Choice: i % 3}); err != nil {
			b.Fatal(err)
		}
	}
}

// discard is a journal that keeps nothing, so the benchmarks below count the
// room's own work for a change, including what it hands the journal.
type discard struct{}

func (discard) Record(Change) {}

// benchHands is one raised or lowered hand in a class of n connected
// students, each with an answered poll behind them, and an instructor.
func benchHands(b *testing.B, n int) {
	now := time.Unix(1_000_000, 0)
	r := New(Config{FirstChapter: "tokens", Journal: discard{}, Now: func() time.Time { return now }})
	in, _ := r.Join(Identity{ID: "teacher", Role: Instructor})
	in.OpenPoll(PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"a", "b", "c"}})
	seats := make([]*Seat, n)
	for i := range seats {
		seats[i], _ = r.Join(Identity{ID: fmt.Sprintf("key:%d", i)})
		seats[i].SetName(fmt.Sprintf("Student %d", i))
		seats[i].Answer(Answer{Choice: i % 3})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second) // within every student's pace
		if err := seats[i%n].RaiseHand(i/n%2 == 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHand300 and BenchmarkHand3000 show that a student's event costs
// the same however long the roster: nothing on its path walks the class.
func BenchmarkHand300(b *testing.B)  { benchHands(b, 300) }
func BenchmarkHand3000(b *testing.B) { benchHands(b, 3000) }

// BenchmarkImage3000 is the image a late server loads, for a class of 3,000
// named members with an answer each; it reports its size.
func BenchmarkImage3000(b *testing.B) {
	r := New(Config{FirstChapter: "tokens"})
	in, _ := r.Join(Identity{ID: "teacher", Role: Instructor})
	in.OpenPoll(PollSpec{Chapter: "tokens", ID: "q", Choices: []string{"a", "b", "c"}})
	for i := 0; i < 3000; i++ {
		s, _ := r.Join(Identity{ID: fmt.Sprintf("SHA256:%043d", i)})
		s.SetName(fmt.Sprintf("Student %d", i))
		s.Answer(Answer{Choice: i % 3})
		s.Report(Position{Following: i%2 == 0, Chapter: "tokens", Values: map[string]map[string]string{"tokens": {"text": "Hello world"}}})
	}
	var size int
	for b.Loop() {
		_, data, err := r.Image()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
	_, data, _ := r.Image()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	b.ReportMetric(float64(z.Len()), "gzipped-bytes")
}
