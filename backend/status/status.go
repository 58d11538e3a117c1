// Package status says what Tickwatch knows about its connections, built
// from the configuration and the manager: the websocket-status document
// (the REST endpoint and every live snapshot) and the per-second metrics
// events. One builder, so every reader (the REST API, the browsers, the
// Redis sink's status channel, later the alerting) sees the same figures in
// the same shape.
package status

import (
	"fmt"
	"time"

	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/store"
)

// Doc is the original's "Endpoint 1" document, extended only by adding
// fields (docs/api.md describes every field).
type Doc struct {
	Connections   []ConnectionDoc `json:"connections"`
	Summary       SummaryDoc      `json:"summary"`
	Mode          string          `json:"mode"`
	Simulated     bool            `json:"simulated"`
	UptimeSeconds float64         `json:"uptime_seconds"`
	ServerTime    float64         `json:"server_time"`
	// Sinks are the systems the ticks are handed on to (today the Redis
	// publisher); empty, never null, when none is configured.
	Sinks []SinkDoc `json:"sinks"`
}

// SinkDoc is one tick sink: its link, its throughput and its queue. The
// same document is the sink_update event of /admin-ws and the source of
// the tickwatch_sink_* series of /metrics.
type SinkDoc struct {
	Name      string  `json:"name"`       // "redis"
	State     string  `json:"state"`      // connecting, connected, reconnecting, down
	Since     float64 `json:"since"`      // when the state began (unix seconds)
	LastError string  `json:"last_error"` // the latest failure, secrets removed; "" if none
	Target    string  `json:"target"`     // where it publishes, secrets removed
	Required  bool    `json:"required"`   // /readyz fails while it is not connected

	PublishedPerSecond float64 `json:"published_per_second"` // ticks, over the last second
	Published          uint64  `json:"published"`            // ticks since start
	Messages           uint64  `json:"messages"`             // messages those ticks went out in
	Dropped            uint64  `json:"dropped"`              // ticks that never reached the sink
	QueueFull          uint64  `json:"queue_full"`           // of dropped: refused by a full queue

	QueueDepth          int `json:"queue_depth"`           // batches waiting
	QueueCapacity       int `json:"queue_capacity"`        // cap on queue_depth
	QueuedTicks         int `json:"queued_ticks"`          // ticks in those batches
	QueuedTicksCapacity int `json:"queued_ticks_capacity"` // cap on queued_ticks

	StatusPublished uint64 `json:"status_published"` // status and health messages
	StatusDropped   uint64 `json:"status_dropped"`
	WriteErrors     uint64 `json:"write_errors"` // commands the sink refused on a working link
}

// SinkStates are the states a SinkDoc may report, in the order of a link's
// life; /metrics emits one tickwatch_sink_state series for each.
func SinkStates() []string { return []string{"connecting", "connected", "reconnecting", "down"} }

// Sink is a tick sink as the status document shows it. app adapts each
// real sink to it, so this package need not import them.
type Sink interface {
	SinkDoc() SinkDoc
}

// ConnectionDoc is one slot.
type ConnectionDoc struct {
	ID        int        `json:"id"`
	Name      string     `json:"name"`
	Enabled   bool       `json:"enabled"`
	Connected bool       `json:"connected"`
	Status    string     `json:"status"`
	Config    ConfigDoc  `json:"config"`
	Metrics   MetricsDoc `json:"metrics"`

	ConnectionID   string    `json:"connection_id"`
	StateSince     float64   `json:"state_since"`
	ConnectedSince float64   `json:"connected_since"`
	Reason         string    `json:"reason"`
	LastError      string    `json:"last_error"`
	Reconnects     uint64    `json:"reconnects"`
	Dropped        uint64    `json:"dropped"`
	MessageCount   uint64    `json:"message_count"`
	RateHistory    []float64 `json:"rate_history"`
	SymbolsSource  string    `json:"symbols_source"`
	Note           string    `json:"note"`
	EnableHint     string    `json:"enable_hint"`

	// Overrides are the connection's saved runtime changes on top of the
	// configuration (they survive a restart until the connection is reset).
	Overrides OverridesDoc `json:"overrides"`

	// Relay lists the (channel, ticker) pairs this connection carries for
	// relay consumers (docs/relay.md), by ticker; empty without the relay.
	Relay []RelayDoc `json:"relay"`
}

