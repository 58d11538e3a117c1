package manager

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

func TestTop500SplitThreeWaysEveryTickerTicks(t *testing.T) {
	var slots []SlotConfig
	for i := 1; i <= 3; i++ {
		slots = append(slots, SlotConfig{ID: i, Enabled: true, UniverseKey: "market_leaders:top_500", Split: &Split{Index: i, Of: 3}})
	}
	// 2000 trades/s over 500 symbols: every symbol trades a few times a
	// second, so each gets a per-second bar within a couple of seconds.
	e := newEnv(t, envOpts{multi: true, slots: slots, tps: 2000})
	e.m.Connect()
	e.waitConnected(t, 3)

	all := mustResolve(t, registry(t), "market_leaders:top_500")
	seen := map[string]bool{}
	metrics := e.m.SlotMetrics()
	for i, st := range e.m.Slots() {
		if metrics[i].Tickers != nil || metrics[i].TickerCount != len(st.Tickers) || st.TickerCount != len(st.Tickers) {
			t.Errorf("%s: SlotMetrics counts %d tickers (list %v), Slots lists %d (count %d)",
				st.ConnectionID, metrics[i].TickerCount, metrics[i].Tickers, len(st.Tickers), st.TickerCount)
		}
		if len(st.Tickers) < 160 {
			t.Fatalf("%s has %d tickers, want about a third of %d", st.ConnectionID, len(st.Tickers), len(all))
		}
		for _, sym := range st.Tickers {
			if seen[sym] {
				t.Fatalf("%s assigned twice", sym)
			}
			seen[sym] = true
		}
		// The simulator's table for this connection is exactly its share.
		e.waitSimSubs(t, "A", st.Tickers)
	}
	if len(seen) != len(all) || len(e.sim.Conns()) != 3 {
		t.Fatalf("%d tickers on %d upstream connections, want %d on 3", len(seen), len(e.sim.Conns()), len(all))
	}

	var missing []string
	testkit.WaitFor(t, 15*time.Second, "a tick for every ticker", func() bool {
		missing = missing[:0]
		for _, sym := range all {
			l, ok := e.store.Latest(sym)
			want, _ := e.m.TickerAssignment(sym)
			if !ok || l.ConnectionID != want {
				missing = append(missing, sym)
			}
		}
		return len(missing) == 0
	})
}

