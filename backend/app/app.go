// Package app builds every part of Tickwatch from configuration, runs them
// and shuts them down in order. It is the only package that knows them all,
// so the wiring (the status source, the manager's observers) lives here, and
// the end-to-end tests start exactly this through app/apptest.
package app

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/admin"
	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/simulator"
	"github.com/tickwatch/tickwatch/backend/status"
	"github.com/tickwatch/tickwatch/backend/store"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
	"github.com/tickwatch/tickwatch/backend/web"
)

// demoKey is the API key the built-in simulator accepts in demo mode. It is
// not a secret: it only opens a simulator bound to loopback.
const demoKey = "tickwatch-demo"

// App is one running Tickwatch.
type App struct {
	cfg     *config.Config
	log     zerolog.Logger
	sim     *simulator.Server
	store   *tickstore.Store
	mgr     *manager.Manager
	hub     *live.Hub
	state   *store.Store   // DATA_DIR: overrides, audit log, tokens (not ticks)
	admin   *admin.Service // admin actions: manager + store in one step
	srv     *web.Server
	ln      net.Listener
	redis   *redisSink    // nil without REDIS_URL
	relay   *relayService // nil unless RELAY_ENABLED
	alerts  *alerting
	ready   atomic.Bool
	version string
	// users and sessions are kept for the users-file reload (SIGHUP);
	// fixedUsers are those from the environment, kept across reloads.
	users      *auth.Users
	fixedUsers []auth.User
	sessions   *auth.Sessions
}

// Option changes how New builds the app; the product passes none.
type Option func(*options)

type options struct {
	storeMaxPages int
}

// WithStoreMaxPages caps the database file at n pages (store.Options
// MaxPageCount), so tests can give a running server a full disk.
func WithStoreMaxPages(n int) Option { return func(o *options) { o.storeMaxPages = n } }

// pruneEvery is how often audit entries past AUDIT_RETENTION and alert
// incidents resolved longer than ALERT_RETENTION ago are deleted.
const pruneEvery = time.Hour

