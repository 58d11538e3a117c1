package status

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/admin"
	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/store"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// newSource builds a Source on a real manager that is never connected: the
// document's shape, mode and hints come from configuration and slots alone.
// (The end-to-end tests in backend/app check it on live connections.)
func newSource(t *testing.T, environ ...string) *Source {
	t.Helper()
	return newSourceWith(t, nil, environ...)
}

// newSourceWith is newSource with saved overrides: when store is non-nil
// an admin.Service over it applies them to the manager first.
func newSourceWith(t *testing.T, st *store.Store, environ ...string) *Source {
	t.Helper()
	cfg, err := config.Load(append([]string{"MASSIVE_API_KEY=k", "WEBSOCKET_CONNECTION_1_SYMBOLS=AAPL,MSFT"}, environ...), false)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := universe.Default()
	if err != nil {
		t.Fatal(err)
	}
	slots := make([]manager.SlotConfig, len(cfg.Connections))
	for i, c := range cfg.Connections {
		slots[i] = manager.SlotConfig{ID: c.ID, Name: c.Name, Enabled: c.Enabled, UniverseKey: c.UniverseKey, Symbols: c.Symbols}
	}
	mgr, err := manager.New(manager.Config{Slots: slots, MultiConnection: bool(cfg.MultiConnection), DefaultUniverse: cfg.DefaultUniverse,
		Universes: reg, Store: tickstore.New(tickstore.Options{Capacity: 16}), Logger: zerolog.Nop(),
		Client: massive.Config{URL: "ws://127.0.0.1:1/stocks", APIKey: "k", Channels: cfg.Channels}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Disconnect)
	if st == nil {
		return New(cfg, mgr, nil, time.Now().Add(-time.Minute))
	}
	svc := admin.New(mgr, st, zerolog.Nop(), nil)
	if err := svc.ApplySaved(context.Background()); err != nil {
		t.Fatal(err)
	}
	return New(cfg, mgr, svc, time.Now().Add(-time.Minute))
}

// TestDocumentOverrides: saved runtime changes appear on their connection
// with who and when (unix seconds), and the tickers follow them.
func TestDocumentOverrides(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 500_000_000, time.UTC)
	st, err := store.Open(t.TempDir(), store.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if _, err := st.Commit(ctx, store.Change{
		Add:     map[string][]string{"connection_1": {"TSLA"}},
		Remove:  map[string][]string{"connection_1": {"MSFT"}},
		Enabled: map[string]bool{"connection_2": true},
	}, store.AuditEntry{User: "admin", Action: "test"}); err != nil {
		t.Fatal(err)
	}
	doc := newSourceWith(t, st, "USE_MULTI_CONNECTION=true").Document()
	c1, c2 := doc.Connections[0], doc.Connections[1]
	wantAt := live.UnixSeconds(at)
	if len(c1.Overrides.Added) != 1 || c1.Overrides.Added[0] != (TickerChangeDoc{Symbol: "TSLA", By: "admin", At: wantAt}) ||
		len(c1.Overrides.Removed) != 1 || c1.Overrides.Removed[0].Symbol != "MSFT" || c1.Overrides.Enabled != nil {
		t.Errorf("connection_1 overrides %+v", c1.Overrides)
	}
	if strings.Join(c1.Config.Tickers, ",") != "AAPL,TSLA" {
		t.Errorf("connection_1 tickers %v, want the saved changes applied", c1.Config.Tickers)
	}
	if e := c2.Overrides.Enabled; e == nil || !e.Enabled || e.By != "admin" || e.At != 1796119200.5 || !c2.Enabled {
		t.Errorf("connection_2 enabled override %+v (enabled %v)", e, c2.Enabled)
	}
	b, _ := json.Marshal(doc.Connections[2].Overrides)
	if string(b) != `{"added":[],"removed":[],"enabled":null}` {
		t.Errorf("untouched connection overrides = %s", b)
	}
}

func TestDocument(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		mode    string
		enabled []bool
		hint2   string // enable hint of slot 2
	}{
		{"single", nil, "single", []bool{true, false, false}, "USE_MULTI_CONNECTION=true and WEBSOCKET_CONNECTION_2_ENABLED=true"},
		{"multi", []string{"USE_MULTI_CONNECTION=true", "WEBSOCKET_CONNECTION_3_ENABLED=true", "WEBSOCKET_CONNECTION_3_SYMBOLS=NVDA"},
			"multi", []bool{true, false, true}, "WEBSOCKET_CONNECTION_2_ENABLED=true, or enable it here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := newSource(t, tc.environ...).Document()
			if doc.Mode != tc.mode || doc.Simulated || doc.Summary.Total != 3 || len(doc.Connections) != 3 {
				t.Fatalf("mode %q simulated %v total %d slots %d", doc.Mode, doc.Simulated, doc.Summary.Total, len(doc.Connections))
			}
			if doc.UptimeSeconds < 60 || doc.ServerTime < float64(time.Now().Add(-time.Minute).Unix()) {
				t.Errorf("uptime %v, server_time %v", doc.UptimeSeconds, doc.ServerTime)
			}
			for i, c := range doc.Connections {
				if c.ID != i+1 || c.Enabled != tc.enabled[i] || (c.EnableHint == "") != c.Enabled {
					t.Errorf("slot %d: id %d enabled %v hint %q", i+1, c.ID, c.Enabled, c.EnableHint)
				}
				// Empty lists, never null: the SPA iterates them.
				if c.Config.Tickers == nil || c.RateHistory == nil {
					t.Errorf("slot %d: nil tickers or rate history", c.ID)
				}
			}
			if !strings.Contains(doc.Connections[1].EnableHint, tc.hint2) {
				t.Errorf("slot 2 hint %q, want it to say %q", doc.Connections[1].EnableHint, tc.hint2)
			}
			if c1 := doc.Connections[0]; c1.Config.TickerCount != 2 || strings.Join(c1.Config.Tickers, ",") != "AAPL,MSFT" {
				t.Errorf("slot 1 config %+v", c1.Config)
			}
			b, err := json.Marshal(doc)
			if err != nil || !strings.Contains(string(b), `"tickers":[]`) || !strings.Contains(string(b), `"sinks":[]`) {
				t.Errorf("document JSON: %v %.300s", err, b)
			}
		})
	}
}

