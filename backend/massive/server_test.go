package massive

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	subs, bad := ParseParams(" T.AAPL , A.BRK.A,,AM.*, nodot, X.Y, T., T.aapl, T.TOOLONGTICKER, LULD.*")
	if got := fmt.Sprint(subs); got != "[T.AAPL A.BRK.A AM.* LULD.*]" {
		t.Errorf("subs = %s", got)
	}
	if got := fmt.Sprint(bad); got != "[nodot X.Y T. T.aapl T.TOOLONGTICKER]" {
		t.Errorf("bad = %s", got)
	}
	if subs[1] != (Sub{Channel: "A", Ticker: "BRK.A"}) {
		t.Errorf("split at the first dot: %+v", subs[1])
	}
}

func TestParseClientMessage(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		raw     string
		want    ClientMessage
		wantErr string
	}{
		{`{"action":"auth","params":"k"}`, ClientMessage{"auth", "k"}, ""},
		{`{"action":"subscribe","params":null}`, ClientMessage{"subscribe", ""}, ""},
		{`{"action":"subscribe"}`, ClientMessage{"subscribe", ""}, ""},
		{`{"action":"subscribe","params":["T.A"]}`, ClientMessage{}, "params must be a string"},
		{`not json`, ClientMessage{}, "invalid message: not json"},
		{long, ClientMessage{}, "invalid message: " + long[:MaxEchoedText] + "..."},
	}
	for _, tc := range tests {
		got, err := ParseClientMessage([]byte(tc.raw))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%.20s: err %v, want %q", tc.raw, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v %v, want %+v", tc.raw, got, err, tc.want)
		}
	}
}

func TestClosingStatusText(t *testing.T) {
	for _, s := range []string{StatusAuthFailed, StatusAuthTimeout, StatusMaxConnections, StatusSlowConsumer, StatusForceDisconnect} {
		if msg, ok := ClosingStatusText(s); !ok || msg == "" {
			t.Errorf("%s: %q %v", s, msg, ok)
		}
	}
	if _, ok := ClosingStatusText(StatusSuccess); ok {
		t.Error("success is not a closing status")
	}
}
