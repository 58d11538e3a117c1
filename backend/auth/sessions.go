package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MinSecretLen is the shortest accepted session secret (256 bits).
const MinSecretLen = 32

// Session token errors. Verify wraps nothing else, so callers can map both to
// 401 and only log which one it was.
var (
	ErrInvalid = errors.New("auth: invalid session token")
	ErrExpired = errors.New("auth: session expired")
)

// tokenVersion is part of the signed data: a future format change makes
// every old token invalid instead of misread.
const tokenVersion = "v1"

// maxTokenLen bounds the work done on a hostile cookie.
const maxTokenLen = 1024

// Claims is what a valid session token says.
type Claims struct {
	Username string    `json:"username"`
	Role     Role      `json:"role"`
	Expires  time.Time `json:"expires"`
}

// Sessions issues and verifies stateless session tokens:
//
//	base64url(username|role|expiry-unix|nonce) "." base64url(HMAC-SHA256)
//
// Nothing is stored server-side, so a token stays valid until it expires;
// logout clears the cookie, and changing SESSION_SECRET revokes every token.
// Safe for concurrent use.
type Sessions struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewSessions needs a secret of at least MinSecretLen bytes and a positive
// ttl. now may be nil (time.Now).
func NewSessions(secret []byte, ttl time.Duration, now func() time.Time) (*Sessions, error) {
	if len(secret) < MinSecretLen {
		// The length is safe to report; the secret is not.
		return nil, fmt.Errorf("auth: session secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("auth: session ttl %s is too short (need at least 1s)", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{secret: append([]byte(nil), secret...), ttl: ttl, now: now}, nil
}

// GenerateSecret returns a random MinSecretLen-byte secret.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, MinSecretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: generate session secret: %w", err)
	}
	return b, nil
}

// String and GoString keep the secret out of %v / %+v / %#v.
func (s *Sessions) String() string { return fmt.Sprintf("auth.Sessions{ttl: %s}", s.ttl) }

// GoString: see String.
func (s *Sessions) GoString() string { return s.String() }

// TTL is the lifetime of issued tokens.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Issue signs a token for u, valid until expires (whole seconds, so the
// cookie's Expires matches the token exactly).
func (s *Sessions) Issue(u User) (token string, expires time.Time, err error) {
	if err := validateUsername(u.Username); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue session: %w", err)
	}
	if !u.Role.Valid() {
		return "", time.Time{}, fmt.Errorf("auth: issue session for %q: unknown role", u.Username)
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue session: %w", err)
	}
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	payload := strings.Join([]string{
		u.Username, string(u.Role), strconv.FormatInt(exp.Unix(), 10),
		base64.RawURLEncoding.EncodeToString(nonce),
	}, "|")
	enc := base64.RawURLEncoding
	token = enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mac(payload))
	return token, time.Unix(exp.Unix(), 0), nil
}

// Verify checks the signature first (constant time), then the expiry. It
// returns ErrInvalid or ErrExpired; the token itself never appears in an
// error.
func (s *Sessions) Verify(token string) (Claims, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return Claims{}, ErrInvalid
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrInvalid
	}
	enc := base64.RawURLEncoding
	raw, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil {
		return Claims{}, ErrInvalid
	}
	payload := string(raw)
	if !hmac.Equal(mac, s.mac(payload)) {
		return Claims{}, ErrInvalid
	}
	// Split from the right: only the username could ever hold a '|'.
	i3 := strings.LastIndexByte(payload, '|')
	i2 := strings.LastIndexByte(payload[:max(i3, 0)], '|')
	i1 := strings.LastIndexByte(payload[:max(i2, 0)], '|')
	if i1 <= 0 {
		return Claims{}, ErrInvalid
	}
	role, err := ParseRole(payload[i1+1 : i2])
	if err != nil {
		return Claims{}, ErrInvalid
	}
	unix, err := strconv.ParseInt(payload[i2+1:i3], 10, 64)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	c := Claims{Username: payload[:i1], Role: role, Expires: time.Unix(unix, 0)}
	if !s.now().Before(c.Expires) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Sessions) mac(payload string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(tokenVersion + "|session|"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
