// Package tickstore keeps recent market ticks in memory: a fixed ring of recent
// ticks and a message-rate meter per upstream connection, and the latest tick
// per symbol with a dirty set, so a periodic reader can ask what changed since
// it last looked without seeing every tick.
//
// Each Conn has a single writer (its connection's goroutine); any number of
// readers may call any method concurrently. Memory is bounded by Options:
// the rings and meters are fixed-size, and the latest map holds at most
// MaxSymbols symbols.
package tickstore

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Tick is one market event as the store sees it.
type Tick struct {
	Symbol    string
	Price     float64
	Size      float64
	Time      int64        // event time, unix ms
	Kind      massive.Kind // opaque to the store; readers name it with Kind.Prefix
	DayOpen   float64
	DayVolume float64
}

// Latest is the newest state of one symbol.
type Latest struct {
	ConnectionID string // the connection that delivered the last tick
	Tick
	// ChangePct is the change of Price in percent against DayOpen when known,
	// else against the first price seen for the symbol.
	ChangePct float64
	Count     uint64 // ticks received for this symbol
}

// Options configures a Store. Zero values select the defaults.
type Options struct {
	Capacity   int           // ticks kept per connection ring; default 4096
	Window     time.Duration // rate window, whole seconds (rounded up); default 10s
	History    int           // per-second rate points kept; default 60
	MaxSymbols int           // latest-tick entries kept; default 100000
	Now        func() time.Time
}

const (
	defaultCapacity   = 4096
	defaultWindow     = 10 * time.Second
	defaultHistory    = 60
	defaultMaxSymbols = 100_000
)

