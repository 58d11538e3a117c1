//go:build linux || darwin

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/status"
)

// BenchmarkRedisLoad is the scripted load run of the Redis sink behind
// BENCHMARKS.md (`go tool task load:redis`): the simulator streams trades
// at each rate over 3 connections x 1,000 tickers through the real app into
// a real redis-server, and a go-redis subscriber on the tick channel
// decodes every message. It reports the ticks published and received per
// second, the ticks dropped, the latency from a tick's own timestamp (the
// simulator stamps it when it makes it) to the subscriber's receipt, and
// the CPU of this process (simulator, app and subscriber; redis-server is
// a process of its own and not counted). It asserts nothing about speed.
func BenchmarkRedisLoad(b *testing.B) {
	for _, rate := range []int{5_000, 50_000, 200_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) { redisLoad(b, rate) })
	}
}

func redisLoad(b *testing.B, rate int) {
	const (
		perSlot = 1000
		window  = 5 * time.Second
	)
	syms := func(slot int) string {
		out := make([]string, perSlot)
		for i := range out {
			out[i] = fmt.Sprintf("L%d%03d", slot, i)
		}
		return strings.Join(out, ",")
	}
	r := testkit.StartRedis(b)
	sub := newLatencySub(b, r.URL(), "tickwatch:ticks")
	e := apptest.Start(b, apptest.Options{Environ: []string{"MASSIVE_CHANNELS=T", fmt.Sprintf("SIM_TICKS_PER_SECOND=%d", rate),
		"LIVE_FLUSH_INTERVAL=100ms", "TICK_BUFFER_SIZE=4096", "REDIS_URL=" + r.URL(),
		"WEBSOCKET_CONNECTION_1_SYMBOLS=" + syms(1), "WEBSOCKET_CONNECTION_2_SYMBOLS=" + syms(2),
		"WEBSOCKET_CONNECTION_3_ENABLED=true", "WEBSOCKET_CONNECTION_3_SYMBOLS=" + syms(3)}})
	sinkDoc := func() status.SinkDoc { return e.Status().Sinks[0] }
	for start := time.Now(); ; {
		if s := e.Status(); s.Summary.Connected == 3 && s.Sinks[0].Published > uint64(rate) {
			break
		}
		if time.Since(start) > 20*time.Second {
			b.Fatal("the load never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s0, c0, t0 := sinkDoc(), cpuTime(), time.Now()
		sub.reset()
		time.Sleep(window)
		wall := time.Since(t0)
		s1, c1 := sinkDoc(), cpuTime()
		received, lat := sub.take()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[int(p*float64(len(lat)-1))])
		}
		b.ReportMetric(float64(s1.Published-s0.Published)/wall.Seconds(), "published/s")
		b.ReportMetric(float64(received)/wall.Seconds(), "received/s")
		b.ReportMetric(float64(s1.Dropped-s0.Dropped), "dropped")
		b.ReportMetric(pct(0.50), "ms-p50")
		b.ReportMetric(pct(0.99), "ms-p99")
		b.ReportMetric(float64(c1-c0)/float64(wall)*100, "cpu%")
	}
}

// latencySub is a tick channel subscriber that notes, for every tick, how
// long after its timestamp it arrived (in ms, the timestamp's precision).
type latencySub struct {
	mu       sync.Mutex
	received int
	lat      []int64
}

func newLatencySub(b *testing.B, url, channel string) *latencySub {
	opts, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opts)
	ps := c.Subscribe(context.Background(), channel)
	if _, err := ps.Receive(context.Background()); err != nil {
		b.Fatal(err)
	}
	s := &latencySub{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var msg []struct {
			Timestamp int64 `json:"timestamp"`
		}
		for {
			m, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				return
			}
			now := time.Now().UnixMilli()
			msg = msg[:0]
			if err := json.Unmarshal([]byte(m.Payload), &msg); err != nil {
				b.Errorf("tick message: %v", err)
				return
			}
			s.mu.Lock()
			s.received += len(msg)
			for _, tk := range msg {
				s.lat = append(s.lat, now-tk.Timestamp)
			}
			s.mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		_ = ps.Close()
		wg.Wait()
		_ = c.Close()
	})
	return s
}

func (s *latencySub) reset() {
	s.mu.Lock()
	s.received, s.lat = 0, s.lat[:0]
	s.mu.Unlock()
}

func (s *latencySub) take() (int, []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received, append([]int64(nil), s.lat...)
}
