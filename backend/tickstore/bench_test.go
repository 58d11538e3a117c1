package tickstore

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/tickwatch/tickwatch/backend/massive"
)

func benchSymbols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("S%04d", i)
	}
	return out
}

// loaded returns a store whose connection c already knows every symbol.
func loaded(syms []string) (*Store, *Conn) {
	s := New(Options{})
	c := s.Conn("connection_1")
	for _, sym := range syms {
		c.Append(Tick{Symbol: sym, Price: 100, DayOpen: 99})
	}
	return s, c
}

func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 3000} {
		b.Run(fmt.Sprintf("symbols=%d", n), func(b *testing.B) {
			syms := benchSymbols(n)
			_, c := loaded(syms)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Append(Tick{Symbol: syms[i%n], Price: 100 + float64(i&15), Size: 10, Time: int64(i), Kind: massive.KindTrade})
				i++
			}
		})
	}
}

// BenchmarkAppendParallel has one writer per connection, as in production,
// all contending for the shared latest table.
func BenchmarkAppendParallel(b *testing.B) {
	syms := benchSymbols(3000)
	s := New(Options{})
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := s.Conn(fmt.Sprintf("connection_%d", next.Add(1)))
		i := 0
		for pb.Next() {
			c.Append(Tick{Symbol: syms[i%len(syms)], Price: 100, Size: 1})
			i++
		}
	})
}

func BenchmarkAppendBatch(b *testing.B) {
	const size = 64 // ticks per upstream frame
	syms := benchSymbols(3000)
	_, c := loaded(syms)
	batch := make([]Tick, size)
	for i := range batch {
		batch[i] = Tick{Symbol: syms[(i*47)%len(syms)], Price: 101, Size: 5, Kind: massive.KindTrade}
	}
	b.ReportAllocs()
	for b.Loop() {
		c.AppendBatch(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/tick")
}

// BenchmarkTakeDirty100ms measures the live hub's flush: the dirty set left
// by 100 ms of traffic at 5,000 ticks/s spread over 3,000 symbols (500 ticks,
// about 460 distinct symbols). Only TakeDirty is timed.
func BenchmarkTakeDirty100ms(b *testing.B) {
	syms := benchSymbols(3000)
	s, c := loaded(syms)
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]Tick, 500)
	dst := s.TakeDirty(make([]Latest, 0, len(syms)))
	var dirty int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			batch[i] = Tick{Symbol: syms[rng.IntN(len(syms))], Price: 100 + rng.Float64()}
		}
		c.AppendBatch(batch)
		b.StartTimer()
		dst = s.TakeDirty(dst)
		dirty += len(dst)
	}
	b.ReportMetric(float64(dirty)/float64(b.N), "symbols/op")
}

func BenchmarkAllLatest3000(b *testing.B) {
	syms := benchSymbols(3000)
	s, _ := loaded(syms)
	dst := make([]Latest, 0, len(syms))
	b.ReportAllocs()
	for b.Loop() {
		dst = s.AllLatest(dst)
	}
}
