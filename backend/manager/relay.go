package manager

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Relay subscriptions: the relay's consumers (backend/relay, through an
// adapter in app) ask for single (channel, ticker) pairs, which the slots'
// clients carry as extras (massive.Client.AddExtra) beside their tickers.
//
// Placement keeps each ticker on ONE connection, because the relay routes
// by (kind, symbol) whatever connection an event came on: a pair whose
// ticker a slot owns goes to that slot (where, on a configured channel, it
// costs nothing upstream); a ticker no slot owns goes where the relay
// already carries that ticker, else to the least-loaded enabled slot. When
// an admin later assigns such a ticker to a connection, its relay pairs
// move there with it.
//
// The relay's pairs never touch the slot's tickers: an admin's or the
// configuration's tickers are not unsubscribed when the last consumer
// leaves, and a relay-only ticker stays out of the tick store and the
// dashboard's ticker list (the hot path's filter is the slot's tickers).
// Its events still count in the connection's message_count, which is what
// upstream delivered. The status document lists the pairs per connection
// (SlotStatus.Relay) so the dashboard can mark them.
//
// A pair is reference-counted: the relay hub acquires each pair once, but
// the count keeps the manager correct for any caller. A disabled slot's
// pairs pause with it, as its tickers do, and resume when it is enabled.

// ErrRelayChannel is returned for a channel the clients cannot carry.
var ErrRelayChannel = errors.New("channel not relayed")

type relaySub struct {
	slot *slot
	refs int
}

// RelaySub is one pair a slot carries for the relay.
type RelaySub struct {
	Channel string
	Ticker  string
	// Configured: the slot's own tickers already include this pair (a
	// configured or admin-added ticker on a configured channel), so it
	// would be subscribed without consumers too.
	Configured bool
}

