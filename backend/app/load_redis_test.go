//go:build linux

package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// BenchmarkRedisLoad is the scripted load run of the Redis sink behind
// BENCHMARKS.md (`go tool task load:redis`). The parts run as separate
// processes, as they would in a deployment:
//
//   - the simulator: `tickwatch simulate --rate N --flush-interval 10ms`, a
//     child process, trades only, over 3 connections x 1,000 tickers;
//   - the server: the real tickwatch binary, a child process, pointed at the
//     simulator (MASSIVE_WEBSOCKET_URL) and at a redis-server the benchmark
//     starts (REDIS_URL); no browser attached;
//   - redis-server 127.0.0.1, no persistence (testkit.StartRedis);
//   - one subscriber on tickwatch:ticks, in the benchmark process, kept
//     cheap: it counts a message's ticks exactly by scanning for the
//     element prefix, reads every tick's timestamp by scanning, and decodes
//     one message in 64 fully to check the fields.
//
// After a warm-up it measures a window and reports the simulator's sent
// rate (what the server ingested), the sink's published rate, the
// subscriber's received rate, every drop on the way (simulator slow-consumer
// closes show as reconnects, the server's reader queue, the sink), the
// latency from a tick's own timestamp (the simulator stamps it when it makes
// it, then holds it up to one 10 ms flush) to the subscriber's receipt, and
// the CPU of each process from /proc/<pid>/stat over the window: the
// server's per 100k ticks/s is the figure issue 12 asks for. Rates come from
// REDIS_LOAD_RATES (default 100000,250000,500000). It asserts nothing about
// speed. TICKWATCH_BIN names a built binary; otherwise the benchmark builds
// one. REDIS_LOAD_PERF=<dir> also records the server with `perf record -g`
// during the window, into <dir>/perf-<rate>.data (the server has no pprof
// endpoint, and Go binaries keep frame pointers, so perf's call graphs are
// complete).
func BenchmarkRedisLoad(b *testing.B) {
	rates := []int{100_000, 250_000, 500_000}
	if v := os.Getenv("REDIS_LOAD_RATES"); v != "" {
		rates = rates[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("REDIS_LOAD_RATES=%q: want a comma list of positive integers", v)
			}
			rates = append(rates, n)
		}
	}
	bin := tickwatchBinary(b)
	for _, rate := range rates {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) { redisLoad(b, bin, rate) })
	}
}

const (
	loadWarmup = 4 * time.Second
	loadWindow = 10 * time.Second
	loadSlots  = 3
	perSlot    = 1000
	// A tick element starts with this; connection ids are plain ASCII, so
	// counting it counts the elements exactly.
	elemPrefix = `{"connection_id":`
)

