package tickstore

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestRateAndHistory(t *testing.T) {
	// Each step waits pre, sends burst ticks at once, sends perSec evenly
	// spaced ticks for secs seconds, waits, then checks Rate and History. The
	// window is 10 s and History 5 points; the clock starts on a whole second.
	type step struct {
		pre                 time.Duration
		burst, perSec, secs int
		wait                time.Duration
		rate                float64
		hist                []float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no ticks", []step{{wait: 3 * time.Second, rate: 0, hist: []float64{0, 0, 0, 0, 0}}}},
		{"steady 10/s over a full window", []step{{perSec: 10, secs: 20, rate: 10, hist: []float64{10, 10, 10, 10, 10}}}},
		{"mid-second reading: ticks in (10.5 s, 20.5 s] over 10 s", []step{
			{perSec: 10, secs: 20, wait: 500 * time.Millisecond, rate: 9.5, hist: []float64{10, 10, 10, 10, 10}},
		}},
		{"young connection divides by elapsed time, not the window", []step{
			{perSec: 4, secs: 2, rate: 4, hist: []float64{0, 0, 0, 4, 4}},
			{wait: 2 * time.Second, rate: 2, hist: []float64{0, 4, 4, 0, 0}},
		}},
		{"first burst is not divided by less than a second", []step{
			{burst: 50, wait: 100 * time.Millisecond, rate: 50},
			{wait: 400 * time.Millisecond, rate: 50},
			{wait: 1500 * time.Millisecond, rate: 25, hist: []float64{0, 0, 0, 50, 0}},
		}},
		{"decays when traffic stops", []step{
			{perSec: 10, secs: 20, wait: 5 * time.Second, rate: 5, hist: []float64{0, 0, 0, 0, 0}},
			{wait: 4500 * time.Millisecond, rate: 0.5},
			{wait: 500 * time.Millisecond, rate: 0},
			{wait: time.Hour, rate: 0, hist: []float64{0, 0, 0, 0, 0}},
		}},
		{"rate follows a change of pace", []step{
			{perSec: 10, secs: 20, rate: 10},
			{perSec: 20, secs: 5, rate: 15, hist: []float64{20, 20, 20, 20, 20}},
			{perSec: 20, secs: 5, rate: 20},
		}},
		{"gap longer than the bucket ring", []step{
			{perSec: 7, secs: 1, rate: 7},
			{pre: 100 * time.Second, perSec: 1, secs: 1, rate: 0.1, hist: []float64{0, 0, 0, 0, 1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			s := New(Options{Window: 10 * time.Second, History: 5, Now: clk.Now})
			c := s.Conn("c")
			var hist []float64
			for i, st := range tt.steps {
				clk.Advance(st.pre)
				for range st.burst {
					c.Append(Tick{Symbol: "A", Price: 1})
				}
				for range st.secs {
					for range st.perSec {
						c.Append(Tick{Symbol: "A", Price: 1})
						clk.Advance(time.Second / time.Duration(st.perSec))
					}
				}
				clk.Advance(st.wait)
				if got := c.Rate(); math.Abs(got-st.rate) > 1e-9 {
					t.Errorf("step %d: Rate = %v, want %v", i, got, st.rate)
				}
				if st.hist != nil {
					if hist = c.History(hist); !slices.Equal(hist, st.hist) {
						t.Errorf("step %d: History = %v, want %v", i, hist, st.hist)
					}
				}
			}
		})
	}
}

func TestHistoryLengthDefault(t *testing.T) {
	clk := newFakeClock()
	s := New(Options{Now: clk.Now})
	c := s.Conn("c")
	c.Append(Tick{Symbol: "A"})
	c.Append(Tick{Symbol: "A"})
	clk.Advance(time.Second)
	h := c.History(nil)
	if len(h) != 60 || h[59] != 2 || h[58] != 0 {
		t.Fatalf("History = %v", h)
	}
}

func TestFloorDiv(t *testing.T) {
	tests := []struct{ a, b, want int64 }{
		{7, 2, 3}, {-7, 2, -4}, {-8, 2, -4}, {0, 5, 0}, {-1, 1e9, -1}, {1e9, 1e9, 1},
	}
	for _, tt := range tests {
		if got := floorDiv(tt.a, tt.b); got != tt.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
