// Package simulator is a Massive-protocol WebSocket server with a synthetic
// market, per-key connection limits and fault injection. Tests use it as the
// upstream; `tickwatch simulate` and demo mode run it for real.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Config configures a Server. Zero values get the documented defaults.
type Config struct {
	Keys           []string      // accepted API keys; empty = any non-empty key accepted
	AuthTimeout    time.Duration // default 10s: no auth message -> auth_timeout status, then close
	MaxConnsPerKey int           // 0 = unlimited; over the limit the OLDEST connection of the key is evicted with max_connections
	TicksPerSecond int           // total trades generated per second across all subscribed symbols; default 600
	FlushInterval  time.Duration // events are batched into one frame per connection per interval; default 100ms
	Seed           int64
	Logger         zerolog.Logger
}

func (c *Config) applyDefaults() {
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = 10 * time.Second
	}
	if c.TicksPerSecond <= 0 {
		c.TicksPerSecond = 600
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 100 * time.Millisecond
	}
	if c.MaxConnsPerKey < 0 {
		c.MaxConnsPerKey = 0
	}
}

// ConnInfo describes one live connection.
type ConnInfo struct {
	ID            int64
	Key           string
	Authenticated bool
	Subscriptions []string // sorted, e.g. "A.AAPL", "T.*"
	Sent          uint64   // market events written to the socket
	Opened        time.Time
}

// ErrUnknownConn is returned by the fault-injection methods for an id that is
// not (or no longer) a live connection.
var ErrUnknownConn = errors.New("simulator: unknown connection")

// Server is a running (or not yet started) simulator.
type Server struct {
	cfg      Config
	log      zerolog.Logger
	keys     map[string]struct{}
	upgrader websocket.Upgrader

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	nextID  int64
	conns   map[int64]*conn
	ln      net.Listener
	httpSrv *http.Server

	refuseUntil atomic.Int64 // unix nanos
	subsVersion atomic.Uint64
	mktReq      chan func(*market)
}

// New builds a Server; nothing listens until Start.
func New(cfg Config) *Server {
	cfg.applyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "simulator").Logger(),
		keys:   make(map[string]struct{}, len(cfg.Keys)),
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[int64]*conn),
		mktReq: make(chan func(*market), 16),
	}
	for _, k := range cfg.Keys {
		s.keys[k] = struct{}{}
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   4 << 10,
		WriteBufferSize:  32 << 10,
		// The feed is consumed by servers, not browsers; there is no origin to protect.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("simulator: start: server closed")
	}
	if s.started {
		return errors.New("simulator: start: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("simulator: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stocks", s.serveWS)
	mux.Handle("/control/", s.controlHandler())
	s.httpSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.ln = ln
	s.started = true
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("serve failed")
		}
	}()
	go func() {
		defer s.wg.Done()
		s.runMarket()
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("simulator listening")
	return nil
}

// Addr is the listening address, "127.0.0.1:port" ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the stocks feed URL clients dial.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/stocks" }

// Close stops the listener, closes every connection and waits for every
// goroutine the server started.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.httpSrv
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	s.cancel()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("simulator: close: %w", err)
	}
	return nil
}

// Run serves on addr until ctx is done; it backs `tickwatch simulate`.
func Run(ctx context.Context, addr string, cfg Config) error {
	s := New(cfg)
	if err := s.Start(addr); err != nil {
		return err
	}
	s.log.Info().Str("url", s.URL()).Str("control", "http://"+s.Addr()+"/control/conns").
		Msg("simulated market data feed running")
	<-ctx.Done()
	return s.Close()
}

// track registers a goroutine that must finish before Close returns. It fails
// once Close has begun, so no Add races with Wait.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) conn(id int64) (*conn, error) {
	s.mu.Lock()
	c, ok := s.conns[id]
	s.mu.Unlock()
	if !ok || c.closing.Load() {
		return nil, fmt.Errorf("connection %d: %w", id, ErrUnknownConn)
	}
	return c, nil
}

