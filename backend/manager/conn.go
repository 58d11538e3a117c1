package manager

import (
	"fmt"
	"sort"
)

// ConnState is what an admin can change on one connection: its tickers and
// whether it runs. ConnState reads it, RestoreConn puts it back, so a
// caller can undo an action whose other half (saving it) failed.
type ConnState struct {
	ConnectionID string
	Tickers      []string // sorted
	Enabled      bool
	// resolved: the slot's configured tickers were resolved (it ran at
	// some point); a slot that never ran resolves them when enabled.
	resolved bool
}

// ConnState returns connection id's current state.
func (m *Manager) ConnState(id string) (ConnState, error) {
	s, err := m.slotByID(id)
	if err != nil {
		return ConnState{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return ConnState{ConnectionID: s.connID, Tickers: s.sortedTickers(), Enabled: s.enabled, resolved: s.resolved}, nil
}

// ConnStates returns every slot's state, in slot order.
func (m *Manager) ConnStates() []ConnState {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]ConnState, len(m.slots))
	for i, s := range m.slots {
		out[i] = ConnState{ConnectionID: s.connID, Tickers: s.sortedTickers(), Enabled: s.enabled, resolved: s.resolved}
	}
	return out
}

// Configured returns connection id as the configuration alone makes it at
// start-up (the same plan New ran): whether it runs and its tickers after
// overlap with lower connections. A slot that does not run at start has no
// tickers: nothing is reserved for it until it is enabled.
func (m *Manager) Configured(id string) (ConnState, error) {
	s, err := m.slotByID(id)
	if err != nil {
		return ConnState{}, err
	}
	pr, err := plan(m.cfg)
	if err != nil {
		return ConnState{}, err
	}
	p := pr.slots[s.id-1]
	tickers := append([]string(nil), p.tickers...)
	sort.Strings(tickers)
	return ConnState{ConnectionID: s.connID, Tickers: tickers, Enabled: p.enabled, resolved: p.enabled}, nil
}

// ConnChange is what RestoreConn or ResetConnection did to the tickers.
type ConnChange struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Skipped are wanted tickers that another connection owns; they stay
	// there.
	Skipped []string `json:"skipped"`
}

// ResetConnection returns connection id to its configuration: Configured's
// tickers (except those another connection owns now, reported as
// skipped) and enabled state.
func (m *Manager) ResetConnection(id string) (ConnChange, error) {
	st, err := m.Configured(id)
	if err != nil {
		return ConnChange{}, fmt.Errorf("reset: %w", err)
	}
	ch, err := m.RestoreConn(id, st)
	if err != nil {
		return ch, fmt.Errorf("reset: %w", err)
	}
	return ch, nil
}

// RestoreConn makes connection id hold exactly st.Tickers (minus those
// another connection owns) and run or not as st.Enabled says, in one
// operation: subscriptions change on the live client, and enabling or
// disabling builds or closes it.
func (m *Manager) RestoreConn(id string, st ConnState) (ConnChange, error) {
	s, err := m.slotByID(id)
	if err != nil {
		return ConnChange{}, fmt.Errorf("restore: %w", err)
	}
	var want []string
	if len(st.Tickers) > 0 {
		if want, err = normalizeAll(st.Tickers); err != nil {
			return ConnChange{}, fmt.Errorf("restore %s: %w", s.connID, err)
		}
	}
	if st.Enabled && !m.cfg.MultiConnection && s.id != 1 {
		return ConnChange{}, fmt.Errorf("restore: %s: single-connection mode (USE_MULTI_CONNECTION=false): %w", s.connID, ErrDisabled)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()

	var ch ConnChange
	var moves []func()
	m.mu.Lock()
	keep := make(map[string]struct{}, len(want))
	for _, sym := range want {
		if owner, ok := m.assign[sym]; ok && owner != s {
			ch.Skipped = append(ch.Skipped, sym)
			continue
		}
		keep[sym] = struct{}{}
		if _, ok := s.tickers[sym]; !ok {
			ch.Added = append(ch.Added, sym)
			s.tickers[sym] = struct{}{}
			m.assign[sym] = s
			moves = append(moves, m.followTickerLocked(sym, s)...)
		}
	}
	for sym := range s.tickers {
		if _, ok := keep[sym]; !ok {
			ch.Removed = append(ch.Removed, sym)
			delete(s.tickers, sym)
			delete(m.assign, sym)
		}
	}
	// A restored slot is exactly what st says: a slot that never ran stays
	// unresolved (so enabling it later resolves its configuration, as at
	// start-up); any other list is final.
	s.resolved = st.resolved || len(want) > 0 || st.Enabled
	s.publish()
	client := s.client
	m.mu.Unlock()
	for _, f := range moves {
		f()
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Removed)
	sort.Strings(ch.Skipped)

	if client != nil {
		if len(ch.Added) > 0 {
			client.Subscribe(ch.Added...)
		}
		if len(ch.Removed) > 0 {
			client.Unsubscribe(ch.Removed...)
		}
	}
	if len(ch.Removed) > 0 {
		// As in Unsubscribe: no tick of a removed symbol lands after the
		// store forgot it.
		s.batchMu.Lock()
		s.batchMu.Unlock() //nolint:staticcheck // an empty critical section is the point
		if m.store != nil {
			for _, sym := range ch.Removed {
				m.store.Forget(sym)
			}
		}
	}
	if len(ch.Added)+len(ch.Removed) > 0 {
		s.log.Info().Strs("added", ch.Added).Strs("removed", ch.Removed).Strs("skipped", ch.Skipped).Msg("tickers restored")
		m.notifyConfig()
	}
	if err := m.setEnabledLocked(s, st.Enabled); err != nil {
		return ch, fmt.Errorf("restore: %w", err)
	}
	return ch, nil
}
