package alert_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/alert"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/simulator"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	key      = "alert-test-key"
	interval = 100 * time.Millisecond // the engine's check interval in these tests
	// sched is scheduling slack on a shared 2-core machine: a check may
	// run a little after its tick. Only the engine's own timestamps are
	// compared, never the test's wall clock.
	sched = 250 * time.Millisecond
)

// rig is the real chain: simulator -> massive clients -> manager ->
// tickstore, with the alert engine reading it, MARKET_HOURS=always.
type rig struct {
	sim *simulator.Server
	mgr *manager.Manager
	eng *alert.Engine

	mu  sync.Mutex
	evs []alert.Event
}

type rigOpts struct {
	cfg   alert.Config
	queue int         // client queue size (0: default)
	tap   manager.Tap // optional
	// symbols of connection_1 (default AAPL, MSFT, NVDA)
	symbols []string
	// muted symbols never deliver, from before the first connection
	muted []string
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	sim := simulator.New(simulator.Config{Keys: []string{key}, TicksPerSecond: 600, FlushInterval: 20 * time.Millisecond, Seed: 3, Logger: zerolog.Nop()})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	for _, sym := range o.muted {
		if err := sim.Mute(sym, true); err != nil {
			t.Fatal(err)
		}
	}
	if o.symbols == nil {
		o.symbols = []string{"AAPL", "MSFT", "NVDA"}
	}
	reg, err := universe.Default()
	if err != nil {
		t.Fatal(err)
	}
	store := tickstore.New(tickstore.Options{})
	mgr, err := manager.New(manager.Config{
		Slots:           []manager.SlotConfig{{ID: 1, Name: "one", Enabled: true, Symbols: o.symbols}},
		MultiConnection: true,
		Client: massive.Config{URL: sim.URL(), APIKey: key, Channels: []string{"T"},
			ReconnectDelay: 20 * time.Millisecond, MaxReconnectDelay: 100 * time.Millisecond,
			MaxConnectionsBackoff: 700 * time.Millisecond, QueueSize: o.queue, Logger: zerolog.Nop()},
		Universes: reg, Store: store, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.tap != nil {
		mgr.AddTap(o.tap)
	}
	cal, err := alert.NewCalendar(alert.HoursAlways)
	if err != nil {
		t.Fatal(err)
	}
	o.cfg.Calendar, o.cfg.CheckInterval = cal, interval
	if o.cfg.Silence == 0 {
		o.cfg.Silence = time.Second
	}
	if o.cfg.TickerSilenceMin == 0 {
		o.cfg.TickerSilenceMin = time.Second
	}
	if o.cfg.TickerNeverTicked == 0 {
		o.cfg.TickerNeverTicked = time.Second
	}
	eng, err := alert.New(context.Background(), o.cfg, &alert.Parts{Manager: mgr, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{sim: sim, mgr: mgr, eng: eng}
	eng.Listen(func(ev alert.Event) {
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
	})
	mgr.Connect()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; mgr.Disconnect() })
	testkit.WaitFor(t, 10*time.Second, "connected and ticking", func() bool {
		return len(r.simConns()) == 1 && mgr.Health().TotalTicksReceived > 100
	})
	return r
}

func (r *rig) simConns() []simulator.ConnInfo {
	var out []simulator.ConnInfo
	for _, c := range r.sim.Conns() {
		if c.Authenticated {
			out = append(out, c)
		}
	}
	return out
}

func (r *rig) simConn(t *testing.T) int64 {
	t.Helper()
	var id int64
	testkit.WaitFor(t, 10*time.Second, "one authenticated simulator connection", func() bool {
		cs := r.simConns()
		if len(cs) == 1 {
			id = cs[0].ID
		}
		return len(cs) == 1
	})
	return id
}

// wait returns the first event of type typ for key, waiting up to 15 s.
func (r *rig) wait(t *testing.T, typ, key string) alert.Alert {
	t.Helper()
	var got alert.Alert
	testkit.WaitFor(t, 15*time.Second, typ+" "+key, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, ev := range r.evs {
			if ev.Type == typ && ev.Alert.Key == key {
				got = ev.Alert
				return true
			}
		}
		return false
	})
	return got
}

// incidents counts events per type+key, to check one firing and one
// resolved per incident.
func (r *rig) incidents() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, ev := range r.evs {
		out[ev.Type+" "+ev.Alert.Key]++
	}
	return out
}

