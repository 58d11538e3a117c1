// Package manager runs up to N upstream connections ("slots"), gives every
// ticker to exactly one of them, feeds their events into the tick store and
// reports their health in the original application's shapes.
//
// Locking: opMu serialises everything that changes the set of clients or
// assignments (it may be held across client calls, which can block briefly);
// mu guards the assignment tables and client pointers and is never held
// across I/O or observer calls. The hot path (clientObserver.Events) takes
// neither: it reads the slot's tickers through an atomic snapshot and holds
// only its own slot's batchMu (contended only when Unsubscribe waits out a
// batch in flight) and, inside it, the tick store's locks.
package manager

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// Split takes part Index (1-based) of Of equal contiguous parts of a slot's
// resolved ticker list (demo mode spreads one universe over three slots).
type Split struct{ Index, Of int }

// SlotConfig is the configuration of one connection slot.
type SlotConfig struct {
	ID          int
	Name        string
	Enabled     bool
	UniverseKey string   // may be ""
	Symbols     []string // normalized; fallback when the universe is unknown or empty
	Split       *Split   // optional
}

// Config is everything New needs; parts are constructed by the caller.
type Config struct {
	Slots           []SlotConfig // one per slot 1..WEBSOCKET_CONNECTIONS_MAX, disabled ones included
	MultiConnection bool         // false: only slot 1 runs
	DefaultUniverse string       // slot 1's universe in single mode when it has no universe or symbols
	Client          massive.Config
	Universes       *universe.Registry
	Store           *tickstore.Store
	Logger          zerolog.Logger
}

// Observer learns about status and configuration changes. StatusChanged is
// called from a client's processing goroutine (or from the goroutine that
// disabled the slot) with no manager lock held; it must return quickly and
// must not call Manager methods that change state (Subscribe, SetEnabled,
// ...), which may be waiting for that very goroutine. Read-only methods
// (Health, Slots) are fine. ConfigChanged follows Subscribe, Unsubscribe and
// SetEnabled; a status report racing a disable may arrive just after it, so
// consumers that need the settled picture read Slots after ConfigChanged.
type Observer interface {
	StatusChanged(massive.StateChange)
	ConfigChanged()
}

// Tap receives every batch of events an upstream connection delivers: the
// Redis sink today, the relay hub later (ARCHITECTURE.md, "Rooms"). Ticks
// is called on the connection's processing goroutine, the ingest hot path,
// so it must never block and must not keep batch (the client reuses it
// once Ticks returns): a tap copies what it needs onto its own bounded
// queue and drops, counting, what does not fit. connID is "connection_N".
type Tap interface {
	Ticks(connID string, batch []massive.Event)
}

// Assignment says which connection a ticker is on.
type Assignment struct {
	Symbol       string `json:"symbol"`
	ConnectionID string `json:"connection_id"`
}

// Manager owns the slots. Construct it with New.
type Manager struct {
	cfg   Config
	log   zerolog.Logger
	store *tickstore.Store

	opMu sync.Mutex

	mu        sync.RWMutex
	slots     []*slot
	assign    map[string]*slot // symbol -> owning slot
	observers []Observer
	started   bool                      // between Connect and Disconnect
	relay     map[massive.Sub]*relaySub // the relay's pairs (relay.go); opMu+mu
	// relayBySym indexes relay by ticker (ticker -> channels), so placing
	// a pair and moving a ticker's pairs cost no scan of every pair; opMu+mu
	relayBySym map[string]map[string]struct{}
	channels   []string // the clients' channels, normalized

	// taps is copy-on-write: the hot path loads it without a lock.
	taps atomic.Pointer[[]Tap]
}

// New resolves every slot's tickers and builds one client per running slot.
// It does not connect.
func New(cfg Config) (*Manager, error) {
	pr, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:    cfg,
		log:    cfg.Logger, // named by the caller (app: component=manager); naming it here too duplicated the key
		store:  cfg.Store,
		assign: make(map[string]*slot),
		relay:  make(map[massive.Sub]*relaySub),

		relayBySym: make(map[string]map[string]struct{}),
	}
	if len(cfg.Client.Channels) == 0 {
		m.channels = []string{massive.KindSecondAgg.Prefix()} // the client's default
	} else if m.channels, err = massive.NormalizeChannels(cfg.Client.Channels); err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	for i, p := range pr.slots {
		s := newSlot(m, cfg.Slots[i], p)
		for _, w := range p.warnings {
			s.log.Warn().Str("universe_key", p.universeKey).Msg(w)
		}
		if p.enabled && len(p.tickers) == 0 {
			s.log.Warn().Str("reason", p.note).Msg("enabled connection has no tickers")
		}
		for sym := range s.tickers {
			m.assign[sym] = s
		}
		m.slots = append(m.slots, s)
	}
	if len(pr.moved) > 0 {
		lines := make([]string, len(pr.moved))
		for i, mv := range pr.moved {
			lines[i] = mv.String()
		}
		m.log.Warn().Strs("moved", lines).
			Msg("tickers configured on more than one connection; the lowest connection keeps each, the others skip it")
	}
	for _, s := range m.slots {
		if !s.enabled {
			continue
		}
		c, err := m.newClient(s)
		if err != nil {
			m.closeAll()
			return nil, err
		}
		s.client = c
	}
	return m, nil
}