func TestHealthShapeAndCounts(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"T"}, tps: 400, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT", "NVDA"}},
		{ID: 2, Enabled: true, Name: "second", Symbols: []string{"TSLA", "AMZN"}},
		{ID: 3, Enabled: false, Symbols: []string{"IBM"}},
	}})
	start := time.Now()
	e.m.Connect()
	e.waitConnected(t, 2)
	testkit.WaitFor(t, 10*time.Second, "messages on both connections", func() bool {
		h := e.m.Health()
		return h.Connections["connection_1"].MessageCount > 50 && h.Connections["connection_2"].MessageCount > 50
	})

	// Freeze the feed so both ends can be compared exactly.
	c1 := e.waitSimSubs(t, "T", []string{"AAPL", "MSFT", "NVDA"})
	c2 := e.waitSimSubs(t, "T", []string{"AMZN", "TSLA"})
	for _, id := range []int64{c1.ID, c2.ID} {
		if err := e.sim.Stall(id, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	sent := func(id int64) uint64 {
		for _, c := range e.sim.Conns() {
			if c.ID == id {
				return c.Sent
			}
		}
		return 0
	}
	var h Health
	testkit.WaitFor(t, 4*time.Second, "message_count == simulator Sent", func() bool {
		h = e.m.Health()
		return h.Connections["connection_1"].MessageCount == sent(c1.ID) &&
			h.Connections["connection_2"].MessageCount == sent(c2.ID)
	})

	if h.TotalConnections != 2 || h.ConnectedCount != 2 || h.TotalErrors != 0 || len(h.Connections) != 2 {
		t.Errorf("summary = %+v", h)
	}
	if sum := h.Connections["connection_1"].MessageCount + h.Connections["connection_2"].MessageCount; h.TotalTicksReceived != sum {
		t.Errorf("total_ticks_received = %d, want %d", h.TotalTicksReceived, sum)
	}
	for id, want := range map[string]ConnectionHealth{
		"connection_1": {Name: "primary", Status: "connected", AssignedTickers: 3},
		"connection_2": {Name: "second", Status: "connected", AssignedTickers: 2},
	} {
		got := h.Connections[id]
		if got.Name != want.Name || got.Status != want.Status || got.AssignedTickers != want.AssignedTickers || got.ErrorCount != 0 {
			t.Errorf("%s = %+v, want %+v", id, got, want)
		}
		if lm := got.LastMessageTime; lm < float64(start.UnixNano())/1e9 || lm > float64(time.Now().UnixNano())/1e9 {
			t.Errorf("%s last_message_time %f not between start and now", id, lm)
		}
	}

	// The JSON document has exactly the original's keys.
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(doc), []string{"connected_count", "connections", "total_connections", "total_errors", "total_ticks_received"}; !slices.Equal(got, want) {
		t.Errorf("health keys %v, want %v", got, want)
	}
	var conns map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc["connections"], &conns); err != nil {
		t.Fatal(err)
	}
	if got := keys(conns); !slices.Equal(got, []string{"connection_1", "connection_2"}) {
		t.Errorf("connections %v", got)
	}
	want := []string{"assigned_tickers", "error_count", "last_message_time", "message_count", "name", "status"}
	for id, c := range conns {
		if got := keys(c); !slices.Equal(got, want) {
			t.Errorf("%s keys %v, want %v", id, got, want)
		}
	}

	// Slots agree with Health and cover the disabled slot too.
	slots := e.m.Slots()
	if len(slots) != 3 || slots[2].Enabled || slots[2].Running || len(slots[2].Tickers) != 0 || slots[2].Status != "disconnected" {
		t.Fatalf("slots = %+v", slots)
	}
	s1 := slots[0]
	if s1.MessageCount != h.Connections["connection_1"].MessageCount || !s1.Connected || !s1.Running ||
		s1.SymbolsSource != SourceSymbols || s1.ConnectedSince.IsZero() || s1.LastMessage.IsZero() ||
		!slices.Equal(s1.Tickers, []string{"AAPL", "MSFT", "NVDA"}) || len(s1.RateHistory) == 0 {
		t.Errorf("slot 1 = %+v", s1)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSubscribeUnsubscribe(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT", "NVDA"}},
		{ID: 3},
	}})
	e.m.Connect()
	e.waitConnected(t, 2)

	got, err := e.m.Subscribe([]string{" tsla "}, "")
	if err != nil || !slices.Equal(got, []Assignment{{"TSLA", "connection_1"}}) {
		t.Fatalf("Subscribe(tsla) = %v, %v; want TSLA on the least-loaded connection_1", got, err)
	}
	got, err = e.m.Subscribe([]string{"AMD", "INTC", "amd"}, "2")
	if err != nil || !slices.Equal(got, []Assignment{{"AMD", "connection_2"}, {"INTC", "connection_2"}}) {
		t.Fatalf("Subscribe(AMD, INTC -> 2) = %v, %v", got, err)
	}
	e.waitSimSubs(t, "A", []string{"AAPL", "TSLA"})
	e.waitSimSubs(t, "A", []string{"AMD", "INTC", "MSFT", "NVDA"})

	errCases := []struct {
		name    string
		tickers []string
		conn    string
		is      error
		msg     string
	}{
		{"duplicate", []string{"aapl"}, "", ErrAlreadyAssigned, "AAPL is already on connection_1"},
		{"duplicate among new ones", []string{"GOOG", "NVDA"}, "connection_1", ErrAlreadyAssigned, "NVDA is already on connection_2"},
		{"invalid", []string{"GOOG", "A$B"}, "", ErrInvalidSymbol, `"A$B"`},
		{"too long", []string{"ABCDEFGHIJK"}, "", ErrInvalidSymbol, "ABCDEFGHIJK"},
		{"empty", nil, "", ErrInvalidSymbol, "no tickers"},
		{"unknown connection", []string{"GOOG"}, "connection_9", ErrUnknownConnection, `"connection_9"`},
		{"unknown connection number", []string{"GOOG"}, "0", ErrUnknownConnection, `"0"`},
		{"garbage connection", []string{"GOOG"}, "primary", ErrUnknownConnection, `"primary"`},
		{"disabled connection", []string{"GOOG"}, "connection_3", ErrDisabled, "connection_3"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.m.Subscribe(tc.tickers, tc.conn)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %s", err, tc.is, tc.msg)
			}
		})
	}
	if id, ok := e.m.TickerAssignment("GOOG"); ok {
		t.Fatalf("GOOG assigned to %s after failed subscribes (must be all-or-nothing)", id)
	}

	// Unsubscribe forgets the ticker everywhere.
	testkit.WaitFor(t, 10*time.Second, "a tick for MSFT", func() bool { _, ok := e.store.Latest("MSFT"); return ok })
	got, err = e.m.Unsubscribe([]string{"msft"})
	if err != nil || !slices.Equal(got, []Assignment{{"MSFT", "connection_2"}}) {
		t.Fatalf("Unsubscribe(msft) = %v, %v", got, err)
	}
	e.waitSimSubs(t, "A", []string{"AMD", "INTC", "NVDA"})
	if _, ok := e.m.TickerAssignment("MSFT"); ok {
		t.Error("MSFT still assigned")
	}
	if _, ok := e.store.Latest("MSFT"); ok {
		t.Error("store still has MSFT")
	}
	if _, err := e.m.Unsubscribe([]string{"ZZZZ", "AAPL"}); !errors.Is(err, ErrNotAssigned) || !strings.Contains(err.Error(), "ZZZZ") {
		t.Errorf("Unsubscribe(ZZZZ) err = %v, want ErrNotAssigned naming ZZZZ", err)
	}
	if id, ok := e.m.TickerAssignment("aapl"); !ok || id != "connection_1" {
		t.Errorf("AAPL on %q %v after a failed unsubscribe", id, ok)
	}

	list, err := e.m.ConnectionTickers("connection_2")
	if err != nil || !slices.Equal(list, []string{"AMD", "INTC", "NVDA"}) {
		t.Fatalf("ConnectionTickers = %v, %v", list, err)
	}
	list[0] = "MUTATED"
	if again, _ := e.m.ConnectionTickers("2"); again[0] != "AMD" {
		t.Error("ConnectionTickers returned the manager's own slice")
	}
	if _, err := e.m.ConnectionTickers("connection_4"); !errors.Is(err, ErrUnknownConnection) {
		t.Errorf("ConnectionTickers(connection_4) err = %v", err)
	}
	if n := e.obs.configs.Load(); n != 3 {
		t.Errorf("ConfigChanged called %d times, want 3 (two subscribes, one unsubscribe)", n)
	}
}

