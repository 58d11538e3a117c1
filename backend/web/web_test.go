package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/simulator"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// Test secrets: the secrets test asserts none of them leaks into a response
// or a log line.
const (
	testAPIKey        = "sk-test-3b7f0c9e1d2a"
	testSessionSecret = "session-secret-0123456789abcdef0123456789"
)

var testPasswords = map[string]string{"admin": "admin-pw-1", "viewer": "viewer-pw-2", "user": "user-pw-3"}

// env is a whole Tickwatch web stack on real parts: the simulator on
// 127.0.0.1:0, the manager with real clients, the tick store, the hub and
// the Fiber app on a real listener.
type env struct {
	t       testing.TB
	base    string
	srv     *Server
	sim     *simulator.Server
	mgr     *manager.Manager
	store   *tickstore.Store
	hub     *live.Hub
	cookies map[string]*http.Cookie // role -> session cookie
	logs    *testkit.SyncBuffer
	hashes  []string
}

type envOptions struct {
	environ []string // extra configuration variables
	simRate int      // simulated trades per second (default 400)
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	logs := &testkit.SyncBuffer{}
	log := zerolog.New(logs)
	e := &env{t: t, logs: logs, cookies: map[string]*http.Cookie{}}

	environ := append([]string{"MASSIVE_API_KEY=" + testAPIKey, "MASSIVE_SIMULATOR=on", "USE_MULTI_CONNECTION=true",
		"WEBSOCKET_CONNECTION_1_SYMBOLS=AAPL,MSFT,NVDA", "WEBSOCKET_CONNECTION_2_ENABLED=true",
		"WEBSOCKET_CONNECTION_2_SYMBOLS=AMZN,GOOGL,BRK.B", "WEBSOCKET_CONNECTION_3_ENABLED=false",
		"SESSION_SECRET=" + testSessionSecret}, o.environ...)
	cfg, err := config.Load(environ, false)
	if err != nil {
		t.Fatal(err)
	}

	if o.simRate == 0 {
		o.simRate = 400
	}
	e.sim = simulator.New(simulator.Config{Keys: []string{testAPIKey}, TicksPerSecond: o.simRate, Logger: log})
	if err := e.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	reg, err := universe.Default()
	if err != nil {
		t.Fatal(err)
	}
	e.store = tickstore.New(tickstore.Options{Capacity: 256})
	slots := make([]manager.SlotConfig, len(cfg.Connections))
	for i, c := range cfg.Connections {
		slots[i] = manager.SlotConfig{ID: c.ID, Name: c.Name, Enabled: c.Enabled, UniverseKey: c.UniverseKey, Symbols: c.Symbols}
	}
	e.mgr, err = manager.New(manager.Config{
		Slots: slots, MultiConnection: bool(cfg.MultiConnection), DefaultUniverse: cfg.DefaultUniverse,
		Client: massive.Config{URL: e.sim.URL(), APIKey: testAPIKey, Channels: cfg.Channels,
			ReconnectDelay: 20 * time.Millisecond, MaxReconnectDelay: 200 * time.Millisecond, Logger: log},
		Universes: reg, Store: e.store, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}

	var users []auth.User
	for name, pw := range testPasswords {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		e.hashes = append(e.hashes, string(h))
		users = append(users, auth.User{Username: name, Hash: h, Role: auth.Role(name)})
	}
	us, err := auth.NewUsers(users)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions([]byte(cfg.SessionSecret), time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	e.hub = live.New(live.Options{
		Store: e.store, Logger: log, FlushInterval: 50 * time.Millisecond,
		Status:  func() any { return BuildStatus(cfg, e.mgr, true, started) },
		Metrics: func() []live.MetricsEvent { return LiveMetrics(e.mgr) },
	})
	e.mgr.AddObserver(LiveBridge{Hub: e.hub})
	e.srv, err = New(Deps{
		Config: cfg, Manager: e.mgr, Store: e.store, Hub: e.hub, Users: us, Sessions: sessions,
		Audit:  auth.NewAudit(100, log),
		Static: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Tickwatch</title>")}, "assets/app-1234.js": {Data: []byte(strings.Repeat("console.log(1);", 100))}},
		Logger: log, Started: started, Simulated: true, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = e.srv.App().Listener(ln) }()
	go func() { defer wg.Done(); e.hub.Run(ctx) }()
	e.mgr.Connect()
	t.Cleanup(func() {
		_ = e.srv.Shutdown(2 * time.Second)
		cancel()
		e.mgr.Disconnect()
		_ = e.sim.Close()
		wg.Wait()
		e.assertNoSecrets("the log", e.logs.String())
	})
	for role := range testPasswords {
		e.cookies[role] = e.login(role)
	}
	return e
}

func (e *env) login(role string) *http.Cookie {
	e.t.Helper()
	resp := e.do(request{method: "POST", path: "/api/auth/login", body: fmt.Sprintf(`{"username":%q,"password":%q}`, role, testPasswords[role])})
	if resp.status != 200 {
		e.t.Fatalf("login %s: %d %s", role, resp.status, resp.body)
	}
	for _, c := range resp.cookies {
		if c.Name == SessionCookie {
			return c
		}
	}
	e.t.Fatalf("login %s: no session cookie", role)
	return nil
}

type request struct {
	method, path, body string
	role               string // "" = anonymous
	origin             string // "" = same origin; "-" = none
	contentType        string
	header             map[string]string
	client             *http.Client // nil: a fresh client from 127.0.0.1
}

type response struct {
	status  int
	body    string
	header  http.Header
	cookies []*http.Cookie
}

func (e *env) do(r request) response {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, e.base+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch r.origin {
	case "":
		req.Header.Set("Origin", e.base)
	case "-":
	default:
		req.Header.Set("Origin", r.origin)
	}
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.role != "" {
		req.AddCookie(e.cookies[r.role])
	}
	client := r.client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	e.assertNoSecrets("response to "+r.method+" "+r.path, string(b)+fmt.Sprint(resp.Header))
	return response{status: resp.StatusCode, body: string(b), header: resp.Header, cookies: resp.Cookies()}
}

func (e *env) getJSON(path, role string, into any) {
	e.t.Helper()
	resp := e.do(request{method: "GET", path: path, role: role})
	if resp.status != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.status, resp.body)
	}
	if err := json.Unmarshal([]byte(resp.body), into); err != nil {
		e.t.Fatalf("GET %s: %v in %s", path, err, resp.body)
	}
}

// assertNoSecrets fails when the API key, a password, a password hash or
// the session secret appears in text the server produced.
func (e *env) assertNoSecrets(where, text string) {
	e.t.Helper()
	secrets := append([]string{testAPIKey, testSessionSecret}, e.hashes...)
	for _, pw := range testPasswords {
		secrets = append(secrets, pw)
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			e.t.Errorf("secret %.6s... leaked into %s", s, where)
		}
	}
}
