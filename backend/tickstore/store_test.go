package tickstore

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newFakeClock is a manually advanced clock for the tests.
func newFakeClock() *testkit.Clock { return testkit.NewClock(time.Unix(1_700_000_000, 0)) }

func TestLatestRules(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		ticks []Tick
		want  Latest
	}{
		{
			name:  "change vs first price when open unknown",
			ticks: []Tick{{Price: 100, Size: 1, Time: 1}, {Price: 110, Size: 2, Time: 2}},
			want:  Latest{Tick: Tick{Price: 110, Size: 2, Time: 2}, ChangePct: 10, Count: 2},
		},
		{
			name:  "change vs day open when known",
			ticks: []Tick{{Price: 100}, {Price: 55, DayOpen: 50}},
			want:  Latest{Tick: Tick{Price: 55, DayOpen: 50}, ChangePct: 10, Count: 2},
		},
		{
			name:  "day open and volume are sticky across kinds without them",
			ticks: []Tick{{Price: 90, DayOpen: 100, DayVolume: 5000, Kind: massive.KindSecondAgg}, {Price: 120, Kind: massive.KindTrade}},
			want:  Latest{Tick: Tick{Price: 120, DayOpen: 100, DayVolume: 5000, Kind: massive.KindTrade}, ChangePct: 20, Count: 2},
		},
		{
			name:  "first tick has zero change",
			ticks: []Tick{{Price: 42}},
			want:  Latest{Tick: Tick{Price: 42}, Count: 1},
		},
		{
			name:  "priceless tick keeps the last price",
			ticks: []Tick{{Price: 100}, {Price: 105}, {Price: 0, Size: 7, Time: 9}},
			want:  Latest{Tick: Tick{Price: 105, Size: 7, Time: 9}, ChangePct: 5, Count: 3},
		},
		{
			name:  "first positive price is the base",
			ticks: []Tick{{Price: 0}, {Price: 200}, {Price: 150}},
			want:  Latest{Tick: Tick{Price: 150}, ChangePct: -25, Count: 3},
		},
		{
			name:  "non-finite numbers are dropped",
			ticks: []Tick{{Price: 100}, {Price: nan, Size: math.Inf(1), DayOpen: nan, DayVolume: math.Inf(-1)}},
			want:  Latest{Tick: Tick{Price: 100}, Count: 2},
		},
		{
			name:  "negative day open ignored",
			ticks: []Tick{{Price: 10}, {Price: 12, DayOpen: -1}},
			want:  Latest{Tick: Tick{Price: 12}, ChangePct: 20, Count: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			c := s.Conn("connection_1")
			for _, tk := range tt.ticks {
				tk.Symbol = "AAPL"
				c.Append(tk)
			}
			got, ok := s.Latest("AAPL")
			if !ok {
				t.Fatal("no latest")
			}
			want := tt.want
			want.Symbol, want.ConnectionID = "AAPL", "connection_1"
			if math.Abs(got.ChangePct-want.ChangePct) < 1e-9 {
				got.ChangePct = want.ChangePct
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLatestAcrossConnections(t *testing.T) {
	s := New(Options{})
	s.Conn("connection_1").Append(Tick{Symbol: "MSFT", Price: 1})
	s.Conn("connection_2").Append(Tick{Symbol: "MSFT", Price: 2})
	got, _ := s.Latest("MSFT")
	if got.ConnectionID != "connection_2" || got.Price != 2 || got.Count != 2 {
		t.Errorf("later tick should win: %+v", got)
	}
	if _, ok := s.Latest("NOPE"); ok {
		t.Error("unknown symbol reported")
	}
	if s.Conn("connection_1") != s.Conn("connection_1") {
		t.Error("Conn does not return the same connection")
	}
	var ids []string
	for _, c := range s.Conns(nil) {
		ids = append(ids, c.ID())
	}
	if !slices.Equal(ids, []string{"connection_1", "connection_2"}) {
		t.Errorf("Conns = %q", ids)
	}
}

func symbols(ls []Latest) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Symbol
	}
	return out
}

func TestDirtySet(t *testing.T) {
	type step struct {
		append []string // symbols to append, in order, on connection_1
		forget string
		want   []string // TakeDirty result after this step, in order
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first change order, each symbol once", []step{{append: []string{"B", "A", "B", "C", "A"}, want: []string{"B", "A", "C"}}}},
		{"cleared after take", []step{{append: []string{"A"}, want: []string{"A"}}, {want: []string{}}}},
		{"marked again after take", []step{{append: []string{"A", "B"}, want: []string{"A", "B"}}, {append: []string{"B"}, want: []string{"B"}}}},
		{"forget drops pending change", []step{{append: []string{"A", "B", "C"}, forget: "B", want: []string{"A", "C"}}}},
		{"forget unknown is a no-op", []step{{append: []string{"A"}, forget: "ZZZ", want: []string{"A"}}}},
		{"forgotten symbol returns on a new tick", []step{{append: []string{"A"}, forget: "A", want: []string{}}, {append: []string{"A"}, want: []string{"A"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			c := s.Conn("connection_1")
			var buf []Latest
			for i, st := range tt.steps {
				for j, sym := range st.append {
					c.Append(Tick{Symbol: sym, Price: float64(j + 1)})
				}
				if st.forget != "" {
					s.Forget(st.forget)
				}
				buf = s.TakeDirty(buf)
				if got := symbols(buf); !slices.Equal(got, st.want) {
					t.Fatalf("step %d: TakeDirty = %q, want %q", i, got, st.want)
				}
			}
		})
	}
}

func TestDirtyCarriesLatestValue(t *testing.T) {
	s := New(Options{})
	c := s.Conn("c")
	c.Append(Tick{Symbol: "A", Price: 1})
	c.Append(Tick{Symbol: "A", Price: 3})
	got := s.TakeDirty(nil)
	if len(got) != 1 || got[0].Price != 3 || got[0].Count != 2 {
		t.Fatalf("TakeDirty = %+v", got)
	}
}

func TestAllLatestSortedAndForget(t *testing.T) {
	s := New(Options{})
	c := s.Conn("c")
	for _, sym := range []string{"MSFT", "AAPL", "BRK.B", "ZS", "A"} {
		c.Append(Tick{Symbol: sym, Price: 1})
	}
	if got := symbols(s.AllLatest(nil)); !slices.Equal(got, []string{"A", "AAPL", "BRK.B", "MSFT", "ZS"}) {
		t.Fatalf("AllLatest = %q", got)
	}
	s.Forget("BRK.B")
	s.Forget("A")
	if got := symbols(s.AllLatest(nil)); !slices.Equal(got, []string{"AAPL", "MSFT", "ZS"}) {
		t.Fatalf("after Forget: %q", got)
	}
	if _, ok := s.Latest("A"); ok || s.Len() != 3 {
		t.Fatalf("forgotten symbol still present, Len=%d", s.Len())
	}
}

func TestRing(t *testing.T) {
	ticks := func(n int) []Tick {
		out := make([]Tick, n)
		for i := range out {
			out[i] = Tick{Symbol: "S", Price: float64(i + 1)}
		}
		return out
	}
	prices := func(ts []Tick) []float64 {
		var out []float64
		for _, t := range ts {
			out = append(out, t.Price)
		}
		return out
	}
	tests := []struct {
		name     string
		capacity int
		appended int
		k        int
		want     []float64
	}{
		{"empty", 4, 0, 3, nil},
		{"partial", 4, 3, 10, []float64{3, 2, 1}},
		{"exactly full", 4, 4, 4, []float64{4, 3, 2, 1}},
		{"wrapped", 4, 10, 10, []float64{10, 9, 8, 7}},
		{"wrapped, k smaller", 4, 10, 2, []float64{10, 9}},
		{"wrapped at boundary", 4, 8, 4, []float64{8, 7, 6, 5}},
		{"k zero", 4, 3, 0, nil},
		{"k negative", 4, 3, -1, nil},
		{"capacity one", 1, 5, 3, []float64{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Capacity: tt.capacity})
			c := s.Conn("c")
			for _, tk := range ticks(tt.appended) {
				c.Append(tk)
			}
			got := c.Recent(tt.k, nil)
			if !slices.Equal(prices(got), tt.want) {
				t.Errorf("Recent(%d) = %v, want %v", tt.k, prices(got), tt.want)
			}
			if c.Count() != uint64(tt.appended) {
				t.Errorf("Count = %d, want %d", c.Count(), tt.appended)
			}
		})
	}
}

func TestRecentIsACopy(t *testing.T) {
	s := New(Options{Capacity: 8})
	c := s.Conn("c")
	c.Append(Tick{Symbol: "A", Price: 1})
	got := c.Recent(1, nil)
	got[0].Price = 99
	if again := c.Recent(1, got); again[0].Price != 1 {
		t.Fatalf("Recent exposed the ring: %v", again[0].Price)
	}
}

func TestAppendBatchMatchesAppend(t *testing.T) {
	batch := []Tick{{Symbol: "A", Price: 1}, {Symbol: "B", Price: 2, DayOpen: 1}, {Symbol: "A", Price: 3}}
	orig := slices.Clone(batch)
	one, many := New(Options{}), New(Options{})
	for _, tk := range batch {
		one.Conn("c").Append(tk)
	}
	many.Conn("c").AppendBatch(batch)
	many.Conn("c").AppendBatch(nil)
	if !slices.Equal(one.AllLatest(nil), many.AllLatest(nil)) ||
		!slices.Equal(one.Conn("c").Recent(5, nil), many.Conn("c").Recent(5, nil)) ||
		many.Conn("c").Count() != 3 {
		t.Fatal("AppendBatch differs from repeated Append")
	}
	if !slices.Equal(batch, orig) {
		t.Fatal("AppendBatch modified its argument")
	}
}

// TestAppendBatchCleansOnlyItsCopy: bad numbers are cleaned in the ring, not
// in the caller's batch, which AppendBatch reads in place.
func TestAppendBatchCleansOnlyItsCopy(t *testing.T) {
	s := New(Options{Capacity: 8})
	c := s.Conn("c")
	batch := []Tick{{Symbol: "A", Price: math.NaN(), Size: math.Inf(1), DayOpen: math.Inf(-1), DayVolume: math.NaN(), Kind: massive.KindTrade}}
	c.AppendBatch(batch)
	if b := batch[0]; !math.IsNaN(b.Price) || !math.IsInf(b.Size, 1) || !math.IsInf(b.DayOpen, -1) || !math.IsNaN(b.DayVolume) {
		t.Fatalf("AppendBatch modified its argument: %+v", b)
	}
	if r := c.Recent(1, nil)[0]; r != (Tick{Symbol: "A", Kind: massive.KindTrade}) {
		t.Fatalf("ring holds %+v, want the cleaned tick", r)
	}
}

func TestAppendBatchLarge(t *testing.T) {
	s := New(Options{Capacity: 1000})
	c := s.Conn("c")
	batch := make([]Tick, 2*batchChunk+3)
	for i := range batch {
		batch[i] = Tick{Symbol: "A", Price: float64(i + 1)}
	}
	c.AppendBatch(batch)
	l, _ := s.Latest("A")
	if c.Count() != uint64(len(batch)) || l.Count != uint64(len(batch)) || l.Price != float64(len(batch)) {
		t.Fatalf("Count %d, latest %+v", c.Count(), l)
	}
	if r := c.Recent(len(batch), nil); len(r) != len(batch) || r[0].Price != float64(len(batch)) || r[len(r)-1].Price != 1 {
		t.Fatal("ring order broken across chunks")
	}
}

func TestSymbolNotRetained(t *testing.T) {
	// Decoders may hand out strings backed by a reused buffer: the store must
	// keep its own copy.
	buf := []byte("AAPL")
	sym := unsafe.String(&buf[0], len(buf))
	s := New(Options{})
	c := s.Conn("c")
	c.Append(Tick{Symbol: sym, Price: 1})
	c.Append(Tick{Symbol: sym, Price: 2})
	copy(buf, "XXXX")
	if l, ok := s.Latest("AAPL"); !ok || l.Symbol != "AAPL" {
		t.Fatalf("latest key or symbol aliased the caller's buffer: %+v", l)
	}
	for _, tk := range c.Recent(2, nil) {
		if tk.Symbol != "AAPL" {
			t.Fatalf("ring aliased the caller's buffer: %q", tk.Symbol)
		}
	}
}

func TestMaxSymbols(t *testing.T) {
	s := New(Options{MaxSymbols: 2})
	c := s.Conn("c")
	for _, sym := range []string{"A", "B", "C", "A"} {
		c.Append(Tick{Symbol: sym, Price: 1})
	}
	if got := symbols(s.AllLatest(nil)); !slices.Equal(got, []string{"A", "B"}) {
		t.Fatalf("AllLatest = %q", got)
	}
	if c.Count() != 4 || c.Recent(1, nil)[0].Symbol != "A" || c.Recent(2, nil)[1].Symbol != "C" {
		t.Fatal("ticks beyond MaxSymbols must still reach the ring and counters")
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		in   Options
		want Options
	}{
		{Options{}, Options{Capacity: 4096, Window: 10 * time.Second, History: 60, MaxSymbols: 100_000}},
		{Options{Capacity: -1, Window: -1, History: -5, MaxSymbols: -1}, Options{Capacity: 4096, Window: 10 * time.Second, History: 60, MaxSymbols: 100_000}},
		{Options{Capacity: 8, Window: 1500 * time.Millisecond, History: 5, MaxSymbols: 3}, Options{Capacity: 8, Window: 2 * time.Second, History: 5, MaxSymbols: 3}},
		{Options{Window: time.Nanosecond}, Options{Capacity: 4096, Window: time.Second, History: 60, MaxSymbols: 100_000}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.in), func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.Now == nil {
				t.Fatal("no default clock")
			}
			if got.Capacity != tt.want.Capacity || got.Window != tt.want.Window ||
				got.History != tt.want.History || got.MaxSymbols != tt.want.MaxSymbols {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLastTime(t *testing.T) {
	clk := newFakeClock()
	s := New(Options{Now: clk.Now})
	c := s.Conn("c")
	if !c.LastTime().IsZero() {
		t.Fatal("LastTime before any tick")
	}
	clk.Advance(time.Second)
	c.Append(Tick{Symbol: "A"})
	want := clk.Now()
	clk.Advance(time.Minute)
	if got := c.LastTime(); !got.Equal(want) {
		t.Fatalf("LastTime = %v, want %v", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	s := New(Options{})
	c := s.Conn("c")
	syms := make([]string, 100)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%03d", i)
		c.Append(Tick{Symbol: syms[i], Price: 1})
	}
	batch := make([]Tick, 50)
	for i := range batch {
		batch[i] = Tick{Symbol: syms[i*2], Price: 2}
	}
	latest := make([]Latest, 0, 200)
	ticks := make([]Tick, 0, 100)
	hist := make([]float64, 0, 60)
	i := 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Append", func() { i++; c.Append(Tick{Symbol: syms[i%len(syms)], Price: float64(i), Size: 1, Time: int64(i)}) }},
		{"AppendBatch", func() { c.AppendBatch(batch) }},
		{"TakeDirty", func() { c.Append(Tick{Symbol: syms[3], Price: 1}); latest = s.TakeDirty(latest) }},
		{"AllLatest", func() { latest = s.AllLatest(latest) }},
		{"Latest", func() { _, _ = s.Latest(syms[7]) }},
		{"Recent", func() { ticks = c.Recent(100, ticks) }},
		{"Rate", func() { _ = c.Rate() }},
		{"History", func() { hist = c.History(hist) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(200, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per call, want 0", tt.name, n)
		}
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	s := New(Options{Capacity: 256})
	const writers, perWriter, syms = 3, 2000, 50
	names := make([][]string, writers)
	for w := range names {
		for i := range syms {
			names[w] = append(names[w], fmt.Sprintf("W%dS%d", w, i))
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			c := s.Conn(fmt.Sprintf("connection_%d", w+1))
			batch := make([]Tick, 10)
			for i := 0; i < perWriter; i += len(batch) * 2 {
				for j := range len(batch) {
					c.Append(Tick{Symbol: names[w][(i+j)%syms], Price: float64(i + 1)})
				}
				for j := range batch {
					batch[j] = Tick{Symbol: names[w][(i+j)%syms], Price: float64(i + 2)}
				}
				c.AppendBatch(batch)
			}
		})
	}
	var readers sync.WaitGroup
	taken := make(map[string]bool)
	for r := range 4 {
		readers.Go(func() {
			var ls []Latest
			var ts []Tick
			var hs []float64
			var cs []*Conn
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch r {
				case 0:
					ls = s.TakeDirty(ls)
					for _, l := range ls {
						taken[l.Symbol] = true
					}
				case 1:
					ls = s.AllLatest(ls)
					if !slices.IsSortedFunc(ls, func(a, b Latest) int { return strings.Compare(a.Symbol, b.Symbol) }) {
						t.Error("AllLatest not sorted")
						return
					}
				case 2:
					for _, c := range s.Conns(cs) {
						ts = c.Recent(100, ts)
						hs = c.History(hs)
						_, _, _ = c.Rate(), c.Count(), c.LastTime()
					}
				case 3:
					_, _ = s.Latest("W1S7")
					s.Conn("connection_2")
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for _, l := range s.TakeDirty(nil) {
		taken[l.Symbol] = true
	}
	if len(taken) != writers*syms {
		t.Errorf("TakeDirty saw %d symbols, want %d", len(taken), writers*syms)
	}
	var total uint64
	for _, c := range s.Conns(nil) {
		total += c.Count()
	}
	var perSym uint64
	for _, l := range s.AllLatest(nil) {
		perSym += l.Count
	}
	if total != writers*perWriter || perSym != total {
		t.Errorf("counts: connections %d, symbols %d, want %d", total, perSym, writers*perWriter)
	}
}
