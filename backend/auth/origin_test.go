package auth

import "testing"

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://ops.example.com", "http://localhost:5173", "HTTPS://Caps.Example.com:443/", "not an origin"}
	tests := []struct {
		name, origin, scheme, host string
		want                       bool
	}{
		{"same origin", "https://tick.example.com", "https", "tick.example.com", true},
		{"same origin with port", "http://127.0.0.1:8080", "http", "127.0.0.1:8080", true},
		{"same origin, case and default port", "HTTPS://Tick.Example.com:443", "https", "tick.example.com", true},
		{"request host with default port", "http://tick.example.com", "http", "tick.example.com:80", true},
		{"ipv6 same origin", "http://[::1]:8080", "http", "[::1]:8080", true},
		{"ipv6 default port", "https://[::1]", "https", "[::1]:443", true},
		{"scheme differs", "http://tick.example.com", "https", "tick.example.com", false},
		{"port differs", "http://127.0.0.1:8081", "http", "127.0.0.1:8080", false},
		{"host differs", "https://evil.example.com", "https", "tick.example.com", false},
		{"suffix trick", "https://tick.example.com.evil.io", "https", "tick.example.com", false},
		{"userinfo trick", "https://tick.example.com@evil.io", "https", "tick.example.com", false},
		{"listed", "https://ops.example.com", "https", "tick.example.com", true},
		{"listed dev server", "http://localhost:5173", "http", "localhost:8080", true},
		{"listed, normalised entry", "https://caps.example.com", "https", "tick.example.com", true},
		{"listed host, wrong port", "http://localhost:5174", "http", "localhost:8080", false},
		{"listed host, wrong scheme", "http://ops.example.com", "https", "tick.example.com", false},
		{"empty (no Origin, no Referer)", "", "https", "tick.example.com", false},
		{"null", "null", "https", "tick.example.com", false},
		{"with path", "https://tick.example.com/admin", "https", "tick.example.com", false},
		{"with query", "https://tick.example.com?x=1", "https", "tick.example.com", false},
		{"other scheme", "file://tick.example.com", "file", "tick.example.com", false},
		{"no scheme", "tick.example.com", "https", "tick.example.com", false},
		{"bad port", "http://tick.example.com:abc", "http", "tick.example.com:abc", false},
		{"empty port", "http://tick.example.com:", "http", "tick.example.com:", false},
		{"garbage", "%%%", "https", "tick.example.com", false},
		{"empty request host", "https://x.io", "https", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OriginAllowed(tt.origin, tt.scheme, tt.host, allowed); got != tt.want {
				t.Errorf("OriginAllowed(%q, %q, %q) = %v, want %v", tt.origin, tt.scheme, tt.host, got, tt.want)
			}
		})
	}
}

func TestRequestOrigin(t *testing.T) {
	tests := []struct{ origin, referer, want string }{
		{"https://a.io", "https://b.io/x", "https://a.io"},
		{"null", "https://a.io/page", "null"}, // an explicit null is not overridden
		{"", "https://a.io:8443/admin/connections?x=1#f", "https://a.io:8443"},
		{"", "/relative/path", ""},
		{"", "", ""},
		{"", "::bad", ""},
		{"  ", " https://a.io/ ", "https://a.io"},
	}
	for _, tt := range tests {
		if got := RequestOrigin(tt.origin, tt.referer); got != tt.want {
			t.Errorf("RequestOrigin(%q, %q) = %q, want %q", tt.origin, tt.referer, got, tt.want)
		}
	}
	// The fallback feeds OriginAllowed as documented.
	if !OriginAllowed(RequestOrigin("", "https://a.io/admin"), "https", "a.io", nil) {
		t.Error("same-origin Referer refused")
	}
	if OriginAllowed(RequestOrigin("", ""), "https", "a.io", nil) {
		t.Error("no Origin and no Referer allowed")
	}
}

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://Example.COM", "https://example.com", true},
		{"https://example.com:443", "https://example.com", true},
		{"http://example.com:80/", "http://example.com", true},
		{"https://example.com:8443", "https://example.com:8443", true},
		{"http://[::1]:80", "http://[::1]", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://*.example.com", "", false},
		{"ws://example.com", "", false},
		{"https://example.com/path", "", false},
		{"https://example.com#", "", false},
		{"https://user:pw@example.com", "", false},
		{"", "", false},
		{"null", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeOrigin(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