func TestReconnect(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{{ID: 1, Enabled: true, Symbols: []string{"AAPL", "BRK.B"}}}})
	e.m.Connect()
	e.waitConnected(t, 1)
	before := e.waitSimSubs(t, "A", []string{"AAPL", "BRK.B"})

	if err := e.m.Reconnect("connection_1"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "a new upstream connection with the same subscriptions", func() bool {
		c, ok := e.simConnFor(subsOf("A", []string{"AAPL", "BRK.B"}))
		return ok && c.ID != before.ID && e.m.Health().ConnectedCount == 1
	})
	st := e.m.Slots()[0]
	if st.Reconnects != 1 || st.ErrorCount != 0 {
		t.Errorf("reconnects=%d errors=%d, want 1 and 0 (an operator reconnect is not an error)", st.Reconnects, st.ErrorCount)
	}
	if err := e.m.Reconnect("connection_5"); !errors.Is(err, ErrUnknownConnection) {
		t.Errorf("Reconnect(connection_5) err = %v", err)
	}
}

func TestUpstreamDropCountsAnError(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{{ID: 1, Enabled: true, Symbols: []string{"AAPL"}}}})
	e.m.Connect()
	e.waitConnected(t, 1)
	before := e.waitSimSubs(t, "A", []string{"AAPL"})
	if err := e.sim.Drop(before.ID); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "reconnected after the drop", func() bool {
		c, ok := e.simConnFor([]string{"A.AAPL"})
		return ok && c.ID != before.ID && e.m.Health().ConnectedCount == 1
	})
	h := e.m.Health()
	st := e.m.Slots()[0]
	if h.TotalErrors != 1 || h.Connections["connection_1"].ErrorCount != 1 || st.LastError == "" || st.Reconnects != 1 {
		t.Errorf("after one drop: health %+v, slot errors=%d last_error=%q reconnects=%d", h, st.ErrorCount, st.LastError, st.Reconnects)
	}
	states := strings.Join(e.obs.statesOf("connection_1"), ",")
	if !strings.Contains(states, "connected,disconnected,connecting,connected") {
		t.Errorf("observer saw %s", states)
	}
}