func (o Options) withDefaults() Options {
	if o.Capacity <= 0 {
		o.Capacity = defaultCapacity
	}
	if o.Window <= 0 {
		o.Window = defaultWindow
	}
	o.Window = (o.Window + time.Second - 1).Truncate(time.Second)
	if o.History <= 0 {
		o.History = defaultHistory
	}
	if o.MaxSymbols <= 0 {
		o.MaxSymbols = defaultMaxSymbols
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store holds every connection's ring and meter and the shared latest-per-
// symbol table. A symbol is normally fed by one connection at a time; if two
// feed it, the later tick wins.
type Store struct {
	opts Options

	connsMu sync.RWMutex
	conns   map[string]*Conn

	// mu guards latest, order and dirty. Writers take it inside Conn.mu.
	mu     sync.RWMutex
	latest map[string]*entry
	order  []*entry // sorted by symbol, so snapshots need no sort
	dirty  []*entry // in order of first change since the last TakeDirty
}

type entry struct {
	l     Latest
	first float64 // first positive price, the fallback base for ChangePct
	dirty bool

	// Receive timing for the alert package's silent-ticker detector: when
	// the symbol last arrived (store clock, unix ns) and the gaps between
	// its last few arrivals, in ms. Ticks of one frame share a receive time
	// and count once, so a gap is the time between frames that carried the
	// symbol. A few field writes on the hot path; the median is computed by
	// the reader (Timings), not here.
	seen  int64
	gaps  [timingGaps]uint32
	ngaps uint8 // gaps recorded so far, saturating at timingGaps
	gi    uint8 // next slot in gaps
}

// timingGaps is how many recent gaps a symbol keeps for its median.
const timingGaps = 8

// New returns an empty store.
func New(opts Options) *Store {
	return &Store{
		opts:   opts.withDefaults(),
		conns:  make(map[string]*Conn),
		latest: make(map[string]*entry),
	}
}

// Conn returns the connection named id, creating it on first use.
func (s *Store) Conn(id string) *Conn {
	s.connsMu.RLock()
	c := s.conns[id]
	s.connsMu.RUnlock()
	if c != nil {
		return c
	}
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if c = s.conns[id]; c == nil {
		c = newConn(s, id)
		s.conns[id] = c
	}
	return c
}

// Conns appends every connection to dst, sorted by id.
func (s *Store) Conns(dst []*Conn) []*Conn {
	dst = dst[:0]
	s.connsMu.RLock()
	for _, c := range s.conns {
		dst = append(dst, c)
	}
	s.connsMu.RUnlock()
	slices.SortFunc(dst, func(a, b *Conn) int { return strings.Compare(a.id, b.id) })
	return dst
}

// Len is the number of symbols with a latest tick.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.latest)
}

// Latest returns the newest state of symbol.
func (s *Store) Latest(symbol string) (Latest, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.latest[symbol]; e != nil {
		return e.l, true
	}
	return Latest{}, false
}

// AllLatest appends every symbol's latest state to dst[:0], sorted by symbol.
func (s *Store) AllLatest(dst []Latest) []Latest {
	dst = dst[:0]
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.order {
		dst = append(dst, e.l)
	}
	return dst
}

// TakeDirty appends to dst[:0] the latest state of each symbol changed since
// the previous TakeDirty, in order of first change, and clears the set. With
// more than one caller each change goes to only one of them.
func (s *Store) TakeDirty(dst []Latest) []Latest {
	dst = dst[:0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.dirty {
		dst = append(dst, e.l)
		e.dirty = false
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return dst
}

// Forget drops symbol's latest state and pending change, e.g. after an
// unsubscribe. A tick still in flight for it will bring it back.
func (s *Store) Forget(symbol string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.latest[symbol]
	if e == nil {
		return
	}
	delete(s.latest, symbol)
	if i, ok := s.find(symbol); ok {
		s.order = slices.Delete(s.order, i, i+1)
	}
	if e.dirty {
		if i := slices.Index(s.dirty, e); i >= 0 {
			s.dirty = slices.Delete(s.dirty, i, i+1)
		}
	}
}

func (s *Store) find(symbol string) (int, bool) {
	return slices.BinarySearchFunc(s.order, symbol, func(e *entry, sym string) int {
		return strings.Compare(e.l.Symbol, sym)
	})
}

// update records t as symbol's latest state and returns the store's own copy
// of the symbol string, so rings never keep a caller's (possibly reused)
// string. s.mu must be held.
func (s *Store) update(connID string, t *Tick, now int64) string {
	e := s.latest[t.Symbol]
	if e == nil {
		if len(s.latest) >= s.opts.MaxSymbols {
			return strings.Clone(t.Symbol) // over the bound: ring only
		}
		e = &entry{l: Latest{Tick: Tick{Symbol: strings.Clone(t.Symbol)}}}
		s.latest[e.l.Symbol] = e
		i, _ := s.find(e.l.Symbol)
		s.order = slices.Insert(s.order, i, e)
	}
	if now != e.seen {
		if e.seen != 0 && now > e.seen {
			e.gaps[e.gi] = uint32(min((now-e.seen)/int64(time.Millisecond), math.MaxUint32))
			e.gi = (e.gi + 1) % timingGaps
			if e.ngaps < timingGaps {
				e.ngaps++
			}
		}
		e.seen = now
	}
	l := &e.l
	l.ConnectionID = connID
	l.Kind = t.Kind
	l.Time = t.Time
	l.Size = t.Size
	l.Count++
	// A tick without a usable price (e.g. a one-sided quote) must not wipe
	// the last price, nor open/volume that only some event kinds carry.
	if t.Price > 0 {
		l.Price = t.Price
		if e.first == 0 {
			e.first = t.Price
		}
	}
	if t.DayOpen > 0 {
		l.DayOpen = t.DayOpen
	}
	if t.DayVolume > 0 {
		l.DayVolume = t.DayVolume
	}
	base := e.first
	if l.DayOpen > 0 {
		base = l.DayOpen
	}
	l.ChangePct = 0
	if base > 0 && l.Price > 0 {
		l.ChangePct = finite((l.Price - base) / base * 100)
	}
	if !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
	return l.Symbol
}

// finite maps NaN and ±Inf to 0: JSON cannot encode them and a single bad
// number from upstream must not break every snapshot.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
