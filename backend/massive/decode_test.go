package massive

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name      string
		frame     string
		events    []Event
		statuses  []StatusMessage
		unknown   uint64
		malformed uint64
		wantErr   bool
	}{
		{
			name:  "trade from the reference",
			frame: `[{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328}]`,
			events: []Event{{Kind: KindTrade, Symbol: "MSFT", Exchange: 4, Tape: 3, Price: 114.125,
				Size: 100, Time: 1536036818784, Seq: 3681328}},
		},
		{
			name:  "quote from the reference",
			frame: `[{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,"i":[604],"t":1536036818784,"q":50385480,"z":3}]`,
			events: []Event{{Kind: KindQuote, Symbol: "MSFT", BidPrice: 114.125, AskPrice: 114.128,
				Price: (114.125 + 114.128) / 2, BidSize: 100, Size: 100, AskSize: 160, Time: 1536036818784,
				Seq: 50385480, Tape: 3}},
		},
		{
			name:  "minute aggregate from the reference",
			frame: `[{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]`,
			events: []Event{{Kind: KindMinuteAgg, Symbol: "GTE", Size: 4110, DayVolume: 9470157, DayOpen: 0.4372,
				VWAP: 0.4488, Open: 0.4488, Price: 0.4486, High: 0.4489, Low: 0.4486, DayVWAP: 0.4352,
				Start: 1610144640000, Time: 1610144700000}},
		},
		{
			name:   "second aggregate as a bare object, ev last, ints for floats",
			frame:  ` {"sym":"BRK.A","c":600000,"o":1,"h":2,"l":0,"v":3,"s":10,"e":11.0,"otc":true,"ev":"A"} `,
			events: []Event{{Kind: KindSecondAgg, Symbol: "BRK.A", Price: 600000, Open: 1, High: 2, Size: 3, Start: 10, Time: 11}},
		},
		{
			name: "statuses batched",
			frame: `[{"ev":"status","status":"connected","message":"Connected Successfully"},` +
				`{"ev":"status","status":"success","message":"subscribed to: A.AAPL"}]`,
			statuses: []StatusMessage{{"connected", "Connected Successfully"}, {"success", "subscribed to: A.AAPL"}},
		},
		{
			name:     "escapes in symbol and message",
			frame:    `[{"ev":"T","sym":"A\u0042C\/D","p":1},{"ev":"status","status":"error","message":"say \"hi\"\n\ud83d\ude00 \u00e9"}]`,
			events:   []Event{{Kind: KindTrade, Symbol: "ABC/D", Price: 1}},
			statuses: []StatusMessage{{"error", "say \"hi\"\n😀 é"}},
		},
		{
			name:    "escaped key",
			frame:   `{"\u0065v":"T","sym":"X","p":2e0}`,
			events:  []Event{{Kind: KindTrade, Symbol: "X", Price: 2}},
			wantErr: false,
		},
		{
			name:    "unknown ev and LULD counted, rest kept",
			frame:   `[{"ev":"LULD","T":"AAPL","h":1,"l":2,"i":[1],"z":1,"t":1,"q":1},{"ev":"NOI"},{"ev":"T","sym":"A","p":1}]`,
			events:  []Event{{Kind: KindTrade, Symbol: "A", Price: 1}},
			unknown: 2,
		},
		{
			name: "malformed events dropped alone",
			frame: `[{"ev":"T","sym":"A","p":"abc"},{"ev":"T","p":1},{"sym":"A","p":1},{"ev":"A","sym":"A"},` +
				`{"ev":"T","sym":"","p":1},{"ev":7,"sym":"A"},{"ev":"T","sym":"A","p":1,"t":1e300},42,` +
				`{"ev":"T","sym":"OK","p":1,"unknown":{"deep":[1,{"x":"]"}]},"c":[1,2]}]`,
			events:    []Event{{Kind: KindTrade, Symbol: "OK", Price: 1}},
			malformed: 8,
		},
		{
			name:   "null is absent",
			frame:  `[{"ev":"T","sym":"A","p":1,"s":null,"x":null}]`,
			events: []Event{{Kind: KindTrade, Symbol: "A", Price: 1}},
		},
		{
			name:      "syntax error keeps events before it",
			frame:     `[{"ev":"T","sym":"A","p":1},{"ev":"T","sym":"B","p":`,
			events:    []Event{{Kind: KindTrade, Symbol: "A", Price: 1}},
			malformed: 1,
			wantErr:   true,
		},
		{name: "empty", frame: "  ", malformed: 1, wantErr: true},
		{name: "not json", frame: "hello", malformed: 1, wantErr: true},
		{name: "empty array", frame: "[ ]"},
		{name: "trailing data", frame: `[]x`, malformed: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			events, statuses, err := d.Decode([]byte(tt.frame), nil, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformedFrame) {
				t.Errorf("err = %v, want ErrMalformedFrame", err)
			}
			if fmt.Sprint(events) != fmt.Sprint(tt.events) {
				t.Errorf("events\n got %+v\nwant %+v", events, tt.events)
			}
			if fmt.Sprint(statuses) != fmt.Sprint(tt.statuses) {
				t.Errorf("statuses\n got %q\nwant %q", statuses, tt.statuses)
			}
			if s := d.Stats(); s.Unknown != tt.unknown || s.Malformed != tt.malformed {
				t.Errorf("stats = %+v, want unknown %d malformed %d", s, tt.unknown, tt.malformed)
			}
		})
	}
}

