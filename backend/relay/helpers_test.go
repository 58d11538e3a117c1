package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

func TestMain(m *testing.M) {
	if isBenchConsumers() {
		// BenchmarkFanout re-executed this binary as its consumer process.
		os.Exit(runBenchConsumers())
	}
	goleak.VerifyTestMain(m,
		// fasthttp keeps one process-wide goroutine that refreshes the Date
		// header every second; started once, never stopped, by design.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// A stopped server's worker-pool cleaner notices the stop only
		// after its current idle sleep (10 s): it ends, just later than
		// goleak looks. Every goroutine of the relay itself is checked.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	)
}

// patience bounds every wait; generous, since the race detector on two
// shared cores is slow. No test asserts how fast anything happens.
const patience = 15 * time.Second

// keyTable is an in-memory relay.Keys: our own seam (the store stands
// behind it in the app), not a stand-in for a server.
type keyTable map[string]relay.Consumer

func (k keyTable) Lookup(_ context.Context, key string) (relay.Consumer, error) {
	c, ok := k[key]
	if !ok {
		return relay.Consumer{}, fmt.Errorf("lookup: %w", relay.ErrUnknownKey)
	}
	return c, nil
}

// upstream is an in-test relay.Upstream that records every pair, in
// order, and how many calls carried them.
type upstream struct {
	mu       sync.Mutex
	calls    []string // "+T.AAPL", "-T.AAPL"
	acquires int      // Acquire calls
	releases int      // Release calls
	refuse   map[string]bool
}

func (u *upstream) Acquire(pairs []massive.Sub) []error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.acquires++
	errs := make([]error, len(pairs))
	for i, p := range pairs {
		if u.refuse[p.String()] {
			errs[i] = errors.New("no enabled connection")
			continue
		}
		u.calls = append(u.calls, "+"+p.String())
	}
	return errs
}

func (u *upstream) Release(pairs []massive.Sub) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.releases++
	for _, p := range pairs {
		u.calls = append(u.calls, "-"+p.String())
	}
}

// callCounts returns how many Acquire and Release calls there were.
func (u *upstream) callCounts() (acquires, releases int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.acquires, u.releases
}

func (u *upstream) log() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// Keys used by the tests; only the table knows them.
const (
	keyAlpha   = "ck_alpha_0123456789"
	keyLimited = "ck_limited_0123456789"
	keySingle  = "ck_single_0123456789"
)

func testKeys() keyTable {
	return keyTable{
		keyAlpha:   {ID: "1", Name: "alpha", KeyPrefix: "ck_alpha"},
		keyLimited: {ID: "2", Name: "limited", KeyPrefix: "ck_limi", AllowList: []string{"AAPL", "BRK.A"}},
		keySingle:  {ID: "3", Name: "single", KeyPrefix: "ck_sing", MaxConns: 1},
	}
}

// env is a relay served by a real Fiber app on 127.0.0.1:0.
type env struct {
	hub *relay.Hub
	up  *upstream
	url string // ws://127.0.0.1:port/stocks
}

func startRelay(t *testing.T, opts relay.Options) *env {
	t.Helper()
	up := &upstream{refuse: map[string]bool{}}
	if opts.Keys == nil {
		opts.Keys = testKeys()
	}
	opts.Upstream = up
	opts.Logger = zerolog.Nop()
	hub := relay.New(opts)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/stocks", hub.Handler(nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		hub.Close()
		if err := app.ShutdownWithTimeout(patience); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &env{hub: hub, up: up, url: "ws://" + ln.Addr().String() + "/stocks"}
}

// raw is a bare WebSocket client for the exchanges massive.Client never
// makes (bad keys, garbage, refused subscriptions).
type raw struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRaw(t *testing.T, url string) *raw {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	r := &raw{t: t, conn: conn}
	r.expect(massive.StatusConnected, "Connected Successfully")
	return r
}

func (r *raw) send(action, params string) {
	r.t.Helper()
	r.sendText(fmt.Sprintf(`{"action":%q,"params":%q}`, action, params))
}

func (r *raw) sendText(s string) {
	r.t.Helper()
	if err := r.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// object is one element of a server frame.
type object map[string]any

// next reads one frame and returns its objects.
func (r *raw) next() ([]object, error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(patience))
	_, data, err := r.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	var objs []object
	if err := json.Unmarshal(data, &objs); err != nil {
		r.t.Fatalf("frame is not a JSON array: %s", data)
	}
	return objs, nil
}

