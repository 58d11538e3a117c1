//go:build unix

package relay_test

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

// BenchmarkFanout measures the relay's fan-out at 100,000 events/s in:
// Ticks is fed decoded batches of 100 trades (one per symbol) every
// millisecond, as the manager would, and every consumer, a real WebSocket
// client on loopback, subscribes all 100 symbols (so each batch is encoded
// once and its frame shared). Each b.N is one batch; run it with a fixed
// count (-benchtime=3000x: three seconds). Reported: events/s delivered
// (all consumers), the process's CPU in cores (relay, Fiber and the
// consumers' reads together: one box), and the latency the relay adds,
// from the Ticks call to a consumer having read the frame, p50 and p99.
//
//	go test -run '^$' -bench Fanout -benchtime 3000x ./backend/relay
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

const (
	benchSymbols = 100
	benchEvery   = time.Millisecond // 100 events per ms: 100,000 events/s
)

func benchFanout(b *testing.B, consumers int) {
	hub := relay.New(relay.Options{Keys: testKeys(), Upstream: &upstream{}, Logger: zerolog.Nop()})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/stocks", hub.Handler(nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer func() {
		hub.Close()
		_ = app.ShutdownWithTimeout(5 * time.Second)
	}()
	url := "ws://" + ln.Addr().String() + "/stocks"

	syms := make([]string, benchSymbols)
	params := ""
	for i := range syms {
		syms[i] = "S" + strconv.Itoa(i)
		if i > 0 {
			params += ","
		}
		params += "T." + syms[i]
	}
	sent := make([]atomic.Int64, b.N+1) // when batch i went into Ticks, unix ns
	var frames atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var readers sync.WaitGroup
	conns := make([]*websocket.Conn, consumers)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		_ = c.WriteJSON(map[string]string{"action": "auth", "params": keyAlpha})
		_ = c.WriteJSON(map[string]string{"action": "subscribe", "params": params})
		// connected, auth_success, and the acks.
		for acks := 0; acks < benchSymbols+2; {
			_, data, err := c.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			acks += bytes.Count(data, []byte(`"ev":"status"`))
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				// Every event of a frame has the batch's seq; the first
				// one's is enough, and a full decode here would charge the
				// relay with the consumers' parsing.
				if k := bytes.Index(data, []byte(`"q":`)); k >= 0 {
					end := k + 4
					for end < len(data) && data[end] >= '0' && data[end] <= '9' {
						end++
					}
					if seq, err := strconv.Atoi(string(data[k+4 : end])); err == nil && seq < len(sent) {
						mine = append(mine, time.Duration(now-sent[seq].Load()))
						frames.Add(1)
					}
				}
			}
		}()
	}

	batch := make([]massive.Event, benchSymbols)
	for i := range batch {
		batch[i] = massive.Event{Kind: massive.KindTrade, Symbol: syms[i], Price: 100.25, Size: 100, Exchange: 4, Tape: 3, Time: 1700000000000}
	}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * benchEvery)); d > 0 {
			time.Sleep(d)
		}
		for j := range batch {
			batch[j].Seq = int64(i)
		}
		sent[i].Store(time.Now().UnixNano())
		hub.Ticks("connection_1", batch)
	}
	fed := time.Since(start)
	// Let the queues drain: every consumer has read every frame, or was cut.
	want := int64(b.N * consumers)
	for deadline := time.Now().Add(30 * time.Second); frames.Load()+cutFrames(hub, b.N) < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	st := hub.Stats()
	for _, c := range conns {
		_ = c.Close()
	}
	readers.Wait()

	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(b.N*benchSymbols)/fed.Seconds(), "events_in/s")
	b.ReportMetric(float64(frames.Load()*benchSymbols)/elapsed.Seconds(), "events_out/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cpu_cores")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(st.SlowDisconnects), "slow_cut")
	b.ReportMetric(0, "ns/op") // one op is one paced millisecond: meaningless
}

// cutFrames is how many frames the consumers cut as slow will never read
// (an upper bound: they stop reading at the cut).
func cutFrames(hub *relay.Hub, batches int) int64 {
	return int64(hub.Stats().SlowDisconnects) * int64(batches)
}
