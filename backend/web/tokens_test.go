package web

import (
	"errors"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/auth"
)

// The token lifecycle is tested end to end in backend/app (tokens_test.go)
// against the real store; here only the pure rules.

func TestLowerRole(t *testing.T) {
	for _, tc := range []struct{ token, now, want auth.Role }{
		{auth.RoleAdmin, auth.RoleAdmin, auth.RoleAdmin},
		{auth.RoleAdmin, auth.RoleViewer, auth.RoleViewer}, // demoted: the token follows
		{auth.RoleViewer, auth.RoleAdmin, auth.RoleViewer}, // promoted: the token does not
		{auth.RoleAdmin, auth.RoleUser, auth.RoleUser},
		{auth.RoleViewer, auth.RoleViewer, auth.RoleViewer},
		{auth.Role("bogus"), auth.RoleAdmin, auth.Role("bogus")}, // unknown never outranks
	} {
		if got := lowerRole(tc.token, tc.now); got != tc.want {
			t.Errorf("lowerRole(%s, %s) = %s, want %s", tc.token, tc.now, got, tc.want)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name    string
		in, at  *string
		want    time.Duration // from now; 0 with ok: never expires
		wantErr string        // the API error's message; "" for success
	}{
		{"none", nil, nil, 0, ""},
		{"days", str("30d"), nil, 30 * 24 * time.Hour, ""},
		{"hours", str(" 12h "), nil, 12 * time.Hour, ""},
		{"minutes", str("90m"), nil, 90 * time.Minute, ""},
		{"max", str("3650d"), nil, maxTokenExpiry, ""},
		{"too long", str("3651d"), nil, 0, "invalid expires_in"},
		{"zero", str("0s"), nil, 0, "invalid expires_in"},
		{"negative", str("-1h"), nil, 0, "invalid expires_in"},
		{"negative days", str("-1d"), nil, 0, "invalid expires_in"},
		{"words", str("a month"), nil, 0, "invalid expires_in"},
		{"empty", str(""), nil, 0, "invalid expires_in"},
		{"at", nil, str("2030-01-02T12:00:00Z"), 24 * time.Hour, ""},
		{"at with offset", nil, str("2030-01-01T13:00:00+01:00"), 0, "invalid expires_at"}, // = now: not in the future
		{"at past", nil, str("2029-12-31T00:00:00Z"), 0, "invalid expires_at"},
		{"at date only", nil, str("2030-02-01"), 0, "invalid expires_at"},
		{"at too far", nil, str("2045-01-01T00:00:00Z"), 0, "invalid expires_at"},
		{"both", str("1h"), str("2030-01-02T12:00:00Z"), 0, "invalid expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseExpiry(tc.in, tc.at, now)
			if tc.wantErr != "" {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != tc.wantErr || ae.Detail == "" {
					t.Fatalf("err %v, want 400 %q with a detail", err, tc.wantErr)
				}
				return
			}
			switch {
			case err != nil:
				t.Fatal(err)
			case tc.want == 0 && got != nil:
				t.Fatalf("expires %v, want never", got)
			case tc.want != 0 && (got == nil || got.Sub(now) != tc.want):
				t.Fatalf("expires %v, want now+%s", got, tc.want)
			}
		})
	}
}
