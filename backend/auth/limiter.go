package auth

import (
	"strconv"
	"sync"
	"time"
)

// DefaultLimiterMaxKeys bounds the number of keys a Limiter tracks.
const DefaultLimiterMaxKeys = 100_000

// Limiter counts login failures per key (a client IP, or a username: use one
// Limiter for each so that they do not evict each other). A key with
// maxFailures failures inside any sliding window of the given length is
// blocked for one window from the failure that tripped it. Safe for
// concurrent use.
//
// Memory is bounded without a goroutine: each key keeps at most maxFailures
// timestamps, stale keys are swept at most once per window on access (or by
// Prune), and past DefaultLimiterMaxKeys live keys one is evicted (an
// unblocked one if any), so a flood of distinct keys cannot exhaust memory.
type Limiter struct {
	max     int
	window  time.Duration
	now     func() time.Time
	maxKeys int

	mu        sync.Mutex
	entries   map[string]*limitEntry
	lastSweep time.Time
}

type limitEntry struct {
	failures     []time.Time // within the window, oldest first, len < max
	blockedUntil time.Time
}

// NewLimiter: maxFailures below 1 is taken as 1, a window of zero or less as
// one minute; now may be nil (time.Now).
func NewLimiter(maxFailures int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if window <= 0 {
		window = time.Minute
	}
	return &Limiter{
		max: max(maxFailures, 1), window: window, now: now, maxKeys: DefaultLimiterMaxKeys,
		entries: make(map[string]*limitEntry), lastSweep: now(),
	}
}

// Check reports whether key may try now and, if not, how long until it may.
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	e := l.entries[key]
	if e == nil || !now.Before(e.blockedUntil) {
		return true, 0
	}
	return false, e.blockedUntil.Sub(now)
}

// Take checks key and, when it may try, counts the attempt as a failure in
// the same critical section. Callers that check and record separately
// around a slow bcrypt let N parallel guesses through before the first
// failure lands; Take closes that gap. A successful attempt is handed back
// with Forgive (or Reset).
func (l *Limiter) Take(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	if e := l.entries[key]; e != nil && now.Before(e.blockedUntil) {
		return false, e.blockedUntil.Sub(now)
	}
	l.failLocked(key, now)
	return true, 0
}

// Forgive takes back the most recent failure of key: the attempt that Take
// counted turned out to succeed.
func (l *Limiter) Forgive(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[key]; e != nil && len(e.failures) > 0 {
		e.failures = e.failures[:len(e.failures)-1]
	}
}

// Fail records one failure for key. Failures while blocked do not extend
// the block: callers are expected to Check first and not even try.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	l.failLocked(key, now)
}

func (l *Limiter) failLocked(key string, now time.Time) {
	e := l.entries[key]
	if e == nil {
		if len(l.entries) >= l.maxKeys {
			l.sweep(now)
			l.evict(now)
		}
		e = &limitEntry{}
		l.entries[key] = e
	}
	if now.Before(e.blockedUntil) {
		return
	}
	e.failures = dropBefore(e.failures, now.Add(-l.window))
	if len(e.failures)+1 >= l.max {
		e.failures = e.failures[:0]
		e.blockedUntil = now.Add(l.window)
		return
	}
	e.failures = append(e.failures, now)
}

// Reset forgets key, e.g. after a successful login.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// Prune drops every key that is neither blocked nor has a recent failure.
func (l *Limiter) Prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(l.now())
}

// Len is the number of tracked keys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// evict makes room for one key, preferring keys that are not blocked so a
// flood of new keys does not lift existing blocks.
func (l *Limiter) evict(now time.Time) {
	for len(l.entries) >= l.maxKeys {
		victim, found := "", false
		for k, e := range l.entries {
			victim, found = k, true
			if !now.Before(e.blockedUntil) {
				break
			}
		}
		if !found {
			return
		}
		delete(l.entries, victim)
	}
}

func (l *Limiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) >= l.window {
		l.sweep(now)
	}
}

func (l *Limiter) sweep(now time.Time) {
	l.lastSweep = now
	cutoff := now.Add(-l.window)
	for k, e := range l.entries {
		e.failures = dropBefore(e.failures, cutoff)
		if len(e.failures) == 0 && !now.Before(e.blockedUntil) {
			delete(l.entries, k)
		}
	}
}

// dropBefore removes timestamps not after cutoff, reusing the slice.
func dropBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return append(ts[:0], ts[i:]...)
}

// RetryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}