// TestMetricsOnlyEnabledSlots: the per-second events cover the enabled
// connections only, in slot order.
func TestMetricsOnlyEnabledSlots(t *testing.T) {
	src := newSource(t, "USE_MULTI_CONNECTION=true", "WEBSOCKET_CONNECTION_2_ENABLED=false",
		"WEBSOCKET_CONNECTION_3_ENABLED=true", "WEBSOCKET_CONNECTION_3_SYMBOLS=NVDA")
	ms := src.Metrics()
	if len(ms) != 2 || ms[0].ConnectionID != "connection_1" || ms[1].ConnectionID != "connection_3" {
		t.Fatalf("metrics for %+v, want connection_1 and connection_3", ms)
	}
	for _, m := range ms {
		if m.Uptime != 0 || m.MessageCount != 0 {
			t.Errorf("a never-connected slot reports uptime %v, %d messages", m.Uptime, m.MessageCount)
		}
	}
}

// fixedSink is a Sink whose document is given: the adapter of the real
// Redis publisher is tested end to end in backend/app.
type fixedSink SinkDoc

func (f fixedSink) SinkDoc() SinkDoc { return SinkDoc(f) }

// TestSinks: the document lists the sinks given to New, in order, with
// their figures as the sinks report them.
func TestSinks(t *testing.T) {
	base := newSource(t)
	a := fixedSink{Name: "redis", State: "down", LastError: "connection refused", Target: "redis://:xxxxx@cache:6379", Dropped: 7, QueueCapacity: 1024}
	b := fixedSink{Name: "other", State: "connected", Published: 5}
	src := New(base.cfg, base.mgr, nil, base.started, a, b)
	doc := src.Document()
	if len(doc.Sinks) != 2 || doc.Sinks[0] != SinkDoc(a) || doc.Sinks[1] != SinkDoc(b) {
		t.Fatalf("sinks %+v", doc.Sinks)
	}
	raw, err := json.Marshal(doc.Sinks[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"name":"redis"`, `"state":"down"`, `"last_error":"connection refused"`, `"dropped":7`,
		`"queue_capacity":1024`, `"published_per_second":0`, `"queue_depth":0`, `"required":false`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("sink JSON lacks %s: %s", key, raw)
		}
	}
}