// liveConns returns the connections that are not closing, oldest first.
func (s *Server) liveConns() []*conn {
	s.mu.Lock()
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		if !c.closing.Load() {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Conns lists live connections, oldest first. A connection that is being
// closed (evicted, failed auth, fault-injected) is no longer listed.
func (s *Server) Conns() []ConnInfo {
	conns := s.liveConns()
	out := make([]ConnInfo, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.info())
	}
	return out
}

// ConnBySymbol returns the oldest live connection that names sym on any
// channel, falling back to one holding a wildcard subscription.
func (s *Server) ConnBySymbol(sym string) (ConnInfo, bool) {
	var wild *conn
	for _, c := range s.liveConns() {
		c.mu.Lock()
		explicit, wildcard := c.subs.subscribedTo(sym)
		c.mu.Unlock()
		if explicit {
			return c.info(), true
		}
		if wildcard && wild == nil {
			wild = c
		}
	}
	if wild != nil {
		return wild.info(), true
	}
	return ConnInfo{}, false
}

// SentBySymbol returns a copy of the per-symbol count of market events
// written on connection id (nil for an unknown id).
func (s *Server) SentBySymbol(id int64) map[string]uint64 {
	s.mu.Lock()
	c, ok := s.conns[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.sentBySym))
	for k, v := range c.sentBySym {
		out[k] = v
	}
	return out
}

func (s *Server) validKey(k string) bool {
	if k == "" {
		return false
	}
	if len(s.keys) == 0 {
		return true
	}
	_, ok := s.keys[k]
	return ok
}

// enforceLimit evicts the oldest authenticated connections of key beyond
// MaxConnsPerKey. The connection that just authenticated always survives:
// the newcomer wins, as with the real feed.
func (s *Server) enforceLimit(newest *conn, key string) {
	max := s.cfg.MaxConnsPerKey
	if max <= 0 {
		return
	}
	var same []*conn
	for _, c := range s.liveConns() {
		if c != newest && c.authenticated.Load() && c.keyMatches(key) {
			same = append(same, c)
		}
	}
	for i := 0; i < len(same)+1-max && i < len(same); i++ {
		victim := same[i]
		s.log.Info().Int64("connection_id", victim.id).Int64("evicted_by", newest.id).
			Msg("max connections exceeded, evicting oldest")
		victim.sendStatus(massive.StatusMaxConnections, closingText(massive.StatusMaxConnections), true)
	}
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	if until := s.refuseUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		http.Error(w, "refusing new connections", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug().Err(err).Msg("upgrade failed")
		return
	}
	c := s.register(ws)
	if c == nil {
		_ = ws.NetConn().Close()
		return
	}
	c.serve()
	s.unregister(c)
}

func (s *Server) register(ws *websocket.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.nextID++
	c := newConn(s, s.nextID, ws)
	s.conns[c.id] = c
	s.log.Debug().Int64("connection_id", c.id).Str("remote", ws.RemoteAddr().String()).Msg("connection opened")
	return c
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
	s.subsChanged()
	s.log.Debug().Int64("connection_id", c.id).Msg("connection closed")
}

// subsChanged tells the market goroutine to rebuild its active symbol set.
func (s *Server) subsChanged() { s.subsVersion.Add(1) }

// runMarket owns the market: it generates a batch every FlushInterval and
// hands each live connection one frame of what it subscribed to.
func (s *Server) runMarket() {
	m := newMarket(s.cfg.Seed, s.cfg.TicksPerSecond, time.Now())
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case f := <-s.mktReq:
			f(m)
		case now := <-t.C:
			s.marketTick(m, now)
		}
	}
}

func (s *Server) marketTick(m *market, now time.Time) {
	conns := s.liveConns()
	if v := s.subsVersion.Load(); v != m.activeVersion {
		s.rebuildActive(m, conns)
		m.activeVersion = v
	}
	m.generate(now)
	m.applyFaults(now.UnixMilli())
	if len(m.evs) > 0 {
		for _, c := range conns {
			c.deliver(m)
		}
	}
	m.reset()
}

func (s *Server) rebuildActive(m *market, conns []*conn) {
	syms := make(map[string]struct{})
	var need [numChannels]bool
	wildcard := false
	for _, c := range conns {
		if !c.authenticated.Load() {
			continue
		}
		c.mu.Lock()
		for ch := range c.subs.ch {
			cs := &c.subs.ch[ch]
			if cs.all {
				wildcard = true
				need[ch] = true
			}
			if len(cs.syms) > 0 {
				need[ch] = true
			}
			for sym := range cs.syms {
				syms[sym] = struct{}{}
			}
		}
		c.mu.Unlock()
	}
	if wildcard {
		for _, sym := range builtinTickers {
			syms[sym] = struct{}{}
		}
	}
	m.setActive(syms, need)
}

// onMarket runs f on the market goroutine (the only one allowed to touch it).
func (s *Server) onMarket(f func(*market)) error {
	select {
	case s.mktReq <- f:
		return nil
	case <-s.ctx.Done():
		return errors.New("simulator: closed")
	}
}
