package web

import (
	"time"

	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// LiveBridge forwards the manager's events to the browsers' hub, so neither
// package needs to know the other.
type LiveBridge struct{ Hub *live.Hub }

// StatusChanged implements manager.Observer.
func (b LiveBridge) StatusChanged(c massive.StateChange) {
	b.Hub.StatusChanged(live.StatusEvent{ConnectionID: c.ConnectionID, Status: c.State.String(),
		Previous: c.Previous.String(), Reason: c.Reason, At: c.At})
}

// ConfigChanged implements manager.Observer: every browser re-renders from a
// fresh snapshot.
func (b LiveBridge) ConfigChanged() { b.Hub.Resync() }

// LiveMetrics is the per-second metrics_update content for every enabled slot.
func LiveMetrics(m *manager.Manager) []live.MetricsEvent {
	slots := m.SlotMetrics()
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