// newClient builds (but does not start) a client for s with its current
// tickers. Callers hold opMu.
func (m *Manager) newClient(s *slot) (*massive.Client, error) {
	cc := m.cfg.Client
	cc.ID = s.connID
	m.mu.RLock()
	cc.Tickers = s.sortedTickers()
	cc.Extras = s.sortedRelay()
	m.mu.RUnlock()
	// The client adds connection_id itself; adding the slot's logger here
	// would print the field twice.
	cc.Logger = m.cfg.Client.Logger.With().Str("name", s.name).Logger()
	c, err := massive.NewClient(cc, s.newObserver())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.connID, err)
	}
	return c, nil
}

// AddObserver registers o; call it before Connect.
func (m *Manager) AddObserver(o Observer) {
	m.mu.Lock()
	m.observers = append(m.observers, o)
	m.mu.Unlock()
}

// AddTap registers t to receive every batch from every connection; call it
// before Connect (a tap added later sees only the batches after it).
func (m *Manager) AddTap(t Tap) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var taps []Tap
	if old := m.taps.Load(); old != nil {
		taps = append(taps, *old...)
	}
	taps = append(taps, t)
	m.taps.Store(&taps)
}

func (m *Manager) observersCopy() []Observer {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]Observer(nil), m.observers...)
}

func (m *Manager) notifyStatus(c massive.StateChange) {
	for _, o := range m.observersCopy() {
		o.StatusChanged(c)
	}
}

func (m *Manager) notifyConfig() {
	for _, o := range m.observersCopy() {
		o.ConfigChanged()
	}
}

// Connect starts every running client. Clients dial and retry on their own
// goroutines, so Connect returns at once and slow or failing connections do
// not hold each other up (the original waited 15 s per connection in turn).
func (m *Manager) Connect() {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.mu.Lock()
	m.started = true
	m.mu.Unlock()
	for _, s := range m.slots {
		if !s.enabled {
			continue
		}
		if s.client == nil {
			c, err := m.newClient(s)
			if err != nil {
				s.log.Error().Err(err).Msg("cannot build client")
				s.fail(err)
				continue
			}
			m.mu.Lock()
			s.client = c
			m.mu.Unlock()
		}
		s.client.Start()
	}
}

// Disconnect closes every client and waits for them. Assignments are kept; a
// later Connect builds fresh clients.
func (m *Manager) Disconnect() {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.mu.Lock()
	m.started = false
	m.mu.Unlock()
	m.closeAll()
}

// closeAll closes every client concurrently, so one slow close frame does not
// delay the others. Callers hold opMu (or own m exclusively, as New does on
// failure).
func (m *Manager) closeAll() {
	var wg sync.WaitGroup
	for _, s := range m.slots {
		if s.client == nil {
			continue
		}
		wg.Add(1)
		go func(s *slot) {
			defer wg.Done()
			m.stopClient(s, "disconnected by manager")
		}(s)
	}
	wg.Wait()
}

// stopClient closes s's client, folds its counters into the slot's totals and
// marks the slot disconnected. Callers hold opMu.
func (m *Manager) stopClient(s *slot, reason string) {
	m.mu.RLock()
	c := s.client
	m.mu.RUnlock()
	if c == nil {
		return
	}
	if ch, changed := s.detach(reason); changed {
		m.notifyStatus(ch)
	}
	c.Close()
	st := c.Stats()
	m.mu.Lock()
	s.client = nil
	s.base.add(st)
	m.mu.Unlock()
}

// slotByID accepts "connection_2" and "2" (massive.ParseConnID).
func (m *Manager) slotByID(id string) (*slot, error) {
	n, err := massive.ParseConnID(id)
	if err != nil || int(n) > len(m.slots) {
		return nil, fmt.Errorf("%q: %w (want connection_1..connection_%d)", id, ErrUnknownConnection, len(m.slots))
	}
	return m.slots[n-1], nil
}