// RelayDoc is one relay pair on a connection.
type RelayDoc struct {
	Channel   string `json:"channel"`
	Ticker    string `json:"ticker"`
	Consumers int    `json:"consumers"` // consumer connections subscribed to it
	// Configured: the connection carries it for its own tickers anyway;
	// false marks a pair that is there only because of consumers.
	Configured bool `json:"configured"`
}

// RelayCounts gives how many relay consumers subscribe each pair, keyed
// "T.AAPL". app adapts the relay hub to it, so this package need not
// import the relay.
type RelayCounts interface {
	RelayCounts() map[string]int
}

// OverridesDoc lists what admins changed on a connection at runtime, with
// who and when (unix seconds, ms precision), so the dashboard can mark it.
type OverridesDoc struct {
	Added   []TickerChangeDoc `json:"added"`   // runtime-added tickers
	Removed []TickerChangeDoc `json:"removed"` // configured tickers removed at runtime
	Enabled *EnabledChangeDoc `json:"enabled"` // null: enabled state as configured
}

// TickerChangeDoc is one ticker added or removed at runtime.
type TickerChangeDoc struct {
	Symbol string  `json:"symbol"`
	By     string  `json:"by"`
	At     float64 `json:"at"`
}

// EnabledChangeDoc is a connection enabled or disabled at runtime.
type EnabledChangeDoc struct {
	Enabled bool    `json:"enabled"`
	By      string  `json:"by"`
	At      float64 `json:"at"`
}

// OverrideSource gives a connection's saved runtime changes from memory
// (admin.Service): the document is built for every live snapshot and must
// not read the disk.
type OverrideSource interface {
	Overrides(connID string) store.ConnOverride
}

// ConfigDoc is a slot's configuration.
type ConfigDoc struct {
	TickerCount int      `json:"ticker_count"`
	UniverseKey string   `json:"universe_key"`
	Tickers     []string `json:"tickers"`
}

// MetricsDoc is a slot's metrics.
type MetricsDoc struct {
	MessagesPerSecond float64 `json:"messages_per_second"`
	LastUpdate        float64 `json:"last_update"`
	ErrorCount        uint64  `json:"error_count"`
}

// SummaryDoc sums the slots.
type SummaryDoc struct {
	Total             int     `json:"total"`
	Connected         int     `json:"connected"`
	TicksTotal        uint64  `json:"ticks_total"`
	ErrorsTotal       uint64  `json:"errors_total"`
	MessagesPerSecond float64 `json:"messages_per_second"`
}

// Source builds the document and the metrics events. It holds no state of
// its own: every call reads the manager afresh, so it is safe for
// concurrent use (the live hub calls it from several goroutines).
type Source struct {
	cfg       *config.Config
	mgr       *manager.Manager
	overrides OverrideSource // nil: no saved changes to show
	started   time.Time
	sinks     []Sink
	relay     RelayCounts // nil: no relay
}

// New returns a Source for the process started at started (uptime counts
// from it), showing sinks (none when Redis is not configured). overrides may
// be nil.
func New(cfg *config.Config, mgr *manager.Manager, overrides OverrideSource, started time.Time, sinks ...Sink) *Source {
	return &Source{cfg: cfg, mgr: mgr, overrides: overrides, started: started, sinks: sinks}
}

// WithRelay makes the document show the relay's consumer counts; call it
// before the Source is shared.
func (s *Source) WithRelay(r RelayCounts) *Source {
	s.relay = r
	return s
}

// Sinks is the sinks section of the document: one entry per sink, in the
// order given to New; empty (not nil) when there are none.
func (s *Source) Sinks() []SinkDoc {
	out := make([]SinkDoc, 0, len(s.sinks))
	for _, sk := range s.sinks {
		out = append(out, sk.SinkDoc())
	}
	return out
}