// statuses reads frames until it has n status messages ("status: message").
func (r *raw) statuses(n int) []string {
	r.t.Helper()
	var out []string
	for len(out) < n {
		objs, err := r.next()
		if err != nil {
			r.t.Fatalf("after %v: read: %v", out, err)
		}
		for _, o := range objs {
			if o["ev"] != "status" {
				r.t.Fatalf("unexpected event before statuses: %v", o)
			}
			out = append(out, fmt.Sprintf("%s: %s", o["status"], o["message"]))
		}
	}
	return out
}

func (r *raw) expect(status, message string) {
	r.t.Helper()
	want := status + ": " + message
	if got := r.statuses(1); got[0] != want {
		r.t.Fatalf("got %q, want %q", got[0], want)
	}
}

// expectClosed checks that the server closes the connection next, with a
// close frame (not just a dropped socket).
func (r *raw) expectClosed() {
	r.t.Helper()
	objs, err := r.next()
	if err == nil {
		r.t.Fatalf("expected a close, got %v", objs)
	}
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
		r.t.Fatalf("expected a close frame, got %v", err)
	}
}

// authed dials, authenticates with key and returns the client.
func authed(t *testing.T, url, key string) *raw {
	t.Helper()
	r := dialRaw(t, url)
	r.send(massive.ActionAuth, key)
	r.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	return r
}

// events decodes server frames read from r until it has n events.
func (r *raw) events(n int) []massive.Event {
	r.t.Helper()
	var dec massive.Decoder
	var out []massive.Event
	for len(out) < n {
		_ = r.conn.SetReadDeadline(time.Now().Add(patience))
		_, data, err := r.conn.ReadMessage()
		if err != nil {
			r.t.Fatalf("after %d events: %v", len(out), err)
		}
		evs, st, err := dec.Decode(data, nil, nil)
		if err != nil || len(st) > 0 || dec.Stats() != (massive.DecodeStats{}) {
			r.t.Fatalf("frame %s: err %v, statuses %v, stats %+v", data, err, st, dec.Stats())
		}
		out = append(out, evs...)
	}
	return out
}

// batch decodes an upstream-shaped frame of trades, as the manager's
// client would, for feeding Ticks.
func batch(t testing.TB, kind string, syms []string, seq int) []massive.Event {
	t.Helper()
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range syms {
		if i > 0 {
			b.WriteByte(',')
		}
		switch kind {
		case "T":
			fmt.Fprintf(&b, `{"ev":"T","sym":%q,"x":4,"i":"%d","z":3,"p":%d.25,"s":100,"c":[12],"t":%d,"q":%d}`, s, seq, 100+i, 1700000000000+int64(seq), seq)
		case "Q":
			fmt.Fprintf(&b, `{"ev":"Q","sym":%q,"bx":4,"bp":%d.5,"bs":3,"ax":7,"ap":%d.75,"as":4,"t":%d,"q":%d,"z":1}`, s, 10+i, 10+i, 1700000000000+int64(seq), seq)
		}
	}
	b.WriteByte(']')
	var dec massive.Decoder
	evs, _, err := dec.Decode([]byte(b.String()), nil, nil)
	if err != nil || len(evs) != len(syms) {
		t.Fatalf("decode test batch: %v (%d events)", err, len(evs))
	}
	return evs
}

// sink is a massive.Observer that keeps every event a consumer receives.
type sink struct {
	mu     sync.Mutex
	events []massive.Event
	states []massive.State
}

func (s *sink) StateChanged(c massive.StateChange) {
	s.mu.Lock()
	s.states = append(s.states, c.State)
	s.mu.Unlock()
}

func (s *sink) Events(_ string, batch []massive.Event) {
	s.mu.Lock()
	s.events = append(s.events, batch...)
	s.mu.Unlock()
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *sink) got() []massive.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// consumerClient starts the project's own massive.Client against the relay,
// as an internal program would, and waits until its subscriptions are acked.
func consumerClient(t *testing.T, url, key, channel string, tickers ...string) (*massive.Client, *sink) {
	t.Helper()
	s := &sink{}
	c, err := massive.NewClient(massive.Config{
		ID: "consumer", URL: url, APIKey: key, Channels: []string{channel}, Tickers: tickers,
		Logger: zerolog.Nop(),
	}, s)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	want := make([]string, len(tickers))
	for i, tk := range tickers {
		want[i] = massive.Subscription(channel, tk)
	}
	slices.Sort(want)
	testkit.WaitFor(t, patience, "subscriptions acked", func() bool { return slices.Equal(c.Acked(), want) })
	return c, s
}
