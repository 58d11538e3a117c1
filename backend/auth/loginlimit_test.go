package auth

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

func TestBackoffGrowsCapsAndDecays(t *testing.T) {
	clock := newFakeClock()
	b := NewBackoff(BackoffConfig{Now: clock.Now})
	ms := time.Millisecond
	want := []time.Duration{0, 0, 0, 250 * ms, 500 * ms, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	for i, w := range want {
		if got := b.Fail("admin"); got != w {
			t.Fatalf("failure %d: delay %v, want %v", i+1, got, w)
		}
	}
	if got := b.Fail("viewer"); got != 0 {
		t.Fatalf("another key's first failure: delay %v", got)
	}
	// Failures keep the count alive; a quiet window starts it over.
	clock.Advance(14 * time.Minute)
	if got := b.Fail("admin"); got != 2*time.Second {
		t.Fatalf("after 14 quiet minutes: %v, want the cap", got)
	}
	clock.Advance(15 * time.Minute)
	if got := b.Fail("admin"); got != 0 {
		t.Fatalf("after a quiet window: %v, want 0", got)
	}
}

func TestBackoffBoundsKeys(t *testing.T) {
	clock := newFakeClock()
	b := NewBackoff(BackoffConfig{Now: clock.Now})
	b.maxKeys = 5
	for range 6 {
		b.Fail("admin")
	}
	for i := range 50 {
		b.Fail(fmt.Sprintf("random-%d", i))
		if n := b.Len(); n > 5 {
			t.Fatalf("Len = %d, over the cap of 5", n)
		}
	}
	if got := b.Fail("admin"); got != 2*time.Second {
		t.Fatalf("the attacked key lost its count to a flood of new keys: delay %v", got)
	}
}

// fillPool occupies every worker and queue place of p with calls that
// block until the returned release is called.
func fillPool(t *testing.T, p *HashPool) (release func()) {
	t.Helper()
	workers, queue := p.Capacity()
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for range workers + queue {
		wg.Go(func() {
			if err := p.Do(func() { <-gate }); err != nil {
				t.Errorf("filling the pool: %v", err)
			}
		})
	}
	testkit.WaitFor(t, 5*time.Second, "the pool to fill", func() bool { return p.Admitted() == workers+queue })
	var once sync.Once
	release = func() { once.Do(func() { close(gate); wg.Wait() }) }
	t.Cleanup(release)
	return release
}

func TestHashPool(t *testing.T) {
	if w, q := NewHashPool(0, -3).Capacity(); w != runtime.GOMAXPROCS(0) || q != 0 {
		t.Fatalf("defaults: %d workers, queue %d", w, q)
	}
	p := NewHashPool(2, 3)
	var running, peak atomic.Int32
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_ = p.Do(func() {
				n := running.Add(1)
				for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
				}
				<-gate
				running.Add(-1)
			})
		})
	}
	testkit.WaitFor(t, 5*time.Second, "5 admitted", func() bool { return p.Admitted() == 5 })
	if err := p.Do(func() { t.Error("ran past the queue") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do with workers and queue full: %v, want ErrBusy", err)
	}
	if n := running.Load(); n != 2 {
		t.Fatalf("%d running with 2 workers", n)
	}
	close(gate)
	wg.Wait()
	if peak.Load() != 2 || p.Admitted() != 0 {
		t.Fatalf("peak %d running, %d still admitted", peak.Load(), p.Admitted())
	}
	ran := false
	if err := p.Do(func() { ran = true }); err != nil || !ran {
		t.Fatalf("Do after the flood: %v, ran %v", err, ran)
	}
}

