// Package apptest runs the Tickwatch that ships, app.New and Run, on
// 127.0.0.1:0 for end-to-end tests: the built-in simulator on a free
// loopback port, configuration through config.Load, three users (admin,
// viewer, user; each user's role is its name) already logged in, and every
// response and log line checked for leaked secrets. Only tests import it.
package apptest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/tickwatch/tickwatch/backend/app"
	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/status"
	"github.com/tickwatch/tickwatch/backend/web"
)

// Test secrets: every response, every /admin-ws frame a test reads through
// Stack and the whole log are checked for them.
const (
	APIKey        = "sk-test-3b7f0c9e1d2a"
	SessionSecret = "session-secret-0123456789abcdef0123456789"
)

// Users are the test users; each one's role is its name.
func Users() []string { return []string{"admin", "viewer", "user"} }

// Password is the password of a test user.
func Password(user string) string {
	return user + "-pw-" + fmt.Sprint(len(user))
}

// Options change the stack.
type Options struct {
	// Environ is added after the defaults, so it overrides them.
	Environ []string
	// ProductionCost hashes the users at auth.PasswordCost instead of
	// bcrypt.MinCost, so every password check (and the dummy check for
	// unknown users, which follows the users' cost) costs what it costs in
	// production. For load runs; it makes start-up slow under -race.
	ProductionCost bool
	// Secrets are more strings that must never appear in a response, a
	// frame or the log (a Redis password, say).
	Secrets []string
	// DataDir is DATA_DIR; "" gives the stack a fresh one. Pass the same
	// directory to a second Start (after Stop) to test a restart.
	DataDir string
	// StoreMaxPages caps the database file (app.WithStoreMaxPages): the
	// disk is full once the file has that many pages.
	StoreMaxPages int
	// Users lists which of Users() the users file holds and logs in; nil:
	// all of them (a restart without one is that user's removal).
	Users []string
	// Roles overrides the role of a user (by default its name), to change a
	// user's role across a restart.
	Roles map[string]string
}

// defaultEnviron: multi mode with connections 1 and 2 on a few known
// symbols and 3 disabled, a quick reconnect, a short flush interval and a
// small ring.
func defaultEnviron() []string {
	return []string{
		"HTTP_ADDR=127.0.0.1:0", "SIM_ADDR=127.0.0.1:0",
		"MASSIVE_API_KEY=" + APIKey, "MASSIVE_SIMULATOR=on", "SIM_TICKS_PER_SECOND=400",
		"USE_MULTI_CONNECTION=true",
		"WEBSOCKET_CONNECTION_1_SYMBOLS=AAPL,MSFT,NVDA",
		"WEBSOCKET_CONNECTION_2_ENABLED=true", "WEBSOCKET_CONNECTION_2_SYMBOLS=AMZN,GOOGL,BRK.B",
		"WEBSOCKET_CONNECTION_3_ENABLED=false",
		"MASSIVE_WEBSOCKET_RECONNECT_DELAY=20ms", "MASSIVE_WEBSOCKET_MAX_RECONNECT_DELAY=200ms",
		"LIVE_FLUSH_INTERVAL=50ms", "TICK_BUFFER_SIZE=256",
		"SESSION_SECRET=" + SessionSecret,
	}
}

// Static is the SPA the stack serves: an index page and one hashed asset
// large enough to be precompressed.
func Static() fstest.MapFS {
	return fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>Tickwatch</title>")},
		"assets/app-1234.js": {Data: []byte(strings.Repeat("console.log(1);", 100))},
	}
}

// Stack is one running Tickwatch.
type Stack struct {
	t       testing.TB
	Base    string // http://127.0.0.1:port
	SimAddr string // the built-in simulator's host:port (its /control API included)
	Logs    *testkit.SyncBuffer
	DataDir string // this stack's DATA_DIR
	stop    func()
	// UsersFile is the AUTH_USERS_FILE; WriteUsers rewrites it.
	UsersFile string
	cost      int
	hashes    map[string]string       // password -> its hash: a rewrite keeps unchanged users unchanged
	client    *http.Client            // owns its keep-alive connections, closed at cleanup
	cookies   map[string]*http.Cookie // user -> session cookie
	secrets   []string
}

