// Package web is the Fiber application: middleware, the REST API, the
// /admin-ws endpoint and the embedded single-page app. One small file per
// concern. Its tests here need only the Fiber app; the API and /admin-ws are
// tested end to end against the real app.New in backend/app (apptest).
package web

import (
	"context"
	"io/fs"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/admin"
	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/status"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// Deps are the parts the web layer serves. They are built by backend/app.
type Deps struct {
	Config   *config.Config
	Manager  *manager.Manager
	Status   *status.Source // the status document, shared with the live snapshots
	Store    *tickstore.Store
	Hub      *live.Hub
	Users    *auth.Users
	Sessions *auth.Sessions
	Admin    Admin // admin actions, saved with their audit entries (admin.Service)
	Static   fs.FS // the built SPA (index.html, assets/...); nil serves a plain notice
	Logger   zerolog.Logger
	Ready    func() bool // /readyz: upstream connections were attempted
	Started  time.Time
	Version  string
	Tokens   TokenStore // API tokens; nil: bearer tokens are refused, no /api/admin/tokens

	// The relay (consumers.go); all nil when RELAY_ENABLED is false.
	Relay        Relay
	ConsumerKeys ConsumerKeyStore
	// RelayHandler serves Massive's protocol at GET /stocks on this
	// listener, given the client-address logic; nil when the relay is off
	// or has a listener of its own (RELAY_ADDR).
	RelayHandler func(clientIP func(*fiber.Ctx) string) fiber.Handler

	Alerts Alerts // alert incidents; nil: no /api/admin/alerts, no alert metrics
	// Upstream says whether the upstream connections are good enough for
	// /readyz (READY_WHEN), with the reason when not; nil: always.
	Upstream func() (bool, string)
}

// Admin is what the admin endpoints call: each action is applied to the
// manager and saved with its audit entry before it returns, or not applied
// at all (admin.Service; app hands it over).
type Admin interface {
	Subscribe(ctx context.Context, who admin.Actor, tickers []string, connID string) ([]manager.Assignment, error)
	Unsubscribe(ctx context.Context, who admin.Actor, symbol string) (manager.Assignment, error)
	SetEnabled(ctx context.Context, who admin.Actor, connID string, enabled bool) error
	Reconnect(ctx context.Context, who admin.Actor, connID string) error
	Reset(ctx context.Context, who admin.Actor, connID string) (manager.ConnChange, error)
	Audit(ctx context.Context, f admin.AuditFilter) (admin.AuditPage, error)
	Record(ctx context.Context, who admin.Actor, action, target string, err error)
}

// Server is the HTTP side of Tickwatch.
type Server struct {
	d       Deps
	app     *fiber.App
	static  *staticFiles
	logins  *auth.LoginGuard // login limits and the bounded bcrypt pool
	bearer  *auth.Limiter    // failed API token attempts per client address
	metrics *metrics
	proxies []*net.IPNet // TRUSTED_PROXIES
	// wsWriteBuffers are the /admin-ws write buffers, shared by all
	// sessions (see adminWS).
	wsWriteBuffers *sync.Pool
}

// BodyLimit keeps admin requests small: the largest legitimate body is a
// subscription list.
const BodyLimit = 64 << 10

// New builds the Fiber app with every route.
func New(d Deps) (*Server, error) {
	if d.Started.IsZero() {
		d.Started = time.Now()
	}
	s := &Server{
		d:      d,
		logins: auth.NewLoginGuard(auth.LoginGuardConfig{}),
		bearer: auth.NewLimiter(bearerFailuresPerIP, bearerFailureWindow, nil),
		// The websocket package puts its own buffers in and gets them back.
		wsWriteBuffers: &sync.Pool{},
	}
	s.proxies = parseProxies(d.Config.TrustedProxies)
	st, err := newStaticFiles(d.Static)
	if err != nil {
		return nil, err
	}
	s.static = st
	s.metrics = newMetrics(&s.d)

	s.app = fiber.New(fiber.Config{
		AppName:               "tickwatch",
		DisableStartupMessage: true,
		BodyLimit:             BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// X-Forwarded-Proto/Host only from TRUSTED_PROXIES. No ProxyHeader:
		// c.IP() would then return the raw, client-controlled
		// X-Forwarded-For; clientIP walks it properly instead.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.Config.TrustedProxies,
		ErrorHandler:            s.errorHandler,
	})
	s.routes()
	return s, nil
}

// App exposes the Fiber app (tests use app.Test; app calls Listener).
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) routes() {
	a := s.app
	a.Use(recover.New())
	a.Use(s.securityHeaders)
	a.Use(s.requestLog)
	a.Use(refuseAmbiguousLength)
	a.Use(compress.New(compress.Config{
		Level: compress.LevelDefault,
		// Static files are precompressed; WebSocket upgrades must not be touched.
		Next: func(c *fiber.Ctx) bool {
			p := c.Path()
			return !strings.HasPrefix(p, "/api/") && p != "/metrics"
		},
	}))
	a.Use(s.loadSession)

	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metricsHandler)
	if s.d.RelayHandler != nil {
		// Massive's URL shape: the official clients dial Feed + "/stocks".
		// A key in the protocol guards it, not the dashboard's session.
		h := s.d.RelayHandler(s.clientIP)
		a.Get("/stocks", h)
		// client-go joins Feed and "/stocks" by concatenation: a Feed
		// written with a trailing slash ("ws://tickwatch:8080/") dials
		// "//stocks", which the router does not fold into "/stocks".
		a.Get("//stocks", h)
	}

	api := a.Group("/api")
	api.Use(s.checkOrigin, s.checkContentType)
	r := newRouteTable()
	r.add(api, fiber.MethodPost, "/auth/login", s.login)
	r.add(api, fiber.MethodPost, "/auth/logout", s.logout)
	r.add(api, fiber.MethodGet, "/auth/me", s.me)

	if bool(s.d.Config.DashboardEnabled) {
		view := []fiber.Handler{s.requireViewer}
		act := []fiber.Handler{s.requireViewer, s.requireAdmin}
		r.add(api, fiber.MethodGet, "/admin/websocket-status", append(view, s.websocketStatus)...)
		r.add(api, fiber.MethodGet, "/admin/websocket-health", append(view, s.websocketHealth)...)
		r.add(api, fiber.MethodGet, "/admin/connections/:id/ticks", append(view, s.connectionTicks)...)
		r.add(api, fiber.MethodGet, "/admin/tickers/:symbol", append(view, s.tickerLookup)...)
		r.add(api, fiber.MethodPost, "/admin/connections/:id/reconnect", append(act, s.reconnect)...)
		r.add(api, fiber.MethodPost, "/admin/connections/:id/enable", append(act, s.enable)...)
		r.add(api, fiber.MethodPost, "/admin/connections/:id/disable", append(act, s.disable)...)
		r.add(api, fiber.MethodPost, "/admin/connections/:id/reset", append(act, s.reset)...)
		r.add(api, fiber.MethodPost, "/admin/subscriptions", append(act, s.subscribe)...)
		r.add(api, fiber.MethodDelete, "/admin/subscriptions/:symbol", append(act, s.unsubscribe)...)
		r.add(api, fiber.MethodGet, "/admin/audit", append(act, s.audit)...)
		if s.d.Alerts != nil {
			r.add(api, fiber.MethodGet, "/admin/alerts", s.requireViewer, s.listAlerts)
			r.add(api, fiber.MethodPost, "/admin/alerts/:id/ack", s.requireViewer, s.requireAdmin, s.ackAlert)
		}
		if s.d.Tokens != nil {
			// A fresh slice per route: appending to a shared one with spare
			// capacity would let each route overwrite the last one's handler.
			tok := func(h fiber.Handler) []fiber.Handler {
				return []fiber.Handler{s.requireViewer, s.requireAdmin, s.requireSignedIn, h}
			}
			r.add(api, fiber.MethodGet, "/admin/tokens", tok(s.listTokens)...)
			r.add(api, fiber.MethodPost, "/admin/tokens", tok(s.createToken)...)
			r.add(api, fiber.MethodDelete, "/admin/tokens/:id", tok(s.revokeToken)...)
		}
		r.add(api, fiber.MethodGet, "/admin/sessions", append(act, s.listSessions)...)
		r.add(api, fiber.MethodDelete, "/admin/sessions/:id", append(act, s.revokeSession)...)

		if s.d.Relay != nil && s.d.ConsumerKeys != nil {
			adm := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.requireViewer, s.requireAdmin, h} }
			r.add(api, fiber.MethodGet, "/admin/consumer-keys", adm(s.listConsumerKeys)...)
			r.add(api, fiber.MethodPost, "/admin/consumer-keys", adm(s.createConsumerKey)...)
			r.add(api, fiber.MethodDelete, "/admin/consumer-keys/:id", adm(s.revokeConsumerKey)...)
			r.add(api, fiber.MethodGet, "/admin/consumers", adm(s.listConsumers)...)
			r.add(api, fiber.MethodDelete, "/admin/consumers/:id", adm(s.disconnectConsumer)...)
		}

		a.Get("/admin-ws", s.adminWSUpgrade, s.adminWS())
	}
	r.methodNotAllowed(api)
	api.All("/*", func(c *fiber.Ctx) error {
		return errNotFound("no such API endpoint", c.Method()+" "+c.Path())
	})
	a.Get("/*", s.spa)
	a.All("/*", func(c *fiber.Ctx) error {
		return &apiError{Status: fiber.StatusMethodNotAllowed, Message: "method not allowed", Detail: c.Method() + " " + c.Path()}
	})
}