// guardUsers has admin and viewer at the minimum cost and counts every
// password comparison.
func guardUsers(t *testing.T) (*Users, *atomic.Int64) {
	t.Helper()
	us, err := NewUsers([]User{
		{Username: "admin", Hash: cheapHash(t, "admin-pw"), Role: RoleAdmin},
		{Username: "viewer", Hash: cheapHash(t, "viewer-pw"), Role: RoleViewer},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	compare := us.compare
	us.compare = func(h, p []byte) error { n.Add(1); return compare(h, p) }
	return us, &n
}

// TestLoginGuardAttackerSlowsOnlyThemselves: the hard limits are per
// address and per (address, username); the username alone only earns a
// capped delay, so the real user from elsewhere always gets in.
func TestLoginGuardAttackerSlowsOnlyThemselves(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var slept []time.Duration
	g := NewLoginGuard(LoginGuardConfig{Now: clock.Now, Sleep: func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
	}})
	us, compares := guardUsers(t)

	var refused *RefusedError
	for i := range 20 {
		_, err := g.Login(us, "192.0.2.2", "admin", "wrong")
		switch {
		case i < 5 && !errors.Is(err, ErrBadCredentials):
			t.Fatalf("attempt %d: %v, want bad credentials", i+1, err)
		case i >= 5 && (!errors.As(err, &refused) || refused.Busy || refused.RetryAfter != time.Minute):
			t.Fatalf("attempt %d: %v, want refused for a minute", i+1, err)
		}
	}
	if n := compares.Load(); n != 5 {
		t.Fatalf("%d password checks for 20 attempts, want 5", n)
	}
	// Case does not make a new pair.
	if _, err := g.Login(us, "192.0.2.2", "ADMIN", "wrong"); !errors.As(err, &refused) {
		t.Fatalf("case-folded username: %v, want refused", err)
	}
	if u, err := g.Login(us, "192.0.2.3", "admin", "admin-pw"); err != nil || u.Username != "admin" {
		t.Fatalf("the real admin from another address: %v", err)
	}
	// Many addresses, one guess each: never refused, only delayed, capped.
	for i := range 20 {
		if _, err := g.Login(us, fmt.Sprintf("198.51.100.%d", i), "admin", "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("distributed guess %d: %v, want bad credentials", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slept) != 20+5-3 || slept[0] != 250*time.Millisecond || slept[len(slept)-1] != 2*time.Second {
		t.Fatalf("delays %v: want 22 growing to the 2 s cap", slept)
	}
	if u, err := g.Login(us, "192.0.2.3", "admin", "admin-pw"); err != nil || u.Username != "admin" {
		t.Fatalf("the real admin after distributed guesses: %v", err)
	}
	// The per-address limit counts every username from that address.
	for i := range 10 {
		if _, err := g.Login(us, "203.0.113.9", fmt.Sprintf("nobody-%d", i), "x"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d from one address: %v", i+1, err)
		}
	}
	if _, err := g.Login(us, "203.0.113.9", "viewer", "viewer-pw"); !errors.As(err, &refused) {
		t.Fatalf("11th attempt from one address: %v, want refused", err)
	}
}

// TestLoginGuardBusyPool: past the pool's queue a login is refused at once
// with Busy, for unknown users exactly as for known ones, and the refused
// attempt is not held against the client.
func TestLoginGuardBusyPool(t *testing.T) {
	g := NewLoginGuard(LoginGuardConfig{Workers: 1, Queue: 2, Sleep: func(time.Duration) {}})
	us, compares := guardUsers(t)
	release := fillPool(t, g.Pool())
	for i := range 12 {
		user := []string{"admin", "ghost"}[i%2]
		_, err := g.Login(us, "192.0.2.7", user, "wrong")
		var refused *RefusedError
		if !errors.As(err, &refused) || !refused.Busy || refused.RetryAfter != time.Second {
			t.Fatalf("login %d as %s with the pool full: %v, want busy for 1 s", i, user, err)
		}
	}
	if n := compares.Load(); n != 0 {
		t.Fatalf("%d password checks while the pool was full", n)
	}
	release()
	// Unknown users go through the pool and cost one comparison, like known ones.
	for _, user := range []string{"ghost", "admin"} {
		if _, err := g.Login(us, "192.0.2.7", user, "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s after the flood: %v", user, err)
		}
	}
	if n := compares.Load(); n != 2 {
		t.Fatalf("%d comparisons for an unknown and a known user, want 2", n)
	}
	if _, err := g.Login(us, "192.0.2.7", "admin", "admin-pw"); err != nil {
		t.Fatalf("12 busy refusals counted against the address: %v", err)
	}
}

func TestLimitKeyIsBounded(t *testing.T) {
	long := string(make([]byte, 60<<10))
	if k := limitKey("Admin"); k != "admin" {
		t.Errorf("limitKey(Admin) = %q", k)
	}
	if k := limitKey(long); len(k) != maxUsernameLen {
		t.Errorf("limitKey of 60 KB: %d bytes", len(k))
	}
}

// TestLoginGuardDefaultPool: by default the password checks get one worker
// per core and a short queue (2 per worker), so a flood costs the cores and
// no more, and anything beyond is refused rather than queued for seconds.
func TestLoginGuardDefaultPool(t *testing.T) {
	workers, queue := NewLoginGuard(LoginGuardConfig{}).Pool().Capacity()
	if workers != runtime.GOMAXPROCS(0) || queue != 2*workers {
		t.Fatalf("default pool: %d workers, queue %d; want %d workers and a queue of %d",
			workers, queue, runtime.GOMAXPROCS(0), 2*runtime.GOMAXPROCS(0))
	}
}
