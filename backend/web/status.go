package web

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
)

// StatusDoc is the original's "Endpoint 1" document, extended only by
// adding fields (docs/api.md describes every field).
type StatusDoc struct {
	Connections   []ConnectionDoc `json:"connections"`
	Summary       SummaryDoc      `json:"summary"`
	Mode          string          `json:"mode"`
	Simulated     bool            `json:"simulated"`
	UptimeSeconds float64         `json:"uptime_seconds"`
	ServerTime    float64         `json:"server_time"`
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

// BuildStatus assembles the status document from the manager's slots. The
// live hub's snapshots use it too, so both always agree.
func BuildStatus(cfg *config.Config, m *manager.Manager, simulated bool, started time.Time) StatusDoc {
	slots := m.Slots()
	doc := StatusDoc{
		Connections:   make([]ConnectionDoc, 0, len(slots)),
		Mode:          "single",
		Simulated:     simulated,
		UptimeSeconds: time.Since(started).Seconds(),
		ServerTime:    live.UnixSeconds(time.Now()),
	}
	if bool(cfg.MultiConnection) {
		doc.Mode = "multi"
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
			cd.EnableHint = enableHint(cfg, sl.ID)
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

func enableHint(cfg *config.Config, id int) string {
	if id > 1 && !bool(cfg.MultiConnection) {
		return fmt.Sprintf("set USE_MULTI_CONNECTION=true and WEBSOCKET_CONNECTION_%d_ENABLED=true", id)
	}
	return fmt.Sprintf("set WEBSOCKET_CONNECTION_%d_ENABLED=true, or enable it here (admin)", id)
}

func (s *Server) statusDoc() StatusDoc {
	return BuildStatus(s.d.Config, s.d.Manager, s.d.Simulated, s.d.Started)
}

func (s *Server) websocketStatus(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.statusDoc())
}

func (s *Server) websocketHealth(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.d.Manager.Health())
}
