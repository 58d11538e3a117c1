//go:build loadtest

package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// BenchmarkLoginFlood is the scripted login flood behind BENCHMARKS.md
// (`go tool task load:login`): 300 clients, each dialling from its own
// loopback address (127.0.1.1 ...), each offering one login per second with
// an unknown username, for floodWindow, against the whole app (app.New on
// 127.0.0.1:0). Meanwhile one client on 127.0.0.1 asks /healthz and the
// logged-in websocket-status in turn and times them. Users are hashed at
// the production cost (auth.PasswordCost), so every login really costs a
// bcrypt comparison against the dummy hash. It asserts nothing about speed:
// it reports figures.
//
// It sits behind the loadtest build tag because it saturates both cores for
// half a minute.
func BenchmarkLoginFlood(b *testing.B) {
	const (
		clients     = 300
		floodWindow = 10 * time.Second
		quietWindow = 2 * time.Second
	)
	e := apptest.Start(b, apptest.Options{ProductionCost: true})

	for i := 0; i < b.N; i++ {
		quietHealth, quietStatus := sampleLatency(b, e, quietWindow)

		ctx, cancel := context.WithTimeout(context.Background(), floodWindow)
		var codes sync.Map // status -> *atomic.Int64
		count := func(code int) {
			v, _ := codes.LoadOrStore(code, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
		}
		var wg sync.WaitGroup
		for c := range clients {
			hc := e.ClientFrom(floodAddr(c))
			wg.Go(func() {
				defer hc.CloseIdleConnections()
				for n := 0; ctx.Err() == nil; n++ {
					next := time.Now().Add(time.Second)
					body := apptest.LoginBody(fmt.Sprintf("flood-%d-%d", c, n), "guess")
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.Base+"/api/auth/login", strings.NewReader(body))
					req.Header.Set("Origin", e.Base)
					req.Header.Set("Content-Type", "application/json")
					resp, err := hc.Do(req)
					if err != nil {
						if ctx.Err() == nil {
							count(-1)
						}
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					count(resp.StatusCode)
					select {
					case <-ctx.Done():
					case <-time.After(time.Until(next)):
					}
				}
			})
		}
		time.Sleep(200 * time.Millisecond) // let the wave land before sampling
		floodHealth, floodStatus := sampleLatency(b, e, floodWindow-300*time.Millisecond)
		cancel()
		wg.Wait()

		b.ReportMetric(ms(median(quietHealth)), "healthz-ms-quiet")
		b.ReportMetric(ms(median(quietStatus)), "status-ms-quiet")
		b.ReportMetric(ms(median(floodHealth)), "healthz-ms-median")
		b.ReportMetric(ms(median(floodStatus)), "status-ms-median")
		b.ReportMetric(ms(slices.Max(floodHealth)), "healthz-ms-max")
		b.ReportMetric(float64(len(floodHealth)), "samples")
		codes.Range(func(k, v any) bool {
			b.ReportMetric(float64(v.(*atomic.Int64).Load()), fmt.Sprintf("logins-%d", k))
			return true
		})
	}
}

// sampleLatency times GET /healthz and GET websocket-status (as the viewer)
// one after the other, 20 times a second, for d.
func sampleLatency(b *testing.B, e *apptest.Stack, d time.Duration) (health, status []time.Duration) {
	b.Helper()
	hc := e.ClientFrom("127.0.0.1")
	defer hc.CloseIdleConnections()
	get := func(path string, cookie *http.Cookie) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, e.Base+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatalf("GET %s during the flood: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s during the flood: %d", path, resp.StatusCode)
		}
		return time.Since(start)
	}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		health = append(health, get("/healthz", nil))
		status = append(status, get("/api/admin/websocket-status", e.Cookie("viewer")))
	}
	return health, status
}

// floodAddr is the source address of flood client i: 127.0.1.1 onwards.
func floodAddr(i int) string { return net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)).String() }

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