func TestSetEnabled(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT"}},
		{ID: 3, Enabled: false, Symbols: []string{"NVDA", "AAPL"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 2)
	e.waitSimSubs(t, "A", []string{"MSFT"})

	if err := e.m.SetEnabled("connection_2", false); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 5*time.Second, "connection_2 gone upstream", func() bool {
		_, ok := e.sim.ConnBySymbol("MSFT")
		return !ok && len(e.sim.Conns()) == 1
	})
	st := e.m.Slots()[1]
	if st.Enabled || st.Running || st.Status != "disconnected" || st.Reason != "disabled by operator" || !slices.Equal(st.Tickers, []string{"MSFT"}) {
		t.Errorf("disabled slot = %+v", st)
	}
	if id, _ := e.m.TickerAssignment("MSFT"); id != "connection_2" {
		t.Errorf("MSFT moved to %q; a disabled slot keeps its tickers", id)
	}
	if h := e.m.Health(); h.TotalConnections != 1 || len(h.Connections) != 1 {
		t.Errorf("health lists %d connections, want only the enabled one", h.TotalConnections)
	}
	if _, err := e.m.Subscribe([]string{"GOOG"}, "2"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Subscribe to a disabled slot err = %v", err)
	}
	if err := e.m.Reconnect("2"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Reconnect of a disabled slot err = %v", err)
	}

	// Slot 3 was disabled from the start: enabling it resolves its
	// configuration now, leaving AAPL with connection_1.
	if err := e.m.SetEnabled("3", true); err != nil {
		t.Fatal(err)
	}
	e.waitSimSubs(t, "A", []string{"NVDA"})
	if err := e.m.SetEnabled("2", true); err != nil {
		t.Fatal(err)
	}
	e.waitSimSubs(t, "A", []string{"MSFT"})
	e.waitSimSubs(t, "A", []string{"AAPL"})
	e.waitConnected(t, 3)
	if err := e.m.SetEnabled("connection_3", true); err != nil {
		t.Errorf("enabling an enabled slot: %v", err)
	}
	if n := e.obs.configs.Load(); n != 3 {
		t.Errorf("ConfigChanged called %d times, want 3", n)
	}
	states := e.obs.statesOf("connection_2")
	if len(states) < 4 || !slices.Contains(states[2:], "disconnected") {
		t.Errorf("connection_2 states %v: the disable must be reported", states)
	}
}

func TestSingleMode(t *testing.T) {
	e := newEnv(t, envOpts{multi: false, defUni: "dow30", slots: []SlotConfig{
		{ID: 1},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT"}},
		{ID: 3, Enabled: true, UniverseKey: "sp500"},
	}})
	e.m.Connect()
	e.waitConnected(t, 1)
	dow := mustResolve(t, registry(t), "dow30")
	e.waitSimSubs(t, "A", dow)
	h := e.m.Health()
	if h.TotalConnections != 1 || h.Connections["connection_1"].AssignedTickers != len(dow) {
		t.Errorf("health = %+v", h)
	}
	slots := e.m.Slots()
	if !slots[0].Enabled || slots[0].UniverseKey != "dow30" || slots[1].Enabled || slots[2].Enabled {
		t.Errorf("slots = %+v", slots)
	}
	if err := e.m.SetEnabled("2", true); !errors.Is(err, ErrDisabled) || !strings.Contains(err.Error(), "USE_MULTI_CONNECTION") {
		t.Errorf("SetEnabled(2) in single mode err = %v", err)
	}
	if len(e.sim.Conns()) != 1 {
		t.Errorf("%d upstream connections in single mode", len(e.sim.Conns()))
	}
}

func TestNewLogsWarnings(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT"}},
		{ID: 2, Enabled: true, UniverseKey: "foo", Symbols: []string{"AAPL", "NVDA"}},
		{ID: 3, Enabled: true, UniverseKey: "bar"},
	}})
	logs := e.logs.String()
	var moved, unknown []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] != "warn" {
			continue
		}
		if _, ok := rec["moved"]; ok {
			moved = append(moved, rec)
		}
		if msg, _ := rec["message"].(string); strings.Contains(msg, "universe \"") {
			unknown = append(unknown, rec)
		}
	}
	if len(moved) != 1 || !strings.Contains(logs, "connection_2: AAPL (kept by connection_1)") {
		t.Errorf("want one overlap warning naming AAPL; logs:\n%s", logs)
	}
	if len(unknown) != 2 || unknown[0]["connection_id"] != "connection_2" || unknown[0]["universe_key"] != "foo" ||
		unknown[1]["connection_id"] != "connection_3" || unknown[1]["universe_key"] != "bar" {
		t.Errorf("unknown-universe warnings = %v", unknown)
	}
	slots := e.m.Slots()
	if slots[1].Note != `universe "foo" unknown; using WEBSOCKET_CONNECTION_2_SYMBOLS` || !slices.Equal(slots[1].Tickers, []string{"NVDA"}) {
		t.Errorf("slot 2 = %q %v", slots[1].Note, slots[1].Tickers)
	}
	if slots[2].Note != `universe "bar" unknown and no WEBSOCKET_CONNECTION_3_SYMBOLS` || !slots[2].Enabled || len(slots[2].Tickers) != 0 {
		t.Errorf("slot 3 = %+v", slots[2])
	}
	if strings.Contains(logs, testKey) {
		t.Error("the API key reached the logs")
	}
}

