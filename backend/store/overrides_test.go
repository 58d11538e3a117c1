package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestTickerOverrides walks a sequence of admin actions and checks the
// stored overrides after each: adding cancels a removal and vice versa,
// repeats change nothing (first by/at kept), reset clears a connection.
func TestTickerOverrides(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

	type tick = TickerOverride
	steps := []struct {
		name string
		do   func() error
		want []ConnOverride
	}{{
		name: "add runtime tickers",
		do:   func() error { return s.AddTickers(ctx, "connection_1", []string{"NVDA", "AMD"}, "alice") },
		want: []ConnOverride{{ConnectionID: "connection_1", Tickers: []tick{
			{"AMD", TickerAdded, "alice", at(0)}, {"NVDA", TickerAdded, "alice", at(0)}}}},
	}, {
		name: "remove a configured ticker",
		do:   func() error { return s.RemoveTickers(ctx, "connection_1", []string{"AAPL"}, "bob") },
		want: []ConnOverride{{ConnectionID: "connection_1", Tickers: []tick{
			{"AAPL", TickerRemoved, "bob", at(1)}, {"AMD", TickerAdded, "alice", at(0)}, {"NVDA", TickerAdded, "alice", at(0)}}}},
	}, {
		name: "adding again keeps the first by/at",
		do:   func() error { return s.AddTickers(ctx, "connection_1", []string{"NVDA"}, "bob") },
		want: []ConnOverride{{ConnectionID: "connection_1", Tickers: []tick{
			{"AAPL", TickerRemoved, "bob", at(1)}, {"AMD", TickerAdded, "alice", at(0)}, {"NVDA", TickerAdded, "alice", at(0)}}}},
	}, {
		name: "re-adding the removed ticker cancels the removal; removing an added one cancels the add",
		do: func() error {
			if err := s.AddTickers(ctx, "connection_1", []string{"AAPL"}, "carol"); err != nil {
				return err
			}
			return s.RemoveTickers(ctx, "connection_1", []string{"AMD"}, "carol")
		},
		want: []ConnOverride{{ConnectionID: "connection_1", Tickers: []tick{{"NVDA", TickerAdded, "alice", at(0)}}}},
	}, {
		name: "disable another connection",
		do:   func() error { return s.SetEnabled(ctx, "connection_3", false, "alice") },
		want: []ConnOverride{
			{ConnectionID: "connection_1", Tickers: []tick{{"NVDA", TickerAdded, "alice", at(0)}}},
			{ConnectionID: "connection_3", Enabled: &EnabledOverride{false, "alice", at(4)}}},
	}, {
		name: "enable it again: latest by/at",
		do:   func() error { return s.SetEnabled(ctx, "connection_3", true, "bob") },
		want: []ConnOverride{
			{ConnectionID: "connection_1", Tickers: []tick{{"NVDA", TickerAdded, "alice", at(0)}}},
			{ConnectionID: "connection_3", Enabled: &EnabledOverride{true, "bob", at(5)}}},
	}, {
		name: "reset connection_1",
		do: func() error {
			had, err := s.ResetConnection(ctx, "connection_1")
			if err == nil && !had {
				return errors.New("ResetConnection reported nothing removed")
			}
			return err
		},
		want: []ConnOverride{{ConnectionID: "connection_3", Enabled: &EnabledOverride{true, "bob", at(5)}}},
	}, {
		name: "reset a connection without overrides",
		do: func() error {
			had, err := s.ResetConnection(ctx, "connection_9")
			if err == nil && had {
				return errors.New("ResetConnection reported removals on a clean connection")
			}
			return err
		},
		want: []ConnOverride{{ConnectionID: "connection_3", Enabled: &EnabledOverride{true, "bob", at(5)}}},
	}}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("step %d (%s): %v", i, st.name, err)
		}
		got, err := s.Overrides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("after step %d (%s):\n got %+v\nwant %+v", i, st.name, got, st.want)
		}
		clk.Advance(time.Minute)
	}
}

func TestOverridesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	a, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddTickers(ctx, "connection_2", []string{"TSLA"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetEnabled(ctx, "connection_1", false, "admin"); err != nil {
		t.Fatal(err)
	}
	before, err := a.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := openT(t, dir)
	after, err := b.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || !reflect.DeepEqual(before, after) {
		t.Errorf("after restart\n got %+v\nwant %+v", after, before)
	}
}

func TestOverridesRefuseBadInput(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	long := string(make([]byte, maxIDLen+1))
	cases := map[string]error{
		"empty connection id":  s.SetEnabled(ctx, "", true, "a"),
		"long connection id":   s.SetEnabled(ctx, long, true, "a"),
		"no symbols":           s.AddTickers(ctx, "connection_1", nil, "a"),
		"empty symbol":         s.AddTickers(ctx, "connection_1", []string{"AAPL", ""}, "a"),
		"spaced symbol":        s.RemoveTickers(ctx, "connection_1", []string{" AAPL"}, "a"),
		"reset empty id":       second(s.ResetConnection(ctx, "")),
		"symbol with only tab": s.AddTickers(ctx, "connection_1", []string{"\t"}, "a"),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// Nothing half-written: the bad list held a good symbol too.
	if got, err := s.Overrides(ctx); err != nil || len(got) != 0 {
		t.Errorf("overrides after refused input = %+v, %v", got, err)
	}
}

func second[T any](_ T, err error) error { return err }
