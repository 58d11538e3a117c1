package manager

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// slot is one connection position. Fields marked "opMu+mu" are written with
// both locks held, so holding either one is enough to read them.
type slot struct {
	m      *Manager
	id     int
	connID string
	name   string
	cfg    SlotConfig
	log    zerolog.Logger
	conn   *tickstore.Conn // nil when the manager has no store

	// opMu+mu
	enabled     bool // runtime: should have a client
	resolved    bool // tickers were resolved from configuration once
	universeKey string
	source      string
	note        string
	tickers     map[string]struct{}
	relay       map[massive.Sub]struct{} // relay pairs placed here (relay.go)
	client      *massive.Client
	base        clientTotals // counters of clients already closed

	// allowed is a copy-on-write snapshot of tickers for the hot path, so
	// events for symbols the slot does not own stay out of the store.
	allowed atomic.Pointer[tickerSet]
	// batchMu is held while a batch is written to the store; Unsubscribe
	// takes it once after swapping allowed, so no tick of a removed symbol
	// lands after the store forgot it.
	batchMu sync.Mutex

	messages atomic.Uint64
	lastMsg  atomic.Int64 // unix nanoseconds of the last event batch, 0 if none

	stMu           sync.Mutex
	gen            uint64 // bumped when a client is detached; its late reports are ignored
	state          massive.State
	reason         string
	stateSince     time.Time
	connectedSince time.Time
	lastError      string // last error of a client that is gone, or a local failure
	localErrors    uint64 // failures outside any client (a client that could not be built)

	buf []tickstore.Tick // batch scratch, used under batchMu
}

// clientTotals accumulates the counters of closed clients so a slot's totals
// survive reconnect-by-replacement (SetEnabled, Disconnect+Connect).
type clientTotals struct {
	reconnects, dropped, malformed, errors uint64
	lastError                              string
}

func (t *clientTotals) add(st massive.Stats) {
	t.reconnects += st.Reconnects
	t.dropped += st.Dropped
	t.malformed += st.Malformed
	t.errors += st.Errors
	if st.LastError != "" {
		t.lastError = st.LastError
	}
}

// tickerSet is a slot's tickers as the hot path reads them. Every entry
// passed massive.NormalizeTicker, which refuses the wildcard, so membership
// is all there is to ask.
type tickerSet struct{ m map[string]struct{} }

func (t *tickerSet) has(sym string) bool {
	_, ok := t.m[sym]
	return ok
}

func newSlot(m *Manager, sc SlotConfig, p slotPlan) *slot {
	s := &slot{
		m:           m,
		id:          p.id,
		connID:      connID(p.id),
		name:        p.name,
		cfg:         sc,
		enabled:     p.enabled,
		resolved:    p.enabled,
		universeKey: p.universeKey,
		source:      p.source,
		note:        p.note,
		tickers:     make(map[string]struct{}, len(p.tickers)),
		relay:       make(map[massive.Sub]struct{}),
		state:       massive.StateDisconnected,
		stateSince:  time.Now(),
	}
	s.log = m.cfg.Logger.With().Str("connection_id", s.connID).Str("name", s.name).Logger()
	if m.store != nil {
		s.conn = m.store.Conn(s.connID)
	}
	for _, sym := range p.tickers {
		s.tickers[sym] = struct{}{}
	}
	s.publish()
	return s
}

// publish refreshes the hot-path snapshot; callers hold mu (or own s).
func (s *slot) publish() {
	set := &tickerSet{m: make(map[string]struct{}, len(s.tickers))}
	for sym := range s.tickers {
		set.m[sym] = struct{}{}
	}
	s.allowed.Store(set)
}

func (s *slot) sortedTickers() []string {
	out := make([]string, 0, len(s.tickers))
	for sym := range s.tickers {
		out = append(out, sym)
	}
	sort.Strings(out)
	return out
}

// clientObserver is the massive.Observer of one client of the slot. A new
// client gets a new observer; reports from a detached one are ignored.
type clientObserver struct {
	s   *slot
	gen uint64
}

func (s *slot) newObserver() *clientObserver {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	return &clientObserver{s: s, gen: s.gen}
}

func (o *clientObserver) StateChanged(c massive.StateChange) {
	s := o.s
	s.stMu.Lock()
	if o.gen != s.gen {
		s.stMu.Unlock()
		return
	}
	s.setStateLocked(c.State, c.Reason, c.At)
	s.stMu.Unlock()
	s.m.notifyStatus(c)
}

func (s *slot) setStateLocked(st massive.State, reason string, at time.Time) {
	if at.IsZero() {
		at = time.Now()
	}
	if st == massive.StateConnected && s.state != massive.StateConnected {
		s.connectedSince = at
	} else if st != massive.StateConnected {
		s.connectedSince = time.Time{}
	}
	s.state = st
	s.reason = reason
	s.stateSince = at
}

// detach ignores the current client from now on (its own final "closed"
// report included) and marks the slot disconnected with reason; it reports
// the change if there was one.
func (s *slot) detach(reason string) (massive.StateChange, bool) {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	s.gen++
	prev := s.state
	if prev == massive.StateDisconnected && s.reason == reason {
		return massive.StateChange{}, false
	}
	now := time.Now()
	s.setStateLocked(massive.StateDisconnected, reason, now)
	return massive.StateChange{ConnectionID: s.connID, State: massive.StateDisconnected, Previous: prev, Reason: reason, At: now}, true
}

// fail records a local failure (a client that could not be built).
func (s *slot) fail(err error) {
	s.stMu.Lock()
	prev := s.state
	s.setStateLocked(massive.StateError, err.Error(), time.Now())
	s.localErrors++
	s.lastError = err.Error()
	s.stMu.Unlock()
	s.m.notifyStatus(massive.StateChange{ConnectionID: s.connID, State: massive.StateError, Previous: prev, Reason: err.Error(), At: time.Now()})
}

// Events runs on the client's processing goroutine: the only writer of this
// slot's store conn. message_count counts every event the connection
// delivered, as the original did; only events for the slot's own tickers go
// into the store.
//
// Taps, by contrast, get the whole batch, unfiltered: they hand the feed on
// to other systems (Redis, the relay), which are owed exactly what upstream
// sent and what message_count counts, so that their figures can be checked
// against it. The filter exists for the store, which must forget a symbol
// once it is unsubscribed; upstream stops sending one a moment after the
// unsubscribe, and a consumer seeing those last events loses nothing.
func (o *clientObserver) Events(_ string, batch []massive.Event) {
	if len(batch) == 0 {
		return
	}
	s := o.s
	s.messages.Add(uint64(len(batch)))
	s.lastMsg.Store(time.Now().UnixNano())
	if s.conn != nil {
		s.appendToStore(batch)
	}
	if taps := s.m.taps.Load(); taps != nil {
		for _, t := range *taps {
			t.Ticks(s.connID, batch)
		}
	}
}

// appendToStore writes the events of the slot's own tickers to its store conn.
func (s *slot) appendToStore(batch []massive.Event) {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	set := s.allowed.Load()
	ticks := s.buf[:0]
	for i := range batch {
		ev := &batch[i]
		if !set.has(ev.Symbol) {
			continue
		}
		ticks = append(ticks, tickstore.Tick{
			Symbol:    ev.Symbol,
			Price:     ev.Price,
			Size:      ev.Size,
			Time:      ev.Time,
			Kind:      ev.Kind,
			DayOpen:   ev.DayOpen,
			DayVolume: ev.DayVolume,
		})
	}
	s.conn.AppendBatch(ticks)
	s.buf = ticks[:0]
}
