package app_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tickwatch/tickwatch/backend/app"
	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/status"
)

// redisPassword is the test Redis's password: a secret that apptest checks
// never appears in a response, a frame or the log.
const redisPassword = "redis-pw-5f1c7e0a9b"

// redisURL is r's URL with the test password.
func redisURL(r *testkit.Redis) string { return "redis://:" + redisPassword + "@" + r.Addr() + "/0" }

// redisStack starts Redis with a password and the app publishing to it.
func redisStack(t *testing.T, r *testkit.Redis, environ ...string) *apptest.Stack {
	t.Helper()
	return apptest.Start(t, apptest.Options{
		Environ: append([]string{"REDIS_URL=" + redisURL(r)}, environ...),
		Secrets: []string{redisPassword},
	})
}

// tick is one element of a tick channel message (docs/redis.md).
type tick struct {
	ConnectionID string  `json:"connection_id"`
	Ev           string  `json:"ev"`
	Symbol       string  `json:"symbol"`
	Price        float64 `json:"price"`
	Size         float64 `json:"size"`
	Timestamp    int64   `json:"timestamp"`
	Seq          int64   `json:"seq"`
}

// channelReader subscribes to channels with go-redis, as a consumer would,
// and keeps every message. It is subscribed (confirmed) when returned and
// stops at cleanup.
type channelReader struct {
	t  *testing.T
	mu sync.Mutex
	// msgs holds the payloads per channel, in arrival order.
	msgs map[string][]string
}

func readChannels(t *testing.T, url string, channels ...string) *channelReader {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	ps := c.Subscribe(context.Background(), channels...)
	for range channels {
		if _, err := ps.Receive(context.Background()); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	}
	cr := &channelReader{t: t, msgs: map[string][]string{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				return // closed at cleanup
			}
			cr.mu.Lock()
			cr.msgs[m.Channel] = append(cr.msgs[m.Channel], m.Payload)
			cr.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ps.Close()
		wg.Wait()
		_ = c.Close()
	})
	return cr
}

func (cr *channelReader) payloads(channel string) []string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return append([]string(nil), cr.msgs[channel]...)
}

// ticks decodes every tick message on channel, failing on one that is not
// a JSON array of ticks.
func (cr *channelReader) ticks(channel string) []tick {
	cr.t.Helper()
	var all []tick
	for _, p := range cr.payloads(channel) {
		var msg []tick
		if err := json.Unmarshal([]byte(p), &msg); err != nil || len(msg) == 0 {
			cr.t.Fatalf("tick message is not a non-empty JSON array of ticks: %v\n%.300s", err, p)
		}
		all = append(all, msg...)
	}
	return all
}

func countBy(ticks []tick, key func(tick) string) map[string]uint64 {
	out := map[string]uint64{}
	for _, tk := range ticks {
		out[key(tk)]++
	}
	return out
}

func sink(t *testing.T, doc status.Doc) status.SinkDoc {
	t.Helper()
	if len(doc.Sinks) != 1 || doc.Sinks[0].Name != "redis" {
		t.Fatalf("websocket-status sinks = %+v, want one redis sink", doc.Sinks)
	}
	return doc.Sinks[0]
}

