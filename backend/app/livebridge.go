package app

import (
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// liveBridge forwards the manager's events to the browsers' hub, so neither
// package needs to know the other.
type liveBridge struct{ hub *live.Hub }

// StatusChanged implements manager.Observer.
func (b liveBridge) StatusChanged(c massive.StateChange) { b.hub.StatusChanged(statusEvent(c)) }

// statusEvent is a manager state change as /admin-ws (and the Redis status
// channel) shows it.
func statusEvent(c massive.StateChange) live.StatusEvent {
	return live.StatusEvent{ConnectionID: c.ConnectionID, Status: c.State.String(),
		Previous: c.Previous.String(), Reason: c.Reason, At: c.At}
}

// ConfigChanged implements manager.Observer: every browser re-renders from a
// fresh snapshot.
func (b liveBridge) ConfigChanged() { b.hub.Resync() }