func TestDecodeNumbers(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1", "114.125", "0.4486", "1e3", "1E-3", "-2.5e+2",
		"123456789012345678", "9223372036854775807", "12345678901234567890", "0.1", "0.3",
		"1.7976931348623157e308", "4.9e-324", "3.141592653589793238462643383279", "100.00000000000000000001",
		"0.000000000000000000000000000001"} {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		next, got, _, _, ok := scanNumber([]byte(s), 0)
		if !ok || next != len(s) || got != want || math.Signbit(got) != math.Signbit(want) && got != 0 {
			t.Errorf("scanNumber(%s) = %v ok=%v next=%d, want %v", s, got, ok, next, want)
		}
	}
	for _, s := range []string{"-", "1.", ".5", "1e", "1e+", "1.2.3", "1-2", "1e999", "--1"} {
		if _, _, _, _, ok := scanNumber([]byte(s), 0); ok {
			t.Errorf("scanNumber(%s) ok, want rejected", s)
		}
	}
}

func TestDecodeInternsSymbols(t *testing.T) {
	d := NewDecoder(2)
	frame := []byte(`[{"ev":"T","sym":"AAA","p":1},{"ev":"T","sym":"BBB","p":1},{"ev":"T","sym":"CCC","p":1}]`)
	for range 3 {
		if _, _, err := d.Decode(frame, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if d.Interned() != 2 {
		t.Fatalf("interned %d symbols, want the cap 2", d.Interned())
	}
	ev1, _, _ := d.Decode(frame, nil, nil)
	ev2, _, _ := d.Decode(frame, nil, nil)
	if ev1[0].Symbol != "AAA" || ev1[2].Symbol != "CCC" || ev2[2].Symbol != "CCC" {
		t.Fatalf("symbols wrong: %v %v", ev1, ev2)
	}
	// The decoder must not alias the frame: symbols survive a rewrite of it.
	copy(frame[18:21], "ZZZ")
	if ev1[0].Symbol != "AAA" || ev1[2].Symbol != "CCC" {
		t.Fatalf("symbol aliases the frame: %v", ev1)
	}
}

func TestDecodeNoAllocs(t *testing.T) {
	for _, name := range []string{"trades", "aggregates"} {
		frame := benchFrame(name, 100)
		var d Decoder
		events := make([]Event, 0, 128)
		statuses := make([]StatusMessage, 0, 4)
		if _, _, err := d.Decode(frame, events, statuses); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			events, statuses, _ = d.Decode(frame, events[:0], statuses[:0])
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per frame in steady state, want 0", name, allocs)
		}
	}
}

// appendEventJSON encodes an event the way the provider would, so decoded
// events can be round-tripped.
func appendEventJSON(b []byte, ev Event) []byte {
	num := func(key string, f float64) {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	integer := func(key string, n int64) {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, `{"ev":`...)
	b = strconv.AppendQuote(b, ev.Kind.Prefix())
	// Bytes are kept as they are (not json.Marshal, which rewrites invalid
	// UTF-8): the decoder passes them through too.
	b = append(b, `,"sym":"`...)
	for i := 0; i < len(ev.Symbol); i++ {
		switch c := ev.Symbol[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	b = append(b, '"')
	switch ev.Kind {
	case KindTrade:
		num("p", ev.Price)
		num("s", ev.Size)
		integer("t", ev.Time)
		integer("q", ev.Seq)
		integer("x", int64(ev.Exchange))
		integer("z", int64(ev.Tape))
	case KindQuote:
		num("bp", ev.BidPrice)
		num("ap", ev.AskPrice)
		num("bs", ev.BidSize)
		num("as", ev.AskSize)
		integer("t", ev.Time)
		integer("q", ev.Seq)
		integer("z", int64(ev.Tape))
	default:
		num("c", ev.Price)
		num("v", ev.Size)
		num("o", ev.Open)
		num("h", ev.High)
		num("l", ev.Low)
		num("vw", ev.VWAP)
		num("op", ev.DayOpen)
		num("av", ev.DayVolume)
		num("a", ev.DayVWAP)
		integer("s", ev.Start)
		integer("e", ev.Time)
	}
	return append(b, '}')
}

// benchFrame builds a frame of n events of one kind over 50 symbols, shaped
// like the real feed's.
func benchFrame(kind string, n int) []byte {
	b := []byte{'['}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		sym := fmt.Sprintf("SYM%02d", i%50)
		if kind == "trades" {
			b = fmt.Appendf(b, `{"ev":"T","sym":"%s","x":4,"i":"%d","z":3,"p":%.3f,"s":%d,"c":[0,12],"t":%d,"q":%d}`,
				sym, 52983525029461+i, 114.125+float64(i)/8, 100+i, 1536036818784+int64(i), 3681328+i)
		} else {
			b = fmt.Appendf(b, `{"ev":"A","sym":"%s","v":%d,"av":9470157,"op":182.43,"vw":%.4f,"o":%.2f,"c":%.2f,"h":%.2f,"l":%.2f,"a":181.9876,"z":85,"s":%d,"e":%d}`,
				sym, 4110+i, 182.4488+float64(i)/100, 182.44+float64(i)/100, 182.46, 182.5, 182.4, 1610144640000+int64(i)*1000, 1610144641000+int64(i)*1000)
		}
	}
	return append(b, ']')
}

func benchmarkDecode(b *testing.B, kind string) {
	const n = 100
	frame := benchFrame(kind, n)
	var d Decoder
	events := make([]Event, 0, n)
	var statuses []StatusMessage
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		events, statuses, err = d.Decode(frame, events[:0], statuses[:0])
		if err != nil || len(events) != n {
			b.Fatalf("decoded %d events, err %v", len(events), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

func BenchmarkDecodeTrades(b *testing.B)     { benchmarkDecode(b, "trades") }
func BenchmarkDecodeAggregates(b *testing.B) { benchmarkDecode(b, "aggregates") }

// FuzzDecode checks that no input panics and that decoding is accountable:
// for a valid JSON array every element ends up exactly once as an event, a
// status, an unknown or a malformed count; and every event survives a
// re-encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`[{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328}]`,
		`{"ev":"A","sym":"BRK.A","c":1,"s":1,"e":2}`,
		`[{"ev":"status","status":"auth_success","message":"authenticated"}]`,
		`[{"ev":"T","sym":"A\u0042","p":"x"},1,[],{"ev":"LULD","T":"A"}]`,
		`[{"ev":"Q","sym":"X","bp":1e2,"ap":-0.5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var d Decoder
		events, statuses, err := d.Decode(frame, nil, nil)
		st := d.Stats()
		for _, ev := range events {
			if ev.Kind < KindTrade || ev.Kind > KindMinuteAgg || ev.Symbol == "" {
				t.Fatalf("bad event %+v", ev)
			}
			if math.IsNaN(ev.Price) || math.IsInf(ev.Price, 0) {
				t.Fatalf("non-finite price %+v", ev)
			}
			var rd Decoder
			again, _, err := rd.Decode(appendEventJSON(nil, ev), nil, nil)
			if err != nil || len(again) != 1 || again[0] != ev {
				t.Fatalf("round trip of %+v gave %+v, %v", ev, again, err)
			}
		}
		for _, s := range statuses {
			if s.Status == "" {
				t.Fatalf("status without a name: %+v", s)
			}
		}
		// Decoding again with the same (warm) decoder gives the same result.
		events2, statuses2, err2 := d.Decode(frame, nil, nil)
		if fmt.Sprint(events2, statuses2, err2) != fmt.Sprint(events, statuses, err) {
			t.Fatalf("second decode differs")
		}
		var elems []json.RawMessage
		if json.Unmarshal(frame, &elems) == nil {
			if err != nil {
				t.Fatalf("valid JSON array rejected: %v", err)
			}
			if got := uint64(len(events)+len(statuses)) + st.Unknown + st.Malformed; got != uint64(len(elems)) {
				t.Fatalf("accounted for %d of %d elements (%d events, %d statuses, %+v)",
					got, len(elems), len(events), len(statuses), st)
			}
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(frame, &obj) == nil && strings.HasPrefix(strings.TrimSpace(string(frame)), "{") {
			if err != nil {
				t.Fatalf("valid JSON object rejected: %v", err)
			}
			if got := uint64(len(events)+len(statuses)) + st.Unknown + st.Malformed; got != 1 {
				t.Fatalf("bare object accounted %d times", got)
			}
		}
	})
}
