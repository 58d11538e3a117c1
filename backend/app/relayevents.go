package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/relay"
	"github.com/tickwatch/tickwatch/backend/web"
)

// Relay consumer events on /admin-ws (docs/api.md): consumer_connected and
// consumer_disconnected at once, and a consumers document every second
// while any consumer is connected, the same as GET /api/admin/consumers.
// They go to admins' sessions only (live.Hub.AdminEvent): the REST side is
// admin-only, and the documents carry names and addresses.
const (
	eventConsumerConnected    = "consumer_connected"
	eventConsumerDisconnected = "consumer_disconnected"
	eventConsumers            = "consumers"
)

// consumerStatsEvery is the period of the consumers event.
const consumerStatsEvery = time.Second

// consumerEvents turns the relay's changes into /admin-ws events. It costs
// nothing while nobody uses the relay: the stats loop sleeps until a
// consumer connects and goes back to sleep once the last one is gone (after
// one last, empty, document), and no document is built while no dashboard
// is open.
type consumerEvents struct {
	hub  *relay.Hub
	log  zerolog.Logger
	wake chan struct{} // a consumer came or went; capacity 1

	// mu orders the events: a stats document taken before a consumer left
	// is sent before its consumer_disconnected, never after it, so a page
	// applying them in order does not bring the row back.
	mu   sync.Mutex
	live *live.Hub // set by attach before anything is served; nil: no events
}

func newConsumerEvents(log zerolog.Logger) *consumerEvents {
	return &consumerEvents{log: log, wake: make(chan struct{}, 1)}
}

// attach hands over the dashboard hub, built after the relay.
func (e *consumerEvents) attach(h *live.Hub) {
	e.mu.Lock()
	e.live = h
	e.mu.Unlock()
}

// consumerChange is the data of consumer_connected and consumer_disconnected.
type consumerChange struct {
	At       float64           `json:"at"`
	Reason   string            `json:"reason,omitempty"` // disconnected only: relay.Reason*
	Consumer web.RelayConsumer `json:"consumer"`
}

// consumersDoc is the data of the consumers event.
type consumersDoc struct {
	At float64 `json:"at"`
	web.RelaySnapshot
}

// changed is relay.Options.OnChange: it runs on the consumer's goroutine
// and never blocks on a browser (AdminEvent only queues).
func (e *consumerEvents) changed(c relay.ConsumerChange) {
	select {
	case e.wake <- struct{}{}:
	default:
	}
	name := eventConsumerDisconnected
	if c.Connected {
		name = eventConsumerConnected
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.watched() {
		e.sendLocked(name, consumerChange{At: live.UnixSeconds(time.Now()), Reason: c.Reason, Consumer: webConsumer(c.Consumer)})
	}
}

// watched reports whether a dashboard is open; e.mu is held.
func (e *consumerEvents) watched() bool {
	return e.live != nil && e.live.Stats().Sessions > 0
}

// sendLocked encodes v and queues it for admins; e.mu is held.
func (e *consumerEvents) sendLocked(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.log.Error().Err(err).Str("event", name).Msg("relay: encode consumer event")
		return
	}
	e.live.AdminEvent(name, b)
}

// run sends the consumers document every consumerStatsEvery while any
// consumer is connected, until ctx ends.
func (e *consumerEvents) run(ctx context.Context) {
	tick := time.NewTicker(consumerStatsEvery)
	tick.Stop()
	defer tick.Stop()
	ticking := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
			// Asleep: start ticking. Already ticking: keep the phase, or
			// consumers arriving faster than the period would hold the
			// document back for ever.
			if !ticking {
				tick.Reset(consumerStatsEvery)
				ticking = true
			}
			continue
		case <-tick.C:
		}
		if e.stats() == 0 {
			tick.Stop()
			ticking = false
		}
	}
}

// stats sends one consumers document if a dashboard is open, and returns
// how many consumers are connected.
func (e *consumerEvents) stats() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	snap := relayWeb{e.hub}.Consumers()
	if e.watched() {
		e.sendLocked(eventConsumers, consumersDoc{At: live.UnixSeconds(time.Now()), RelaySnapshot: snap})
	}
	return len(snap.Consumers)
}
