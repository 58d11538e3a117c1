package massive_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/simulator"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	goodKey = "test-key-abcd1234"
	// patience bounds every wait (polls with testkit.WaitFor: the simulator
	// has no change feed for its tables); generous, since the race detector
	// on 2 shared cores is slow.
	patience = 10 * time.Second
)

// recorder is an Observer that keeps every state change and counts events.
type recorder struct {
	mu      sync.Mutex
	changes []StateChange
	symbols map[string]int
	notify  chan struct{}
	events  atomic.Int64
	calls   atomic.Int64
	block   chan struct{} // when set, Events waits on it
}

type StateChange = massive.StateChange

func newRecorder() *recorder {
	return &recorder{symbols: map[string]int{}, notify: make(chan struct{}, 1)}
}

func (r *recorder) StateChanged(c StateChange) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Events(id string, batch []massive.Event) {
	r.calls.Add(1)
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	for _, ev := range batch {
		r.symbols[ev.Symbol]++
	}
	r.mu.Unlock()
	r.events.Add(int64(len(batch)))
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) symbolCount(sym string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.symbols[sym]
}

// waitState waits for the next state change (from *cursor on) in state st
// whose reason starts with prefix, and moves the cursor past it.
func (r *recorder) waitState(t *testing.T, cursor *int, st massive.State, prefix string) StateChange {
	t.Helper()
	deadline := time.After(patience)
	for {
		r.mu.Lock()
		for ; *cursor < len(r.changes); *cursor++ {
			c := r.changes[*cursor]
			if c.State == st && strings.HasPrefix(c.Reason, prefix) {
				*cursor++
				r.mu.Unlock()
				return c
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("no state %s with reason %q; history:\n%s", st, prefix, r.history())
		}
	}
}

func (r *recorder) history() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, c := range r.changes {
		fmt.Fprintf(&b, "  %s -> %s: %s\n", c.Previous, c.State, c.Reason)
	}
	return b.String()
}

