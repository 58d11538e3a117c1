//go:build unix

package redissink

import (
	"context"
	"fmt"
	"math"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// benchBatch is an upstream frame's worth of events: mostly trades and
// quotes, some second bars, prices with the decimals the feed sends.
func benchBatch(n int) []massive.Event {
	evs := make([]massive.Event, n)
	for i := range evs {
		var e massive.Event
		switch i % 8 {
		case 0, 1, 2, 3:
			e = sampleTrade
		case 4, 5, 6:
			e = sampleQuote
		default:
			e = sampleSecond
		}
		e.Symbol = fmt.Sprintf("T%03d", i%500)
		// As the decoder yields them: the double nearest a cent price.
		e.Price = math.Round((e.Price+float64(i%100)*0.01)*100) / 100
		e.Time += int64(i)
		e.Seq = int64(i)
		evs[i] = e
	}
	return evs
}

// BenchmarkEncode is the sink's CPU cost per tick on its own goroutine:
// one element appended to the reused arena.
func BenchmarkEncode(b *testing.B) {
	evs := benchBatch(1000)
	prefix := appendElemPrefix(nil, "connection_1")
	var buf []byte
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		buf = buf[:0]
		for i := range evs {
			buf, _ = appendEvent(buf, prefix, &evs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N*len(evs)), "cpu-ns/event")
	b.ReportMetric(float64(len(buf))/float64(len(evs)), "bytes/event")
}

// BenchmarkPublish pushes 100-event batches through Ticks into a real
// redis-server and waits for every tick to be published: with nobody
// subscribed (the sink's own cost), with a Go subscriber reading the
// channel in this process (its CPU counts too), and with the stream on.
// Unlike ingest, the benchmark waits when the queue is full, so that it
// measures how fast the sink drains rather than how much it drops; drops
// are reported and should be zero.
func BenchmarkPublish(b *testing.B) {
	r := testkit.StartRedis(b)
	for _, c := range []struct {
		name   string
		sub    bool
		stream string
	}{
		{"channel", false, ""},
		{"channel+subscriber", true, ""},
		{"channel+stream", false, "tickwatch:bench"},
	} {
		b.Run(c.name, func(b *testing.B) { benchPublish(b, r, c.sub, c.stream) })
	}
}

func benchPublish(b *testing.B, r *testkit.Redis, subscribe bool, stream string) {
	const batchLen = 100
	p, err := New(Options{URL: r.URL(), Stream: stream, QueueSize: 4096, QueueEvents: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = p.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	if subscribe {
		sc := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer sc.Close()
		ps := sc.Subscribe(ctx, DefaultTickChannel)
		defer ps.Close() // ends the drain goroutine's range
		if _, err := ps.Receive(ctx); err != nil {
			b.Fatal(err)
		}
		msgs := ps.Channel(redis.WithChannelSize(1 << 14))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range msgs { // drained so Redis never holds the subscriber back
			}
		}()
	}
	testkit.WaitFor(b, 10*time.Second, "sink connected", func() bool { return p.State() == StateConnected })

	batch := benchBatch(batchLen)
	start := p.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		for len(p.queue) == cap(p.queue) {
			time.Sleep(50 * time.Microsecond) // sleeping, not spinning, keeps cpu-ns honest
		}
		p.Ticks("connection_1", batch)
	}
	want := start.Published + start.Dropped + uint64(b.N*batchLen)
	for {
		st := p.Stats()
		if st.Published+st.Dropped >= want {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	st := p.Stats()
	events := float64(b.N * batchLen)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/events, "cpu-ns/event")
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Dropped-start.Dropped), "dropped")
	b.ReportMetric(float64(st.Messages-start.Messages)/float64(b.N), "msgs/batch")
}

// cpuTime is the CPU time (user+system) this process has used. On a shared
// machine wall time per event says as much about the neighbours as about
// the code; CPU time per event is the cost the sink adds. In
// BenchmarkPublish it includes the Go subscriber and go-redis, but not
// redis-server, which is another process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
