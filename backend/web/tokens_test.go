package web

import (
	"encoding/json"
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
	raw := func(s string) *json.RawMessage { r := json.RawMessage(s); return &r }
	// 2030-01-02T12:00:00Z, a day after now, in Unix seconds.
	const tomorrow = "1893585600"
	for _, tc := range []struct {
		name    string
		in      *string
		at      *json.RawMessage // as it came in the body
		want    time.Duration    // from now; 0 with ok: never expires
		wantErr string           // the API error's message; "" for success
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
		{"at", nil, raw(`"2030-01-02T12:00:00Z"`), 24 * time.Hour, ""},
		{"at with offset", nil, raw(`"2030-01-01T13:00:00+01:00"`), 0, "invalid expires_at"}, // = now: not in the future
		{"at past", nil, raw(`"2029-12-31T00:00:00Z"`), 0, "invalid expires_at"},
		{"at date only", nil, raw(`"2030-02-01"`), 0, "invalid expires_at"},
		{"at too far", nil, raw(`"2045-01-01T00:00:00Z"`), 0, "invalid expires_at"},
		{"both", str("1h"), raw(`"2030-01-02T12:00:00Z"`), 0, "invalid expiry"},
		{"at seconds", nil, raw(tomorrow), 24 * time.Hour, ""},
		{"at seconds with ms", nil, raw(tomorrow + ".25"), 24*time.Hour + 250*time.Millisecond, ""},
		{"at seconds as a string", nil, raw(`"` + tomorrow + `"`), 24 * time.Hour, ""},
		{"at seconds past", nil, raw("1893456000"), 0, "invalid expires_at"},
		{"at milliseconds", nil, raw(tomorrow + "000"), 0, "invalid expires_at"}, // out of range, not year 61970
		{"at negative", nil, raw("-1"), 0, "invalid expires_at"},
		{"at bool", nil, raw("true"), 0, "invalid expires_at"},
		{"at object", nil, raw(`{"t":1}`), 0, "invalid expires_at"},
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

// TestTokenDocTimes: a token's times go out as Unix seconds with millisecond
// precision, like every time on the wire; the ones it does not have are
// left out rather than sent as the epoch.
func TestTokenDocTimes(t *testing.T) {
	s := loginServer(t) // knows the user "admin"
	created := time.UnixMilli(1_893_456_000_123)
	used := created.Add(90 * time.Minute)
	expires := created.Add(48 * time.Hour)
	revoked := created.Add(time.Hour)
	for _, tc := range []struct {
		name string
		tok  APIToken
		want string
	}{
		{"fresh", APIToken{ID: 1, User: "admin", Role: "admin", Name: "n", Prefix: "twt_a", CreatedAt: created},
			`{"id":1,"user":"admin","role":"admin","name":"n","prefix":"twt_a","created_at":1893456000.123,"state":"active"}`},
		{"every time", APIToken{ID: 2, User: "admin", Role: "viewer", Name: "n", Prefix: "twt_b", CreatedAt: created,
			ExpiresAt: &expires, LastUsedAt: &used, RevokedAt: &revoked},
			`{"id":2,"user":"admin","role":"viewer","name":"n","prefix":"twt_b","created_at":1893456000.123,` +
				`"expires_at":1893628800.123,"last_used_at":1893461400.123,"revoked_at":1893459600.123,"state":"revoked"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(s.tokenDoc(tc.tok, created.Add(2*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}
