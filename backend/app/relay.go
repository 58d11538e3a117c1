package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
	"github.com/tickwatch/tickwatch/backend/store"
	"github.com/tickwatch/tickwatch/backend/web"
)

// relayService wires the relay (docs/relay.md) into the app: the hub is a
// manager tap (the feed) and its Upstream is the manager (the pairs), its
// keys come from the store, it is a manager observer for the upstream-loss
// notices, and it is handed to web and the status document through
// adapters, so neither imports the relay.
type relayService struct {
	hub    *relay.Hub
	mgr    *manager.Manager
	log    zerolog.Logger
	events *consumerEvents // consumer events on /admin-ws

	// notices carries state changes from the manager's observer call,
	// which must return at once and must not wait for the hub (whose
	// subscription lock may be waiting for the manager), to the notice
	// goroutine.
	notices chan massive.StateChange

	srv *fiber.App   // RELAY_ADDR's own listener; nil on the main one
	ln  net.Listener // RELAY_ADDR
}

// noticeQueue bounds the pending state changes; a burst beyond it loses
// notices (informational), never blocks a connection.
const noticeQueue = 64

func newRelay(cfg *config.Config, mgr *manager.Manager, st *store.Store, log zerolog.Logger) (*relayService, error) {
	r := &relayService{mgr: mgr, log: log.With().Str("component", "relay").Logger(), notices: make(chan massive.StateChange, noticeQueue)}
	r.events = newConsumerEvents(r.log)
	r.hub = relay.New(relay.Options{
		Keys:          consumerKeys{st: st, log: r.log},
		Upstream:      relayUpstream{mgr},
		AllowWildcard: bool(cfg.RelayAllowWildcard),
		OnChange:      r.events.changed,
		Logger:        log, // the hub names itself (component=relay)
	})
	r.events.hub = r.hub
	mgr.AddTap(r.hub)
	mgr.AddObserver(r)
	if cfg.RelayAddr != "" {
		ln, err := net.Listen("tcp", cfg.RelayAddr)
		if err != nil {
			r.hub.Close()
			return nil, fmt.Errorf("RELAY_ADDR=%s: %w", cfg.RelayAddr, err)
		}
		r.ln = ln
		r.srv = fiber.New(fiber.Config{AppName: "tickwatch-relay", DisableStartupMessage: true})
		// A listener of its own serves programs only: no dashboard, no
		// proxies in front to trust, so the peer address names the client.
		h := r.hub.Handler(nil)
		r.srv.Get("/stocks", h)
		r.srv.Get("//stocks", h) // a Feed with a trailing slash, as on the main listener
	}
	return r, nil
}

// handler is what web mounts at /stocks on the main listener; nil when the
// relay has its own.
func (r *relayService) handler() func(func(*fiber.Ctx) string) fiber.Handler {
	if r.srv != nil {
		return nil
	}
	return r.hub.Handler
}

// start runs the notice and consumer-event goroutines and RELAY_ADDR's
// listener, owned by wg; the goroutines end with ctx, the listener with close.
func (r *relayService) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() { defer wg.Done(); r.runNotices(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); r.events.run(ctx) }()
	if r.srv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.srv.Listener(r.ln); err != nil {
				r.log.Error().Err(err).Msg("relay listener")
			}
		}()
		r.log.Info().Str("addr", "ws://"+displayAddr(r.ln.Addr().String())+"/stocks").Msg("relay listening")
	}
}

// close disconnects every consumer (going away) and stops RELAY_ADDR's
// listener. It runs before the main HTTP server shuts down, which would
// otherwise wait for the consumers' hijacked connections.
func (r *relayService) close(timeout time.Duration) {
	r.hub.Close()
	if r.srv != nil {
		if err := r.srv.ShutdownWithTimeout(timeout); err != nil {
			r.log.Warn().Err(err).Msg("relay listener shutdown")
		}
		_ = r.ln.Close() // when New failed before the listener was served
	}
}

// StatusChanged implements manager.Observer: queued, never waited for.
func (r *relayService) StatusChanged(c massive.StateChange) {
	select {
	case r.notices <- c:
	default:
		r.log.Warn().Str("connection_id", c.ConnectionID).Msg("relay: upstream notice dropped, queue full")
	}
}

// ConfigChanged implements manager.Observer.
func (r *relayService) ConfigChanged() {}

// runNotices tells consumers when a connection carrying any of their pairs
// drops and when it is back (docs/relay.md, "Upstream loss"): a status
// message, the consumer stays connected, its pairs come back with the
// connection's own resubscribe.
func (r *relayService) runNotices(ctx context.Context) {
	lost := map[string]bool{}
	for {
		var c massive.StateChange
		select {
		case <-ctx.Done():
			return
		case c = <-r.notices:
		}
		conn := c.ConnectionID
		carried := func(s massive.Sub) bool { return r.mgr.Carries(conn, s.Channel, s.Ticker) }
		switch {
		case c.State == massive.StateConnected && lost[conn]:
			delete(lost, conn)
			n := r.hub.Notify(carried, relay.StatusUpstreamRestored, conn+" is back; its subscriptions are restored")
			r.log.Info().Str("connection_id", conn).Int("consumers", n).Msg("relay: upstream restored")
		case c.State != massive.StateConnected && c.Previous == massive.StateConnected:
			lost[conn] = true
			msg := fmt.Sprintf("%s lost its upstream link (%s); stay connected, its subscriptions resume when it reconnects", conn, logsafe.Clip(c.Reason))
			n := r.hub.Notify(carried, relay.StatusUpstreamLost, msg)
			r.log.Info().Str("connection_id", conn).Int("consumers", n).Msg("relay: upstream lost")
		}
	}
}

