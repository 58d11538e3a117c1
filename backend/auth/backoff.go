package auth

import (
	"sync"
	"time"
)

// Backoff turns recent failures of a key (a username) into a short, growing
// delay. Unlike a Limiter it never refuses: a username is shared by the
// attacker and its real owner, so refusing it would let anyone lock the
// owner out from anywhere. The delay only slows whoever keeps failing.
// Safe for concurrent use; memory is bounded like the Limiter's.
type Backoff struct {
	free    int           // failures in a row that cost nothing (typos)
	base    time.Duration // delay of the first failure past free, doubling after
	max     time.Duration
	window  time.Duration // a key with no failure for this long starts over
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	entries map[string]*backoffEntry
}

type backoffEntry struct {
	failures int
	last     time.Time
}

// BackoffConfig sets a Backoff; zero fields take the defaults shown.
type BackoffConfig struct {
	Free   int           // 3
	Base   time.Duration // 250 ms
	Max    time.Duration // 2 s
	Window time.Duration // 15 min
	Now    func() time.Time
}

// NewBackoff builds a Backoff from cfg.
func NewBackoff(cfg BackoffConfig) *Backoff {
	b := &Backoff{free: cfg.Free, base: cfg.Base, max: cfg.Max, window: cfg.Window, now: cfg.Now,
		maxKeys: DefaultLimiterMaxKeys, entries: make(map[string]*backoffEntry)}
	if b.free <= 0 {
		b.free = 3
	}
	if b.base <= 0 {
		b.base = 250 * time.Millisecond
	}
	if b.max <= 0 {
		b.max = 2 * time.Second
	}
	if b.window <= 0 {
		b.window = 15 * time.Minute
	}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// Fail records one failure of key and returns the delay to impose on it:
// zero for the first free failures, then base, 2*base, ... up to max.
func (b *Backoff) Fail(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	e := b.entries[key]
	if e == nil {
		if len(b.entries) >= b.maxKeys {
			b.makeRoom(now)
		}
		e = &backoffEntry{}
		b.entries[key] = e
	}
	if now.Sub(e.last) >= b.window {
		e.failures = 0
	}
	e.failures++
	e.last = now
	over := e.failures - b.free
	if over <= 0 {
		return 0
	}
	d := b.base
	for i := 1; i < over && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// Len is the number of tracked keys.
func (b *Backoff) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}

// makeRoom drops stale keys and, if that is not enough, the key with the
// fewest failures, so a flood of random usernames cannot grow the map past
// maxKeys nor wash out the count of the one being attacked.
func (b *Backoff) makeRoom(now time.Time) {
	victim, fewest := "", -1
	for k, e := range b.entries {
		if now.Sub(e.last) >= b.window {
			delete(b.entries, k)
			continue
		}
		if fewest < 0 || e.failures < fewest {
			victim, fewest = k, e.failures
		}
	}
	if len(b.entries) >= b.maxKeys && fewest >= 0 {
		delete(b.entries, victim)
	}
}