func startSim(t *testing.T, mutate func(*simulator.Config)) *simulator.Server {
	t.Helper()
	cfg := simulator.Config{
		AuthTimeout:    2 * time.Second,
		TicksPerSecond: 400,
		FlushInterval:  20 * time.Millisecond,
		Seed:           1,
		Logger:         zerolog.Nop(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s := simulator.New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testConfig(url string) massive.Config {
	return massive.Config{
		ID:                    "connection_1",
		URL:                   url,
		APIKey:                goodKey,
		Channels:              []string{"A", "T"},
		Tickers:               []string{"AAPL", "MSFT"},
		ReconnectDelay:        10 * time.Millisecond,
		MaxReconnectDelay:     50 * time.Millisecond,
		MaxConnectionsBackoff: 300 * time.Millisecond,
		StableAfter:           time.Minute,
		PingInterval:          100 * time.Millisecond,
		ReadTimeout:           2 * time.Second,
		HandshakeTimeout:      3 * time.Second,
		QueueSize:             64,
		Logger:                zerolog.Nop(),
	}
}

func startClient(t *testing.T, cfg massive.Config, obs massive.Observer) *massive.Client {
	t.Helper()
	c, err := massive.NewClient(cfg, obs)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

// subscriptions is what the client should hold upstream: channels x desired.
func subscriptions(c *massive.Client, channels ...string) []string {
	var out []string
	for _, t := range c.Desired() {
		for _, ch := range channels {
			out = append(out, ch+"."+t)
		}
	}
	slices.Sort(out)
	return out
}

// liveConn waits until the simulator has exactly one authenticated
// connection whose subscription table equals want, and the client's acks
// agree; it returns that connection.
func liveConn(t *testing.T, sim *simulator.Server, c *massive.Client, want []string) simulator.ConnInfo {
	t.Helper()
	var got simulator.ConnInfo
	testkit.WaitFor(t, patience, fmt.Sprintf("simulator subscriptions %v", want), func() bool {
		var authed []simulator.ConnInfo
		for _, ci := range sim.Conns() {
			if ci.Authenticated {
				authed = append(authed, ci)
			}
		}
		if len(authed) != 1 || !slices.Equal(authed[0].Subscriptions, want) {
			return false
		}
		got = authed[0]
		return slices.Equal(c.Acked(), want)
	})
	return got
}

func TestHandshakeSubscribeAcks(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	c := startClient(t, testConfig(sim.URL()), rec)
	cur := 0
	rec.waitState(t, &cur, massive.StateConnecting, "dialing")
	rec.waitState(t, &cur, massive.StateConnected, "authenticated")
	want := []string{"A.AAPL", "A.MSFT", "T.AAPL", "T.MSFT"}
	liveConn(t, sim, c, want)
	testkit.WaitFor(t, patience, "trades and bars for both symbols", func() bool {
		return rec.symbolCount("AAPL") > 0 && rec.symbolCount("MSFT") > 0
	})
	st := c.Stats()
	if st.State != massive.StateConnected || st.ConnectedSince.IsZero() || st.Frames == 0 || st.Events == 0 {
		t.Errorf("stats after handshake: %+v", st)
	}
	if st.Malformed != 0 || st.Dropped != 0 || st.Errors != 0 {
		t.Errorf("unexpected errors in a clean session: %+v", st)
	}
}

func TestSubscribeUnsubscribeAtRuntime(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	cfg := testConfig(sim.URL())
	cfg.Channels = []string{"A"}
	c := startClient(t, cfg, rec)
	liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT"})

	c.Subscribe("nvda", " TSLA ", "bad,ticker")
	if got := c.Desired(); !slices.Equal(got, []string{"AAPL", "MSFT", "NVDA", "TSLA"}) {
		t.Fatalf("Desired() = %v", got)
	}
	liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT", "A.NVDA", "A.TSLA"})

	c.Unsubscribe("AAPL", "MSFT")
	liveConn(t, sim, c, []string{"A.NVDA", "A.TSLA"})
	if got := c.Desired(); !slices.Equal(got, []string{"NVDA", "TSLA"}) {
		t.Fatalf("Desired() = %v", got)
	}
}

func TestWildcardAndDottedSymbols(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	cfg := testConfig(sim.URL())
	cfg.Channels = []string{"T"}
	cfg.Tickers = []string{"BRK.A"}
	c := startClient(t, cfg, rec)
	liveConn(t, sim, c, []string{"T.BRK.A"})
	testkit.WaitFor(t, patience, "trades for BRK.A", func() bool { return rec.symbolCount("BRK.A") > 0 })

	c.Subscribe("*")
	liveConn(t, sim, c, []string{"T.*", "T.BRK.A"})
	testkit.WaitFor(t, patience, "wildcard trades for other symbols", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.symbols) > 3
	})
}

// fault is one injected failure and what the client must report.
type fault struct {
	name    string
	sim     func(*simulator.Config)
	cfg     func(*massive.Config)
	inject  func(t *testing.T, sim *simulator.Server, id int64)
	state   massive.State
	reason  string // prefix
	recover func(c *massive.Client)
	check   func(t *testing.T, c *massive.Client)
}

func TestFaultsRecover(t *testing.T) {
	faults := []fault{
		{
			name:   "drop",
			inject: func(t *testing.T, s *simulator.Server, id int64) { must(t, s.Drop(id)) },
			state:  massive.StateDisconnected, reason: "connection lost",
		},
		{
			name:   "close code",
			inject: func(t *testing.T, s *simulator.Server, id int64) { must(t, s.CloseWith(id, 4001, "maintenance")) },
			state:  massive.StateDisconnected, reason: "closed by server: 4001 maintenance",
		},
		{
			name: "slow_consumer",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				must(t, s.SendStatus(id, "slow_consumer", "client too slow", true))
			},
			state: massive.StateDisconnected, reason: "slow_consumer: client too slow",
		},
		{
			name: "force_disconnect",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				must(t, s.SendStatus(id, "force_disconnect", "forced", true))
			},
			state: massive.StateDisconnected, reason: "force_disconnect: forced",
		},
		{
			name: "auth_timeout",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				must(t, s.SendStatus(id, "auth_timeout", "No authentication request received.", true))
			},
			state: massive.StateDisconnected, reason: "auth_timeout: No authentication request received.",
		},
		{
			name: "stall",
			cfg: func(c *massive.Config) {
				c.ReadTimeout = 300 * time.Millisecond
				c.PingInterval = 50 * time.Millisecond
			},
			inject: func(t *testing.T, s *simulator.Server, id int64) { must(t, s.Stall(id, 3*time.Second)) },
			state:  massive.StateDisconnected, reason: "read timeout: no frame or pong for 300ms",
		},
		{
			name:   "oversize frame",
			inject: func(t *testing.T, s *simulator.Server, id int64) { must(t, s.SendOversize(id)) },
			state:  massive.StateDisconnected, reason: "oversize frame",
			check: func(t *testing.T, c *massive.Client) {
				if st := c.Stats(); st.Oversize != 1 || !strings.HasPrefix(st.LastError, "oversize frame") {
					t.Errorf("oversize not counted: %+v", st)
				}
			},
		},
		{
			name: "refuse new then recover",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				s.RefuseNew(400 * time.Millisecond)
				must(t, s.Drop(id))
			},
			state: massive.StateDisconnected, reason: "dial: websocket: bad handshake (HTTP 503)",
		},
		{
			name: "auth_failed is terminal until Reconnect",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				must(t, s.SendStatus(id, "auth_failed", "authentication failed", true))
			},
			state: massive.StateError, reason: "auth_failed: authentication failed",
			check: func(t *testing.T, c *massive.Client) {
				before := c.Stats().Reconnects
				time.Sleep(200 * time.Millisecond) // 20 backoff periods: a loop would show
				if st := c.Stats(); st.State != massive.StateError || st.Reconnects != before {
					t.Fatalf("auth_failed retried: %+v", st)
				}
			},
			recover: func(c *massive.Client) { c.Reconnect() },
		},
		{
			name: "max_connections backs off long",
			inject: func(t *testing.T, s *simulator.Server, id int64) {
				must(t, s.SendStatus(id, "max_connections", "Maximum number of connections exceeded.", true))
			},
			state: massive.StateError, reason: "max_connections: Maximum number of connections exceeded.",
			check: func(t *testing.T, c *massive.Client) {
				var st massive.Stats
				testkit.WaitFor(t, patience, "a scheduled retry", func() bool { st = c.Stats(); return !st.NextAttempt.IsZero() })
				if wait := st.NextAttempt.Sub(st.StateSince); wait < 290*time.Millisecond {
					t.Errorf("max_connections retry after %s, want the long backoff (300ms)", wait)
				}
			},
		},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			sim := startSim(t, f.sim)
			rec := newRecorder()
			cfg := testConfig(sim.URL())
			if f.cfg != nil {
				f.cfg(&cfg)
			}
			c := startClient(t, cfg, rec)
			cur := 0
			rec.waitState(t, &cur, massive.StateConnected, "authenticated")
			want := []string{"A.AAPL", "A.MSFT", "T.AAPL", "T.MSFT"}
			first := liveConn(t, sim, c, want)

			f.inject(t, sim, first.ID)
			rec.waitState(t, &cur, f.state, f.reason)
			if f.check != nil {
				f.check(t, c)
			}
			if f.recover != nil {
				f.recover(c)
			}
			rec.waitState(t, &cur, massive.StateConnected, "authenticated")
			// A subscription made while the link was down must be replayed too.
			c.Subscribe("NVDA")
			again := liveConn(t, sim, c, subscriptions(c, "A", "T"))
			if again.ID == first.ID {
				t.Fatalf("still on connection %d after the fault", first.ID)
			}
			if st := c.Stats(); st.Errors == 0 || st.LastError == "" || st.Reconnects == 0 {
				t.Errorf("fault not accounted: %+v", st)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMalformedFrameCountedLinkKept(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	cfg := testConfig(sim.URL())
	cfg.Channels = []string{"T"}
	cfg.Tickers = []string{"AAPL"}
	c := startClient(t, cfg, rec)
	conn := liveConn(t, sim, c, []string{"T.AAPL"})
	before := c.Stats()
	must(t, sim.SendMalformed(conn.ID))
	testkit.WaitFor(t, patience, "malformed events counted", func() bool { return c.Stats().Malformed > before.Malformed })
	st := c.Stats()
	if st.State != massive.StateConnected || st.Reconnects != 0 {
		t.Fatalf("a malformed frame cost the link: %+v", st)
	}
	if after := liveConn(t, sim, c, []string{"T.AAPL"}); after.ID != conn.ID {
		t.Fatalf("reconnected after a malformed frame")
	}
}

func TestAuthFailedWithBadKeyDoesNotLoop(t *testing.T) {
	sim := startSim(t, func(c *simulator.Config) { c.Keys = []string{goodKey} })
	rec := newRecorder()
	logs := &testkit.SyncBuffer{}
	cfg := testConfig(sim.URL())
	cfg.APIKey = "wrong-key-secret-9876"
	cfg.Logger = zerolog.New(logs).Level(zerolog.DebugLevel)
	c := startClient(t, cfg, rec)
	cur := 0
	rec.waitState(t, &cur, massive.StateError, "auth_failed: authentication failed")
	time.Sleep(200 * time.Millisecond)
	st := c.Stats()
	if st.State != massive.StateError || st.Reconnects != 0 {
		t.Fatalf("auth_failed looped: %+v\n%s", st, rec.history())
	}
	c.Reconnect() // the key is still wrong: one more attempt, then terminal again
	rec.waitState(t, &cur, massive.StateConnecting, "dialing")
	rec.waitState(t, &cur, massive.StateError, "auth_failed")
	if got := c.Stats().Reconnects; got != 1 {
		t.Fatalf("Reconnects = %d after one operator reconnect, want 1", got)
	}
	if c.MaskedKey() != "****9876" {
		t.Errorf("MaskedKey() = %q", c.MaskedKey())
	}
	c.Close()
	if out := logs.String() + fmt.Sprintf("%+v", c.Stats()) + rec.history(); strings.Contains(out, cfg.APIKey) {
		t.Fatalf("API key leaked:\n%s", out)
	}
	if !strings.Contains(logs.String(), `"connection_id":"connection_1"`) {
		t.Errorf("logs lack the connection_id field:\n%s", logs.String())
	}
}

func TestMaxConnectionsEviction(t *testing.T) {
	sim := startSim(t, func(c *simulator.Config) { c.MaxConnsPerKey = 1 })
	recA, recB := newRecorder(), newRecorder()
	cfgA := testConfig(sim.URL())
	cfgA.MaxConnectionsBackoff = 400 * time.Millisecond
	a := startClient(t, cfgA, recA)
	curA := 0
	recA.waitState(t, &curA, massive.StateConnected, "authenticated")
	liveConn(t, sim, a, []string{"A.AAPL", "A.MSFT", "T.AAPL", "T.MSFT"})

	cfgB := testConfig(sim.URL())
	cfgB.ID = "connection_2"
	cfgB.MaxConnectionsBackoff = time.Minute // B must not fight back during the test
	b, err := massive.NewClient(cfgB, recB)
	must(t, err)
	b.Start()
	curB := 0
	recB.waitState(t, &curB, massive.StateConnected, "authenticated")
	// The oldest connection (A's) is evicted.
	evicted := recA.waitState(t, &curA, massive.StateError, "max_connections: ")
	// A waits the long backoff; when it comes back it evicts B, which then
	// waits its own (one minute) backoff.
	back := recA.waitState(t, &curA, massive.StateConnected, "authenticated")
	if gap := back.At.Sub(evicted.At); gap < 400*time.Millisecond {
		t.Fatalf("A reconnected %s after max_connections, want >= 400ms", gap)
	}
	recB.waitState(t, &curB, massive.StateError, "max_connections: ")
	b.Close()
	liveConn(t, sim, a, []string{"A.AAPL", "A.MSFT", "T.AAPL", "T.MSFT"})
}

func TestSlowObserverDoesNotStopReader(t *testing.T) {
	sim := startSim(t, func(c *simulator.Config) {
		c.TicksPerSecond = 2000
		c.FlushInterval = 5 * time.Millisecond
	})
	rec := newRecorder()
	rec.block = make(chan struct{})
	cfg := testConfig(sim.URL())
	cfg.Channels = []string{"T"}
	cfg.QueueSize = 4
	c := startClient(t, cfg, rec)
	testkit.WaitFor(t, patience, "the observer to block", func() bool { return rec.calls.Load() > 0 })
	testkit.WaitFor(t, patience, "frames dropped", func() bool { return c.Stats().Dropped > 10 })
	frames := c.Stats().Frames
	testkit.WaitFor(t, patience, "the reader to keep reading", func() bool { return c.Stats().Frames > frames+20 })
	if st := c.Stats(); st.State != massive.StateConnected || st.Reconnects != 0 {
		t.Fatalf("slow observer cost the link: %+v", st)
	}
	close(rec.block)
	testkit.WaitFor(t, patience, "events to flow again", func() bool { return rec.events.Load() > 0 })
}

func TestCloseDuringBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close()) // nothing listens: every dial fails
	rec := newRecorder()
	cfg := testConfig("ws://" + addr + "/stocks")
	cfg.ReconnectDelay = time.Hour
	cfg.MaxReconnectDelay = time.Hour
	c, err := massive.NewClient(cfg, rec)
	must(t, err)
	c.Start()
	cur := 0
	rec.waitState(t, &cur, massive.StateDisconnected, "dial: ")
	testkit.WaitFor(t, patience, "the backoff wait", func() bool { return !c.Stats().NextAttempt.IsZero() })
	closeWithin(t, c)
	rec.waitState(t, &cur, massive.StateDisconnected, "closed")
	c.Close() // idempotent
}