// RelayCounts implements status.RelayCounts.
func (r *relayService) RelayCounts() map[string]int {
	subs := r.hub.Stats().Subscriptions
	out := make(map[string]int, len(subs))
	for _, s := range subs {
		out[massive.Subscription(s.Channel, s.Ticker)] = s.Consumers
	}
	return out
}

// relayUpstream is the manager as the relay's Upstream.
type relayUpstream struct{ mgr *manager.Manager }

func (u relayUpstream) Acquire(pairs []massive.Sub) []error {
	res := u.mgr.AcquireRelay(pairs)
	errs := make([]error, len(res))
	for i, r := range res {
		errs[i] = r.Err
	}
	return errs
}

func (u relayUpstream) Release(pairs []massive.Sub) { u.mgr.ReleaseRelay(pairs) }

// consumerKeys looks consumer keys up in the store for the relay.
type consumerKeys struct {
	st  *store.Store
	log zerolog.Logger
}

func (k consumerKeys) Lookup(ctx context.Context, key string) (relay.Consumer, error) {
	rec, err := k.st.LookupConsumerKey(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrRevoked):
		return relay.Consumer{}, fmt.Errorf("%w: %w", relay.ErrUnknownKey, err)
	case err != nil:
		return relay.Consumer{}, err
	}
	if err := k.st.TouchConsumerKey(ctx, rec.ID, time.Now()); err != nil {
		// Last-used is informational; a full disk must not stop the feed.
		k.log.Warn().Err(err).Str("key_prefix", rec.Prefix).Msg("relay: record consumer key use")
	}
	return relay.Consumer{ID: strconv.FormatInt(rec.ID, 10), Name: rec.Name, KeyPrefix: rec.Prefix,
		AllowList: rec.AllowList, MaxConns: rec.MaxConns}, nil
}

// relayWeb is the hub as web's consumers view needs it.
type relayWeb struct{ hub *relay.Hub }

var _ web.Relay = relayWeb{}

func (r relayWeb) Consumers() web.RelaySnapshot {
	st := r.hub.Stats()
	out := web.RelaySnapshot{
		Consumers:        make([]web.RelayConsumer, len(st.Consumers)),
		ConnectionsTotal: st.ConnectionsTotal, SlowDisconnects: st.SlowDisconnects, AuthFailures: st.AuthFailures,
		MaxConnRefusals: st.MaxConnRefusals, EventsIn: st.EventsIn, EventsOut: st.EventsOut,
	}
	for i, c := range st.Consumers {
		out.Consumers[i] = webConsumer(c)
	}
	return out
}

// webConsumer is one consumer as web (and the /admin-ws events) show it.
func webConsumer(c relay.ConsumerStats) web.RelayConsumer {
	keyID, _ := strconv.ParseInt(c.KeyID, 10, 64) // "" before auth: 0
	return web.RelayConsumer{ID: c.ID, Name: c.Name, KeyPrefix: c.KeyPrefix, KeyID: keyID,
		Remote: c.Remote, Since: c.Since, Authenticated: c.Authenticated, Subscriptions: c.Subscriptions,
		QueueDepth: c.QueueDepth, Sent: c.Sent, Dropped: c.Dropped, Slow: c.Slow}
}

func (r relayWeb) Disconnect(id uint64) bool { return r.hub.Disconnect(id) }

func (r relayWeb) DisconnectKey(keyID int64) int {
	return r.hub.DisconnectKey(strconv.FormatInt(keyID, 10))
}

// consumerKeyStore hands the store's consumer keys to web.
type consumerKeyStore struct{ s *store.Store }

var _ web.ConsumerKeyStore = consumerKeyStore{}

func (k consumerKeyStore) CreateConsumerKey(ctx context.Context, name string, allowList []string, maxConns int, by string) (string, web.ConsumerKey, error) {
	plain, rec, err := k.s.CreateConsumerKey(ctx, name, allowList, maxConns, by)
	return plain, web.ConsumerKey(rec), keyErr(err)
}

func (k consumerKeyStore) ListConsumerKeys(ctx context.Context) ([]web.ConsumerKey, error) {
	list, err := k.s.ListConsumerKeys(ctx)
	if err != nil {
		return nil, keyErr(err)
	}
	out := make([]web.ConsumerKey, len(list))
	for i, rec := range list {
		out[i] = web.ConsumerKey(rec)
	}
	return out, nil
}

func (k consumerKeyStore) RevokeConsumerKey(ctx context.Context, id int64) error {
	return keyErr(k.s.RevokeConsumerKey(ctx, id))
}

// keyErr adds web's kind to a store error, keeping the store's message.
func keyErr(err error) error {
	return withKind(err, []errKind{{store.ErrNotFound, web.ErrKeyNotFound}, {store.ErrInvalid, web.ErrKeyInvalid}})
}
