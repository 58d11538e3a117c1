package alert

import (
	"time"

	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// Conn is one connection slot as the detectors see it.
type Conn struct {
	ID          string
	Enabled     bool
	State       string // disconnected | connecting | connected | error
	Reason      string // e.g. "auth_failed: authentication failed"
	LastMessage time.Time
	// ConnectedSince is when the current link came up (zero when not
	// connected): a ticker that never ticked counts from then at the
	// earliest, since a reconnect subscribes it afresh.
	ConnectedSince time.Time
	Reconnects     uint64 // since start, never decreasing
	Dropped        uint64 // frames dropped by the reader's queue, never decreasing
	// Drift: only for a connected link; nil lists mean no difference.
	Missing, Extra []string
	// Subscribed are the tickers assigned to the connection whose every
	// subscription the provider acknowledged on the current link (only for
	// a connected link). A typo'd or unentitled ticker is acknowledged too
	// and then never delivers: the ticker detector watches these from
	// when it first sees them here.
	Subscribed []string
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

// Parts reads the running parts: the manager's slots, tickers and drift,
// the tick store's timings, and whatever other drop counters app hands
// over.
type Parts struct {
	Manager *manager.Manager
	Store   *tickstore.Store        // nil: no ticker timings
	Drops   func(dst []Drop) []Drop // nil: none
}

// Snapshot implements Source.
func (p *Parts) Snapshot() Snapshot {
	var snap Snapshot
	// The tickers are read before the drift, so a ticker assigned between
	// the two reads is left out of this check. One assigned just before,
	// whose subscription the client has not taken yet, is in neither
	// Missing nor acknowledged and passes for acknowledged once; the next
	// check sees it missing (the detector forgets it) or acknowledged, so
	// its clock starts at most one check early.
	// Without timings every ticker would look as if it never ticked: no
	// Subscribed lists then.
	var tickers map[string][]string
	if p.Store != nil {
		tickers = map[string][]string{}
		for _, cs := range p.Manager.ConnStates() {
			tickers[cs.ConnectionID] = cs.Tickers
		}
	}
	drift := map[string]manager.Drift{}
	for _, d := range p.Manager.SubscriptionDrift() {
		drift[d.ConnectionID] = d
	}
	for _, sl := range p.Manager.SlotMetrics() {
		c := Conn{ID: sl.ConnectionID, Enabled: sl.Enabled, State: sl.Status, Reason: sl.Reason,
			LastMessage: sl.LastMessage, ConnectedSince: sl.ConnectedSince, Reconnects: sl.Reconnects, Dropped: sl.Dropped}
		if d, ok := drift[sl.ConnectionID]; ok {
			c.Missing, c.Extra = d.Missing, d.Extra
			if tickers != nil {
				c.Subscribed = acknowledged(tickers[sl.ConnectionID], d.Missing)
			}
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

// acknowledged returns the tickers none of whose subscriptions ("T.AAPL")
// is in missing.
func acknowledged(tickers, missing []string) []string {
	if len(missing) == 0 {
		return tickers
	}
	unacked := make(map[string]bool, len(missing))
	for _, sub := range missing {
		if _, t, ok := massive.SplitSubscription(sub); ok {
			unacked[t] = true
		}
	}
	out := make([]string, 0, len(tickers))
	for _, t := range tickers {
		if !unacked[t] {
			out = append(out, t)
		}
	}
	return out
}
