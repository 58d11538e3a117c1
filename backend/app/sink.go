package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	redissink "github.com/tickwatch/tickwatch/backend/sink/redis"
	"github.com/tickwatch/tickwatch/backend/status"
)

// redisSink wires the Redis publisher (docs/redis.md) into the app: a
// manager tap for the ticks, a manager observer for the status channel, a
// status.Sink for websocket-status, /metrics, /readyz and the dashboard,
// and a health snapshot every second.
type redisSink struct {
	p        *redissink.Publisher
	mgr      *manager.Manager
	required bool
	log      zerolog.Logger
}

// newRedisSink builds the publisher for REDIS_URL; it does not connect.
func newRedisSink(cfg *config.Config, mgr *manager.Manager, log zerolog.Logger) (*redisSink, error) {
	p, err := redissink.New(redissink.Options{
		URL:           cfg.RedisURL,
		TickChannel:   cfg.RedisTickChannel,
		StatusChannel: cfg.RedisStatusChannel,
		Stream:        cfg.RedisTickStream,
		StreamMaxLen:  cfg.RedisTickStreamMax,
		// The sink stops after the HTTP server (half the budget) and the
		// manager; a quarter is left for the last ticks, which is ample for
		// a Redis that answers and bounds the wait for one that does not.
		DrainTimeout: cfg.ShutdownTimeout / 4,
		Logger:       log,
	})
	if err != nil {
		// Config.Load checked the URL already; this is the same check, and
		// its error never holds the password.
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return &redisSink{p: p, mgr: mgr, required: bool(cfg.RedisRequired), log: log}, nil
}

// Ticks implements manager.Tap: a copy onto the publisher's bounded queue.
func (r *redisSink) Ticks(connID string, batch []massive.Event) { r.p.Ticks(connID, batch) }

// StatusChanged implements manager.Observer: every connection_status_update
// goes to the status channel as the browsers get it.
func (r *redisSink) StatusChanged(c massive.StateChange) {
	var scratch [256]byte
	r.p.StatusEvent(live.AppendStatusFrame(scratch[:0], statusEvent(c)))
}

// ConfigChanged implements manager.Observer; a configuration change shows
// in the next health snapshot.
func (r *redisSink) ConfigChanged() {}

// SinkDoc implements status.Sink.
func (r *redisSink) SinkDoc() status.SinkDoc {
	st := r.p.Stats()
	return status.SinkDoc{
		Name: "redis", State: string(st.State), Since: live.UnixSeconds(st.Since), LastError: st.LastError,
		Target: st.Target, Required: r.required,

		PublishedPerSecond: st.PublishRate, Published: st.Published, Messages: st.Messages,
		Dropped: st.Dropped, QueueFull: st.QueueFull,

		QueueDepth: st.QueueDepth, QueueCapacity: st.QueueCap,
		QueuedTicks: st.QueuedEvents, QueuedTicksCapacity: st.QueueEvents,

		StatusPublished: st.StatusPublished, StatusDropped: st.StatusDropped, WriteErrors: st.WriteErrors,
	}
}

// start runs the publisher and the health loop on goroutines owned by wg,
// until ctx is done.
func (r *redisSink) start(ctx context.Context, wg *sync.WaitGroup) {
	r.log.Info().Str("redis", r.p.Target()).Msg("publishing ticks to Redis")
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := r.p.Run(ctx); err != nil {
			r.log.Error().Err(err).Msg("redis sink stopped")
		}
	}()
	go func() {
		defer wg.Done()
		r.healthLoop(ctx)
	}()
}

// healthLoop hands the publisher a health_update every second: the
// GET /api/admin/websocket-health document, as docs/redis.md promises.
func (r *redisSink) healthLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := json.Marshal(r.mgr.Health())
		if err != nil {
			r.log.Error().Err(err).Msg("redis sink: encode health snapshot")
			continue
		}
		buf = live.AppendEventFrame(buf[:0], "health_update", data)
		r.p.Health(buf)
	}
}

// installLogger routes go-redis's own process-wide log lines through the
// sink's logger with the password removed. Process-wide, so Main calls it
// once; tests, which run several Apps in one process, do not.
func (r *redisSink) installLogger() { redis.SetLogger(r.p.ClientLog()) }
