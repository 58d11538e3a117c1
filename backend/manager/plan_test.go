package manager

import (
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/universe"
)

func registry(t testing.TB) *universe.Registry {
	t.Helper()
	reg, err := universe.Default()
	if err != nil {
		t.Fatalf("universe.Default: %v", err)
	}
	return reg
}

func mustResolve(t *testing.T, reg *universe.Registry, key string) []string {
	t.Helper()
	list, err := reg.Resolve(key)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", key, err)
	}
	return list
}

// threeSlots returns slots 1..3 with the given per-slot tweaks applied.
func threeSlots(tweak func(sc []SlotConfig)) []SlotConfig {
	sc := []SlotConfig{{ID: 1}, {ID: 2}, {ID: 3}}
	if tweak != nil {
		tweak(sc)
	}
	return sc
}

func TestPlan(t *testing.T) {
	reg := registry(t)
	top500 := mustResolve(t, reg, "market_leaders:top_500")
	top50 := mustResolve(t, reg, "market_leaders:top_50")
	dow := mustResolve(t, reg, "dow30")
	union := mustResolve(t, reg, "dow30:nasdaq100")

	type want struct {
		enabled bool
		count   int
		source  string
		note    string // substring; "" means the note must be empty
		first   string // first ticker, when count > 0
	}
	cases := []struct {
		name  string
		cfg   Config
		want  []want
		moved []string // moved.String() lines
	}{
		{
			name: "multi: top_500 split three ways covers every ticker once",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				for i := range sc {
					sc[i].Enabled = true
					sc[i].UniverseKey = "market_leaders:top_500"
					sc[i].Split = &Split{Index: i + 1, Of: 3}
				}
			})},
			want: []want{
				{true, len(top500) / 3, SourceUniverse, "", top500[0]},
				{true, 2*len(top500)/3 - len(top500)/3, SourceUniverse, "", top500[len(top500)/3]},
				{true, len(top500) - 2*len(top500)/3, SourceUniverse, "", top500[2*len(top500)/3]},
			},
		},
		{
			name: "single: slot 1 falls back to the default universe, others never run",
			cfg: Config{MultiConnection: false, DefaultUniverse: "market_leaders:top_50", Slots: threeSlots(func(sc []SlotConfig) {
				sc[1].Enabled, sc[1].Symbols = true, []string{"AAPL"}
				sc[2].Enabled, sc[2].UniverseKey = true, "dow30"
			})},
			want: []want{
				{true, len(top50), SourceUniverse, "", top50[0]},
				{false, 0, SourceNone, "", ""},
				{false, 0, SourceNone, "", ""},
			},
		},
		{
			name: "single: slot 1's own symbols win over the default universe",
			cfg: Config{DefaultUniverse: "market_leaders:top_50", Slots: threeSlots(func(sc []SlotConfig) {
				sc[0].Symbols = []string{"TSLA", "AAPL", "TSLA"}
			})},
			want: []want{{true, 2, SourceSymbols, "", "TSLA"}, {}, {}},
		},
		{
			name: "multi: unknown universe falls back to symbols with a note",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[1].Enabled, sc[1].UniverseKey, sc[1].Symbols = true, "no_such_universe", []string{"AAPL", "NVDA"}
			})},
			want: []want{
				{false, 0, SourceNone, "", ""},
				{true, 2, SourceSymbols, `universe "no_such_universe" unknown; using WEBSOCKET_CONNECTION_2_SYMBOLS`, "AAPL"},
				{false, 0, SourceNone, "", ""},
			},
		},
		{
			name: "multi: unknown universe and no symbols leaves an enabled slot empty, with the reason",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[0].Enabled, sc[0].Symbols = true, []string{"AAPL"}
				sc[1].Enabled, sc[1].UniverseKey = true, "foo"
			})},
			want: []want{
				{true, 1, SourceSymbols, "", "AAPL"},
				{true, 0, SourceNone, `universe "foo" unknown and no WEBSOCKET_CONNECTION_2_SYMBOLS`, ""},
				{false, 0, SourceNone, "", ""},
			},
		},
		{
			name: "multi: enabled slot with nothing configured says so",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[2].Enabled = true
			})},
			want: []want{{}, {}, {true, 0, SourceNone, "no universe key and no WEBSOCKET_CONNECTION_3_SYMBOLS", ""}},
		},
		{
			name: "multi: union of universes",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[0].Enabled, sc[0].UniverseKey = true, "dow30:nasdaq100"
			})},
			want: []want{{true, len(union), SourceUniverse, "", union[0]}, {}, {}},
		},
		{
			name: "multi: overlaps stay with the lowest slot",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[0].Enabled, sc[0].UniverseKey = true, "dow30"
				sc[1].Enabled, sc[1].Symbols = true, []string{"ZZZZ", "AAPL", "MSFT"}
				sc[2].Enabled, sc[2].Symbols = true, []string{"ZZZZ", "AAPL", "QQQ"}
			})},
			want: []want{
				{true, len(dow), SourceUniverse, "", dow[0]},
				{true, 1, SourceSymbols, "", "ZZZZ"},
				{true, 1, SourceSymbols, "", "QQQ"},
			},
			moved: []string{
				"connection_2: AAPL,MSFT (kept by connection_1)",
				"connection_3: AAPL (kept by connection_1)",
				"connection_3: ZZZZ (kept by connection_2)",
			},
		},
		{
			name: "multi: a slot whose every ticker is taken gets a note",
			cfg: Config{MultiConnection: true, Slots: threeSlots(func(sc []SlotConfig) {
				sc[0].Enabled, sc[0].Symbols = true, []string{"AAPL"}
				sc[1].Enabled, sc[1].Symbols = true, []string{"AAPL"}
			})},
			want:  []want{{true, 1, SourceSymbols, "", "AAPL"}, {true, 0, SourceSymbols, "already assigned", ""}, {}},
			moved: []string{"connection_2: AAPL (kept by connection_1)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Universes = reg
			pr, err := plan(tc.cfg)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if len(pr.slots) != len(tc.want) {
				t.Fatalf("got %d slots, want %d", len(pr.slots), len(tc.want))
			}
			for i, w := range tc.want {
				p := pr.slots[i]
				if w.source == "" {
					w.source = SourceNone
				}
				if p.enabled != w.enabled || len(p.tickers) != w.count || p.source != w.source {
					t.Errorf("slot %d: enabled=%v count=%d source=%q, want %v %d %q",
						i+1, p.enabled, len(p.tickers), p.source, w.enabled, w.count, w.source)
				}
				if (w.note == "") != (p.note == "") || !strings.Contains(p.note, w.note) {
					t.Errorf("slot %d: note %q, want %q", i+1, p.note, w.note)
				}
				if w.count > 0 && p.tickers[0] != w.first {
					t.Errorf("slot %d: first ticker %q, want %q", i+1, p.tickers[0], w.first)
				}
			}
			var got []string
			for _, mv := range pr.moved {
				got = append(got, mv.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.moved, "\n") {
				t.Errorf("moved:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.moved, "\n"))
			}
			// No ticker may be on two slots.
			seen := map[string]int{}
			for _, p := range pr.slots {
				for _, sym := range p.tickers {
					if o, dup := seen[sym]; dup {
						t.Errorf("%s on slots %d and %d", sym, o, p.id)
					}
					seen[sym] = p.id
				}
			}
		})
	}
}

