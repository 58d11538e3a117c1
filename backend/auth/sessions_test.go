package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func testSecret(b byte) []byte { return bytes.Repeat([]byte{b}, MinSecretLen) }

func TestNewSessionsValidation(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		ttl     time.Duration
		wantErr string
	}{
		{"ok", testSecret('k'), time.Hour, ""},
		{"short secret", []byte("too-short-secret-value"), time.Hour, "22 bytes, need at least 32"},
		{"nil secret", nil, time.Hour, "0 bytes"},
		{"zero ttl", testSecret('k'), 0, "too short"},
		{"negative ttl", testSecret('k'), -time.Hour, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSessions(tt.secret, tt.ttl, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(tt.secret) > 0 && strings.Contains(err.Error(), string(tt.secret)) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < MinSecretLen || bytes.Equal(a, b) {
		t.Fatalf("secrets %x / %x: want %d random bytes", a, b, MinSecretLen)
	}
	if _, err := NewSessions(a, time.Hour, nil); err != nil {
		t.Fatalf("generated secret refused: %v", err)
	}
}

func TestSessionRoundTrip(t *testing.T) {
	clock := newFakeClock()
	s, err := NewSessions(testSecret('k'), 12*time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(500 * time.Millisecond) // Issue truncates to whole seconds
	for _, u := range []User{
		{Username: "alice", Role: RoleAdmin},
		{Username: "bob", Role: RoleViewer},
		{Username: "carol", Role: RoleUser},
		{Username: "pipe|in|name", Role: RoleAdmin},
		{Username: "ünï cödé", Role: RoleViewer},
	} {
		tok, exp, err := s.Issue(u, Client{})
		if err != nil {
			t.Fatalf("Issue(%v): %v", u, err)
		}
		if want := clock.Now().Add(12 * time.Hour).Truncate(time.Second); !exp.Equal(want) {
			t.Errorf("expires = %v, want %v", exp, want)
		}
		if strings.ContainsAny(tok, "+/=; ") {
			t.Errorf("token %q is not cookie/URL safe", tok)
		}
		c, err := s.Verify(tok)
		if err != nil {
			t.Fatalf("Verify(%v): %v", u, err)
		}
		if c.Username != u.Username || c.Role != u.Role || !c.Expires.Equal(exp) {
			t.Errorf("claims = %+v, want %v until %v", c, u, exp)
		}
	}
	a, _, _ := s.Issue(User{Username: "alice", Role: RoleAdmin}, Client{})
	b, _, _ := s.Issue(User{Username: "alice", Role: RoleAdmin}, Client{})
	if a == b {
		t.Error("two tokens for the same user and second are identical (nonce missing)")
	}
}

func TestSessionIssueRejectsBadUser(t *testing.T) {
	s, err := NewSessions(testSecret('k'), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{{Username: "", Role: RoleAdmin}, {Username: "x", Role: "root"}} {
		if _, _, err := s.Issue(u, Client{}); err == nil {
			t.Errorf("Issue(%#v) succeeded", u)
		}
	}
}

func TestSessionVerifyRejects(t *testing.T) {
	clock := newFakeClock()
	s, err := NewSessions(testSecret('k'), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSessions(testSecret('o'), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(User{Username: "bob", Role: RoleViewer}, Client{})
	if err != nil {
		t.Fatal(err)
	}
	p64, m64, _ := strings.Cut(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	enc := base64.RawURLEncoding.EncodeToString
	resign := func(p string) string { return enc([]byte(p)) + "." + enc(s.mac(p)) }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	id, _, _ := strings.Cut(string(payload), "|")
	extended := id + "|99999999999"
	otherTok, _, _ := other.Issue(User{Username: "bob", Role: RoleViewer}, Client{})

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"no dot", p64 + m64},
		{"garbage", "not-a-token"},
		{"bad base64", p64 + ".!!!"},
		{"expiry extended, old mac", enc([]byte(extended)) + "." + m64},
		{"payload bit flipped", flip(p64, 2) + "." + m64},
		{"mac bit flipped", p64 + "." + flip(m64, 5)},
		{"mac truncated", p64 + "." + m64[:10]},
		{"mac missing", p64 + "."},
		{"other secret", otherTok},
		{"too long", strings.Repeat("a", maxTokenLen+1)},
		// Correctly signed but malformed payloads: defence in depth against
		// a future Issue bug.
		{"signed, no expiry", resign(id)},
		{"signed, bad expiry", resign(id + "|soon")},
		{"signed, empty id", resign("|99999999999")},
		// A v1 token (user|role|expiry|nonce under the old MAC domain).
		{"v1 token", v1Token(s, "bob|admin|99999999999|n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Verify(tt.token)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalid", c, err)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	clock := newFakeClock()
	s, err := NewSessions(testSecret('k'), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := s.Issue(User{Username: "alice", Role: RoleAdmin}, Client{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		want    error
	}{
		{0, nil},
		{59 * time.Minute, nil},
		{59*time.Second + 999*time.Millisecond, nil}, // 1 ms before expiry
		{time.Millisecond, ErrExpired},               // exactly at expiry
		{24 * time.Hour, ErrExpired},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		_, err := s.Verify(tok)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("at %v (expires %v): err = %v, want %v", clock.Now(), exp, err, st.want)
		}
	}
	// The signature is checked before the expiry, so tampering with an
	// expired token says invalid, not expired.
	if _, err := s.Verify(tok + "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered expired token: %v, want ErrInvalid", err)
	}
}
