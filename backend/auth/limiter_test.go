package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBlocksAfterMaxFailures(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(3, time.Minute, clock.Now)
	type step struct {
		advance   time.Duration
		fail      bool // record a failure (after checking)
		reset     bool
		wantOK    bool
		wantRetry time.Duration
	}
	steps := []step{
		{wantOK: true, fail: true},                            // 1
		{advance: 10 * time.Second, wantOK: true, fail: true}, // 2
		{advance: 10 * time.Second, wantOK: true, fail: true}, // 3: blocked from t=20s until t=80s
		{wantOK: false, wantRetry: time.Minute},
		{advance: 15 * time.Second, wantOK: false, wantRetry: 45 * time.Second},
		{fail: true, wantOK: false, wantRetry: 45 * time.Second}, // failing while blocked does not extend
		{wantOK: false, wantRetry: 45 * time.Second},
		{advance: 45 * time.Second, wantOK: true}, // block over, counter cleared
		{wantOK: true, fail: true},
		{wantOK: true, fail: true},
		{wantOK: true, reset: true}, // success resets
		{wantOK: true, fail: true},
		{wantOK: true, fail: true},
		{wantOK: true},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		ok, retry := l.Check("10.0.0.1")
		if ok != st.wantOK || retry != st.wantRetry {
			t.Fatalf("step %d: Check = %v, %v; want %v, %v", i, ok, retry, st.wantOK, st.wantRetry)
		}
		if st.fail {
			l.Fail("10.0.0.1")
		}
		if st.reset {
			l.Reset("10.0.0.1")
		}
	}
	if ok, _ := l.Check("10.0.0.2"); !ok {
		t.Fatal("an unrelated key is blocked")
	}
}

func TestLimiterSlidingWindow(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(3, time.Minute, clock.Now)
	// Failures spread so that no minute holds three never block...
	for range 6 {
		l.Fail("k")
		clock.Advance(31 * time.Second)
		if ok, _ := l.Check("k"); !ok {
			t.Fatal("blocked with at most 2 failures per minute")
		}
	}
	// ...but a fixed window would let 2+2 straddle its boundary; this does not.
	clock.Advance(time.Minute)
	l.Fail("k")
	l.Fail("k")
	clock.Advance(59 * time.Second)
	l.Fail("k")
	if ok, retry := l.Check("k"); ok || retry != time.Minute {
		t.Fatalf("Check = %v, %v; want blocked for 1m", ok, retry)
	}
}

func TestLimiterDefaults(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(0, 0, clock.Now) // clamped to 1 failure per minute
	l.Fail("k")
	if ok, retry := l.Check("k"); ok || retry != time.Minute {
		t.Fatalf("Check = %v, %v; want blocked for 1m", ok, retry)
	}
	if NewLimiter(5, time.Minute, nil).now == nil {
		t.Fatal("nil clock not defaulted")
	}
}

func TestLimiterPrunes(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(2, time.Minute, clock.Now)
	for i := range 100 {
		l.Fail(fmt.Sprintf("ip-%d", i))
	}
	l.Fail("blocked")
	l.Fail("blocked") // blocked until t=1m
	if n := l.Len(); n != 101 {
		t.Fatalf("Len = %d, want 101", n)
	}
	clock.Advance(30 * time.Second)
	l.Check("someone")
	if n := l.Len(); n != 101 {
		t.Fatalf("Len after half a window = %d, want 101", n)
	}
	// One window on, every failure has aged out and the block has ended: the
	// next access sweeps them (no goroutine involved).
	clock.Advance(30 * time.Second)
	l.Check("someone")
	if n := l.Len(); n != 0 {
		t.Fatalf("Len after a window = %d, want 0", n)
	}

	// Prune sweeps at once, keeping what is still live.
	l.Fail("old")
	clock.Advance(40 * time.Second)
	l.Fail("new")
	clock.Advance(30 * time.Second)
	l.Prune()
	if n := l.Len(); n != 1 {
		t.Fatalf("Len after Prune = %d, want 1 (only \"new\")", n)
	}
}

func TestLimiterMaxKeys(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(3, time.Minute, clock.Now)
	l.maxKeys = 5
	for range 3 {
		l.Fail("attacker") // blocked
	}
	for i := range 20 {
		l.Fail(fmt.Sprintf("n-%d", i)) // one failure each: not blocked
		if n := l.Len(); n > 5 {
			t.Fatalf("Len = %d, over the cap of 5", n)
		}
	}
	if ok, _ := l.Check("attacker"); ok {
		t.Fatal("a blocked key was evicted while unblocked keys were available")
	}
	// With only blocked keys left, the cap still holds.
	for i := range 20 {
		for range 3 {
			l.Fail(fmt.Sprintf("b-%d", i))
		}
	}
	if n := l.Len(); n > 5 {
		t.Fatalf("Len = %d, over the cap of 5", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(1000, time.Minute, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("k%d", (g+i)%5)
				l.Check(key)
				l.Fail(key)
				if i%50 == 0 {
					l.Reset(key)
					l.Prune()
				}
			}
		})
	}
	wg.Wait()
	if l.Len() > 5 {
		t.Fatalf("Len = %d", l.Len())
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "1"}, {time.Millisecond, "1"}, {time.Second, "1"},
		{time.Second + time.Nanosecond, "2"}, {45 * time.Second, "45"}, {-time.Second, "1"},
	}
	for _, tt := range tests {
		if got := RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestLimiterTakeCountsBeforeTheSlowPart: parallel attempts are counted as
// they start, so no more than max get through, and Forgive hands a
// successful attempt back.
func TestLimiterTakeCountsBeforeTheSlowPart(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(5, time.Minute, clock.Now)
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.Take("ip:1.2.3.4"); ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 5 {
		t.Fatalf("%d parallel attempts allowed, want 5", got)
	}
	if ok, wait := l.Take("ip:1.2.3.4"); ok || wait != time.Minute {
		t.Fatalf("after 5 attempts: ok=%v retry=%v", ok, wait)
	}

	// Successful attempts given back do not accumulate.
	for range 20 {
		if ok, _ := l.Take("ip:5.6.7.8"); !ok {
			t.Fatal("forgiven attempts blocked the key")
		}
		l.Forgive("ip:5.6.7.8")
	}
}
