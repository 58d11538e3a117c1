package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tickwatch/tickwatch/backend/alert"
	"github.com/tickwatch/tickwatch/backend/status"
	"github.com/tickwatch/tickwatch/backend/store"
)

// alerting is the alert engine with its outlets: browsers (an "alert"
// event on /admin-ws at once), webhooks, /metrics (through web.Deps) and
// the store's history.
type alerting struct {
	eng   *alert.Engine
	hooks *alert.Webhooks // nil without ALERT_WEBHOOK_URLS
}

func (a *App) newAlerting(st *status.Source) (*alerting, error) {
	cfg := a.cfg
	cal, err := alert.NewCalendar(cfg.MarketHours)
	if err != nil {
		return nil, fmt.Errorf("MARKET_HOURS: %w", err)
	}
	log := a.log.With().Str("component", "alert").Logger()
	src := &alert.Parts{Manager: a.mgr, Store: a.store, Drops: func(dst []alert.Drop) []alert.Drop {
		// Browser queues: overflows (each discards a session's queued
		// frames for a snapshot), not the frames a new session skips
		// before its first snapshot, which are no loss.
		dst = append(dst, alert.Drop{Source: "browser", Total: a.hub.Stats().Resyncs})
		for _, sk := range st.Sinks() {
			dst = append(dst, alert.Drop{Source: "sink:" + sk.Name, Total: sk.Dropped})
		}
		// Relay consumers: a queue overflow cuts the consumer off with
		// slow_consumer, so each cut is a loss of that consumer's feed.
		if a.relay != nil {
			dst = append(dst, alert.Drop{Source: "relay", Total: a.relay.hub.Stats().SlowDisconnects})
		}
		return dst
	}}
	eng, err := alert.New(context.Background(), alert.Config{
		Calendar: cal, CheckInterval: cfg.AlertCheckInterval, Silence: cfg.AlertSilence,
		TickerSilenceMin: cfg.AlertTickerSilenceMin, TickerNeverTicked: cfg.AlertTickerNeverTicked, TickerSilenceFactor: cfg.AlertTickerSilenceFactor,
		TickerSilenceGroup: cfg.AlertTickerSilenceGroup, Drift: cfg.AlertDrift,
		StormReconnects: cfg.AlertReconnects, StormWindow: cfg.AlertReconnectWindow,
		DropWindow: cfg.AlertDropWindow, KeepResolved: cfg.AlertKeepResolved,
		History: alertHistory{a.state}, Logger: log,
	}, src)
	if err != nil {
		return nil, err
	}
	al := &alerting{eng: eng}
	eng.Listen(func(ev alert.Event) {
		data, err := json.Marshal(alertEvent{Type: ev.Type, Alert: ev.Alert})
		if err != nil {
			log.Error().Err(err).Msg("encode alert event")
			return
		}
		a.hub.Event("alert", data)
	})
	if len(cfg.AlertWebhookURLs) > 0 {
		if al.hooks, err = alert.NewWebhooks(alert.WebhookConfig{URLs: cfg.AlertWebhookURLs, Logger: log}); err != nil {
			return nil, fmt.Errorf("ALERT_WEBHOOK_URLS: %w", err)
		}
		eng.Listen(al.hooks.Notify)
	}
	log.Info().Str("market_hours", cal.Mode()).Int("webhooks", len(cfg.AlertWebhookURLs)).Msg("alerting on")
	return al, nil
}

// alertEvent is the data of an /admin-ws "alert" event: the incident and
// what just happened to it.
type alertEvent struct {
	Type string // firing | resolved | acknowledged
	alert.Alert
}

// MarshalJSON writes the alert's own document (alert.Alert.MarshalJSON,
// times in Unix seconds) with "type" added first. The embedded alert's
// method would otherwise be promoted and drop the type.
func (e alertEvent) MarshalJSON() ([]byte, error) {
	doc, err := json.Marshal(e.Alert)
	if err != nil {
		return nil, err
	}
	typ, err := json.Marshal(e.Type)
	if err != nil {
		return nil, err
	}
	out := append(append([]byte(`{"type":`), typ...), ',')
	return append(out, doc[1:]...), nil
}

func (al *alerting) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() { defer wg.Done(); al.eng.Run(ctx) }()
	if al.hooks != nil {
		wg.Add(1)
		go func() { defer wg.Done(); al.hooks.Run(ctx) }()
	}
}

// alertHistory adapts the store to alert.History.
type alertHistory struct{ st *store.Store }

func (h alertHistory) LastAlertID(ctx context.Context) (int64, error) { return h.st.LastAlertID(ctx) }

func (h alertHistory) RecentAlerts(ctx context.Context, resolvedSince time.Time) ([]alert.Alert, error) {
	recs, err := h.st.RecentAlerts(ctx, resolvedSince)
	if err != nil {
		return nil, err
	}
	out := make([]alert.Alert, len(recs))
	for i, r := range recs {
		st := alert.Firing
		if r.ResolvedAt != nil {
			st = alert.Resolved
		}
		out[i] = alert.Alert{ID: r.ID, Key: r.Key, Kind: alert.Kind(r.Kind), ConnectionID: r.ConnectionID, Ticker: r.Ticker,
			Source: r.Src, State: st, Since: r.Since, FiredAt: r.FiredAt, ResolvedAt: r.ResolvedAt, Value: r.Value,
			Threshold: r.Threshold, Unit: r.Unit, Message: r.Message, AckedBy: r.AckedBy, AckedAt: r.AckedAt}
	}
	return out, nil
}

func (h alertHistory) SaveAlert(ctx context.Context, a alert.Alert) error {
	return h.st.SaveAlert(ctx, store.AlertRecord{
		ID: a.ID, Key: a.Key, Kind: string(a.Kind), ConnectionID: a.ConnectionID, Ticker: a.Ticker, Src: a.Source,
		Since: a.Since, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt, Value: a.Value, Threshold: a.Threshold,
		Unit: a.Unit, Message: a.Message, AckedBy: a.AckedBy, AckedAt: a.AckedAt,
	})
}

// upstreamReady is /readyz's READY_WHEN: started (today's meaning, nothing
// more), any (one enabled connection is connected) or all (every enabled
// one is).
func (a *App) upstreamReady() (bool, string) {
	mode := a.cfg.ReadyWhen
	if mode == "started" {
		return true, ""
	}
	var enabled, up int
	var down []string
	for _, sl := range a.mgr.SlotMetrics() {
		if !sl.Enabled {
			continue
		}
		enabled++
		if sl.Connected {
			up++
		} else {
			down = append(down, sl.ConnectionID+" "+sl.Status)
		}
	}
	switch {
	case mode == "any" && up == 0:
		if enabled == 0 {
			return false, "READY_WHEN=any: no connection is enabled"
		}
		return false, "READY_WHEN=any: no upstream connection is connected (" + strings.Join(down, ", ") + ")"
	case mode == "all" && up < enabled:
		return false, "READY_WHEN=all: not connected: " + strings.Join(down, ", ")
	}
	return true, ""
}
