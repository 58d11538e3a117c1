package live

import (
	"fmt"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

func benchTicks(n int) []tickstore.Latest {
	ticks := make([]tickstore.Latest, n)
	for i := range ticks {
		ticks[i] = tickstore.Latest{
			ConnectionID: fmt.Sprintf("connection_%d", i%3+1),
			Tick: tickstore.Tick{
				Symbol: fmt.Sprintf("T%04d", i), Price: 100 + float64(i)*0.37, Size: float64(i % 500),
				Time: 1705853696123 + int64(i),
			},
			ChangePct: float64(i%200)/100 - 1,
			Count:     uint64(i * 13),
		}
	}
	return ticks
}

// BenchmarkEncodeTickFrame is one flush of 1,000 dirty symbols: the bytes
// every session receives, and the one-time cost of framing them.
func BenchmarkEncodeTickFrame(b *testing.B) {
	ticks := benchTicks(1000)
	b.Run("encode", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = appendTickFrame(buf[:0], ticks)
		}
		b.ReportMetric(float64(len(buf)), "frame-bytes")
	})
	b.Run("encode+prepare", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = appendTickFrame(buf[:0], ticks)
			if _, err := websocket.NewPreparedMessage(websocket.TextMessage, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "frame-bytes")
	})
}

// BenchmarkFanout queues one prepared frame on 50 sessions, which is all
// Run does per session per flush; the writers do the rest on their own
// goroutines.
func BenchmarkFanout(b *testing.B) {
	const sessions = 50
	h := New(Options{QueueSize: 64, MaxBehind: time.Hour})
	all := make([]*session, sessions)
	for i := range all {
		all[i] = newSession(h, nil, Peer{User: "bench"})
		all[i].resync = false // as after the connect snapshot
		h.sessions[all[i]] = struct{}{}
	}
	data := appendTickFrame(nil, benchTicks(1000))
	f := h.newFrame(data)
	empty := func() {
		for _, s := range all {
			s.mu.Lock()
			clear(s.queue)
			s.queue = s.queue[:0]
			s.mu.Unlock()
		}
	}
	run := func(b *testing.B, send func()) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			send()
			if n++; n == 64 { // a full queue would turn into a resync
				b.StopTimer()
				empty()
				n = 0
				b.StartTimer()
			}
		}
		empty()
		if s := h.Stats(); s.Resyncs != 0 {
			b.Fatalf("benchmark overflowed a queue: %+v", s)
		}
	}
	b.Run("enqueue", func(b *testing.B) {
		run(b, func() { h.forEach(func(s *session) { s.enqueue(f) }) })
	})
	b.Run("prepare+enqueue", func(b *testing.B) {
		run(b, func() { h.broadcast(data) })
	})
}
