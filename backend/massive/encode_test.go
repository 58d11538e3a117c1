package massive

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fullEvents has, per kind, an event with every field the decoder fills for
// that kind set to a distinct non-zero value.
func fullEvents() []Event {
	return []Event{
		{Kind: KindTrade, Symbol: "BRK.A", Price: 114.125, Size: 100.5, Time: 1536036818784, Seq: 3681328, Exchange: 4, Tape: 3},
		{Kind: KindQuote, Symbol: "MSFT", BidPrice: 114.125, AskPrice: 114.128, BidSize: 100, AskSize: 160,
			Price: (114.125 + 114.128) / 2, Size: 100, Time: 1536036818785, Seq: 50385480, Tape: 2},
		{Kind: KindSecondAgg, Symbol: "GTE", Size: 4110, DayVolume: 9470157, DayOpen: 0.4372, VWAP: 0.4488,
			Open: 0.4487, Price: 0.4486, High: 0.4489, Low: 0.4485, DayVWAP: 0.4352, Start: 1610144640000, Time: 1610144641000},
		{Kind: KindMinuteAgg, Symbol: "A\"B\\C\u00e9", Size: 1, DayVolume: 2, DayOpen: 3, VWAP: 4, Open: 5,
			Price: 6, High: 7, Low: 8, DayVWAP: 9, Start: 10, Time: 11},
	}
}

// TestAppendEventRoundTrip checks that everything an Event holds survives
// AppendEvent and Decode: a field the encoder forgot comes back zero.
func TestAppendEventRoundTrip(t *testing.T) {
	evs := fullEvents()
	frame := []byte{'['}
	for i := range evs {
		if i > 0 {
			frame = append(frame, ',')
		}
		frame = AppendEvent(frame, &evs[i])
	}
	frame = append(frame, ']')
	if !json.Valid(frame) {
		t.Fatalf("not JSON: %s", frame)
	}
	var d Decoder
	got, st, err := d.Decode(frame, nil, nil)
	if err != nil || len(st) != 0 || d.Stats() != (DecodeStats{}) {
		t.Fatalf("decode: err %v, statuses %v, stats %+v", err, st, d.Stats())
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, evs)
	}
}

// TestFullEventsCoverEveryField fails when Event gains a field that no
// sample above sets: the round trip would not notice it missing from
// AppendEvent.
func TestFullEventsCoverEveryField(t *testing.T) {
	typ := reflect.TypeFor[Event]()
	for i := range typ.NumField() {
		set := false
		for _, ev := range fullEvents() {
			if !reflect.ValueOf(ev).Field(i).IsZero() {
				set = true
			}
		}
		if !set {
			t.Errorf("field %s is zero in every sample: add it to fullEvents and AppendEvent", typ.Field(i).Name)
		}
	}
}

// TestAppendEventReferenceFrames re-encodes the reference examples: the
// decoded result is the same, and the upstream field names are kept.
func TestAppendEventReferenceFrames(t *testing.T) {
	frames := []string{
		`[{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328}]`,
		`[{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,"i":[604],"t":1536036818784,"q":50385480,"z":3}]`,
		`[{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]`,
	}
	wantKeys := map[string]string{
		"T":  "ev,p,q,s,sym,t,x,z",
		"Q":  "ap,as,bp,bs,ev,q,sym,t,z",
		"AM": "a,av,c,e,ev,h,l,o,op,s,sym,v,vw",
	}
	for _, f := range frames {
		var d Decoder
		evs, _, err := d.Decode([]byte(f), nil, nil)
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode %s: %v %v", f, evs, err)
		}
		out := AppendEvent(nil, &evs[0])
		again, _, err := d.Decode(out, nil, nil)
		if err != nil || len(again) != 1 || again[0] != evs[0] {
			t.Errorf("%s: re-encoded %s decodes to %+v, want %+v", f, out, again, evs[0])
		}
		var obj map[string]any
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		ev := evs[0].Kind.Prefix()
		if got := strings.Join(slices.Sorted(maps.Keys(obj)), ","); got != wantKeys[ev] {
			t.Errorf("%s keys = %s, want %s", ev, got, wantKeys[ev])
		}
		// Integers stay integers (strict decoders have int fields).
		if strings.Contains(string(out), "e+") || strings.Contains(string(out), ".0,") {
			t.Errorf("%s: non-integer form in %s", ev, out)
		}
	}
}

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{100, "100"}, {114.125, "114.125"}, {0, "0"}, {-1.5, "-1.5"}, {1e21, "1000000000000000000000"},
		{math.NaN(), "0"}, {math.Inf(1), "0"},
	}
	for _, tc := range tests {
		if got := string(AppendNumber(nil, tc.in)); got != tc.want {
			t.Errorf("AppendNumber(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendEventUnknownKind(t *testing.T) {
	if out := AppendEvent([]byte("x"), &Event{Kind: 0, Symbol: "A"}); string(out) != "x" {
		t.Errorf("unknown kind appended %q", out)
	}
}

func TestStatusFrame(t *testing.T) {
	got := string(StatusFrame([2]string{StatusSuccess, "subscribed to: T.AAPL"}, [2]string{StatusError, `bad "x"`}))
	want := `[{"ev":"status","status":"success","message":"subscribed to: T.AAPL"},{"ev":"status","status":"error","message":"bad \"x\""}]`
	if got != want {
		t.Errorf("StatusFrame = %s\nwant %s", got, want)
	}
}
