package redissink

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// sample events of every kind, with the elements they must encode to. The
// same values feed the publisher tests, which check what a subscriber gets.
var (
	sampleTrade = massive.Event{Kind: massive.KindTrade, Symbol: "AAPL", Price: 189.53, Size: 100,
		Time: 1705853696123, Seq: 4211, Exchange: 4, Tape: 3}
	sampleQuote = massive.Event{Kind: massive.KindQuote, Symbol: "MSFT", BidPrice: 402.1, AskPrice: 402.14,
		BidSize: 3, AskSize: 7, Price: 402.12, Size: 3, Time: 1705853696124, Seq: 99, Tape: 3}
	sampleSecond = massive.Event{Kind: massive.KindSecondAgg, Symbol: "NVDA", Price: 612.5, Size: 1500,
		Open: 611, High: 613.25, Low: 610.75, VWAP: 612.0125, Start: 1705853695000, Time: 1705853696000,
		DayOpen: 600.5, DayVolume: 1234567, DayVWAP: 605.25}
	sampleMinute = massive.Event{Kind: massive.KindMinuteAgg, Symbol: "BRK.B", Price: 371.2, Size: 25000,
		Open: 370, High: 372, Low: 369.9, VWAP: 371.0001, Start: 1705853640000, Time: 1705853700000}
)

func wantElement(connID string, e massive.Event) map[string]any {
	m := map[string]any{"connection_id": connID, "ev": e.Kind.Prefix(), "symbol": e.Symbol, "timestamp": float64(e.Time)}
	switch e.Kind {
	case massive.KindTrade:
		m["price"], m["size"] = e.Price, e.Size
		m["seq"], m["exchange"], m["tape"] = float64(e.Seq), float64(e.Exchange), float64(e.Tape)
	case massive.KindQuote:
		m["bid_price"], m["ask_price"], m["bid_size"], m["ask_size"] = e.BidPrice, e.AskPrice, e.BidSize, e.AskSize
		m["price"], m["seq"], m["tape"] = e.Price, float64(e.Seq), float64(e.Tape)
	default:
		m["price"], m["close"], m["volume"] = e.Price, e.Price, e.Size
		m["open"], m["high"], m["low"], m["vwap"] = e.Open, e.High, e.Low, e.VWAP
		m["start"], m["end"] = float64(e.Start), float64(e.Time)
		m["day_open"], m["day_volume"], m["day_vwap"] = e.DayOpen, e.DayVolume, e.DayVWAP
	}
	return m
}

func TestAppendEventSchema(t *testing.T) {
	for _, e := range []massive.Event{sampleTrade, sampleQuote, sampleSecond, sampleMinute} {
		t.Run(e.Kind.Prefix(), func(t *testing.T) {
			prefix := appendElemPrefix(nil, "connection_2")
			b, ok := appendEvent(nil, prefix, &e)
			if !ok {
				t.Fatal("event refused")
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b)
			}
			if want := wantElement("connection_2", e); !reflect.DeepEqual(got, want) {
				t.Fatalf("element\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestAppendEventRefusesUnknownKind(t *testing.T) {
	e := massive.Event{Symbol: "X", Price: 1}
	b, ok := appendEvent([]byte("keep"), nil, &e)
	if ok || string(b) != "keep" {
		t.Fatalf("unknown kind: ok=%v b=%q", ok, b)
	}
}

// appendFloat must write exactly what encoding/json writes wherever both
// use plain notation, and a number that reads back as v everywhere.
func TestAppendFloat(t *testing.T) {
	vals := []float64{0, 1, -1, 0.5, 189.53, -0.0001, 0.00015, 123456.7891, 99999999999.9999,
		1e11, 1e-6, 1e-7, 1.5e20, 1e21, 3.141592653589793, 1.0000000000000002, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 0.1 + 0.2, 2.675, 1e15 + 0.3}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		// Feed-like prices (few decimals) and arbitrary doubles.
		vals = append(vals, math.Round(r.Float64()*1e6)/float64([]int{1, 10, 100, 1e4}[r.IntN(4)]),
			(r.Float64()-0.5)*math.Pow(10, float64(r.IntN(30)-10)))
	}
	for _, v := range vals {
		got := string(appendFloat(nil, v))
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != v {
			t.Fatalf("%v encodes as %q, which reads back as %v (%v)", v, got, back, err)
		}
		if a := math.Abs(v); a >= 1e-6 && a < 1e21 {
			want, _ := json.Marshal(v)
			if got != string(want) {
				t.Fatalf("%v: got %q, encoding/json writes %q", v, got, want)
			}
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, v)); got != "null" {
			t.Fatalf("%v encodes as %q, want null", v, got)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "AAPL", "BRK.B", `a"b`, `back\slash`, "tab\there", "\x01", "Zürich", "bad\xffutf8", "<&>"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes as invalid JSON %s: %v", s, b, err)
		}
		want := s
		if s == "bad\xffutf8" {
			want = "bad\ufffdutf8"
		}
		if got != want {
			t.Fatalf("%q encodes as %s, reads back as %q", s, b, got)
		}
	}
}
