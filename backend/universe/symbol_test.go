package universe

import (
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseSymbols(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  string
	}{
		{name: "simple", in: "AAPL,NVDA,TSLA", want: []string{"AAPL", "NVDA", "TSLA"}},
		{name: "normalizes", in: " aapl , brk.b,msft ", want: []string{"AAPL", "BRK.B", "MSFT"}},
		{name: "dedupes keeping first", in: "TSLA,AAPL,tsla,AAPL,NVDA", want: []string{"TSLA", "AAPL", "NVDA"}},
		{name: "skips empty items", in: "AAPL,,MSFT,", want: []string{"AAPL", "MSFT"}},
		{name: "empty list", in: "", want: []string{}},
		{name: "blank list", in: " , ", want: []string{}},
		{name: "bad symbol named", in: "AAPL,MS FT,NVDA", wantErr: `invalid symbol "MS FT": want 1-10 characters`},
		{name: "too long", in: "AAPL,VERYLONGNAME", wantErr: `invalid symbol "VERYLONGNAME"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSymbols(tt.in)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !slices.Equal(got, tt.want) {
				t.Errorf("ParseSymbols(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// checkErr fails unless err contains want, or is nil when want is empty.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