// routeTable remembers the methods of each API path so a wrong method gets
// 405 with an Allow header instead of a misleading 404.
type routeTable struct {
	order   []string
	methods map[string][]string
}

func newRouteTable() *routeTable { return &routeTable{methods: map[string][]string{}} }

func (r *routeTable) add(g fiber.Router, method, path string, handlers ...fiber.Handler) {
	g.Add(method, path, handlers...)
	if _, ok := r.methods[path]; !ok {
		r.order = append(r.order, path)
	}
	r.methods[path] = append(r.methods[path], method)
}

func (r *routeTable) methodNotAllowed(g fiber.Router) {
	for _, path := range r.order {
		allow := strings.Join(r.methods[path], ", ")
		g.All(path, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderAllow, allow)
			return &apiError{Status: fiber.StatusMethodNotAllowed, Message: "method not allowed",
				Detail: c.Method() + " " + c.Path() + "; allowed: " + allow}
		})
	}
}

// Shutdown stops accepting and closes browser sessions (1001).
func (s *Server) Shutdown(timeout time.Duration) error {
	if s.d.Hub != nil {
		s.d.Hub.Shutdown()
	}
	return s.app.ShutdownWithTimeout(timeout)
}

// isDashboardPage reports whether a client route needs a session.
func isDashboardPage(p string) bool {
	return p == "/" || p == "/admin" || strings.HasPrefix(p, "/admin/")
}
