package massive_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/massive"
)

func TestNormalizeTicker(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "AAPL", want: "AAPL"},
		{in: "  aapl\t", want: "AAPL"},
		{in: "brk.b", want: "BRK.B"},
		{in: "BF-B", want: "BF-B"},
		{in: "X", want: "X"},
		{in: "ABCDEFGHIJ", want: "ABCDEFGHIJ"},
		{in: "1234", want: "1234"},
		{in: "", wantErr: `invalid symbol "": want 1-10 characters of A-Z, 0-9, '.' or '-' (e.g. AAPL, BRK.B)`},
		{in: "   ", wantErr: `invalid symbol "   ": want 1-10`},
		{in: "ABCDEFGHIJK", wantErr: `invalid symbol "ABCDEFGHIJK": want 1-10`},
		{in: "AA PL", wantErr: `invalid symbol "AA PL"`},
		{in: "AAPL$", wantErr: `invalid symbol "AAPL$"`},
		{in: "BRK/B", wantErr: `invalid symbol "BRK/B"`},
		{in: "ÄPFEL", wantErr: `invalid symbol "ÄPFEL"`},
		// What could break a params string or the JSON around it.
		{in: "A,B", wantErr: `invalid symbol "A,B"`},
		{in: `A"B`, wantErr: `invalid symbol "A\"B"`},
		{in: `A\B`, wantErr: `invalid symbol "A\\B"`},
		{in: "*", wantErr: `invalid symbol "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := massive.NormalizeTicker(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NormalizeTicker(%q): %v", tt.in, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NormalizeTicker(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("NormalizeTicker(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// ValidTicker is the exact form: what NormalizeTicker returns.
			if tt.wantErr == "" && !massive.ValidTicker(got) {
				t.Errorf("ValidTicker(%q) = false for a normalized ticker", got)
			}
		})
	}
	if massive.ValidTicker("aapl") || massive.ValidTicker(" AAPL") {
		t.Error("ValidTicker accepts a ticker that is not normalized")
	}
}

func TestNormalizeChannels(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{in: []string{"A"}, want: []string{"A"}},
		{in: []string{" t", "Q", "am", "A", "T"}, want: []string{"T", "Q", "AM", "A"}},
		{in: nil, wantErr: "no channel"},
		{in: []string{"A", "X"}, wantErr: `unknown channel "X"`},
		// The cluster has LULD, but the client does not decode it.
		{in: []string{"LULD"}, wantErr: `unknown channel "LULD"`},
		{in: []string{""}, wantErr: `unknown channel ""`},
	}
	for _, tt := range tests {
		got, err := massive.NormalizeChannels(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeChannels(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("NormalizeChannels(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestChannelKinds(t *testing.T) {
	for _, k := range []massive.Kind{massive.KindTrade, massive.KindQuote, massive.KindSecondAgg, massive.KindMinuteAgg} {
		got, ok := massive.ChannelKind(k.Prefix())
		if !ok || got != k {
			t.Errorf("ChannelKind(%q) = %v, %v; want %v", k.Prefix(), got, ok, k)
		}
		if !massive.IsStocksChannel(k.Prefix()) {
			t.Errorf("IsStocksChannel(%q) = false", k.Prefix())
		}
	}
	for _, p := range []string{"LULD", "NOI", "FMV"} {
		if _, ok := massive.ChannelKind(p); ok || !massive.IsStocksChannel(p) {
			t.Errorf("%s: a stocks channel without a kind", p)
		}
	}
	for _, p := range []string{"", "t", "X", "XT", "AM "} {
		if massive.IsStocksChannel(p) {
			t.Errorf("IsStocksChannel(%q) = true", p)
		}
	}
}

func TestSplitSubscription(t *testing.T) {
	tests := []struct {
		in, ch, ticker string
		ok             bool
	}{
		{"T.AAPL", "T", "AAPL", true},
		{"T.BRK.A", "T", "BRK.A", true}, // the first dot splits
		{" AM . * ", "AM", "*", true},
		{"nodot", "nodot", "", false},
		{"T.", "T", "", false},
		{".AAPL", "", "AAPL", false},
	}
	for _, tt := range tests {
		ch, ticker, ok := massive.SplitSubscription(tt.in)
		if ch != tt.ch || ticker != tt.ticker || ok != tt.ok {
			t.Errorf("SplitSubscription(%q) = %q, %q, %v; want %q, %q, %v", tt.in, ch, ticker, ok, tt.ch, tt.ticker, tt.ok)
		}
		if ok && massive.Subscription(ch, ticker) != strings.ReplaceAll(tt.in, " ", "") {
			t.Errorf("Subscription(%q, %q) does not give back %q", ch, ticker, tt.in)
		}
	}
}

func TestMaskKey(t *testing.T) {
	for key, want := range map[string]string{"": "****", "short": "****", "1234567": "****", "abcdefgh1234": "****1234"} {
		if got := massive.MaskKey(key); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestConnID(t *testing.T) {
	tests := []struct {
		in   string
		want massive.ConnID
		ok   bool
	}{
		{"connection_1", 1, true},
		{"2", 2, true},
		{" connection_10 ", 10, true},
		{"123456789", 123456789, true},
		{"", 0, false},
		{"connection_", 0, false},
		{"connection_0", 0, false},
		{"0", 0, false},
		{"02", 0, false},
		{"+2", 0, false},
		{"-1", 0, false},
		{"connection_2x", 0, false},
		{"conn_2", 0, false},
		{"1234567890", 0, false}, // no overflow on the way
	}
	for _, tt := range tests {
		got, err := massive.ParseConnID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseConnID(%q) = %v, %v; want %v (ok=%v)", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, massive.ErrBadConnID) {
			t.Errorf("ParseConnID(%q) error %v does not wrap ErrBadConnID", tt.in, err)
		}
		if tt.ok {
			if s := got.String(); s != "connection_"+strings.TrimPrefix(strings.TrimSpace(tt.in), "connection_") {
				t.Errorf("%v.String() = %q", got, s)
			}
			if back, err := massive.ParseConnID(got.String()); err != nil || back != got {
				t.Errorf("ParseConnID(%q) = %v, %v: String does not round-trip", got.String(), back, err)
			}
		}
	}
}