func redisLoad(b *testing.B, bin string, rate int) {
	r := testkit.StartRedis(b)
	simAddr := loopbackAddr(b)
	sim := startChild(b, "simulator", exec.Command(bin, "simulate", "--addr", simAddr, "--rate", strconv.Itoa(rate),
		"--flush-interval", "10ms"))
	testkit.WaitFor(b, 30*time.Second, "the simulator listening", func() bool {
		c, err := net.Dial("tcp", simAddr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})

	env := []string{"HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info", "DATA_DIR=" + b.TempDir(),
		"ADMIN_PASSWORD_HASH=$2a$04$7pmP3Qd/21ye3dJioXeLJ.B5jvE5zqTPESH2mxUj6UXBpzAlIfAtW",
		"MASSIVE_API_KEY=load", "MASSIVE_SIMULATOR=off", "MASSIVE_WEBSOCKET_URL=ws://" + simAddr + "/stocks",
		"MASSIVE_CHANNELS=T", "USE_MULTI_CONNECTION=true", "REDIS_URL=" + r.URL()}
	for slot := 1; slot <= loadSlots; slot++ {
		syms := make([]string, perSlot)
		for i := range syms {
			syms[i] = fmt.Sprintf("L%d%03d", slot, i)
		}
		env = append(env, fmt.Sprintf("WEBSOCKET_CONNECTION_%d_ENABLED=true", slot),
			fmt.Sprintf("WEBSOCKET_CONNECTION_%d_SYMBOLS=%s", slot, strings.Join(syms, ",")))
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	srv := startChild(b, "server", cmd)
	base := srv.waitLog(b, "tickwatch listening", "addr") // http://host:port

	sub := newLoadSub(b, r.URL(), "tickwatch:ticks")
	testkit.WaitFor(b, 30*time.Second, "3 connections up and ticks published", func() bool {
		m := scrape(b, base)
		return m["tickwatch_connection_up"] == loadSlots && m["tickwatch_sink_published_total"] > float64(rate)/10
	})
	time.Sleep(loadWarmup)
	redisPid := childPid(b, "redis-server")

	var perf *exec.Cmd
	if dir := os.Getenv("REDIS_LOAD_PERF"); dir != "" {
		perf = exec.Command("perf", "record", "-F", "499", "-g", "-o", filepath.Join(dir, fmt.Sprintf("perf-%d.data", rate)),
			"-p", strconv.Itoa(srv.cmd.Process.Pid))
		if err := perf.Start(); err != nil {
			b.Fatalf("perf record: %v (apt-get install linux-perf)", err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m0 := scrape(b, base)
		sub.reset()
		cpu0 := [4]time.Duration{procCPU(b, srv.cmd.Process.Pid), procCPU(b, sim.cmd.Process.Pid), procCPU(b, redisPid), procCPU(b, os.Getpid())}
		t0 := time.Now()
		time.Sleep(loadWindow)
		wall := time.Since(t0)
		cpu1 := [4]time.Duration{procCPU(b, srv.cmd.Process.Pid), procCPU(b, sim.cmd.Process.Pid), procCPU(b, redisPid), procCPU(b, os.Getpid())}
		m1 := scrape(b, base)
		received, hist, bad := sub.take()

		delta := func(name string) float64 { return m1[name] - m0[name] }
		perSec := func(v float64) float64 { return v / wall.Seconds() }
		core := func(i int) float64 { return float64(cpu1[i]-cpu0[i]) / float64(wall) }
		ingested := perSec(delta("tickwatch_connection_messages_total"))
		b.ReportMetric(ingested, "ingested/s")
		b.ReportMetric(perSec(delta("tickwatch_sink_published_total")), "published/s")
		b.ReportMetric(perSec(float64(received)), "received/s")
		b.ReportMetric(delta("tickwatch_sink_dropped_total"), "sink-dropped")
		b.ReportMetric(delta("tickwatch_connection_dropped_total"), "reader-dropped")
		b.ReportMetric(delta("tickwatch_connection_reconnects_total"), "reconnects")
		b.ReportMetric(hist.quantile(0.50), "ms-p50")
		b.ReportMetric(hist.quantile(0.99), "ms-p99")
		b.ReportMetric(core(0)*100, "server-cpu%")
		if ingested > 0 {
			b.ReportMetric(core(0)*100/(ingested/100_000), "server-cpu%/100k")
		}
		b.ReportMetric(core(1)*100, "simulator-cpu%")
		b.ReportMetric(core(2)*100, "redis-cpu%")
		b.ReportMetric(core(3)*100, "subscriber-cpu%")
		if bad != "" {
			b.Errorf("tick channel message off the schema: %s", bad)
		}
	}
	b.StopTimer()
	if perf != nil {
		_ = perf.Process.Signal(os.Interrupt)
		_ = perf.Wait()
	}
}

// tickwatchBinary is TICKWATCH_BIN, or the module's main package built into
// a temporary directory (without the race detector, as it ships).
func tickwatchBinary(b *testing.B) string {
	if p := os.Getenv("TICKWATCH_BIN"); p != "" {
		return p
	}
	out := filepath.Join(b.TempDir(), "tickwatch")
	cmd := exec.Command("go", "build", "-o", out, "github.com/tickwatch/tickwatch")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

// loopbackAddr is a free 127.0.0.1 port for a child to listen on.
func loopbackAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// child is a process the benchmark started; it is killed at cleanup (and by
// the kernel should the benchmark die first).
type child struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  []string // JSON log lines, for waitLog and failure messages
	cond *sync.Cond
}

func startChild(b *testing.B, name string, cmd *exec.Cmd) *child {
	c := &child{name: name, cmd: cmd}
	c.cond = sync.NewCond(&c.mu)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			if len(c.out) < 1000 {
				c.out = append(c.out, sc.Text())
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = pw.Close()
		<-done
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, l := range c.out {
			if strings.Contains(l, `"level":"error"`) || strings.Contains(l, "slow consumer") {
				b.Logf("%s: %s", name, l)
			}
		}
	})
	return c
}

// waitLog waits for the JSON log line with message msg and returns its
// field.
func (c *child) waitLog(b *testing.B, msg, field string) string {
	deadline := time.Now().Add(60 * time.Second)
	wake := time.AfterFunc(time.Until(deadline), func() { // wake the wait below at the deadline
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer wake.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for seen := 0; ; {
		for ; seen < len(c.out); seen++ {
			var line map[string]any
			if json.Unmarshal([]byte(c.out[seen]), &line) == nil && line["message"] == msg {
				if v, ok := line[field].(string); ok {
					return v
				}
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s never logged %q:\n%s", c.name, msg, strings.Join(c.out, "\n"))
		}
		c.cond.Wait()
	}
}

// scrape sums each metric of the server's /metrics over its labels. The
// exposition is the plain text format: `name{labels} value` per line.
// (prometheus/common's parser would do, but is not a direct dependency of
// the module; promtoolCheck validates the format elsewhere.)
func scrape(b *testing.B, base string) map[string]float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if sp < 0 || err != nil {
			b.Fatalf("/metrics line %q", line)
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		out[name] += v
	}
	if err := sc.Err(); err != nil {
		b.Fatalf("read /metrics: %v", err)
	}
	return out
}

// procCPU is the user+system CPU time of process pid (all its threads).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read /proc/%d/stat: %v", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// fields 14 and 15 (utime, stime) count from after it.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	const clkTck = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / clkTck
}

// childPid finds this process's child running comm (testkit starts
// redis-server without handing out its pid).
func childPid(b *testing.B, comm string) int {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		f := strings.Fields(string(raw[end+1:]))
		if string(raw[open+1:end]) == comm && len(f) > 1 && f[1] == self {
			return pid
		}
	}
	b.Fatalf("no child process %s", comm)
	return 0
}

// latencyHist counts latencies in whole milliseconds (the timestamps'
// precision) up to a minute.
type latencyHist [60_001]uint64

func (h *latencyHist) add(ms int64) { h[min(max(ms, 0), int64(len(h)-1))]++ }

func (h *latencyHist) quantile(q float64) float64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	want := uint64(q * float64(n-1))
	var acc uint64
	for ms, c := range h {
		acc += c
		if acc > want {
			return float64(ms)
		}
	}
	return float64(len(h) - 1)
}

// loadSub is the benchmark's subscriber.
type loadSub struct {
	mu       sync.Mutex
	received int
	hist     *latencyHist
	bad      string
	msgs     atomic.Uint64
}

func newLoadSub(b *testing.B, url, channel string) *loadSub {
	opts, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opts)
	ps := c.Subscribe(context.Background(), channel)
	if _, err := ps.Receive(context.Background()); err != nil {
		b.Fatal(err)
	}
	s := &loadSub{hist: new(latencyHist)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				return // closed at cleanup
			}
			s.message([]byte(m.Payload), time.Now().UnixMilli())
		}
	}()
	b.Cleanup(func() {
		_ = ps.Close()
		wg.Wait()
		_ = c.Close()
	})
	return s
}

