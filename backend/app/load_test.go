//go:build linux || darwin

// The CPU figures come from syscall.Getrusage, which these systems have.

package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// BenchmarkPipelineLoad is the scripted load run behind BENCHMARKS.md: the
// simulator streams 5,000 trades/s over 3 connections x 1,000 tickers through
// the real client, manager, tick store, hub and Fiber app, first with no
// browser and then with 20 browsers on /admin-ws. It reports the CPU the
// whole process used in each phase (simulator included), so the two phases
// compare within one run on a noisy machine. Run it with
// `go tool task load`; it asserts nothing about speed.
func BenchmarkPipelineLoad(b *testing.B) {
	const (
		perSlot  = 1000
		rate     = 5000
		browsers = 20
		window   = 5 * time.Second
	)
	syms := func(slot int) string {
		out := make([]string, perSlot)
		for i := range out {
			out[i] = fmt.Sprintf("L%d%03d", slot, i)
		}
		return strings.Join(out, ",")
	}
	// The shipped flush interval and ring size, not apptest's quick ones.
	e := apptest.Start(b, apptest.Options{Environ: []string{"MASSIVE_CHANNELS=T", fmt.Sprintf("SIM_TICKS_PER_SECOND=%d", rate),
		"LIVE_FLUSH_INTERVAL=100ms", "TICK_BUFFER_SIZE=4096",
		"WEBSOCKET_CONNECTION_1_SYMBOLS=" + syms(1), "WEBSOCKET_CONNECTION_2_SYMBOLS=" + syms(2),
		"WEBSOCKET_CONNECTION_3_ENABLED=true", "WEBSOCKET_CONNECTION_3_SYMBOLS=" + syms(3)}})
	ticks := func() uint64 { return e.Status().Summary.TicksTotal }
	for start := time.Now(); ; {
		if s := e.Status().Summary; s.Connected == 3 && s.TicksTotal > rate {
			break
		}
		if time.Since(start) > 20*time.Second {
			b.Fatal("the load never started")
		}
		time.Sleep(50 * time.Millisecond)
	}

	measure := func() (cores, eventsPerSec float64) {
		t0, c0, n0 := time.Now(), cpuTime(), ticks()
		time.Sleep(window)
		wall := time.Since(t0)
		return float64(cpuTime()-c0) / float64(wall), float64(ticks()-n0) / wall.Seconds()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idleCores, idleRate := measure()

		var frames, bytes, maxFrame atomic.Int64
		var wg sync.WaitGroup
		conns := make([]*websocket.Conn, browsers)
		for j := range conns {
			conns[j] = e.DialAdminWS("viewer")
			wg.Add(1)
			go func(c *websocket.Conn) {
				defer wg.Done()
				for {
					_, data, err := c.ReadMessage()
					if err != nil {
						return
					}
					frames.Add(1)
					bytes.Add(int64(len(data)))
					for {
						m := maxFrame.Load()
						if int64(len(data)) <= m || maxFrame.CompareAndSwap(m, int64(len(data))) {
							break
						}
					}
				}
			}(conns[j])
		}
		time.Sleep(time.Second) // snapshots done
		frames.Store(0)
		bytes.Store(0)
		busyCores, busyRate := measure()
		perBrowserFrames := float64(frames.Load()) / browsers / window.Seconds()
		perBrowserBytes := float64(bytes.Load()) / browsers / window.Seconds()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()

		b.ReportMetric(idleRate, "events/s")
		b.ReportMetric(busyRate, "events/s-20browsers")
		b.ReportMetric(idleCores*100, "cpu%-0browsers")
		b.ReportMetric(busyCores*100, "cpu%-20browsers")
		b.ReportMetric(perBrowserFrames, "frames/s/browser")
		b.ReportMetric(perBrowserBytes/1024, "KiB/s/browser")
		b.ReportMetric(float64(maxFrame.Load())/1024, "KiB-max-frame")
		b.ReportMetric(metric(b, e, "tickwatch_browser_slow_closed_total"), "slow-closed")
	}
}

// cpuTime is the CPU (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// metric reads one unlabelled series from /metrics, the way a scraper sees
// the hub's counters.
func metric(b *testing.B, e *apptest.Stack, name string) float64 {
	b.Helper()
	resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics"})
	for _, line := range strings.Split(resp.Body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("/metrics: %s: %v", line, err)
			}
			return f
		}
	}
	b.Fatalf("/metrics has no %s", name)
	return 0
}