// Document assembles the status document from the manager's slots.
//
// Times are in live's wire form (live.UnixSeconds) so that a status event
// and the document agree on the instant of one transition.
func (s *Source) Document() Doc {
	slots := s.mgr.Slots()
	doc := Doc{
		Connections:   make([]ConnectionDoc, 0, len(slots)),
		Mode:          "single",
		Simulated:     s.cfg.Simulated(),
		UptimeSeconds: time.Since(s.started).Seconds(),
		ServerTime:    live.UnixSeconds(time.Now()),
		Sinks:         s.Sinks(),
	}
	if bool(s.cfg.MultiConnection) {
		doc.Mode = "multi"
	}
	var counts map[string]int
	if s.relay != nil {
		counts = s.relay.RelayCounts()
	}
	for _, sl := range slots {
		tickers := sl.Tickers
		if tickers == nil {
			tickers = []string{}
		}
		hist := sl.RateHistory
		if hist == nil {
			hist = []float64{}
		}
		cd := ConnectionDoc{
			ID: sl.ID, Name: sl.Name, Enabled: sl.Enabled, Connected: sl.Connected, Status: sl.Status,
			Config:  ConfigDoc{TickerCount: len(tickers), UniverseKey: sl.UniverseKey, Tickers: tickers},
			Metrics: MetricsDoc{MessagesPerSecond: sl.Rate, LastUpdate: live.UnixSeconds(sl.LastMessage), ErrorCount: sl.ErrorCount},

			ConnectionID: sl.ConnectionID, StateSince: live.UnixSeconds(sl.StateSince), ConnectedSince: live.UnixSeconds(sl.ConnectedSince),
			Reason: sl.Reason, LastError: sl.LastError, Reconnects: sl.Reconnects, Dropped: sl.Dropped,
			MessageCount: sl.MessageCount, RateHistory: hist, SymbolsSource: sl.SymbolsSource, Note: sl.Note,
		}
		if !sl.Enabled {
			cd.EnableHint = s.enableHint(sl.ID)
		}
		cd.Overrides = s.overridesDoc(sl.ConnectionID)
		cd.Relay = make([]RelayDoc, len(sl.Relay))
		for i, r := range sl.Relay {
			cd.Relay[i] = RelayDoc{Channel: r.Channel, Ticker: r.Ticker, Configured: r.Configured,
				Consumers: counts[r.Channel+"."+r.Ticker]}
		}
		doc.Connections = append(doc.Connections, cd)
		doc.Summary.Total++
		if sl.Connected {
			doc.Summary.Connected++
		}
		doc.Summary.TicksTotal += sl.MessageCount
		doc.Summary.ErrorsTotal += sl.ErrorCount
		doc.Summary.MessagesPerSecond += sl.Rate
	}
	return doc
}

func (s *Source) overridesDoc(connID string) OverridesDoc {
	doc := OverridesDoc{Added: []TickerChangeDoc{}, Removed: []TickerChangeDoc{}}
	if s.overrides == nil {
		return doc
	}
	o := s.overrides.Overrides(connID)
	for _, t := range o.Tickers {
		td := TickerChangeDoc{Symbol: t.Symbol, By: t.By, At: live.UnixSeconds(t.At)}
		if t.Op == store.TickerAdded {
			doc.Added = append(doc.Added, td)
		} else {
			doc.Removed = append(doc.Removed, td)
		}
	}
	if e := o.Enabled; e != nil {
		doc.Enabled = &EnabledChangeDoc{Enabled: e.Enabled, By: e.By, At: live.UnixSeconds(e.At)}
	}
	return doc
}

// enableHint tells the operator the one setting that turns slot id on.
func (s *Source) enableHint(id int) string {
	if id > 1 && !bool(s.cfg.MultiConnection) {
		return fmt.Sprintf("set USE_MULTI_CONNECTION=true and WEBSOCKET_CONNECTION_%d_ENABLED=true", id)
	}
	return fmt.Sprintf("set WEBSOCKET_CONNECTION_%d_ENABLED=true, or enable it here (admin)", id)
}

// Metrics is the per-second metrics_update content for every enabled slot.
// It reads SlotMetrics, which skips the ticker lists: it runs every second.
func (s *Source) Metrics() []live.MetricsEvent {
	slots := s.mgr.SlotMetrics()
	out := make([]live.MetricsEvent, 0, len(slots))
	now := time.Now()
	for _, sl := range slots {
		if !sl.Enabled {
			continue
		}
		up := 0.0
		if !sl.ConnectedSince.IsZero() {
			up = now.Sub(sl.ConnectedSince).Seconds()
		}
		out = append(out, live.MetricsEvent{
			ConnectionID: sl.ConnectionID, MsgsPerSec: sl.Rate, Uptime: up,
			MessageCount: sl.MessageCount, ErrorCount: sl.ErrorCount, Dropped: sl.Dropped,
			Reconnects: sl.Reconnects, LastUpdate: sl.LastMessage, RateHistory: sl.RateHistory,
		})
	}
	return out
}
