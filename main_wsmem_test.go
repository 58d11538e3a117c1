//go:build loadtest && linux

package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkAdminWSMemory measures what one /admin-ws session costs the
// server: the real program (demo mode: the built-in simulator, three
// connections over the market leaders) runs as a child process, the test
// opens wsSessions dashboard sockets that read every frame, and the
// server's own Go memory (heap in use + goroutine stacks, from its
// /metrics) is compared before and after. Measuring a child keeps the
// clients' buffers out of the figure. It asserts nothing about size: it
// reports figures for BENCHMARKS.md (`go tool task load:wsmem`).
func BenchmarkAdminWSMemory(b *testing.B) {
	const wsSessions = 500
	hash, err := bcrypt.GenerateFromPassword([]byte("wsmem-pw"), 4)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		r := start(b, program(b, "HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info",
			// Collect often, so the heap in use is close to what is live
			// and the tick pipeline's garbage does not drown the figure.
			"GOGC=10",
			"ADMIN_PASSWORD_HASH="+string(hash), "HTTP_MAX_CONNS_PER_IP=0",
			"ADMIN_WS_MAX_SESSIONS="+strconv.Itoa(2*wsSessions), "ADMIN_WS_MAX_PER_USER="+strconv.Itoa(2*wsSessions)))
		r.waitReady(b)
		cookie := wsmemLogin(b, r.base)
		time.Sleep(3 * time.Second) // every symbol ticked: snapshots at full size
		before := serverMemory(b, r.base)

		h := http.Header{"Origin": {r.base}, "Cookie": {cookie}}
		url := "ws" + strings.TrimPrefix(r.base, "http") + "/admin-ws"
		var wg sync.WaitGroup
		conns := make([]*websocket.Conn, 0, wsSessions)
		snapshot := 0
		for range wsSessions {
			c, _, err := websocket.DefaultDialer.Dial(url, h)
			if err != nil {
				b.Fatalf("session %d: %v", len(conns)+1, err)
			}
			_, first, err := c.ReadMessage()
			if err != nil {
				b.Fatalf("session %d: snapshot: %v", len(conns)+1, err)
			}
			snapshot = len(first)
			conns = append(conns, c)
			wg.Go(func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			})
		}
		time.Sleep(3 * time.Second) // settle: queues drain, stacks stop growing
		after := serverMemory(b, r.base)
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()

		b.ReportMetric(float64(after.heap-before.heap)/wsSessions, "heap-B/session")
		b.ReportMetric(float64(after.stack-before.stack)/wsSessions, "stack-B/session")
		b.ReportMetric(float64(after.heap+after.stack-before.heap-before.stack)/wsSessions, "B/session")
		b.ReportMetric(float64(after.goroutines-before.goroutines)/wsSessions, "goroutines/session")
		b.ReportMetric(float64(snapshot), "snapshot-B")
	}
}

type memFigures struct{ heap, stack, goroutines float64 }

// serverMemory reads the server's heap in use, stack in use and goroutine
// count from /metrics, ten times over three seconds, keeping the lowest
// heap: the server collects its own garbage on its schedule, the minimum is
// closest to what is live.
func serverMemory(b *testing.B, base string) memFigures {
	b.Helper()
	var best memFigures
	for i := range 10 {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		var m memFigures
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			name, val, ok := strings.Cut(sc.Text(), " ")
			f, err := strconv.ParseFloat(val, 64)
			if !ok || err != nil {
				continue
			}
			switch name {
			case "go_memstats_heap_inuse_bytes":
				m.heap = f
			case "go_memstats_stack_inuse_bytes":
				m.stack = f
			case "go_goroutines":
				m.goroutines = f
			}
		}
		resp.Body.Close()
		if i == 0 || m.heap < best.heap {
			best = m
		}
	}
	return best
}

func wsmemLogin(b *testing.B, base string) string {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", strings.NewReader(`{"username":"admin","password":"wsmem-pw"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
		b.Fatalf("login: %d", resp.StatusCode)
	}
	return resp.Cookies()[0].String()
}