// New builds every part; nothing runs yet except the simulator's listener
// (its URL is needed to configure the clients). The saved runtime changes
// in DATA_DIR are applied to the connections before anything connects.
func New(cfg *config.Config, log zerolog.Logger, static fs.FS, version string, opts ...Option) (*App, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a := &App{cfg: cfg, log: log, version: version}
	ok := false
	defer func() {
		if !ok {
			a.closeParts()
		}
	}()
	var err error

	// The store first: a DATA_DIR problem (unwritable, in use, damaged,
	// from a newer version) stops start-up before anything listens, with
	// the store's one-sentence message.
	a.state, err = store.Open(cfg.DataDir, store.Options{
		Log:          log.With().Str("component", "store").Logger(),
		MaxPageCount: o.storeMaxPages,
	})
	if err != nil {
		return nil, err
	}

	reg, err := universe.Default()
	if err != nil {
		return nil, fmt.Errorf("universes: %w", err)
	}
	if cfg.UniversesFile != "" {
		if err := reg.LoadFile(cfg.UniversesFile); err != nil {
			return nil, fmt.Errorf("UNIVERSES_FILE: %w", err)
		}
	}

	upstreamURL, apiKey := cfg.UpstreamURL, cfg.APIKey
	if cfg.Simulated() {
		if apiKey == "" {
			apiKey = demoKey
		}
		a.sim = simulator.New(simulator.Config{
			Keys:           []string{apiKey},
			TicksPerSecond: cfg.SimTicksPerSecond,
			Seed:           cfg.SimSeed,
			Logger:         log, // the simulator names itself (component=simulator)
		})
		if err := a.sim.Start(cfg.SimAddr); err != nil {
			return nil, fmt.Errorf("SIM_ADDR=%s: start simulator: %w", cfg.SimAddr, err)
		}
		upstreamURL = a.sim.URL()
		log.Warn().Str("simulator", a.sim.Addr()).Msg("DEMO MODE: no MASSIVE_API_KEY, streaming SIMULATED market data from the built-in simulator")
	}

	a.store = tickstore.New(tickstore.Options{Capacity: cfg.TickBufferSize})
	a.mgr, err = manager.New(manager.Config{
		Slots:           slotConfigs(cfg),
		MultiConnection: bool(cfg.MultiConnection),
		DefaultUniverse: cfg.DefaultUniverse,
		Client: massive.Config{
			URL:                   upstreamURL,
			APIKey:                apiKey,
			Channels:              cfg.Channels,
			ReconnectDelay:        cfg.ReconnectDelay,
			MaxReconnectDelay:     cfg.MaxReconnectDelay,
			MaxRetries:            cfg.MaxRetries,
			MaxConnectionsBackoff: cfg.MaxConnectionsBackoff,
			Logger:                log.With().Str("component", "massive").Logger(),
		},
		Universes: reg,
		Store:     a.store,
		Logger:    log.With().Str("component", "manager").Logger(),
	})
	if err != nil {
		return nil, err
	}
	// The hub is built below, before anything can act; browsers re-render
	// once an action's overrides are saved.
	a.admin = admin.New(a.mgr, a.state, log.With().Str("component", "admin").Logger(), func() { a.hub.Resync() })
	if err := a.admin.ApplySaved(context.Background()); err != nil {
		return nil, err
	}

	fileUsers, err := loadUsersFile(cfg)
	if err != nil {
		return nil, err
	}
	if a.fixedUsers, err = fixedUsers(cfg, len(fileUsers) > 0, log); err != nil {
		return nil, err
	}
	if a.users, err = auth.NewUsers(append(fileUsers, a.fixedUsers...)); err != nil {
		return nil, err
	}
	if a.sessions, err = newSessions(cfg, log); err != nil {
		return nil, err
	}

	var sinks []status.Sink
	if cfg.RedisURL != "" {
		if a.redis, err = newRedisSink(cfg, a.mgr, log); err != nil {
			return nil, err
		}
		a.mgr.AddTap(a.redis)
		a.mgr.AddObserver(a.redis)
		sinks = append(sinks, a.redis)
	}

	webRelay := web.Deps{}
	if cfg.RelayEnabled {
		if a.relay, err = newRelay(cfg, a.mgr, a.state, log); err != nil {
			return nil, err
		}
		webRelay = web.Deps{Relay: relayWeb{a.relay.hub}, ConsumerKeys: consumerKeyStore{a.state}, RelayHandler: a.relay.handler()}
	}

	started := time.Now()
	// One status source for the REST document and the live snapshots, so a
	// browser and an API client never see two versions of the truth.
	st := status.New(cfg, a.mgr, a.admin, started, sinks...)
	if a.relay != nil {
		st.WithRelay(a.relay)
	}
	a.hub = live.New(live.Options{
		Store:         a.store,
		Status:        func() any { return st.Document() },
		Metrics:       st.Metrics,
		Sinks:         func() []any { return sinkEvents(st) },
		FlushInterval: cfg.FlushInterval,
		MaxSessions:   cfg.AdminWSMaxSessions,
		MaxPerUser:    cfg.AdminWSMaxPerUser,
		CapNames:      [2]string{"ADMIN_WS_MAX_SESSIONS", "ADMIN_WS_MAX_PER_USER"},
		Logger:        log.With().Str("component", "live").Logger(),
	})
	// A login session that ends (logout, revocation, a changed user,
	// expiry) takes its open dashboard sockets with it.
	a.sessions.OnEnd(func(ss auth.Session) { a.hub.EndAuthSession(ss.ID) })
	if a.relay != nil {
		a.relay.events.attach(a.hub) // the relay was built before the hub
	}
	a.mgr.AddObserver(liveBridge{hub: a.hub})
	a.mgr.AddObserver(&readiness{a: a, attempts: map[string]bool{}})
	if a.alerts, err = a.newAlerting(st); err != nil {
		return nil, err
	}

	a.srv, err = web.New(web.Deps{
		Config: cfg, Manager: a.mgr, Status: st, Store: a.store, Hub: a.hub,
		Users: a.users, Sessions: a.sessions, Admin: a.admin, Tokens: tokenStore{a.state},
		Static: static, Logger: log.With().Str("component", "http").Logger(),
		Ready: a.ready.Load, Started: started, Version: version,
		Relay: webRelay.Relay, ConsumerKeys: webRelay.ConsumerKeys, RelayHandler: webRelay.RelayHandler,
		Alerts: a.alerts.eng, Upstream: a.upstreamReady,
	})
	if err != nil {
		return nil, err
	}
	limits := effectiveConnLimits(cfg)
	limits.apply(a.srv.App().Server())
	limits.log(log.With().Str("component", "http").Logger())
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	a.ln = newRetryListener(ln, log.With().Str("component", "http").Logger())
	ok = true
	return a, nil
}

// Addr is the HTTP listener's address (useful with HTTP_ADDR=127.0.0.1:0).
func (a *App) Addr() string { return a.ln.Addr().String() }

