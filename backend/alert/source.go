package alert

import (
	"time"

	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// Conn is one connection slot as the detectors see it.
type Conn struct {
	ID          string
	Enabled     bool
	State       string // disconnected | connecting | connected | error
	Reason      string // e.g. "auth_failed: authentication failed"
	LastMessage time.Time
	Reconnects  uint64 // since start, never decreasing
	Dropped     uint64 // frames dropped by the reader's queue, never decreasing
	// Drift: only for a connected link; nil lists mean no difference.
	Missing, Extra []string
}

// Drop is a drop counter outside the connections: a browser queue, a sink,
// the relay. Totals never decrease.
type Drop struct {
	Source string // browser, sink:redis, relay
	Total  uint64
}

// Snapshot is everything one check reads.
type Snapshot struct {
	Conns []Conn
	// Tickers are the timings of symbols still assigned to the connection
	// that delivered them last.
	Tickers []tickstore.Timing
	Drops   []Drop
}

// Source produces snapshots; Parts is the real one.
type Source interface {
	Snapshot() Snapshot
}

// Parts reads the running parts: the manager's slots and drift, the tick
// store's timings, and whatever other drop counters app hands over.
type Parts struct {
	Manager *manager.Manager
	Store   *tickstore.Store        // nil: no ticker timings
	Drops   func(dst []Drop) []Drop // nil: none
}

// Snapshot implements Source.
func (p *Parts) Snapshot() Snapshot {
	var snap Snapshot
	drift := map[string]manager.Drift{}
	for _, d := range p.Manager.SubscriptionDrift() {
		drift[d.ConnectionID] = d
	}
	for _, sl := range p.Manager.SlotMetrics() {
		c := Conn{ID: sl.ConnectionID, Enabled: sl.Enabled, State: sl.Status, Reason: sl.Reason,
			LastMessage: sl.LastMessage, Reconnects: sl.Reconnects, Dropped: sl.Dropped}
		if d, ok := drift[sl.ConnectionID]; ok {
			c.Missing, c.Extra = d.Missing, d.Extra
		}
		snap.Conns = append(snap.Conns, c)
	}
	if p.Store != nil {
		all := p.Store.Timings(nil)
		for _, t := range all {
			// A symbol moved or unsubscribed keeps its entry until the store
			// forgets it; only the current owner's view counts.
			if owner, ok := p.Manager.TickerAssignment(t.Symbol); ok && owner == t.ConnectionID {
				snap.Tickers = append(snap.Tickers, t)
			}
		}
	}
	if p.Drops != nil {
		snap.Drops = p.Drops(nil)
	}
	return snap
}