// TestRedisEndToEnd: simulator -> app -> Redis -> a go-redis subscriber.
// Every event each connection received reaches the tick channel, per
// symbol in order, with the documented fields; the status channel carries
// status updates (after a simulator drop) and health snapshots; the sink's
// figures show in websocket-status, /admin-ws and /metrics.
func TestRedisEndToEnd(t *testing.T) {
	r := testkit.StartRedis(t, "--requirepass", redisPassword)
	const tickCh, statusCh, stream = "e2e:ticks", "e2e:status", "e2e:stream"
	sub := readChannels(t, redisURL(r), tickCh, statusCh)
	e := redisStack(t, r, "MASSIVE_CHANNELS=T", "REDIS_TICK_CHANNEL="+tickCh, "REDIS_STATUS_CHANNEL="+statusCh,
		"REDIS_TICK_STREAM="+stream)
	testkit.WaitFor(t, 10*time.Second, "both connections up and the sink connected", func() bool {
		doc := e.Status()
		return doc.Summary.Connected == 2 && sink(t, doc).State == "connected"
	})
	testkit.WaitFor(t, 10*time.Second, "ticks of both connections on the tick channel", func() bool {
		c := countBy(sub.ticks(tickCh), func(tk tick) string { return tk.ConnectionID })
		return c["connection_1"] > 20 && c["connection_2"] > 20
	})

	// Freeze the feed, then compare what the simulator sent on each
	// connection with what the subscriber got for it.
	owner := map[int64]string{}
	for sym, connID := range map[string]string{"AAPL": "connection_1", "AMZN": "connection_2"} {
		sc, ok := e.SimConnBySymbol(sym)
		if !ok {
			t.Fatalf("simulator has no connection for %s", sym)
		}
		owner[sc.ID] = connID
		e.SimStall(sc.ID, 6*time.Second)
	}
	var got map[string]uint64
	testkit.WaitFor(t, 5*time.Second, "subscriber counts == simulator sent counts", func() bool {
		got = countBy(sub.ticks(tickCh), func(tk tick) string { return tk.ConnectionID })
		for _, sc := range e.SimConns() {
			if id, ok := owner[sc.ID]; ok && got[id] != sc.Sent {
				return false
			}
		}
		return true
	})
	t.Logf("ticks per connection on %s: %v", tickCh, got)

	symbols := map[string]string{"AAPL": "connection_1", "MSFT": "connection_1", "NVDA": "connection_1",
		"AMZN": "connection_2", "GOOGL": "connection_2", "BRK.B": "connection_2"}
	lastSeq := map[string]int64{}
	for _, tk := range sub.ticks(tickCh) {
		if tk.Ev != "T" || symbols[tk.Symbol] != tk.ConnectionID || tk.Price <= 0 || tk.Size <= 0 ||
			tk.Timestamp < 1_500_000_000_000 || tk.Timestamp > 4_000_000_000_000 {
			t.Fatalf("tick does not follow the documented schema: %+v", tk)
		}
		if tk.Seq <= lastSeq[tk.Symbol] {
			t.Fatalf("%s: seq %d after %d: out of order", tk.Symbol, tk.Seq, lastSeq[tk.Symbol])
		}
		lastSeq[tk.Symbol] = tk.Seq
	}

	// The sink's figures agree with what the subscriber got.
	doc := e.Status()
	sk := sink(t, doc)
	if sk.Published < got["connection_1"]+got["connection_2"] || sk.Dropped != 0 || sk.QueueCapacity == 0 ||
		sk.Target != "redis://:xxxxx@"+r.Addr()+"/0" || sk.LastError != "" || sk.Required {
		t.Errorf("sink document %+v", sk)
	}

	// The stream got the same messages.
	admin := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: redisPassword})
	defer admin.Close()
	if n, err := admin.XLen(context.Background(), stream).Result(); err != nil || n == 0 {
		t.Errorf("stream %s: %d entries, %v", stream, n, err)
	}

	// Status channel: a drop in the simulator is a connection_status_update
	// in the /admin-ws shape; health snapshots come every second.
	frames := streamAdminWS(t, e, "viewer")
	sc, _ := e.SimConnBySymbol("AAPL")
	e.SimDrop(sc.ID)
	type event struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	var sawDrop, sawHealth bool
	testkit.WaitFor(t, 10*time.Second, "a status update for the drop and a health snapshot on "+statusCh, func() bool {
		for _, p := range sub.payloads(statusCh) {
			var evs []event
			if err := json.Unmarshal([]byte(p), &evs); err != nil || len(evs) != 1 {
				t.Fatalf("status message is not a one-event /admin-ws frame: %v %s", err, p)
			}
			switch evs[0].Event {
			case "connection_status_update":
				var su struct {
					ConnectionID string `json:"connection_id"`
					Status       string `json:"status"`
					Previous     string `json:"previous"`
				}
				if err := json.Unmarshal(evs[0].Data, &su); err != nil {
					t.Fatal(err)
				}
				if su.ConnectionID == "connection_1" && su.Status == "disconnected" && su.Previous == "connected" {
					sawDrop = true
				}
			case "health_update":
				var h struct {
					TotalConnections int                       `json:"total_connections"`
					Connections      map[string]map[string]any `json:"connections"`
				}
				if err := json.Unmarshal(evs[0].Data, &h); err != nil || h.TotalConnections != 2 || len(h.Connections) != 2 {
					t.Fatalf("health_update is not the websocket-health document: %v %s", err, evs[0].Data)
				}
				sawHealth = true
			default:
				t.Fatalf("unexpected event on the status channel: %s", p)
			}
		}
		return sawDrop && sawHealth
	})

	// /admin-ws carries the sink's figures in the per-second frame.
	ev, _ := next(t, frames, "sink_update", 5*time.Second, nil)
	var su status.SinkDoc
	if err := json.Unmarshal(ev.Data, &su); err != nil || su.Name != "redis" || su.Target != sk.Target {
		t.Fatalf("sink_update: %v %s", err, ev.Data)
	}

	// /metrics carries them as tickwatch_sink_* series, and is valid.
	resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics"})
	for _, series := range []string{`tickwatch_sink_up{sink="redis"} 1`, `tickwatch_sink_state{sink="redis",state="connected"} 1`,
		`tickwatch_sink_state{sink="redis",state="down"} 0`, `tickwatch_sink_published_total{sink="redis"}`,
		`tickwatch_sink_dropped_total{sink="redis"} 0`, `tickwatch_sink_queue_depth{sink="redis"}`,
		`tickwatch_sink_queue_capacity{sink="redis"} 1024`, `tickwatch_sink_published_per_second{sink="redis"}`} {
		if !strings.Contains(resp.Body, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	promtoolCheck(t, resp.Body)
}

// promtoolCheck runs `promtool check metrics` on a scrape: the exposition
// must be valid and follow Prometheus's naming rules.
func promtoolCheck(t *testing.T, scrape string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: apt-get install prometheus")
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestRedisOutage: Redis is killed mid-stream. Ingest, the tick store, the
// dashboard's live feed, the API and /readyz carry on; the sink shows down
// with its error as of the first failed write and counts what it drops;
// when Redis is back on the same port, publishing resumes by itself. The
// times observed (kill -> down, restart -> publishing) are logged, not
// asserted: the sink package shows structurally that down comes with the
// first failure and that retries are at most 2 s apart.
func TestRedisOutage(t *testing.T) {
	r := testkit.StartRedis(t, "--requirepass", redisPassword)
	e := redisStack(t, r)
	testkit.WaitFor(t, 10*time.Second, "connections up and the sink connected", func() bool {
		doc := e.Status()
		return doc.Summary.Connected == 2 && sink(t, doc).State == "connected" && sink(t, doc).Published > 0
	})
	frames := streamAdminWS(t, e, "viewer")
	next(t, frames, "snapshot", 5*time.Second, nil)

	killed := time.Now()
	r.Stop()
	var sk status.SinkDoc
	testkit.WaitFor(t, 10*time.Second, "websocket-status shows the sink down with its error", func() bool {
		sk = sink(t, e.Status())
		return (sk.State == "down" || sk.State == "reconnecting") && sk.LastError != ""
	})
	seenDown, downSince := time.Since(killed), sk.Since
	testkit.WaitFor(t, 10*time.Second, "drops counted", func() bool {
		sk = sink(t, e.Status())
		return sk.Dropped > 0
	})
	t.Logf("sink while Redis is away: state %s, error %q, dropped %d", sk.State, sk.LastError, sk.Dropped)
	if !strings.Contains(sk.LastError, r.Addr()) && !strings.Contains(sk.LastError, "refused") {
		t.Errorf("last error %q does not say what failed", sk.LastError)
	}

	// Everything else is unaffected: message counts and the tick store keep
	// growing, the dashboard keeps getting ticks, and readiness does not
	// depend on Redis by default.
	before, dropped := e.Status().Summary.TicksTotal, sk.Dropped
	var ticks struct {
		Ticks []struct{ Timestamp float64 } `json:"ticks"`
	}
	e.GetJSON("/api/admin/connections/1/ticks?limit=1", "viewer", &ticks)
	if len(ticks.Ticks) != 1 {
		t.Fatalf("tick store has no ticks for connection 1: %+v", ticks)
	}
	lastTick := ticks.Ticks[0].Timestamp
	testkit.WaitFor(t, 10*time.Second, "ingest and the tick store carry on without Redis, drops counted", func() bool {
		e.GetJSON("/api/admin/connections/1/ticks?limit=1", "viewer", &ticks)
		return e.Status().Summary.TicksTotal > before+20 && len(ticks.Ticks) == 1 && ticks.Ticks[0].Timestamp > lastTick &&
			sink(t, e.Status()).Dropped > dropped
	})
	downAt := time.Now()
	next(t, frames, "tick_update", 5*time.Second, func(json.RawMessage) bool { return time.Now().After(downAt) })
	if resp := e.Do(apptest.Request{Method: "GET", Path: "/readyz"}); resp.Status != 200 {
		t.Fatalf("/readyz with Redis down and REDIS_REQUIRED unset: %d %s", resp.Status, resp.Body)
	}
	resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics"})
	if !strings.Contains(resp.Body, `tickwatch_sink_state{sink="redis",state="down"} 1`) ||
		!strings.Contains(resp.Body, `tickwatch_sink_up{sink="redis"} 0`) {
		t.Errorf("/metrics does not show the sink down")
	}

	// Redis back on the same port: publishing resumes by itself.
	restarted := time.Now()
	r.Restart()
	sub := readChannels(t, redisURL(r), "tickwatch:ticks")
	testkit.WaitFor(t, 10*time.Second, "publishing resumed", func() bool {
		return sink(t, e.Status()).State == "connected" && len(sub.ticks("tickwatch:ticks")) > 0
	})
	sk = sink(t, e.Status())
	t.Logf("observed: kill -> down %v (sink's own stamp %.0f ms after the kill), restart -> publishing %v (connected %.0f ms after the restart)",
		seenDown.Round(time.Millisecond), (downSince-live.UnixSeconds(killed))*1000,
		time.Since(restarted).Round(time.Millisecond), (sk.Since-live.UnixSeconds(restarted))*1000)
}

// TestRedisRequired: with REDIS_REQUIRED=true, /readyz is 503 with the
// reason while Redis is unreachable, and 200 once the sink is connected.
func TestRedisRequired(t *testing.T) {
	r := testkit.StartRedis(t, "--requirepass", redisPassword)
	r.Stop() // the port is known, nothing listens
	e := redisStack(t, r, "REDIS_REQUIRED=true")
	var resp apptest.Response
	testkit.WaitFor(t, 10*time.Second, "/readyz 503 naming the Redis sink", func() bool {
		resp = e.Do(apptest.Request{Method: "GET", Path: "/readyz"})
		return resp.Status == 503 && strings.Contains(resp.Body, "redis sink")
	})
	t.Logf("/readyz with Redis away: %s", resp.Body)
	if sk := sink(t, e.Status()); !sk.Required || sk.State == "connected" {
		t.Fatalf("sink %+v", sk)
	}
	r.Restart()
	testkit.WaitFor(t, 15*time.Second, "/readyz 200 once Redis is reachable", func() bool {
		return e.Do(apptest.Request{Method: "GET", Path: "/readyz"}).Status == 200
	})
}

// TestRedisWrongPassword: a refused password is a visible sink error and a
// log line, never a crash, and neither password shows anywhere.
func TestRedisWrongPassword(t *testing.T) {
	r := testkit.StartRedis(t, "--requirepass", redisPassword)
	const wrong = "wrong-pw-8d2b6c"
	e := apptest.Start(t, apptest.Options{
		Environ: []string{"REDIS_URL=redis://:" + wrong + "@" + r.Addr() + "/0"},
		Secrets: []string{redisPassword, wrong},
	})
	var sk status.SinkDoc
	testkit.WaitFor(t, 10*time.Second, "the sink shows the refused password", func() bool {
		sk = sink(t, e.Status())
		return sk.State != "connected" && strings.Contains(sk.LastError, "WRONGPASS")
	})
	if resp := e.Do(apptest.Request{Method: "GET", Path: "/readyz"}); resp.Status != 200 {
		t.Fatalf("/readyz: %d %s", resp.Status, resp.Body)
	}
	testkit.WaitFor(t, 5*time.Second, "a log line with the error", func() bool {
		return strings.Contains(e.Logs.String(), "WRONGPASS")
	})
	e.Do(apptest.Request{Method: "GET", Path: "/metrics"}) // checked for secrets by Do
}

// The load run (load_redis_test.go) starts `tickwatch simulate` with a
// short --flush-interval; a value out of range is a usage error naming the
// flag, never a simulator flushing in a busy loop.
func TestSimulateFlushIntervalFlag(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"0s", "--flush-interval=0s: must be from 1ms to 10s"},
		{"11s", "--flush-interval=11s: must be from 1ms to 10s"},
		{"soon", `invalid value "soon" for flag -flush-interval`},
	} {
		t.Run(c.value, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := app.Main([]string{"simulate", "--flush-interval", c.value}, nil, nil, &stdout, &stderr, nil, "test")
			if code != 2 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), c.want)
			}
		})
	}
}