// SimulatorAddr is the built-in simulator's address, "" when not simulated.
func (a *App) SimulatorAddr() string {
	if a.sim == nil {
		return ""
	}
	return a.sim.Addr()
}

// Run serves until ctx is done, then shuts down within ShutdownTimeout.
func (a *App) Run(ctx context.Context) error {
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.hub.Run(runCtx) }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Only fails on a non-positive setting, which config refuses.
		retention := store.Retention{Audit: a.cfg.AuditRetention.Duration(), Alerts: a.cfg.AlertRetention.Duration()}
		if err := a.state.RunPruner(runCtx, retention, pruneEvery); err != nil {
			a.log.Error().Err(err).Msg("store pruner")
		}
	}()

	// SIGHUP reloads the users file. Registered before serving, so a
	// SIGHUP that follows a served request never finds the default action
	// (which would end the process).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				a.reloadUsers()
			}
		}
	}()

	serveErr := make(chan error, 1)
	wg.Add(1)
	go func() { defer wg.Done(); serveErr <- a.srv.App().Listener(a.ln) }()
	a.log.Info().Str("addr", "http://"+displayAddr(a.Addr())).Str("version", a.version).Msg("tickwatch listening")

	// The sink runs on its own context: it stops after the manager, so the
	// last ticks the manager handed it can still go out.
	sinkCtx, stopSink := context.WithCancel(context.Background())
	if a.redis != nil {
		a.redis.start(sinkCtx, &wg)
	}
	if a.relay != nil {
		a.relay.start(runCtx, &wg)
	}
	a.mgr.Connect()
	a.alerts.start(runCtx, &wg)
	readyTimer := time.AfterFunc(15*time.Second, func() { a.ready.Store(true) })

	var err error
	select {
	case <-ctx.Done():
		a.log.Info().Msg("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	}
	readyTimer.Stop()

	// Order matters: relay consumers and browsers get 1001 and the
	// listeners close first (the relay before the main server, which would
	// wait for the consumers' hijacked connections), then the upstream
	// connections get their close frames, then the simulator.
	if a.relay != nil {
		a.relay.close(a.cfg.ShutdownTimeout / 4)
	}
	if serr := a.srv.Shutdown(a.cfg.ShutdownTimeout / 2); serr != nil && err == nil {
		a.log.Warn().Err(serr).Msg("http shutdown")
	}
	stop()
	a.mgr.Disconnect()
	stopSink()
	if a.sim != nil {
		_ = a.sim.Close()
	}
	wg.Wait()
	// Last: no handler, pruner or manager callback can write any more.
	if cerr := a.state.Close(); cerr != nil {
		a.log.Warn().Err(cerr).Msg("closing the store")
	}
	a.log.Info().Msg("stopped")
	return err
}

// sinkEvents are the sink_update events of the per-second /admin-ws frame.
func sinkEvents(st *status.Source) []any {
	docs := st.Sinks()
	out := make([]any, len(docs))
	for i := range docs {
		out[i] = docs[i]
	}
	return out
}

// installProcessWide applies the settings that belong to the process rather
// than to one App (go-redis logs through a process-wide logger). Main calls
// it once; tests, which run several Apps in one process, do not.
func (a *App) installProcessWide() {
	if a.redis != nil {
		a.redis.installLogger()
	}
}

// closeParts releases what New built when a later step fails.
func (a *App) closeParts() {
	if a.ln != nil {
		_ = a.ln.Close()
	}
	if a.relay != nil {
		a.relay.close(time.Second)
	}
	if a.mgr != nil {
		a.mgr.Disconnect()
	}
	if a.sim != nil {
		_ = a.sim.Close()
	}
	if a.state != nil {
		_ = a.state.Close()
	}
}

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, "[::]:") {
		return "localhost:" + strings.TrimPrefix(addr, "[::]:")
	}
	if strings.HasPrefix(addr, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(addr, "0.0.0.0:")
	}
	return addr
}

func slotConfigs(cfg *config.Config) []manager.SlotConfig {
	slots := make([]manager.SlotConfig, len(cfg.Connections))
	demo := cfg.Simulated() && !cfg.ConnectionsConfigured
	for i, c := range cfg.Connections {
		slots[i] = manager.SlotConfig{ID: c.ID, Name: c.Name, Enabled: c.Enabled, UniverseKey: c.UniverseKey, Symbols: c.Symbols}
		if demo && c.Enabled {
			// Demo: disjoint slices of the 500 leaders so 300+ tickers move.
			slots[i].UniverseKey = "market_leaders:top_500"
			slots[i].Split = &manager.Split{Index: i + 1, Of: min(3, len(cfg.Connections))}
		}
	}
	return slots
}

