package web

import (
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
	"github.com/tickwatch/tickwatch/backend/universe"
)

// newIdleManager is a real manager that is never connected: its operations
// fail (or not) exactly as in production, without any network.
func newIdleManager(t *testing.T, multi bool) *manager.Manager {
	t.Helper()
	reg, err := universe.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(manager.Config{
		Slots: []manager.SlotConfig{
			{ID: 1, Name: "primary", Enabled: true, Symbols: []string{"AAPL", "MSFT"}},
			{ID: 2, Name: "secondary", Enabled: multi, Symbols: []string{"AMZN"}},
			{ID: 3, Name: "tertiary", Enabled: false, Symbols: []string{"NVDA"}},
		},
		MultiConnection: multi,
		Client:          massive.Config{URL: "ws://127.0.0.1:1/stocks", APIKey: "k", Channels: []string{"A"}, Logger: zerolog.Nop()},
		Universes:       reg,
		Store:           tickstore.New(tickstore.Options{Capacity: 16}),
		Logger:          zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Disconnect)
	return m
}

// TestManagerErrorDetails: the manager's real errors become one status, one
// short "error" and a detail a person reads once: no operation prefix, no
// repeated sentinel.
func TestManagerErrorDetails(t *testing.T) {
	multi := newIdleManager(t, true)
	single := newIdleManager(t, false)
	_, symErr := massive.NormalizeTicker("A$B")
	if symErr == nil {
		t.Fatal(`universe accepts "A$B"; pick another invalid symbol`)
	}
	subscribe := func(m *manager.Manager, tickers []string, conn string) error {
		_, err := m.Subscribe(tickers, conn)
		return err
	}
	tests := []struct {
		name            string
		err             error
		status          int
		message, detail string
	}{
		{"already assigned", subscribe(multi, []string{"AAPL"}, ""), 409, "ticker already assigned", "AAPL is already on connection_1"},
		{"invalid symbol", subscribe(multi, []string{"A$B"}, ""), 400, "invalid symbol", symErr.Error()},
		{"no tickers", subscribe(multi, nil, ""), 400, "invalid symbol", "no tickers given"},
		{"disabled target", subscribe(multi, []string{"TSLA"}, "connection_3"), 409, "connection disabled", "connection_3 is disabled"},
		{"unknown connection", subscribe(multi, []string{"TSLA"}, "connection_9"), 404, "unknown connection", `"connection_9" (want connection_1..connection_3)`},
		{"not assigned", func() error { _, err := multi.Unsubscribe([]string{"ZZZZ"}); return err }(), 404, "ticker not assigned", "ZZZZ is not assigned to any connection"},
		{"reconnect disabled", multi.Reconnect("connection_3"), 409, "connection disabled", "connection_3 is disabled"},
		{"single mode", single.SetEnabled("connection_2", true), 409, "connection disabled",
			"connection_2 is disabled: single-connection mode (USE_MULTI_CONNECTION=false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the manager accepted the operation")
			}
			var ae *apiError
			if !errors.As(managerError(tt.err), &ae) {
				t.Fatalf("managerError(%q) is not an API error", tt.err)
			}
			if ae.Status != tt.status || ae.Message != tt.message || ae.Detail != tt.detail {
				t.Errorf("managerError(%q) = %d %q %q, want %d %q %q", tt.err, ae.Status, ae.Message, ae.Detail, tt.status, tt.message, tt.detail)
			}
		})
	}
	// Anything else is left for the error handler (500, logged).
	other := errors.New("reconnect: connection_1: not started")
	if got := managerError(other); got != other {
		t.Errorf("managerError(%q) = %v, want it unchanged", other, got)
	}
}