// Start builds the stack with app.New, runs it, and logs every user in. At
// cleanup it stops the stack and fails the test if Run returned an error or
// the log holds a secret.
func Start(t testing.TB, o Options) *Stack {
	t.Helper()
	s := &Stack{t: t, Logs: &testkit.SyncBuffer{}, cookies: map[string]*http.Cookie{},
		secrets: append([]string{APIKey, SessionSecret}, o.Secrets...),
		client: &http.Client{
			Transport:     &http.Transport{},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}

	s.DataDir = o.DataDir
	if s.DataDir == "" {
		s.DataDir = filepath.Join(t.TempDir(), "data")
	}
	s.UsersFile = filepath.Join(t.TempDir(), "users.json")
	s.cost = bcrypt.MinCost
	if o.ProductionCost {
		s.cost = auth.PasswordCost
	}
	// Options.Users picks who is in the file, Options.Roles changes roles.
	var users []string
	s.WriteUsers(UsersFileEntries(func(e *UserEntry) bool {
		if o.Users != nil && !slices.Contains(o.Users, e.Username) {
			return false
		}
		if r, ok := o.Roles[e.Username]; ok {
			e.Role = r
		}
		users = append(users, e.Username)
		return true
	}))
	environ := append(append(defaultEnviron(), "AUTH_USERS_FILE="+s.UsersFile, "DATA_DIR="+s.DataDir), o.Environ...)
	cfg, err := config.Load(environ, false)
	if err != nil {
		t.Fatal(err)
	}
	var opts []app.Option
	if o.StoreMaxPages > 0 {
		opts = append(opts, app.WithStoreMaxPages(o.StoreMaxPages))
	}
	a, err := app.New(cfg, zerolog.New(s.Logs), Static(), "test", opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.Base, s.SimAddr = "http://"+a.Addr(), a.SimulatorAddr()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			// Our idle keep-alive connections would hold server workers (and
			// their own reader goroutines) past the end: goleak would see them.
			s.client.CloseIdleConnections()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("app.Run: %v", err)
			}
			s.AssertNoSecrets("the log", s.Logs.String())
		})
	}
	t.Cleanup(s.stop)
	for _, u := range users {
		s.cookies[u] = s.login(u)
	}
	return s
}

// Stop shuts the stack down (as SIGTERM would) and waits for Run to return;
// cleanup does it otherwise. The DATA_DIR stays for a restart.
func (s *Stack) Stop() { s.stop() }

// UserEntry is one record of the users file; Password is hashed by
// WriteUsers, never written.
type UserEntry struct {
	Username, Password, Role string
}

// UsersFileEntries is the standard users (each role is the user's name)
// with change applied to each: it may edit the entry, or return false to
// leave the user out. nil changes nothing.
func UsersFileEntries(change func(*UserEntry) bool) []UserEntry {
	var list []UserEntry
	for _, u := range Users() {
		e := UserEntry{Username: u, Password: Password(u), Role: u}
		if change == nil || change(&e) {
			list = append(list, e)
		}
	}
	return list
}

// WriteUsers (re)writes the users file with list, hashed at the stack's
// cost (bcrypt.MinCost keeps start-up quick under the race detector). A
// password keeps its hash across rewrites, so a user whose entry did not
// change is unchanged for a reload. The passwords and hashes count as
// secrets too.
func (s *Stack) WriteUsers(list []UserEntry) {
	s.t.Helper()
	type entry struct {
		Username string `json:"username"`
		Hash     string `json:"password_hash"`
		Role     string `json:"role"`
	}
	out := make([]entry, 0, len(list))
	if s.hashes == nil {
		s.hashes = map[string]string{}
	}
	for _, u := range list {
		h, ok := s.hashes[u.Password]
		if !ok {
			b, err := bcrypt.GenerateFromPassword([]byte(u.Password), s.cost)
			if err != nil {
				s.t.Fatal(err)
			}
			h = string(b)
			s.hashes[u.Password] = h
			s.secrets = append(s.secrets, u.Password, h)
		}
		out = append(out, entry{Username: u.Username, Hash: h, Role: u.Role})
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.t.Fatal(err)
	}
	// Written whole then renamed, so a reload never reads half a file.
	tmp := s.UsersFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(tmp, s.UsersFile); err != nil {
		s.t.Fatal(err)
	}
}