// readiness marks the app ready once every enabled connection has finished
// its first attempt: it reported a state other than "connecting"
// (connected, or failed one way or another).
type readiness struct {
	a *App

	mu       sync.Mutex
	attempts map[string]bool // connection id -> finished an attempt
}

func (r *readiness) StatusChanged(c massive.StateChange) {
	if c.State == massive.StateConnecting {
		return
	}
	r.mu.Lock()
	r.attempts[c.ConnectionID] = true
	done := true
	for _, sl := range r.a.mgr.SlotMetrics() {
		if sl.Enabled && !r.attempts[sl.ConnectionID] {
			done = false
		}
	}
	r.mu.Unlock()
	if done {
		r.a.ready.Store(true)
	}
}

func (r *readiness) ConfigChanged() {}

func loadUsersFile(cfg *config.Config) ([]auth.User, error) {
	if cfg.AuthUsersFile == "" {
		return nil, nil
	}
	list, err := auth.LoadUsersFile(cfg.AuthUsersFile)
	if err != nil {
		return nil, fmt.Errorf("AUTH_USERS_FILE: %w", err)
	}
	return list, nil
}

// fixedUsers is the admin from the environment (ADMIN_PASSWORD_HASH or
// ADMIN_PASSWORD), or a generated one when nobody else is configured. It is
// built once: a reload must not re-hash ADMIN_PASSWORD (a new hash would
// count as a new password and end the admin's sessions).
func fixedUsers(cfg *config.Config, haveFileUsers bool, log zerolog.Logger) ([]auth.User, error) {
	switch {
	case cfg.AdminHash != "":
		return []auth.User{{Username: cfg.AdminUsername, Hash: []byte(cfg.AdminHash), Role: auth.RoleAdmin}}, nil
	case cfg.AdminPassword != "":
		h, err := auth.HashPassword(cfg.AdminPassword)
		if err != nil {
			return nil, fmt.Errorf("ADMIN_PASSWORD: %w", err)
		}
		log.Warn().Str("user", cfg.AdminUsername).Msg("ADMIN_PASSWORD is set in plain text; use ADMIN_PASSWORD_HASH in production")
		return []auth.User{{Username: cfg.AdminUsername, Hash: []byte(h), Role: auth.RoleAdmin}}, nil
	case !haveFileUsers:
		pw, err := auth.GeneratePassword()
		if err != nil {
			return nil, err
		}
		h, err := auth.HashPassword(pw)
		if err != nil {
			return nil, err
		}
		// Printed once, on purpose: without it nobody could log in.
		log.Warn().Str("user", cfg.AdminUsername).Str("generated_password", pw).
			Msg("NO USERS CONFIGURED: generated an admin password for this run only; set ADMIN_PASSWORD_HASH or AUTH_USERS_FILE")
		return []auth.User{{Username: cfg.AdminUsername, Hash: []byte(h), Role: auth.RoleAdmin}}, nil
	}
	return nil, nil
}

// reloadUsers re-reads AUTH_USERS_FILE (on SIGHUP). A user removed, or
// given another role or password, loses every session at once (and with
// them their open dashboard sockets). A file that does not load changes
// nothing: the error is logged and the old users stay.
func (a *App) reloadUsers() {
	log := a.log.With().Str("component", "auth").Logger()
	if a.cfg.AuthUsersFile == "" {
		log.Info().Msg("SIGHUP: no AUTH_USERS_FILE to reload")
		return
	}
	list, err := loadUsersFile(a.cfg) // an empty file is an error too
	var changed []string
	if err == nil {
		changed, err = a.users.Replace(append(list, a.fixedUsers...))
	}
	if err != nil {
		log.Error().Err(err).Msg("users file not reloaded; the previous users stay")
		return
	}
	ended := 0
	for _, name := range changed {
		ended += len(a.sessions.EndUser(name))
	}
	log.Info().Int("users", a.users.Len()).Strs("changed", changed).Int("sessions_ended", ended).Msg("users file reloaded")
}

func newSessions(cfg *config.Config, log zerolog.Logger) (*auth.Sessions, error) {
	secret := []byte(cfg.SessionSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = auth.GenerateSecret(); err != nil {
			return nil, err
		}
		log.Info().Msg("SESSION_SECRET unset: generated one; sessions will not survive a restart")
	}
	s, err := auth.NewSessions(secret, cfg.SessionTTL, time.Now)
	if err != nil {
		return nil, fmt.Errorf("SESSION_SECRET: %w", err)
	}
	return s, nil
}
