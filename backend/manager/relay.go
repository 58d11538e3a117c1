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

// RelayResult is AcquireRelay's answer for one pair.
type RelayResult struct {
	ConnectionID string // the connection that carries the pair; "" on error
	Err          error
}

// AcquireRelay adds one reference to each relay pair (channel, ticker;
// ticker may be massive.Wildcard), subscribing upstream the pairs that get
// their first one, and returns one result per pair, in order. A consumer's
// whole subscribe message comes as one call: the batch is placed under ONE
// acquisition of the manager's locks, each connection's client gets its
// new pairs in one AddExtra (which the client sends in as few frames as
// its params limit allows, and logs once), and observers get one
// ConfigChanged. Pair by pair, a 30,000-pair subscribe held the lock
// 30,000 times and sent about 13,000 tiny frames, stalling everything that
// reads the manager (the alert engine first). It does not call back into
// the relay.
func (m *Manager) AcquireRelay(pairs []massive.Sub) []RelayResult {
	out := make([]RelayResult, len(pairs))
	valid := make([]massive.Sub, len(pairs))
	for i, p := range pairs {
		sub, err := relayPair(p.Channel, p.Ticker)
		if err != nil {
			out[i].Err = fmt.Errorf("relay subscribe: %w", err)
			continue
		}
		valid[i] = sub
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()

	added := make(map[*slot][]string)
	m.mu.Lock()
	for i, sub := range valid {
		if out[i].Err != nil {
			continue
		}
		if rs, ok := m.relay[sub]; ok {
			rs.refs++
			out[i].ConnectionID = rs.slot.connID
			continue
		}
		s, err := m.placeRelayLocked(sub)
		if err != nil {
			out[i].Err = fmt.Errorf("relay subscribe %s: %w", sub, err)
			continue
		}
		m.addRelayLocked(sub, s)
		added[s] = append(added[s], sub.String())
		out[i].ConnectionID = s.connID
	}
	m.applyRelayUnlock(added, true)
	return out
}

// ReleaseRelay drops one reference to each pair; a pair's last one
// unsubscribes it upstream unless the slot's own tickers still need it.
// Like AcquireRelay it works on the whole list at once (a consumer leaving
// with 30,000 pairs is one call). Invalid and unknown pairs are ignored.
func (m *Manager) ReleaseRelay(pairs []massive.Sub) {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	removed := make(map[*slot][]string)
	m.mu.Lock()
	for _, p := range pairs {
		sub, err := relayPair(p.Channel, p.Ticker)
		if err != nil {
			continue
		}
		rs, ok := m.relay[sub]
		if !ok {
			continue
		}
		if rs.refs--; rs.refs > 0 {
			continue
		}
		m.removeRelayLocked(sub, rs.slot)
		removed[rs.slot] = append(removed[rs.slot], sub.String())
	}
	m.applyRelayUnlock(removed, false)
}

// applyRelayUnlock hands each slot's client its added (or removed) pairs
// in one call, releases mu, and tells the observers once. The client calls
// are made under mu, so that a client being built (newClient reads the
// pairs under mu) either sees the change or is the client called here; a
// client call only edits its sets and wakes its loop, which sends. Callers
// hold opMu and mu.
func (m *Manager) applyRelayUnlock(edits map[*slot][]string, add bool) {
	for s, entries := range edits {
		switch {
		case s.client == nil:
		case add:
			s.client.AddExtra(entries...)
		default:
			s.client.RemoveExtra(entries...)
		}
	}
	m.mu.Unlock()
	for s, entries := range edits {
		s.log.Debug().Int("pairs", len(entries)).Bool("added", add).Msg("relay subscriptions changed")
	}
	if len(edits) > 0 {
		m.notifyConfig()
	}
}

// addRelayLocked records a new pair on s, in the pair table, the slot's
// set and the per-ticker index. Callers hold opMu and mu.
func (m *Manager) addRelayLocked(sub massive.Sub, s *slot) {
	m.relay[sub] = &relaySub{slot: s, refs: 1}
	s.relay[sub] = struct{}{}
	chans := m.relayBySym[sub.Ticker]
	if chans == nil {
		chans = make(map[string]struct{}, 1)
		m.relayBySym[sub.Ticker] = chans
	}
	chans[sub.Channel] = struct{}{}
}

// removeRelayLocked forgets a pair whose last reference is gone. Callers
// hold opMu and mu.
func (m *Manager) removeRelayLocked(sub massive.Sub, s *slot) {
	delete(m.relay, sub)
	delete(s.relay, sub)
	if chans := m.relayBySym[sub.Ticker]; chans != nil {
		delete(chans, sub.Channel)
		if len(chans) == 0 {
			delete(m.relayBySym, sub.Ticker)
		}
	}
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

// relayHome is the enabled slot where the relay carries sym, or nil. It
// looks sym up in the per-ticker index (a handful of channels at most)
// rather than scanning every pair: placing a batch of N new pairs that
// way cost N x (pairs carried). Callers hold mu.
func (m *Manager) relayHome(sym string) *slot {
	for ch := range m.relayBySym[sym] {
		if rs := m.relay[massive.Sub{Channel: ch, Ticker: sym}]; rs != nil && rs.slot.enabled {
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
	for ch := range m.relayBySym[sym] {
		sub := massive.Sub{Channel: ch, Ticker: sym}
		rs := m.relay[sub]
		if rs == nil || rs.slot == to {
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
