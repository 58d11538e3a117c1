package manager

import (
	"fmt"
	"sort"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// TickerAssignment returns the connection id that owns symbol.
func (m *Manager) TickerAssignment(symbol string) (string, bool) {
	sym, err := massive.NormalizeTicker(symbol)
	if err != nil {
		return "", false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.assign[sym]
	if !ok {
		return "", false
	}
	return s.connID, true
}

// ConnectionTickers returns a sorted copy of the connection's tickers.
func (m *Manager) ConnectionTickers(id string) ([]string, error) {
	s, err := m.slotByID(id)
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return s.sortedTickers(), nil
}

// symbolError keeps universe's message (which names the symbol and the
// accepted form) while matching ErrInvalidSymbol.
type symbolError struct{ err error }

func (e symbolError) Error() string   { return e.err.Error() }
func (e symbolError) Unwrap() []error { return []error{ErrInvalidSymbol, e.err} }

// normalizeAll validates every symbol and removes duplicates, keeping order.
func normalizeAll(tickers []string) ([]string, error) {
	out, err := universe.NormalizeAll(tickers)
	if err != nil {
		return nil, symbolError{err}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tickers given: %w", ErrInvalidSymbol)
	}
	return out, nil
}

// Subscribe assigns new tickers and subscribes them upstream. With an empty
// connectionID each ticker goes to the least-loaded connected slot (else the
// least-loaded running one). Either every ticker is added or none is.
func (m *Manager) Subscribe(tickers []string, connectionID string) ([]Assignment, error) {
	syms, err := normalizeAll(tickers)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	var target *slot
	if connectionID != "" {
		if target, err = m.slotByID(connectionID); err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	}

	m.opMu.Lock()
	defer m.opMu.Unlock()

	m.mu.Lock()
	for _, sym := range syms {
		if owner, ok := m.assign[sym]; ok {
			m.mu.Unlock()
			return nil, fmt.Errorf("subscribe: %s is already on %s: %w", sym, owner.connID, ErrAlreadyAssigned)
		}
	}
	if target != nil && !target.enabled {
		m.mu.Unlock()
		return nil, fmt.Errorf("subscribe: %s: %w", target.connID, ErrDisabled)
	}
	if target == nil && m.leastLoaded() == nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("subscribe: no enabled connection: %w", ErrDisabled)
	}
	out := make([]Assignment, 0, len(syms))
	bySlot := make(map[*slot][]string)
	var moves []func()
	for _, sym := range syms {
		s := target
		if s == nil {
			// Where the relay already carries the ticker, if anywhere:
			// one connection per ticker (relay.go).
			s = m.relayHome(sym)
		}
		if s == nil {
			s = m.leastLoaded()
		}
		s.tickers[sym] = struct{}{}
		m.assign[sym] = s
		moves = append(moves, m.followTickerLocked(sym, s)...)
		bySlot[s] = append(bySlot[s], sym)
		out = append(out, Assignment{Symbol: sym, ConnectionID: s.connID})
	}
	for s := range bySlot {
		s.publish()
	}
	m.mu.Unlock()
	for _, f := range moves {
		f()
	}

	for s, list := range bySlot {
		if s.client != nil {
			s.client.Subscribe(list...)
		}
		s.log.Info().Strs("tickers", list).Msg("subscribed")
	}
	m.notifyConfig()
	return out, nil
}

// leastLoaded picks the running slot with the fewest tickers, preferring
// connected ones; ties go to the lowest slot. Callers hold mu.
func (m *Manager) leastLoaded() *slot {
	return m.leastLoadedBy(func(s *slot) int { return len(s.tickers) })
}

// leastLoadedBy is leastLoaded with the load measured by load.
func (m *Manager) leastLoadedBy(load func(*slot) int) *slot {
	var best *slot
	bestConnected := false
	for _, s := range m.slots {
		if !s.enabled {
			continue
		}
		s.stMu.Lock()
		connected := s.state == massive.StateConnected
		s.stMu.Unlock()
		switch {
		case best == nil,
			connected && !bestConnected,
			connected == bestConnected && load(s) < load(best):
			best, bestConnected = s, connected
		}
	}
	return best
}

// Unsubscribe removes tickers from their connections, upstream and from the
// tick store. Every ticker must be assigned, or nothing changes.
func (m *Manager) Unsubscribe(tickers []string) ([]Assignment, error) {
	syms, err := normalizeAll(tickers)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()

	m.mu.Lock()
	for _, sym := range syms {
		if _, ok := m.assign[sym]; !ok {
			m.mu.Unlock()
			return nil, fmt.Errorf("unsubscribe: %s is not assigned to any connection: %w", sym, ErrNotAssigned)
		}
	}
	out := make([]Assignment, 0, len(syms))
	bySlot := make(map[*slot][]string)
	for _, sym := range syms {
		s := m.assign[sym]
		delete(m.assign, sym)
		delete(s.tickers, sym)
		bySlot[s] = append(bySlot[s], sym)
		out = append(out, Assignment{Symbol: sym, ConnectionID: s.connID})
	}
	for s := range bySlot {
		s.publish()
	}
	m.mu.Unlock()

	for s, list := range bySlot {
		if s.client != nil {
			s.client.Unsubscribe(list...)
		}
		// Wait out a batch that may still hold the old snapshot.
		s.batchMu.Lock()
		s.batchMu.Unlock() //nolint:staticcheck // an empty critical section is the point
		if m.store != nil {
			for _, sym := range list {
				m.store.Forget(sym)
			}
		}
		s.log.Info().Strs("tickers", list).Msg("unsubscribed")
	}
	m.notifyConfig()
	return out, nil
}

// Reconnect drops and re-establishes one connection.
func (m *Manager) Reconnect(id string) error {
	s, err := m.slotByID(id)
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if !s.enabled {
		return fmt.Errorf("reconnect: %s: %w", s.connID, ErrDisabled)
	}
	if s.client == nil {
		return fmt.Errorf("reconnect: %s: not started", s.connID)
	}
	s.log.Info().Msg("reconnect requested")
	s.client.Reconnect()
	return nil
}

// SetEnabled starts or stops a slot at runtime. Disabling closes the client
// but keeps the slot's tickers assigned to it; enabling builds a new client
// (resolving the slot's configured tickers the first time) and connects it if
// the manager is connected.
func (m *Manager) SetEnabled(id string, enabled bool) error {
	s, err := m.slotByID(id)
	if err != nil {
		return fmt.Errorf("set enabled: %w", err)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	return m.setEnabledLocked(s, enabled)
}

// setEnabledLocked is SetEnabled for callers that hold opMu.
func (m *Manager) setEnabledLocked(s *slot, enabled bool) error {
	if enabled == s.enabled {
		return nil
	}
	if !enabled {
		m.mu.Lock()
		s.enabled = false
		m.mu.Unlock()
		m.stopClient(s, "disabled by operator")
		s.log.Info().Msg("connection disabled")
		m.notifyConfig()
		return nil
	}
	if !m.cfg.MultiConnection && s.id != 1 {
		return fmt.Errorf("set enabled: %s: single-connection mode (USE_MULTI_CONNECTION=false): %w", s.connID, ErrDisabled)
	}
	if !s.resolved {
		m.resolveLate(s)
	}
	c, err := m.newClient(s)
	if err != nil {
		return fmt.Errorf("set enabled: %w", err)
	}
	m.mu.Lock()
	s.enabled = true
	s.client = c
	started := m.started
	m.mu.Unlock()
	if started {
		c.Start()
	}
	s.log.Info().Int("tickers", len(s.tickers)).Msg("connection enabled")
	m.notifyConfig()
	return nil
}

// resolveLate gives a slot that was disabled at start its configured tickers,
// minus those other slots own by now. Callers hold opMu.
func (m *Manager) resolveLate(s *slot) {
	p := slotPlan{id: s.id, name: s.name, universeKey: s.cfg.UniverseKey, source: SourceNone}
	list := configuredTickers(m.cfg.Universes, s.cfg, &p)
	for _, w := range p.warnings {
		s.log.Warn().Str("universe_key", p.universeKey).Msg(w)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var skipped []string
	for _, sym := range list {
		if owner, ok := m.assign[sym]; ok && owner != s {
			skipped = append(skipped, sym)
			continue
		}
		s.tickers[sym] = struct{}{}
		m.assign[sym] = s
	}
	if len(skipped) > 0 {
		sort.Strings(skipped)
		s.log.Warn().Strs("skipped", skipped).Msg("configured tickers already on other connections stay there")
	}
	s.resolved = true
	s.universeKey, s.source, s.note = p.universeKey, p.source, p.note
	if len(s.tickers) == 0 && p.note == "" && len(list) > 0 {
		s.note = "every configured ticker is already assigned to another connection"
	}
	s.publish()
}