var timestampKey = []byte(`"timestamp":`)

// message counts the ticks of one message and notes each one's latency,
// by scanning rather than decoding; one message in 64 is decoded too.
func (s *loadSub) message(p []byte, now int64) {
	n := bytes.Count(p, []byte(elemPrefix))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received += n
	for rest := p; ; {
		i := bytes.Index(rest, timestampKey)
		if i < 0 {
			break
		}
		rest = rest[i+len(timestampKey):]
		var ts int64
		j := 0
		for ; j < len(rest) && rest[j] >= '0' && rest[j] <= '9'; j++ {
			ts = ts*10 + int64(rest[j]-'0')
		}
		rest = rest[j:]
		s.hist.add(now - ts)
	}
	if s.msgs.Add(1)%64 == 0 && s.bad == "" {
		var ticks []tick
		if err := json.Unmarshal(p, &ticks); err != nil || len(ticks) != n {
			s.bad = fmt.Sprintf("decoded %d ticks of %d counted: %v", len(ticks), n, err)
			return
		}
		for _, tk := range ticks {
			if tk.Ev != "T" || tk.Symbol == "" || tk.Price <= 0 || tk.Size <= 0 || !strings.HasPrefix(tk.ConnectionID, "connection_") {
				s.bad = fmt.Sprintf("%+v", tk)
				return
			}
		}
	}
}

func (s *loadSub) reset() {
	s.mu.Lock()
	s.received, s.hist = 0, new(latencyHist)
	s.mu.Unlock()
}

func (s *loadSub) take() (int, *latencyHist, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received, s.hist, s.bad
}