// firedInTime: the engine saw the condition begin at Since and fired at
// FiredAt, within the threshold plus one check interval.
func firedInTime(t *testing.T, a alert.Alert, threshold time.Duration) {
	t.Helper()
	if late := a.FiredAt.Sub(a.Since); late > threshold+interval+sched {
		t.Errorf("%s fired %v after the condition began; want within %v + %v (+%v scheduling)", a.Key, late, threshold, interval, sched)
	}
	if a.FiredAt.Sub(a.Since) < threshold && a.Kind != alert.KindAuthFailed && a.Kind != alert.KindMaxConnections && a.Kind != alert.KindDrops {
		t.Errorf("%s fired before its threshold: %v < %v", a.Key, a.FiredAt.Sub(a.Since), threshold)
	}
}

func exactlyOnce(t *testing.T, r *rig, key string) {
	t.Helper()
	inc := r.incidents()
	if inc["firing "+key] != 1 || inc["resolved "+key] != 1 {
		t.Errorf("%s: %d firing and %d resolved events, want one each (all: %v)", key, inc["firing "+key], inc["resolved "+key], inc)
	}
}

func TestConnectionSilentStall(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	if err := r.sim.Stall(r.simConn(t), 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	k := "connection_silent:connection_1"
	a := r.wait(t, "firing", k)
	firedInTime(t, a, time.Second)
	if a.ConnectionID != "connection_1" || a.Threshold != 1 || a.Value <= 1 {
		t.Errorf("alert %+v", a)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
	// The ticker detector stays out of it: the whole link was quiet.
	for ev := range r.incidents() {
		if ev == "firing ticker_silent:connection_1:AAPL" {
			t.Errorf("ticker_silent fired during a connection stall")
		}
	}
}

func TestTickerSilentMute(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	time.Sleep(300 * time.Millisecond) // let every symbol build its gap history
	if err := r.sim.Mute("AAPL", true); err != nil {
		t.Fatal(err)
	}
	k := "ticker_silent:connection_1:AAPL"
	a := r.wait(t, "firing", k)
	firedInTime(t, a, time.Duration(a.Threshold*float64(time.Second)))
	if a.Threshold < 1 || a.Ticker != "AAPL" {
		t.Errorf("alert %+v: want ticker AAPL, threshold >= ALERT_TICKER_SILENCE_MIN (1 s)", a)
	}
	if n := r.eng.SilentTickers()["connection_1"]; n != 1 {
		t.Errorf("silent tickers on connection_1 = %d, want 1", n)
	}
	if err := r.sim.Mute("AAPL", false); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
	if inc := r.incidents(); inc["firing ticker_silent:connection_1:MSFT"] != 0 || inc["firing connection_silent:connection_1"] != 0 {
		t.Errorf("other alerts fired: %v", inc)
	}
}

func TestTickerSilentQuietlyForgotten(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	time.Sleep(300 * time.Millisecond)
	if err := r.sim.Forget(r.simConn(t), "NVDA", false); err != nil {
		t.Fatal(err)
	}
	k := "ticker_silent:connection_1:NVDA"
	firedInTime(t, r.wait(t, "firing", k), time.Second)
	// The client still believes it is subscribed: no drift is visible, the
	// ticker detector is what catches it. A reconnect subscribes afresh.
	if inc := r.incidents(); inc["firing subscription_drift:connection_1"] != 0 {
		t.Errorf("drift fired for a quiet drop: %v", inc)
	}
	if err := r.mgr.Reconnect("connection_1"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
}

func TestTickerSilentSlowed(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	time.Sleep(300 * time.Millisecond)
	// From a trade every frame (20 ms) to one per 2.5 s: far beyond 20x
	// its usual gap, so it fires at the 1 s minimum, and the slowed trade
	// resolves it.
	if err := r.sim.Slow("MSFT", 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	k := "ticker_silent:connection_1:MSFT"
	firedInTime(t, r.wait(t, "firing", k), time.Second)
	r.wait(t, "resolved", k)
	if err := r.sim.Slow("MSFT", 0); err != nil {
		t.Fatal(err)
	}
}

// TestTickerSilentGroupLostResubscription is the headline failure: the
// upstream quietly drops many of one connection's subscriptions while it
// keeps delivering the others. Above ALERT_TICKER_SILENCE_GROUP that is
// one incident for the connection, with the exact count, not one per
// ticker; a reconnect (a fresh subscribe) resolves it once.
func TestTickerSilentGroupLostResubscription(t *testing.T) {
	t.Parallel()
	syms := []string{"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "V", "KO", "PEP", "WMT"}
	lost := syms[:8]
	const group = 3
	r := newRig(t, rigOpts{symbols: syms, cfg: alert.Config{TickerSilenceGroup: group}})
	time.Sleep(300 * time.Millisecond) // let every symbol build its gap history
	id := r.simConn(t)
	for _, s := range lost {
		if err := r.sim.Forget(id, s, false); err != nil {
			t.Fatal(err)
		}
	}
	k := "ticker_silent:connection_1:*"
	a := r.wait(t, "firing", k)
	firedInTime(t, a, time.Second)
	if a.Ticker != "" || a.ConnectionID != "connection_1" || a.Threshold != group || a.Unit != "tickers" {
		t.Errorf("group %+v", a)
	}
	// The eight were forgotten within microseconds but each crosses its
	// own threshold, so they may be counted over a check or two: the group
	// reaches all eight, as an update of the one incident.
	testkit.WaitFor(t, 10*time.Second, "the group counting 8 tickers", func() bool {
		for _, x := range r.eng.List() {
			if x.Key == k && x.State == alert.Firing && x.Value == 8 {
				return true
			}
		}
		return false
	})
	if n := r.eng.SilentTickers()["connection_1"]; n != 8 {
		t.Errorf("silent tickers on connection_1 = %d, want 8", n)
	}
	if n := r.eng.FiringByKind()[alert.KindTickerSilent]; n != 1 {
		t.Errorf("firing ticker_silent incidents = %d, want 1", n)
	}
	// Before the group formed at most `group` tickers had their own
	// incident; each of those was folded into it when it formed, and none
	// fired after.
	inc := r.incidents()
	var perTicker int
	for _, s := range syms {
		pk := "ticker_silent:connection_1:" + s
		if inc["firing "+pk] != inc["resolved "+pk] || inc["firing "+pk] > 1 {
			t.Errorf("%s: %d firing, %d resolved events", pk, inc["firing "+pk], inc["resolved "+pk])
		}
		perTicker += inc["firing "+pk]
	}
	if perTicker > group {
		t.Errorf("%d per-ticker incidents fired, want at most %d before the group took over", perTicker, group)
	}
	for _, s := range syms[len(lost):] {
		if inc["firing ticker_silent:connection_1:"+s] != 0 {
			t.Errorf("%s kept ticking but fired", s)
		}
	}
	if err := r.mgr.Reconnect("connection_1"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
}

// TestTickerNeverTicked: a ticker the upstream acknowledges but never
// delivers (a typo'd or unentitled one; the simulator's mute) alerts once
// ALERT_TICKER_SILENCE_MIN has passed since its subscription, whether it
// was muted from the start or added at run time, and resolves when it
// ticks. Drift stays quiet: the subscription was acknowledged.
func TestTickerNeverTicked(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{muted: []string{"NVDA"}})
	kNVDA := "ticker_silent:connection_1:NVDA"
	a := r.wait(t, "firing", kNVDA)
	firedInTime(t, a, time.Second)
	const never = "no event since it was subscribed "
	if !strings.HasPrefix(a.Message, never) || a.Threshold != 1 || a.Unit != "seconds" {
		t.Errorf("NVDA alert %+v; want a message starting %q, threshold 1 s", a, never)
	}

	if err := r.sim.Mute("QQQX", true); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := r.mgr.Subscribe([]string{"QQQX"}, "connection_1"); err != nil {
		t.Fatal(err)
	}
	k := "ticker_silent:connection_1:QQQX"
	b := r.wait(t, "firing", k)
	firedInTime(t, b, time.Second)
	if b.Since.Before(before) || !strings.HasPrefix(b.Message, never) {
		t.Errorf("QQQX alert %+v; want its clock from the subscription (after %v)", b, before)
	}
	if n := r.eng.SilentTickers()["connection_1"]; n != 2 {
		t.Errorf("silent tickers on connection_1 = %d, want 2", n)
	}
	for _, sym := range []string{"NVDA", "QQQX"} {
		if err := r.sim.Mute(sym, false); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, "resolved", kNVDA)
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, kNVDA)
	exactlyOnce(t, r, k)
	if inc := r.incidents(); inc["firing subscription_drift:connection_1"] != 0 || inc["firing ticker_silent:connection_1:AAPL"] != 0 {
		t.Errorf("other alerts fired: %v", inc)
	}
}

func TestSubscriptionDrift(t *testing.T) {
	t.Parallel()
	drift := 500 * time.Millisecond
	r := newRig(t, rigOpts{cfg: alert.Config{Drift: drift}})
	if err := r.sim.Forget(r.simConn(t), "MSFT", true); err != nil {
		t.Fatal(err)
	}
	k := "subscription_drift:connection_1"
	a := r.wait(t, "firing", k)
	firedInTime(t, a, drift)
	if a.Value != 1 {
		t.Errorf("drift value %v, want 1 subscription (T.MSFT)", a.Value)
	}
	if err := r.mgr.Reconnect("connection_1"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
}

func TestReconnectStorm(t *testing.T) {
	t.Parallel()
	window := 3 * time.Second
	r := newRig(t, rigOpts{cfg: alert.Config{StormReconnects: 2, StormWindow: window}})
	for range 3 {
		if err := r.sim.Drop(r.simConn(t)); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, 10*time.Second, "dropped link gone", func() bool { return len(r.simConns()) == 0 || r.mgr.Health().ConnectedCount == 0 })
	}
	k := "reconnect_storm:connection_1"
	a := r.wait(t, "firing", k)
	if a.Value != 3 || a.Threshold != 2 {
		t.Errorf("storm %+v: want 3 reconnects over a threshold of 2", a)
	}
	// The window slides past the drops.
	res := r.wait(t, "resolved", k)
	if d := res.ResolvedAt.Sub(a.FiredAt); d > window+interval+sched {
		t.Errorf("resolved %v after firing, want within the %v window", d, window)
	}
	exactlyOnce(t, r, k)
}

func TestAuthFailedAndMaxConnections(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	if err := r.sim.SendStatus(r.simConn(t), massive.StatusMaxConnections, "Maximum number of connections exceeded.", true); err != nil {
		t.Fatal(err)
	}
	k := "max_connections:connection_1"
	firedInTime(t, r.wait(t, "firing", k), 0)
	r.wait(t, "resolved", k) // after the client's max_connections back-off it connects again
	exactlyOnce(t, r, k)

	if err := r.sim.SendStatus(r.simConn(t), massive.StatusAuthFailed, "authentication failed", true); err != nil {
		t.Fatal(err)
	}
	k = "auth_failed:connection_1"
	firedInTime(t, r.wait(t, "firing", k), 0)
	if err := r.mgr.Reconnect("connection_1"); err != nil { // an operator fixed the key
		t.Fatal(err)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
}

// slowTap is a tap that breaks the contract on purpose while blocked: it
// holds the processing goroutine, so the client's reader queue overflows
// and drops frames, the "reader" drops the detector watches.
type slowTap struct{ block atomic.Bool }

func (s *slowTap) Ticks(string, []massive.Event) {
	if s.block.Load() {
		time.Sleep(30 * time.Millisecond)
	}
}

func TestReaderDrops(t *testing.T) {
	t.Parallel()
	tap := &slowTap{}
	r := newRig(t, rigOpts{cfg: alert.Config{DropWindow: time.Second}, queue: 2, tap: tap})
	tap.block.Store(true)
	k := "drops:connection_1:reader"
	a := r.wait(t, "firing", k)
	tap.block.Store(false)
	if a.Value < 1 || a.Source != "reader" {
		t.Errorf("drops %+v", a)
	}
	r.wait(t, "resolved", k)
	exactlyOnce(t, r, k)
}