// TestDialFailureLogsOneLine: at info level a failed dial is one line that
// says why and when the next attempt is due.
func TestDialFailureLogsOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close()) // nothing listens: the dial is refused
	logs := &testkit.SyncBuffer{}
	cfg := testConfig("ws://" + addr + "/stocks")
	cfg.ReconnectDelay, cfg.MaxReconnectDelay = time.Hour, time.Hour // one attempt
	cfg.Logger = zerolog.New(logs).Level(zerolog.InfoLevel)
	c := startClient(t, cfg, nil)
	// The line is written before the backoff wait begins.
	testkit.WaitFor(t, patience, "the backoff wait", func() bool { return !c.Stats().NextAttempt.IsZero() })
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("a failed dial logged %d lines, want 1:\n%s", len(lines), logs.String())
	}
	var line struct {
		Level, Message, Reason string
		ConnectionID           string `json:"connection_id"`
		RetryInMs              *int64 `json:"retry_in_ms"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.Level != "warn" || line.Message != "dial failed" || line.ConnectionID != "connection_1" || !strings.HasPrefix(line.Reason, "dial: ") ||
		!strings.Contains(line.Reason, "refused") || line.RetryInMs == nil || *line.RetryInMs < 0 {
		t.Errorf("dial failure line = %s", lines[0])
	}
}

func TestCloseWhileConnectedAndBeforeStart(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	c, err := massive.NewClient(testConfig(sim.URL()), rec)
	must(t, err)
	c.Start()
	c.Start()
	cur := 0
	rec.waitState(t, &cur, massive.StateConnected, "authenticated")
	closeWithin(t, c)
	rec.waitState(t, &cur, massive.StateDisconnected, "closed")
	testkit.WaitFor(t, patience, "the simulator to see the close", func() bool { return len(sim.Conns()) == 0 })

	idle, err := massive.NewClient(testConfig(sim.URL()), nil)
	must(t, err)
	closeWithin(t, idle)
	idle.Start() // after Close: nothing happens
	if st := idle.Stats(); st.State != massive.StateDisconnected {
		t.Fatalf("closed client state %v", st.State)
	}
}

func TestMaxRetriesGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	rec := newRecorder()
	cfg := testConfig("ws://" + addr + "/stocks")
	cfg.MaxRetries = 2
	c := startClient(t, cfg, rec)
	cur := 0
	rec.waitState(t, &cur, massive.StateError, "gave up after 2 retries: dial: ")
	if got := c.Stats().Reconnects; got != 2 {
		t.Fatalf("Reconnects = %d, want 2", got)
	}
}

// closeWithin fails instead of hanging if Close deadlocks.
func closeWithin(t *testing.T, c *massive.Client) {
	t.Helper()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("Close did not return")
	}
}

func TestNewClientValidation(t *testing.T) {
	base := testConfig("ws://127.0.0.1:1/stocks")
	tests := []struct {
		name   string
		mutate func(*massive.Config)
		field  string
	}{
		{"no id", func(c *massive.Config) { c.ID = "" }, "ID"},
		{"bad scheme", func(c *massive.Config) { c.URL = "http://x/stocks" }, "URL"},
		{"no host", func(c *massive.Config) { c.URL = "ws:///stocks" }, "URL"},
		{"no key", func(c *massive.Config) { c.APIKey = "" }, "APIKey"},
		{"bad channel", func(c *massive.Config) { c.Channels = []string{"A", "LULD"} }, "Channels"},
		{"bad ticker", func(c *massive.Config) { c.Tickers = []string{"A,B"} }, "Tickers"},
		{"negative delay", func(c *massive.Config) { c.ReconnectDelay = -1 }, "ReconnectDelay"},
		{"cap below initial", func(c *massive.Config) { c.MaxReconnectDelay = time.Millisecond }, "MaxReconnectDelay"},
		{"negative retries", func(c *massive.Config) { c.MaxRetries = -1 }, "MaxRetries"},
		{"negative queue", func(c *massive.Config) { c.QueueSize = -1 }, "QueueSize"},
		{"negative read timeout", func(c *massive.Config) { c.ReadTimeout = -time.Second }, "ReadTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			_, err := massive.NewClient(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want one naming %s", err, tt.field)
			}
			if strings.Contains(err.Error(), goodKey) {
				t.Fatalf("error leaks the key: %v", err)
			}
		})
	}
	cfg := base
	cfg.Channels = nil
	cfg.ReconnectDelay, cfg.MaxReconnectDelay = 0, 0
	c, err := massive.NewClient(cfg, nil)
	must(t, err)
	c.Close()
}

// silentServer upgrades to WebSocket and then says nothing, like a provider
// that hangs mid-handshake.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		for { // read until the client gives up
			if _, _, err := ws.ReadMessage(); err != nil {
				_ = ws.Close()
				return
			}
		}
	})}
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); wg.Wait() })
	return "ws://" + ln.Addr().String() + "/stocks"
}

func TestHandshakeTimeout(t *testing.T) {
	rec := newRecorder()
	cfg := testConfig(silentServer(t))
	cfg.HandshakeTimeout = 200 * time.Millisecond
	c := startClient(t, cfg, rec)
	cur := 0
	rec.waitState(t, &cur, massive.StateDisconnected, "handshake timeout: no connected status within 200ms")
	rec.waitState(t, &cur, massive.StateConnecting, "dialing")
	closeWithin(t, c)
}

// Extras are single (channel, ticker) subscriptions beside the desired
// tickers: they are subscribed alone, survive a desired ticker's removal,
// come back after a dropped link, and cost nothing when a desired ticker
// already implies them.
func TestExtras(t *testing.T) {
	sim := startSim(t, nil)
	rec := newRecorder()
	cfg := testConfig(sim.URL())
	cfg.Channels = []string{"A"}
	cfg.Extras = []string{"T.NVDA"}
	c := startClient(t, cfg, rec)
	liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT", "T.NVDA"})

	// A.AAPL is implied by the desired AAPL; LULD and malformed entries are
	// refused.
	c.AddExtra("Q.TSLA", "A.AAPL", "T.*", "LULD.AAPL", "nodot", "T.bad$")
	if got := c.Extras(); !slices.Equal(got, []string{"A.AAPL", "Q.TSLA", "T.*", "T.NVDA"}) {
		t.Fatalf("Extras() = %v", got)
	}
	liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT", "Q.TSLA", "T.*", "T.NVDA"})

	// The desired AAPL goes; the extra A.AAPL keeps it subscribed.
	c.Unsubscribe("AAPL")
	c.RemoveExtra("T.*", "Q.TSLA")
	liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT", "T.NVDA"})
	if st := c.Stats(); st.Extras != 2 || st.Desired != 1 {
		t.Fatalf("Stats extras/desired = %d/%d, want 2/1", st.Extras, st.Desired)
	}

	// A dropped link: the new one subscribes the extras again.
	old := liveConn(t, sim, c, []string{"A.AAPL", "A.MSFT", "T.NVDA"})
	must(t, sim.Drop(old.ID))
	testkit.WaitFor(t, patience, "a new link with the extras", func() bool {
		for _, ci := range sim.Conns() {
			if ci.ID != old.ID && ci.Authenticated && slices.Equal(ci.Subscriptions, []string{"A.AAPL", "A.MSFT", "T.NVDA"}) {
				return true
			}
		}
		return false
	})
	testkit.WaitFor(t, patience, "trades of the extra", func() bool { return rec.symbolCount("NVDA") > 0 })
}

func TestNewClientRefusesBadExtras(t *testing.T) {
	for _, e := range []string{"NVDA", "LULD.NVDA", "T.", "T.bad$"} {
		cfg := testConfig("ws://127.0.0.1:1/stocks")
		cfg.Extras = []string{e}
		if _, err := massive.NewClient(cfg, nil); err == nil || !strings.Contains(err.Error(), "Extras") {
			t.Errorf("Extras %q: err = %v, want a config Extras error", e, err)
		}
	}
}