// AcquireRelay adds one reference to the relay pair (channel, ticker),
// subscribing it upstream for the first one, and returns the connection
// that carries it. ticker may be massive.Wildcard. It does not call back
// into the relay.
func (m *Manager) AcquireRelay(channel, ticker string) (string, error) {
	sub, err := relayPair(channel, ticker)
	if err != nil {
		return "", fmt.Errorf("relay subscribe: %w", err)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()

	m.mu.Lock()
	if rs, ok := m.relay[sub]; ok {
		rs.refs++
		m.mu.Unlock()
		return rs.slot.connID, nil
	}
	s, err := m.placeRelayLocked(sub)
	if err != nil {
		m.mu.Unlock()
		return "", fmt.Errorf("relay subscribe %s: %w", sub, err)
	}
	m.relay[sub] = &relaySub{slot: s, refs: 1}
	s.relay[sub] = struct{}{}
	// Under mu, so that a client being built (newClient reads the pairs
	// under mu) either sees the pair or is the client called here.
	if s.client != nil {
		s.client.AddExtra(sub.String())
	}
	m.mu.Unlock()
	s.log.Debug().Str("subscription", sub.String()).Msg("relay subscription added")
	m.notifyConfig()
	return s.connID, nil
}

// ReleaseRelay drops one reference to (channel, ticker); the last one
// unsubscribes it upstream unless the slot's own tickers still need it.
func (m *Manager) ReleaseRelay(channel, ticker string) {
	sub, err := relayPair(channel, ticker)
	if err != nil {
		return
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.mu.Lock()
	rs, ok := m.relay[sub]
	if !ok {
		m.mu.Unlock()
		return
	}
	if rs.refs--; rs.refs > 0 {
		m.mu.Unlock()
		return
	}
	delete(m.relay, sub)
	delete(rs.slot.relay, sub)
	if rs.slot.client != nil {
		rs.slot.client.RemoveExtra(sub.String())
	}
	m.mu.Unlock()
	rs.slot.log.Debug().Str("subscription", sub.String()).Msg("relay subscription removed")
	m.notifyConfig()
}

// Carries reports whether connection connID delivers (channel, ticker):
// through its own tickers on a configured channel, or as a relay pair. A
// wildcard is carried by every connection on that channel (each delivers
// its share of the market). The relay's upstream-loss notices use it.
func (m *Manager) Carries(connID, channel, ticker string) bool {
	s, err := m.slotByID(connID)
	if err != nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if _, ok := s.relay[massive.Sub{Channel: channel, Ticker: ticker}]; ok {
		return true
	}
	if !slices.Contains(m.channels, channel) {
		return false
	}
	if ticker == massive.Wildcard {
		return len(s.tickers) > 0
	}
	_, ok := s.tickers[ticker]
	return ok
}

func relayPair(channel, ticker string) (massive.Sub, error) {
	if _, ok := massive.ChannelKind(channel); !ok {
		return massive.Sub{}, fmt.Errorf("%q: %w (want %s)", channel, ErrRelayChannel, massive.ChannelForm)
	}
	if ticker != massive.Wildcard {
		t, err := massive.NormalizeTicker(ticker)
		if err != nil {
			return massive.Sub{}, symbolError{err}
		}
		ticker = t
	}
	return massive.Sub{Channel: channel, Ticker: ticker}, nil
}

// placeRelayLocked picks the slot for a new pair (see the file comment).
// Callers hold opMu and mu.
func (m *Manager) placeRelayLocked(sub massive.Sub) (*slot, error) {
	if owner, ok := m.assign[sub.Ticker]; ok {
		if !owner.enabled {
			return nil, fmt.Errorf("%s is on %s, which is disabled: %w", sub.Ticker, owner.connID, ErrDisabled)
		}
		return owner, nil
	}
	if s := m.relayHome(sub.Ticker); s != nil {
		return s, nil
	}
	best := m.leastLoadedBy((*slot).load)
	if best == nil {
		return nil, fmt.Errorf("no enabled connection: %w", ErrDisabled)
	}
	return best, nil
}

// relayHome is the enabled slot where the relay carries sym, or nil.
// Callers hold mu.
func (m *Manager) relayHome(sym string) *slot {
	for sub, rs := range m.relay {
		if sub.Ticker == sym && rs.slot.enabled {
			return rs.slot
		}
	}
	return nil
}

// load is how many subscriptions a slot holds, for placing relay pairs.
func (s *slot) load() int { return len(s.tickers)*len(s.m.channels) + len(s.relay) }

// followTickerLocked moves the relay pairs of sym to slot to, which now
// owns sym, so that the ticker stays on one connection. It returns the
// client calls to make once mu is released. Callers hold opMu and mu.
func (m *Manager) followTickerLocked(sym string, to *slot) []func() {
	var calls []func()
	for sub, rs := range m.relay {
		if sub.Ticker != sym || rs.slot == to {
			continue
		}
		from := rs.slot
		delete(from.relay, sub)
		to.relay[sub] = struct{}{}
		rs.slot = to
		entry := sub.String()
		if c := from.client; c != nil {
			calls = append(calls, func() { c.RemoveExtra(entry) })
		}
		if c := to.client; c != nil {
			calls = append(calls, func() { c.AddExtra(entry) })
		}
		to.log.Info().Str("subscription", entry).Str("from", from.connID).Msg("relay subscription follows its ticker")
	}
	return calls
}

// sortedRelay returns the slot's relay pairs as subscription strings.
// Callers hold mu.
func (s *slot) sortedRelay() []string {
	out := make([]string, 0, len(s.relay))
	for sub := range s.relay {
		out = append(out, sub.String())
	}
	sort.Strings(out)
	return out
}

// relayStatus lists the slot's relay pairs. Callers hold mu.
func (s *slot) relayStatus() []RelaySub {
	out := make([]RelaySub, 0, len(s.relay))
	for sub := range s.relay {
		_, owned := s.tickers[sub.Ticker]
		out = append(out, RelaySub{Channel: sub.Channel, Ticker: sub.Ticker,
			Configured: owned && slices.Contains(s.m.channels, sub.Channel)})
	}
	slices.SortFunc(out, func(a, b RelaySub) int {
		return cmp.Or(strings.Compare(a.Ticker, b.Ticker), strings.Compare(a.Channel, b.Channel))
	})
	return out
}
