package live

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "AAPL", `"AAPL"`},
		{"empty", "", `""`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"controls", "a\nb\tc\rd\x01", `"a\nb\tc\rd\u0001"`},
		{"utf8 kept", "prix €", `"prix €"`},
		{"invalid utf8 replaced", "a\xffb", `"a\ufffdb"`},
		{"truncated rune replaced", "a\xe2\x82", `"a\ufffd\ufffd"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendString(nil, tc.in))
			if got != tc.want {
				t.Fatalf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
			}
			var back string
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("not valid JSON: %v", err)
			}
		})
	}
}

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{189.2, "189.2"},
		{-0.42, "-0.42"},
		{100, "100"},
		{1705853696.123, "1705853696.123"},
		{1e-7, "1e-7"},
		{1e21, "1e+21"},
		{math.NaN(), "0"},
		{math.Inf(1), "0"},
		{math.Inf(-1), "0"},
	}
	for _, tc := range tests {
		if got := string(appendNumber(nil, tc.in)); got != tc.want {
			t.Errorf("appendNumber(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendTimes(t *testing.T) {
	if got := string(appendUnixMilli(nil, 1705853696123)); got != "1705853696.123" {
		t.Errorf("ms -> seconds: got %s", got)
	}
	if got := string(appendTime(nil, time.Time{})); got != "0" {
		t.Errorf("zero time: got %s, want 0", got)
	}
	if got := string(appendTime(nil, time.UnixMilli(1705853696100))); got != "1705853696.1" {
		t.Errorf("time: got %s", got)
	}
}

func TestAppendTickFrame(t *testing.T) {
	ticks := []tickstore.Latest{
		{ConnectionID: "connection_1", Tick: tickstore.Tick{Symbol: "AAPL", Price: 189.2, Size: 100, Time: 1705853696000}, ChangePct: 0.42, Count: 7},
		{ConnectionID: "connection_2", Tick: tickstore.Tick{Symbol: "BRK.B", Price: 410.5, Size: 3, Time: 1705853696250}, ChangePct: math.NaN(), Count: 1},
	}
	got := string(appendTickFrame(nil, ticks))
	want := `[{"event":"tick_update","data":{"connection_id":"connection_1","symbol":"AAPL","price":189.2,"timestamp":1705853696,"size":100,"change_pct":0.42,"count":7}},` +
		`{"event":"tick_update","data":{"connection_id":"connection_2","symbol":"BRK.B","price":410.5,"timestamp":1705853696.25,"size":3,"change_pct":null,"count":1}}]`
	if got != want {
		t.Fatalf("frame:\n got %s\nwant %s", got, want)
	}
	if got := string(appendTickFrame(nil, nil)); got != "[]" {
		t.Fatalf("empty frame = %s", got)
	}
}

func TestAppendMetricsFrame(t *testing.T) {
	ms := []MetricsEvent{
		{ConnectionID: "connection_1", MsgsPerSec: 25.3, Uptime: 120, MessageCount: 750, ErrorCount: 1,
			Dropped: 2, Reconnects: 3, LastUpdate: time.UnixMilli(1705853696100), RateHistory: []float64{0, 3, 25}},
		{ConnectionID: "connection_2"},
	}
	got := string(appendMetricsFrame(nil, ms, time.UnixMilli(1705853697250)))
	want := `[{"event":"metrics_update","data":{"connection_id":"connection_1","msgs_per_sec":25.3,"uptime":120,"message_count":750,"error_count":1,"last_update":1705853696.1,"dropped":2,"reconnects":3,"rate_history":[0,3,25],"server_time":1705853697.25}},` +
		`{"event":"metrics_update","data":{"connection_id":"connection_2","msgs_per_sec":0,"uptime":0,"message_count":0,"error_count":0,"last_update":0,"dropped":0,"reconnects":0,"rate_history":[],"server_time":1705853697.25}}]`
	if got != want {
		t.Fatalf("frame:\n got %s\nwant %s", got, want)
	}
}

func TestAppendStatusFrame(t *testing.T) {
	e := StatusEvent{ConnectionID: "connection_1", Status: "disconnected", Previous: "connected",
		Reason: `drop: "EOF"`, At: time.UnixMilli(1705853696100)}
	got := string(appendStatusFrame(nil, &e))
	want := `[{"event":"connection_status_update","data":{"connection_id":"connection_1","status":"disconnected","previous":"connected","reason":"drop: \"EOF\"","timestamp":1705853696.1}}]`
	if got != want {
		t.Fatalf("frame:\n got %s\nwant %s", got, want)
	}
}

// TestSnapshotStatusNotEncodable keeps the snapshot valid JSON when the
// status document cannot be marshalled (the web package's bug, not a
// reason to send a broken frame).
func TestSnapshotStatusNotEncodable(t *testing.T) {
	h := New(Options{Status: func() any { return map[string]any{"bad": math.NaN()} }})
	b := h.appendSnapshot(nil)
	if !json.Valid(b) {
		t.Fatalf("snapshot is not JSON: %s", b)
	}
	if !strings.Contains(string(b), `"status":null`) {
		t.Fatalf("want status null, got %s", b)
	}
}

// TestAppendNumberMatchesEncodingJSON checks the fast path against the
// reference on prices with 0-6 decimals, random doubles and edge values.
func TestAppendNumberMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, math.Copysign(0, -1), 1e11, 1e11 - 0.0001, 99999999999.9999, 0.00005, 0.0001,
		-0.0001, 1e-6, 9.99999e-7, 1e20, 123456789.1234, math.MaxFloat64, math.SmallestNonzeroFloat64}
	for range 20000 {
		dec := rng.IntN(7)
		cents := rng.Int64N(1e9) - 5e8
		vals = append(vals, float64(cents)/math.Pow10(dec), rng.NormFloat64()*1e3, math.Float64frombits(rng.Uint64()))
	}
	for _, v := range vals {
		if !finite(v) {
			continue
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if v == 0 {
			want = []byte("0") // -0 is written as 0
		}
		if got := appendNumber(nil, v); string(got) != string(want) {
			t.Fatalf("appendNumber(%v) = %s, encoding/json says %s", v, got, want)
		}
	}
	for range 20000 {
		ms := rng.Int64N(4e12) - 1e12
		want, _ := json.Marshal(float64(ms) / 1000)
		if got := appendUnixMilli(nil, ms); string(got) != string(want) {
			t.Fatalf("appendUnixMilli(%d) = %s, encoding/json says %s", ms, got, want)
		}
	}
}

func FuzzAppendNumber(f *testing.F) {
	for _, v := range []float64{0, 189.2, -0.42, 1e-7, 1e21, 12345.6789} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		got := appendNumber(nil, v)
		var back float64
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendNumber(%v) = %s: not JSON: %v", v, got, err)
		}
		if finite(v) && back != v {
			t.Fatalf("appendNumber(%v) = %s reads back as %v", v, got, back)
		}
	})
}

// The per-second frame carries a sink_update per sink after the
// metrics_update events, and nothing at all when there is neither.
func TestMetricsFrameWithSinks(t *testing.T) {
	metric := []MetricsEvent{{ConnectionID: "connection_1"}}
	sink := []any{map[string]any{"name": "redis", "state": "down"}}
	m1 := `{"event":"metrics_update","data":{"connection_id":"connection_1","msgs_per_sec":0,"uptime":0,"message_count":0,"error_count":0,"last_update":0,"dropped":0,"reconnects":0,"rate_history":[],"server_time":1705853697.25}}`
	s1 := `{"event":"sink_update","data":{"name":"redis","state":"down"}}`
	for _, tc := range []struct {
		name    string
		metrics []MetricsEvent
		sinks   []any
		want    string
	}{
		{"none", nil, nil, "prefix"},
		{"metrics only", metric, nil, "prefix[" + m1 + "]"},
		{"sinks only", nil, sink, "prefix[" + s1 + "]"},
		{"both", metric, append(sink, map[string]any{"name": "b"}), "prefix[" + m1 + "," + s1 + `,{"event":"sink_update","data":{"name":"b"}}]`},
		{"unencodable sink skipped", metric, []any{math.NaN()}, "prefix[" + m1 + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := New(Options{
				Metrics: func() []MetricsEvent { return tc.metrics },
				Sinks:   func() []any { return tc.sinks },
			})
			h.now = func() time.Time { return time.UnixMilli(1705853697250) }
			got := string(h.appendMetrics([]byte("prefix")))
			if got != tc.want {
				t.Fatalf("frame:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestExportedFrames(t *testing.T) {
	e := StatusEvent{ConnectionID: "connection_2", Status: "connected", Previous: "connecting", At: time.UnixMilli(1705853696100)}
	want := string(appendStatusFrame(nil, &e))
	if got := string(AppendStatusFrame(nil, e)); got != want {
		t.Fatalf("AppendStatusFrame = %s, want the /admin-ws frame %s", got, want)
	}
	if got := string(AppendStatusFrame(nil, StatusEvent{ConnectionID: "c"})); !strings.Contains(got, `"timestamp":1`) {
		t.Fatalf("a zero time is stamped now: %s", got)
	}
	got := string(AppendEventFrame([]byte("x"), "health_update", []byte(`{"total_connections":2}`)))
	if want := `x[{"event":"health_update","data":{"total_connections":2}}]`; got != want {
		t.Fatalf("AppendEventFrame = %s, want %s", got, want)
	}
}