func TestDisconnectThenConnect(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 2)
	testkit.WaitFor(t, 10*time.Second, "messages", func() bool { return e.m.Health().TotalTicksReceived > 0 })
	e.m.Disconnect()
	testkit.WaitFor(t, 5*time.Second, "upstream connections closed", func() bool { return len(e.sim.Conns()) == 0 })
	h := e.m.Health()
	before := h.TotalTicksReceived
	for id, c := range h.Connections {
		if c.Status != "disconnected" {
			t.Errorf("%s status %q after Disconnect", id, c.Status)
		}
	}
	if st := e.m.Slots()[0]; st.Running || !st.Enabled || st.Reason != "disconnected by manager" {
		t.Errorf("slot after Disconnect = %+v", st)
	}
	e.m.Connect()
	e.waitConnected(t, 2)
	e.waitSimSubs(t, "A", []string{"AAPL"})
	e.waitSimSubs(t, "A", []string{"MSFT"})
	testkit.WaitFor(t, 10*time.Second, "counts to grow past the first session", func() bool {
		return e.m.Health().TotalTicksReceived > before
	})
}

func TestNewErrors(t *testing.T) {
	reg := registry(t)
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad url", Config{MultiConnection: true, Universes: reg, Slots: []SlotConfig{{ID: 1, Enabled: true, Symbols: []string{"AAPL"}}},
			Client: massive.Config{URL: "http://nope", APIKey: "k"}}, "connection_1"},
		{"no key", Config{MultiConnection: true, Universes: reg, Slots: []SlotConfig{{ID: 1}, {ID: 2, Enabled: true}},
			Client: massive.Config{URL: "ws://127.0.0.1:1/stocks"}}, "connection_2"},
		{"bad split", Config{MultiConnection: true, Universes: reg, Slots: []SlotConfig{{ID: 1, Enabled: true, Split: &Split{Index: 2, Of: 1}}}}, "split 2/1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want an error naming %s", m, err, tc.want)
			}
		})
	}
}

// TestConcurrentUse runs every public method at once so the race detector
// sees the hot path, the readers and the mutators together.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, tps: 1000, channels: []string{"T"}, slots: []SlotConfig{
		{ID: 1, Enabled: true, UniverseKey: "dow30"},
		{ID: 2, Enabled: true, Symbols: []string{"TSLA"}},
		{ID: 3, Enabled: true, Symbols: []string{"AMD"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 3)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, f := range []func(){
		func() { _ = e.m.Health(); _ = e.m.Slots() },
		func() { _, _ = e.m.TickerAssignment("AAPL"); _, _ = e.m.ConnectionTickers("1") },
		func() {
			if _, err := e.m.Subscribe([]string{"PLTR", "ORCL"}, ""); err == nil {
				_, _ = e.m.Unsubscribe([]string{"PLTR", "ORCL"})
			}
		},
		func() { _ = e.m.SetEnabled("3", false); _ = e.m.SetEnabled("3", true) },
		func() { _ = e.m.Reconnect("2") },
	} {
		wg.Add(1)
		go func(f func()) {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					f()
					time.Sleep(5 * time.Millisecond)
				}
			}
		}(f)
	}
	time.Sleep(500 * time.Millisecond)
	close(done)
	wg.Wait()
	e.waitConnected(t, 3)
	for _, sym := range []string{"PLTR", "ORCL"} {
		if id, ok := e.m.TickerAssignment(sym); ok {
			if list, _ := e.m.ConnectionTickers(id); !slices.Contains(list, sym) {
				t.Errorf("%s assigned to %s but not in its tickers", sym, id)
			}
		}
	}
}
