package tickstore

import (
	"testing"
	"time"
)

func TestTimings(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := New(Options{Now: func() time.Time { return now }})
	c := s.Conn("connection_1")
	// AAPL arrives every 100 ms, twice per frame (one gap per frame, not per
	// tick), with one 2 s outlier the median must ignore; MSFT once.
	steps := []time.Duration{0, 100, 100, 2000, 100, 100, 100}
	for _, d := range steps {
		now = now.Add(d * time.Millisecond)
		c.AppendBatch([]Tick{{Symbol: "AAPL", Price: 1}, {Symbol: "AAPL", Price: 2}})
	}
	c.Append(Tick{Symbol: "MSFT", Price: 3})
	got := s.Timings(nil)
	if len(got) != 2 {
		t.Fatalf("timings for %d symbols, want 2", len(got))
	}
	a, m := got[0], got[1]
	if a.Symbol != "AAPL" || a.Gaps != 6 || a.MedianGap != 100*time.Millisecond || !a.LastSeen.Equal(now) || a.ConnectionID != "connection_1" {
		t.Errorf("AAPL timing %+v, want 6 gaps, median 100ms, last seen %v", a, now)
	}
	if m.Symbol != "MSFT" || m.Gaps != 0 || m.MedianGap != 0 {
		t.Errorf("MSFT timing %+v, want no gaps", m)
	}
	// Older gaps roll out: after 8 gaps of 1 s the median is 1 s.
	for range 8 {
		now = now.Add(time.Second)
		c.Append(Tick{Symbol: "AAPL", Price: 1})
	}
	if g := s.Timings(nil)[0]; g.MedianGap != time.Second || g.Gaps != 8 {
		t.Errorf("after 8 one-second gaps: %+v", g)
	}
}
