//go:build unix

package relay_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

// BenchmarkRelayFanout measures the relay's fan-out at 100,000 events/s in, set
// up like a deployment: this process is the relay (the hub behind a real
// Fiber listener on loopback), fed decoded batches of 100 trades (one per
// symbol) every millisecond, as the manager would; the consumers are real
// WebSocket clients in another process (this test binary re-executed, see
// runBenchConsumers), each subscribed to all 100 symbols (so each batch is
// encoded once and its frame shared). Each b.N is one batch; run it with a
// fixed count (-benchtime=3000x: three seconds). Reported: events/s in and
// delivered (all consumers), the CPU of the relay process alone and of the
// consumer process, in cores, the time Ticks takes per batch (p99), and the
// latency the relay adds, from the Ticks call to a consumer having read
// the whole frame, p50 and p99 over every frame every consumer read, and
// per batch the first and the last consumer to have read it (their spread
// is the consumers waiting on one another's writes).
//
//	go test -run '^$' -bench RelayFanout -benchtime 3000x ./backend/relay
func BenchmarkRelayFanout(b *testing.B) {
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
	closed := false
	shut := func() {
		if !closed {
			closed = true
			hub.Close()
			_ = app.ShutdownWithTimeout(5 * time.Second)
		}
	}
	defer shut()

	syms := make([]string, benchSymbols)
	params := make([]string, benchSymbols)
	for i := range syms {
		syms[i] = "S" + strconv.Itoa(i)
		params[i] = "T." + syms[i]
	}
	out := filepath.Join(b.TempDir(), "records")
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^$")
	child.Env = append(os.Environ(),
		benchEnvURL+"=ws://"+ln.Addr().String()+"/stocks",
		benchEnvN+"="+strconv.Itoa(consumers),
		benchEnvParams+"="+strings.Join(params, ","),
		benchEnvFrames+"="+strconv.Itoa(b.N),
		benchEnvOut+"="+out,
	)
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line) == benchReady
		_, _ = io.Copy(io.Discard, stdout)
		exited <- child.Wait()
	}()
	select {
	case ok := <-ready:
		if !ok {
			b.Fatal("consumer process failed before it was ready")
		}
	case <-time.After(60 * time.Second):
		_ = child.Process.Kill()
		b.Fatal("consumer process not ready after 60 s")
	}

	batch := make([]massive.Event, benchSymbols)
	for i := range batch {
		batch[i] = massive.Event{Kind: massive.KindTrade, Symbol: syms[i], Price: 100.25, Size: 100, Exchange: 4, Tape: 3, Time: 1700000000000}
	}
	sent := make([]int64, b.N) // when batch i went into Ticks, unix ns
	inTicks := make([]time.Duration, b.N)
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
		t := time.Now()
		sent[i] = t.UnixNano()
		hub.Ticks("connection_1", batch)
		inTicks[i] = time.Since(t)
	}
	fed := time.Since(start)
	// The consumer process ends once every consumer has read every frame
	// or was cut off as slow (its connection closed).
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(30 * time.Second):
		shut() // closes every consumer: the child writes what it got
		waitErr = <-exited
	}
	elapsed := time.Since(start)
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if waitErr != nil {
		b.Fatalf("consumer process: %v", waitErr)
	}
	st := hub.Stats()
	shut()

	recs, err := readBenchRecords(out)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, len(recs))
	// Per batch, the first and the last consumer to have it: the spread is
	// the consumers waiting for one another's writes (and reads).
	first := make([]time.Duration, b.N)
	last := make([]time.Duration, b.N)
	for _, r := range recs {
		if r.Seq >= 0 && r.Seq < int64(len(sent)) {
			d := time.Duration(r.At - sent[r.Seq])
			lat = append(lat, d)
			if first[r.Seq] == 0 || d < first[r.Seq] {
				first[r.Seq] = d
			}
			last[r.Seq] = max(last[r.Seq], d)
		}
	}
	slices.Sort(lat)
	slices.Sort(first)
	slices.Sort(last)
	slices.Sort(inTicks)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(s []time.Duration, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return ms(s[min(len(s)-1, int(p*float64(len(s))))])
	}
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	childCPU := child.ProcessState.UserTime() + child.ProcessState.SystemTime()
	b.ReportMetric(float64(b.N*benchSymbols)/fed.Seconds(), "events_in/s")
	b.ReportMetric(float64(len(lat)*benchSymbols)/elapsed.Seconds(), "events_out/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "relay_cpu_cores")
	b.ReportMetric(childCPU.Seconds()/elapsed.Seconds(), "consumers_cpu_cores")
	if len(lat) > 0 {
		// The relay's cost per frame delivered, whatever CPU it got.
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "relay_cpu_us/frame")
	}
	b.ReportMetric(pct(inTicks, 0.99), "ticks_p99_ms")
	b.ReportMetric(pct(lat, 0.50), "p50_ms")
	b.ReportMetric(pct(lat, 0.99), "p99_ms")
	b.ReportMetric(pct(first, 0.50), "first_p50_ms")
	b.ReportMetric(pct(last, 0.50), "last_p50_ms")
	b.ReportMetric(pct(last, 0.99), "last_p99_ms")
	b.ReportMetric(float64(st.SlowDisconnects), "slow_cut")
	b.ReportMetric(0, "ns/op") // one op is one paced millisecond: meaningless
}

// readBenchRecords reads the consumer process's records.
func readBenchRecords(path string) ([]benchRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("consumer records: %w", err)
	}
	if len(data)%16 != 0 {
		return nil, errors.New("consumer records: truncated file")
	}
	recs := make([]benchRecord, len(data)/16)
	if _, err := binary.Decode(data, binary.LittleEndian, recs); err != nil {
		return nil, fmt.Errorf("consumer records: %w", err)
	}
	return recs, nil
}