func TestPlanSplitCoversUniverse(t *testing.T) {
	reg := registry(t)
	for _, of := range []int{1, 2, 3, 7} {
		cfg := Config{MultiConnection: true, Universes: reg}
		for i := 1; i <= of; i++ {
			cfg.Slots = append(cfg.Slots, SlotConfig{ID: i, Enabled: true, UniverseKey: "market_leaders:top_500", Split: &Split{Index: i, Of: of}})
		}
		pr, err := plan(cfg)
		if err != nil {
			t.Fatalf("of=%d: %v", of, err)
		}
		total := 0
		for _, p := range pr.slots {
			total += len(p.tickers)
		}
		if want := len(mustResolve(t, reg, "market_leaders:top_500")); total != want || len(pr.moved) != 0 {
			t.Errorf("of=%d: %d tickers, %d moved; want %d, 0", of, total, len(pr.moved), want)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	cases := []struct {
		name  string
		slots []SlotConfig
		want  string
	}{
		{"no slots", nil, "no connection slots"},
		{"misnumbered", []SlotConfig{{ID: 1}, {ID: 3}}, "slot 2 has id 3"},
		{"split index zero", []SlotConfig{{ID: 1, Enabled: true, Split: &Split{Index: 0, Of: 3}}}, "connection_1: split 0/3"},
		{"split index past of", []SlotConfig{{ID: 1, Enabled: true, Split: &Split{Index: 4, Of: 3}}}, "split 4/3"},
		{"split of zero", []SlotConfig{{ID: 1, Enabled: true, Split: &Split{Index: 1, Of: 0}}}, "split 1/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan(Config{MultiConnection: true, Slots: tc.slots})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