// ClientFrom is an HTTP client whose connections leave from the loopback
// address ip (127.0.0.2, ...), so the server tells clients apart exactly as
// it would on a network: by the socket's peer address, not a header the
// test writes. Its idle connections are closed at cleanup.
func (s *Stack) ClientFrom(ip string) *http.Client {
	s.t.Helper()
	src := net.ParseIP(ip)
	if src == nil || !src.IsLoopback() {
		s.t.Fatalf("ClientFrom(%q): want a loopback address", ip)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// LoginBody is the JSON body of a login.
func LoginBody(user, password string) string {
	return fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
}

func (s *Stack) login(user string) *http.Cookie {
	s.t.Helper()
	resp := s.Do(Request{Method: "POST", Path: "/api/auth/login", Body: LoginBody(user, Password(user))})
	if resp.Status != 200 {
		s.t.Fatalf("login %s: %d %s", user, resp.Status, resp.Body)
	}
	for _, c := range resp.Cookies {
		if c.Name == web.SessionCookie {
			return c
		}
	}
	s.t.Fatalf("login %s: no session cookie in %v", user, resp.Cookies)
	return nil
}

// Relogin logs user in again, makes the new session cookie the one Do and
// DialAdminWS send for that user, and returns it.
func (s *Stack) Relogin(user string) *http.Cookie {
	s.t.Helper()
	s.cookies[user] = s.login(user)
	return s.cookies[user]
}

// Cookie is user's session cookie.
func (s *Stack) Cookie(user string) *http.Cookie { return s.cookies[user] }

// Request is one HTTP request to the stack.
type Request struct {
	Method, Path, Body string
	Role               string // the logged-in user to send it as; "" = anonymous
	Origin             string // "" = the stack's own origin; "-" = no Origin header
	ContentType        string // default application/json when there is a body
	Header             map[string]string
	Client             *http.Client // nil: the stack's own (from 127.0.0.1)
}

// Response is what came back, the body read whole.
type Response struct {
	Status  int
	Body    string
	Header  http.Header
	Cookies []*http.Cookie
}

// Do sends r without following redirects and checks the answer for secrets.
func (s *Stack) Do(r Request) Response {
	s.t.Helper()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, s.Base+r.Path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	switch r.Origin {
	case "":
		req.Header.Set("Origin", s.Base)
	case "-":
	default:
		req.Header.Set("Origin", r.Origin)
	}
	if r.Body != "" {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Role != "" {
		req.AddCookie(s.cookies[r.Role])
	}
	hc := s.client
	if r.Client != nil {
		hc = r.Client
	}
	resp, err := hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	s.AssertNoSecrets("response to "+r.Method+" "+r.Path, string(b)+fmt.Sprint(resp.Header))
	return Response{Status: resp.StatusCode, Body: string(b), Header: resp.Header, Cookies: resp.Cookies()}
}

// GetJSON GETs path as role, wants 200 and decodes the body into into.
func (s *Stack) GetJSON(path, role string, into any) {
	s.t.Helper()
	resp := s.Do(Request{Method: "GET", Path: path, Role: role})
	if resp.Status != 200 {
		s.t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
	}
	if err := json.Unmarshal([]byte(resp.Body), into); err != nil {
		s.t.Fatalf("GET %s: %v in %s", path, err, resp.Body)
	}
}

// Status is the websocket-status document, read as the viewer.
func (s *Stack) Status() status.Doc {
	s.t.Helper()
	var doc status.Doc
	s.GetJSON("/api/admin/websocket-status", "viewer", &doc)
	return doc
}

// WSURL is the /admin-ws URL.
func (s *Stack) WSURL() string { return "ws" + strings.TrimPrefix(s.Base, "http") + "/admin-ws" }

// DialAdminWS opens /admin-ws as role from the stack's own origin; the
// socket is closed at cleanup.
func (s *Stack) DialAdminWS(role string) *websocket.Conn {
	s.t.Helper()
	conn, status, err := s.TryDialAdminWS(role)
	if err != nil {
		s.t.Fatalf("/admin-ws as %s: %d %v", role, status, err)
	}
	return conn
}

// TryDialAdminWS opens /admin-ws as role and reports the handshake's HTTP
// status (101 on success) instead of failing the test; a socket it opens is
// closed at cleanup.
func (s *Stack) TryDialAdminWS(role string) (*websocket.Conn, int, error) {
	s.t.Helper()
	h := http.Header{"Origin": {s.Base}, "Cookie": {s.cookies[role].String()}}
	conn, resp, err := websocket.DefaultDialer.Dial(s.WSURL(), h)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		_ = resp.Body.Close()
	}
	if conn != nil {
		s.t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, status, err
}

// AddSecret adds a secret the test learned (an API token) to those that
// must never appear in a response or the log.
func (s *Stack) AddSecret(secret string) { s.secrets = append(s.secrets, secret) }

// AssertNoSecrets fails the test when the API key, a password, a password
// hash or the session secret appears in text the server produced.
func (s *Stack) AssertNoSecrets(where, text string) {
	s.t.Helper()
	for _, secret := range s.secrets {
		if strings.Contains(text, secret) {
			s.t.Errorf("secret %.6s... leaked into %s", secret, where)
		}
	}
}
