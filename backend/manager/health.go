package manager

import (
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Health is exactly the original get_health_status() document. It lists the
// enabled connections only (as the original did: total_connections counts
// them); Slots has every slot.
type Health struct {
	TotalConnections   int                         `json:"total_connections"`
	ConnectedCount     int                         `json:"connected_count"`
	TotalTicksReceived uint64                      `json:"total_ticks_received"`
	TotalErrors        uint64                      `json:"total_errors"`
	Connections        map[string]ConnectionHealth `json:"connections"`
}

// ConnectionHealth is one entry of Health.Connections.
type ConnectionHealth struct {
	Name            string  `json:"name"`
	Status          string  `json:"status"` // disconnected|connecting|connected|error
	AssignedTickers int     `json:"assigned_tickers"`
	MessageCount    uint64  `json:"message_count"`
	ErrorCount      uint64  `json:"error_count"`
	LastMessageTime float64 `json:"last_message_time"` // unix seconds, 0 if none
}

// SlotStatus is the full picture of one slot for the REST API and the live
// hub.
type SlotStatus struct {
	ID             int
	ConnectionID   string
	Name           string
	Enabled        bool // runtime: the slot should have a client
	Running        bool // a client exists and the manager is connected
	Status         string
	Connected      bool
	UniverseKey    string
	Tickers        []string   // sorted copy; nil from SlotMetrics
	TickerCount    int        // len of the slot's tickers, from Slots and SlotMetrics alike
	Relay          []RelaySub // the relay's pairs on this connection (relay.go); nil from SlotMetrics
	RelayCount     int        // len of those pairs, from Slots and SlotMetrics alike
	SymbolsSource  string     // "universe" | "symbols" | "none"
	Note           string
	StateSince     time.Time
	ConnectedSince time.Time // zero when not connected
	Reason         string
	LastError      string
	Reconnects     uint64
	MessageCount   uint64
	ErrorCount     uint64
	Dropped        uint64
	Rate           float64
	RateHistory    []float64
	LastMessage    time.Time // zero if none
}

// counters is what both Health and Slots read for one slot.
type counters struct {
	state                      massive.State
	reason, lastError          string
	stateSince, connectedSince time.Time
	messages, errors           uint64
	reconnects, dropped        uint64
	lastMsg                    int64
}

// Error counting. A slot's error_count is the sum, over every client the slot
// has had, of:
//   - the client's error counter (massive.Stats.Errors): each failed dial or
//     handshake, each link that ended other than by our own Close or an
//     operator's Reconnect (upstream drop or close, EOF/1006, read timeout,
//     oversize frame, auth_failed, max_connections, slow_consumer,
//     force_disconnect), and each "error"/"auth_required" status;
//   - events or frame tails the decoder rejected as malformed
//     (massive.Stats.Malformed);
//   - local failures: a client that could not be built.
//
// Entering the error state is not counted again: it always follows one of the
// above. Frames dropped because our own queue was full are not errors of the
// link; they are reported as Dropped.
//
// Callers hold mu (read).
func (s *slot) counters() counters {
	var c counters
	s.stMu.Lock()
	c.state, c.reason, c.lastError = s.state, s.reason, s.lastError
	c.stateSince, c.connectedSince = s.stateSince, s.connectedSince
	c.errors = s.localErrors
	s.stMu.Unlock()
	t := s.base
	if s.client != nil {
		t.add(s.client.Stats())
	}
	c.errors += t.errors + t.malformed
	if t.lastError != "" {
		c.lastError = t.lastError
	}
	c.reconnects, c.dropped = t.reconnects, t.dropped
	c.messages = s.messages.Load()
	c.lastMsg = s.lastMsg.Load()
	return c
}

// Health returns the original's health document.
func (m *Manager) Health() Health {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := Health{Connections: make(map[string]ConnectionHealth, len(m.slots))}
	for _, s := range m.slots {
		if !s.enabled {
			continue
		}
		c := s.counters()
		ch := ConnectionHealth{
			Name:            s.name,
			Status:          c.state.String(),
			AssignedTickers: len(s.tickers),
			MessageCount:    c.messages,
			ErrorCount:      c.errors,
		}
		if c.lastMsg != 0 {
			ch.LastMessageTime = float64(c.lastMsg) / 1e9
		}
		h.Connections[s.connID] = ch
		h.TotalConnections++
		if c.state == massive.StateConnected {
			h.ConnectedCount++
		}
		h.TotalTicksReceived += c.messages
		h.TotalErrors += c.errors
	}
	return h
}

// Slots returns every slot, 1..N in order, with its sorted ticker list.
func (m *Manager) Slots() []SlotStatus { return m.slotStatuses(true) }

// SlotMetrics is Slots without the ticker lists (TickerCount is still set):
// what the per-second metrics push, /metrics and status lookups need,
// without copying and sorting thousands of symbols each time.
func (m *Manager) SlotMetrics() []SlotStatus { return m.slotStatuses(false) }

func (m *Manager) slotStatuses(withTickers bool) []SlotStatus {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]SlotStatus, 0, len(m.slots))
	for _, s := range m.slots {
		c := s.counters()
		st := SlotStatus{
			ID:             s.id,
			ConnectionID:   s.connID,
			Name:           s.name,
			Enabled:        s.enabled,
			Running:        s.client != nil && m.started,
			Status:         c.state.String(),
			Connected:      c.state == massive.StateConnected,
			UniverseKey:    s.universeKey,
			TickerCount:    len(s.tickers),
			RelayCount:     len(s.relay),
			SymbolsSource:  s.source,
			Note:           s.note,
			StateSince:     c.stateSince,
			ConnectedSince: c.connectedSince,
			Reason:         c.reason,
			LastError:      c.lastError,
			Reconnects:     c.reconnects,
			MessageCount:   c.messages,
			ErrorCount:     c.errors,
			Dropped:        c.dropped,
		}
		if withTickers {
			st.Tickers = s.sortedTickers()
			st.Relay = s.relayStatus()
		}
		if c.lastMsg != 0 {
			st.LastMessage = time.Unix(0, c.lastMsg)
		}
		if s.conn != nil {
			st.Rate = s.conn.Rate()
			st.RateHistory = s.conn.History(nil)
		}
		out = append(out, st)
	}
	return out
}
