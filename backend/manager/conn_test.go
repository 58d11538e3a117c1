package manager

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// TestResetAndRestoreConn: runtime changes on a connection are undone by
// ResetConnection (the simulator's table follows), a ticker another
// connection took meanwhile is skipped, and RestoreConn puts back a state
// read earlier, enabled flag included.
func TestResetAndRestoreConn(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT"}},
		{ID: 2, Enabled: true, Symbols: []string{"AMZN", "GOOGL"}},
		{ID: 3, Enabled: false, Symbols: []string{"NVDA"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 2)

	if _, err := e.m.Unsubscribe([]string{"AMZN"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Subscribe([]string{"AMZN"}, "connection_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Subscribe([]string{"TSLA", "META"}, "connection_2"); err != nil {
		t.Fatal(err)
	}
	before, err := e.m.ConnState("connection_2")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Tickers, []string{"GOOGL", "META", "TSLA"}) || !before.Enabled {
		t.Fatalf("before reset: %+v", before)
	}
	if err := e.m.SetEnabled("connection_2", false); err != nil {
		t.Fatal(err)
	}

	ch, err := e.m.ResetConnection("2")
	if err != nil {
		t.Fatal(err)
	}
	want := ConnChange{Removed: []string{"META", "TSLA"}, Skipped: []string{"AMZN"}}
	if !reflect.DeepEqual(ch, want) {
		t.Errorf("reset change = %+v, want %+v", ch, want)
	}
	if st, _ := e.m.ConnState("2"); !st.Enabled || !slices.Equal(st.Tickers, []string{"GOOGL"}) {
		t.Errorf("after reset: %+v", st)
	}
	e.waitSimSubs(t, "A", []string{"GOOGL"})
	for _, sym := range []string{"TSLA", "META"} {
		if _, ok := e.m.TickerAssignment(sym); ok {
			t.Errorf("%s still assigned after reset", sym)
		}
	}

	// Undo: the state read before comes back whole, upstream too.
	ch, err = e.m.RestoreConn("connection_2", before)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Added, []string{"META", "TSLA"}) || len(ch.Removed) != 0 {
		t.Errorf("restore change = %+v", ch)
	}
	e.waitSimSubs(t, "A", []string{"GOOGL", "META", "TSLA"})

	// A slot disabled at start is configured with no tickers; resetting it
	// after a runtime enable disables it and frees what it held, and a
	// later enable resolves its configuration again.
	if err := e.m.SetEnabled("3", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.ResetConnection("connection_3"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.m.ConnState("3"); st.Enabled || len(st.Tickers) != 0 {
		t.Errorf("slot 3 after reset: %+v", st)
	}
	if err := e.m.SetEnabled("3", true); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.m.ConnState("3"); !slices.Equal(st.Tickers, []string{"NVDA"}) {
		t.Errorf("slot 3 re-enabled: %+v", st)
	}

	if _, err := e.m.ResetConnection("9"); !errors.Is(err, ErrUnknownConnection) {
		t.Errorf("reset of an unknown connection: %v", err)
	}
	if c, err := e.m.Configured("connection_1"); err != nil || !slices.Equal(c.Tickers, []string{"AAPL", "MSFT"}) || !c.Enabled {
		t.Errorf("Configured(1) = %+v, %v", c, err)
	}
}
