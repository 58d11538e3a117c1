package manager

import (
	"sort"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Drift is how one connected link's acknowledged subscriptions differ from
// what its client wants (its tickers on every configured channel, plus the
// single pairs it carries for relay consumers): the alert package's
// subscription-drift detector reads it once per check.
type Drift struct {
	ConnectionID string
	Missing      []string // desired ("A.AAPL") but not acknowledged upstream
	Extra        []string // acknowledged upstream but no longer desired
}

// SubscriptionDrift returns the difference for every slot whose client is
// connected (acknowledgements only exist on a live link); slots without a
// difference are included with empty lists. It copies each client's sets
// once (no sorting of the full sets), so a check over thousands of tickers
// stays cheap.
func (m *Manager) SubscriptionDrift() []Drift {
	type link struct {
		id string
		c  *massive.Client
	}
	m.mu.RLock()
	links := make([]link, 0, len(m.slots))
	for _, s := range m.slots {
		if s.client != nil && m.started {
			links = append(links, link{s.connID, s.client})
		}
	}
	m.mu.RUnlock()
	// The client validated the same list (defaults included) when it was
	// built, so this cannot fail in a running manager.
	channels, _ := massive.NormalizeChannels(m.cfg.Client.Channels)
	if len(channels) == 0 {
		channels = []string{massive.KindSecondAgg.Prefix()} // massive.Config's default
	}
	out := make([]Drift, 0, len(links))
	for _, l := range links {
		if l.c.Stats().State != massive.StateConnected {
			continue
		}
		want := make(map[string]struct{})
		for _, t := range l.c.Desired() {
			for _, ch := range channels {
				want[massive.Subscription(ch, t)] = struct{}{}
			}
		}
		// The pairs the link carries for relay consumers are as wanted as
		// the slot's tickers: leaving them out made every consumer's pairs
		// "acknowledged but not wanted" drift for as long as it stayed. Read
		// from the client, the same source as Desired and Acked, so the
		// three agree about one link even while the manager moves pairs.
		for _, e := range l.c.Extras() {
			want[e] = struct{}{}
		}
		d := Drift{ConnectionID: l.id}
		for _, a := range l.c.Acked() {
			if _, ok := want[a]; ok {
				delete(want, a)
			} else {
				d.Extra = append(d.Extra, a)
			}
		}
		for w := range want {
			d.Missing = append(d.Missing, w)
		}
		sort.Strings(d.Missing)
		out = append(out, d)
	}
	return out
}
