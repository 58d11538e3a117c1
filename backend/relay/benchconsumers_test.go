package relay_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// BenchmarkRelayFanout's consumers run in a process of their own, as real
// consumers do: the benchmark re-executes this test binary with the
// variables below set, and TestMain runs runBenchConsumers instead of the
// tests. Timestamps need no clock exchange: both processes read the same
// host's wall clock.
const (
	benchEnvURL    = "TICKWATCH_RELAY_BENCH_URL"    // the relay's ws:// URL; set only in the child
	benchEnvN      = "TICKWATCH_RELAY_BENCH_N"      // consumer connections to open
	benchEnvParams = "TICKWATCH_RELAY_BENCH_PARAMS" // what each subscribes
	benchEnvFrames = "TICKWATCH_RELAY_BENCH_FRAMES" // frames each expects before it stops
	benchEnvOut    = "TICKWATCH_RELAY_BENCH_OUT"    // file for the receive records
	benchReady     = "ready"                        // the child's stdout line once all are subscribed
)

func isBenchConsumers() bool { return os.Getenv(benchEnvURL) != "" }

// benchRecord is one frame read by one consumer: the batch sequence its
// first event carries and when the consumer had read all of it (unix ns).
type benchRecord struct{ Seq, At int64 }

// runBenchConsumers opens the consumers, says ready on stdout, reads
// frames until each has its count or its connection ends, and writes every
// record to the out file (little-endian int64 pairs, consumer after
// consumer). Errors go to stderr with a non-zero status.
func runBenchConsumers() int {
	url, params, out := os.Getenv(benchEnvURL), os.Getenv(benchEnvParams), os.Getenv(benchEnvOut)
	n, err1 := strconv.Atoi(os.Getenv(benchEnvN))
	frames, err2 := strconv.Atoi(os.Getenv(benchEnvFrames))
	if err1 != nil || err2 != nil || params == "" || out == "" {
		fmt.Fprintln(os.Stderr, "bench consumers: bad environment")
		return 2
	}
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, err := benchConsumer(url, params)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench consumer %d: %v\n", i, err)
			return 1
		}
		conns[i] = c
	}
	fmt.Println(benchReady)
	recs := make([][]benchRecord, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = benchRead(c, frames)
			_ = c.Close()
		}()
	}
	wg.Wait()
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w := bufio.NewWriter(f)
	for _, rs := range recs {
		if err := binary.Write(w, binary.LittleEndian, rs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// benchConsumer connects, authenticates and subscribes, and reads up to
// the last ack (connected, auth_success, one success per subscription).
func benchConsumer(url, params string) (*websocket.Conn, error) {
	// A 64 KiB read buffer takes a 10 KB frame in one read: the consumers
	// share the box with the relay, so the cheaper they read the more the
	// figures are the relay's.
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	if err := c.WriteJSON(map[string]string{"action": "auth", "params": keyAlpha}); err != nil {
		return nil, err
	}
	if err := c.WriteJSON(map[string]string{"action": "subscribe", "params": params}); err != nil {
		return nil, err
	}
	want := 2 + bytes.Count([]byte(params), []byte(",")) + 1
	for acks := 0; acks < want; {
		_, data, err := c.ReadMessage()
		if err != nil {
			return nil, err
		}
		acks += bytes.Count(data, []byte(`"ev":"status"`))
	}
	return c, nil
}

// benchRead reads frames into one reused buffer and records each one's
// batch sequence, found by scanning for the first "q": rather than
// decoding: the consumer's parsing is not the relay's latency.
func benchRead(c *websocket.Conn, frames int) []benchRecord {
	recs := make([]benchRecord, 0, frames)
	buf := make([]byte, 0, 64<<10)
	for len(recs) < frames {
		_, r, err := c.NextReader()
		if err != nil {
			return recs
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			k, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+k]
			if err == io.EOF {
				break
			}
			if err != nil {
				return recs
			}
		}
		at := time.Now().UnixNano()
		k := bytes.Index(buf, []byte(`"q":`))
		if k < 0 {
			continue // a status
		}
		end := k + 4
		for end < len(buf) && buf[end] >= '0' && buf[end] <= '9' {
			end++
		}
		if seq, err := strconv.ParseInt(string(buf[k+4:end]), 10, 64); err == nil {
			recs = append(recs, benchRecord{Seq: seq, At: at})
		}
	}
	return recs
}
