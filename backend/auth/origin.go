package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CSRF policy (what backend/web enforces with these helpers):
//
//   - Every state-changing request (POST, PUT, PATCH, DELETE) and every
//     /admin-ws upgrade must carry an allowed origin; the session cookie is
//     also SameSite=Strict, so this is defence in depth, not the only wall.
//   - The origin is the Origin header; when a browser omits it, the origin of
//     the Referer header is used instead (see RequestOrigin). With neither,
//     the request is refused: every browser that could be tricked into
//     sending our cookie sends one of them, and scripts (curl) can simply set
//     an Origin header.
//   - "null" (sandboxed frames, file: pages, some cross-origin redirects) is
//     never allowed: it is shared by every opaque origin, so allowing it would
//     allow all of them.
//   - Allowed means: the request's own origin (scheme and Host as the server
//     saw them, scheme from X-Forwarded-Proto only via a trusted proxy), or an
//     exact scheme://host[:port] entry of ALLOWED_ORIGINS. Comparison ignores
//     case and default ports (http:80, https:443). No wildcards.

// OriginAllowed reports whether origin (an Origin header value, or the
// result of RequestOrigin) may make a state-changing request to a server
// reached at requestScheme://requestHost. Empty, "null" and malformed
// origins are refused.
func OriginAllowed(origin, requestScheme, requestHost string, allowed []string) bool {
	o, err := NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	if self, err := NormalizeOrigin(requestScheme + "://" + requestHost); err == nil && o == self {
		return true
	}
	for _, a := range allowed {
		if n, err := NormalizeOrigin(a); err == nil && n == o {
			return true
		}
	}
	return false
}

// RequestOrigin picks the origin to check: the Origin header if present
// (even "null", which is then refused), else scheme://host of the Referer,
// else "" (refused).
func RequestOrigin(originHeader, refererHeader string) string {
	if o := strings.TrimSpace(originHeader); o != "" {
		return o
	}
	u, err := url.Parse(strings.TrimSpace(refererHeader))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// NormalizeOrigin validates an origin of the form scheme://host[:port]
// (http or https, no path, query, fragment or user info) and returns it
// lower-cased with any default port removed. Config can use it to reject a
// bad ALLOWED_ORIGINS entry at start-up.
func NormalizeOrigin(s string) (string, error) {
	if s == "" || s == "null" {
		return "", fmt.Errorf("origin %q is not a scheme://host[:port] origin", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("origin %q is not a scheme://host[:port] origin", s)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("origin %q: want http(s)://host[:port] with nothing after it", s)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if !validHost(host) || (port == "" && strings.HasSuffix(u.Host, ":")) {
		return "", fmt.Errorf("origin %q: bad host or port", s)
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port == "" {
		if strings.Contains(host, ":") { // IPv6 literal
			return scheme + "://[" + host + "]", nil
		}
		return scheme + "://" + host, nil
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// validHost accepts DNS names and IP literals; wildcards and other
// characters url.Parse lets through are refused, so an ALLOWED_ORIGINS
// entry never looks like a pattern it is not.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if strings.Contains(h, ":") {
		return net.ParseIP(h) != nil
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}
