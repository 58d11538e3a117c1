package tickstore

import (
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one upstream connection's share of the store: a ring of its recent
// ticks and its message-rate meter. It is designed for one writer (the
// connection's goroutine); concurrent writers are still safe, only slower.
// Every method may be called from any goroutine.
type Conn struct {
	id string
	s  *Store

	count atomic.Uint64 // read without the lock: Count is polled often

	// mu guards everything below. Lock order: Conn.mu, then Store.mu.
	mu   sync.Mutex
	ring []Tick
	next int // slot for the next tick
	full bool
	last time.Time
	m    meter
}

func newConn(s *Store, id string) *Conn {
	return &Conn{
		id:   id,
		s:    s,
		ring: make([]Tick, s.opts.Capacity),
		m:    newMeter(int64(s.opts.Window/time.Second), s.opts.History),
	}
}

// ID is the connection id given to Store.Conn.
func (c *Conn) ID() string { return c.id }

// Append records one tick. It does not allocate once the symbol is known and
// holds the locks only for a few field writes.
func (c *Conn) Append(t Tick) {
	now := c.s.opts.Now()
	c.mu.Lock()
	c.s.mu.Lock()
	c.appendLocked(&t, now)
	c.s.mu.Unlock()
	c.mu.Unlock()
}

// batchChunk bounds how long AppendBatch holds the locks (about 15 µs), so
// an unusually large frame cannot stall readers.
const batchChunk = 256

// AppendBatch records ts in order, taking the locks once per frame (per 256
// ticks for larger ones); meant for one upstream frame of events. All ticks
// share one receive time.
func (c *Conn) AppendBatch(ts []Tick) {
	if len(ts) == 0 {
		return
	}
	now := c.s.opts.Now()
	for len(ts) > 0 {
		n := min(len(ts), batchChunk)
		c.mu.Lock()
		c.s.mu.Lock()
		for i := range ts[:n] {
			c.appendLocked(&ts[i], now)
		}
		c.s.mu.Unlock()
		c.mu.Unlock()
		ts = ts[n:]
	}
}

// appendLocked copies *t into the ring once and cleans the copy there; *t is
// only read, so AppendBatch can pass its caller's slice elements directly.
func (c *Conn) appendLocked(t *Tick, now time.Time) {
	r := &c.ring[c.next]
	*r = *t
	r.Price = finite(r.Price)
	r.Size = finite(r.Size)
	r.DayOpen = finite(r.DayOpen)
	r.DayVolume = finite(r.DayVolume)
	ns := now.UnixNano()
	r.Symbol = c.s.update(c.id, r, ns)
	c.next++
	if c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
	c.last = now
	c.m.add(ns)
	c.count.Add(1)
}

// Recent appends to dst[:0] the last k ticks, newest first (fewer if fewer
// were kept).
func (c *Conn) Recent(k int, dst []Tick) []Tick {
	dst = dst[:0]
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next
	if c.full {
		n = len(c.ring)
	}
	k = min(k, n)
	for i := 1; i <= k; i++ {
		j := c.next - i
		if j < 0 {
			j += len(c.ring)
		}
		dst = append(dst, c.ring[j])
	}
	return dst
}

// Count is the number of ticks appended since the connection was created.
func (c *Conn) Count() uint64 { return c.count.Load() }

// LastTime is the receive time (the store's clock) of the last append, or
// the zero time before the first.
func (c *Conn) LastTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Rate is the recent message rate in messages per second, over the sliding
// rate window (or the time since the first tick, if shorter). It decays to 0
// when ticks stop.
func (c *Conn) Rate() float64 {
	now := c.s.opts.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.rate(now)
}

// History appends to dst[:0] the per-second tick counts of the last History
// complete seconds, oldest first; the current, partial second is left out so
// the newest point does not dip.
func (c *Conn) History(dst []float64) []float64 {
	now := c.s.opts.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.history(now, dst[:0])
}
