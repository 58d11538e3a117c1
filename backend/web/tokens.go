package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/live"
)

// API tokens (issue 10): per-user credentials for scripts, cron jobs and
// Grafana, sent as "Authorization: Bearer twt_...". The plaintext exists
// only in the 201 answer that creates it; the store keeps a hash. web does
// not import the store: it declares what it needs here and app hands it an
// adapter, so the persistence can change without touching the handlers.

// APIToken is a token's record: never the plaintext or its hash. The API
// shows it as a tokenDoc, whose times are in the wire form.
type APIToken struct {
	ID         int64
	User       string
	Role       string // the user's role when the token was made: the most it can ever do
	Name       string
	Prefix     string // first characters of the plaintext, for telling tokens apart
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenStore keeps API tokens. Its errors wrap ErrTokenNotFound,
// ErrTokenRevoked, ErrTokenExpired or ErrTokenInvalid for those states;
// anything else is a storage failure.
type TokenStore interface {
	// CreateToken returns the plaintext (shown once, never logged) and the record.
	CreateToken(ctx context.Context, user, role, name string, expiresAt *time.Time) (string, APIToken, error)
	// LookupToken returns the record with ErrTokenRevoked / ErrTokenExpired
	// for a token that exists but may no longer be used.
	LookupToken(ctx context.Context, plain string) (APIToken, error)
	ListTokens(ctx context.Context) ([]APIToken, error)
	RevokeToken(ctx context.Context, id int64) error
	// TouchToken records a use; the store throttles the writes.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// TokenStore error kinds.
var (
	ErrTokenNotFound = errors.New("token not found")
	ErrTokenRevoked  = errors.New("token revoked")
	ErrTokenExpired  = errors.New("token expired")
	ErrTokenInvalid  = errors.New("invalid token request")
)

// Bearer failure limits: like logins, per client address. 256-bit tokens
// cannot be guessed; the limit keeps a misbehaving script or a scanner from
// costing a store lookup and a log line per request.
const (
	bearerFailuresPerIP = 10
	bearerFailureWindow = time.Minute
)

const (
	tokenKey       = "tw_api_token"
	maxTokenName   = 128
	maxTokenExpiry = 3650 * 24 * time.Hour
	// expiresInForm and expiresAtForm are the accepted forms, quoted by the 400s.
	expiresInForm = `a positive duration such as "30d", "12h" or "90m" (at most 3650d)`
	expiresAtForm = `a time in the future, RFC 3339 such as "2030-01-31T00:00:00Z" or Unix seconds such as 1896048000 (at most 3650 days ahead)`
)

// bearerToken returns the credential of an "Authorization: Bearer ..."
// header on a path that accepts tokens. /metrics has its own METRICS_TOKEN,
// and other schemes (a proxy's Basic auth) are left alone, so ok is false
// for them and the cookie rules apply.
func (s *Server) bearerToken(c *fiber.Ctx) (string, bool) {
	p := c.Path()
	if !strings.HasPrefix(p, "/api/") && p != "/admin-ws" {
		return "", false
	}
	scheme, cred, found := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(cred), true
}

// authenticateBearer checks a bearer token and, when it is good, puts its
// claims on the request. The role is the lower of the token's role and the
// user's role now, and a user no longer in the users file is refused: a
// token never keeps power its user lost, nor gains power its user gained.
func (s *Server) authenticateBearer(c *fiber.Ctx, plain string) error {
	ip := s.clientIP(c)
	if ok, wait := s.bearer.Check(ip); !ok {
		ra := auth.RetryAfterSeconds(wait)
		secs, _ := strconv.Atoi(ra)
		c.Set(fiber.HeaderRetryAfter, ra)
		return &apiError{Status: fiber.StatusTooManyRequests, Message: "too many attempts",
			Detail: "too many failed token attempts from this address; try again in " + ra + " s", RetryAfter: secs}
	}
	refuse := func(msg, detail string) error {
		s.bearer.Fail(ip)
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
		return &apiError{Status: fiber.StatusUnauthorized, Message: msg, Detail: detail}
	}
	if s.d.Tokens == nil {
		return refuse("invalid token", "API tokens are not enabled on this server")
	}
	t, err := s.d.Tokens.LookupToken(c.UserContext(), plain)
	switch {
	case errors.Is(err, ErrTokenRevoked):
		s.d.Logger.Warn().Str("token", t.Prefix).Str("user", t.User).Str("ip", ip).Msg("revoked API token used")
		return refuse("token revoked", "this API token was revoked; ask an admin for a new one")
	case errors.Is(err, ErrTokenExpired):
		s.d.Logger.Warn().Str("token", t.Prefix).Str("user", t.User).Str("ip", ip).Msg("expired API token used")
		return refuse("token expired", "this API token expired; ask an admin for a new one")
	case errors.Is(err, ErrTokenNotFound):
		// Nothing about the credential is logged: it may be a real token
		// pasted into the wrong server.
		s.d.Logger.Warn().Str("ip", ip).Msg("invalid API token")
		return refuse("invalid token", "send Authorization: Bearer twt_... with a token an admin created")
	case err != nil:
		return &apiError{Status: fiber.StatusServiceUnavailable, Message: "token check failed", Detail: err.Error()}
	}
	u, ok := s.d.Users.Lookup(t.User)
	if !ok {
		s.d.Logger.Warn().Str("token", t.Prefix).Str("user", t.User).Str("ip", ip).Msg("API token of a removed user used")
		return refuse("invalid token", "the token's user no longer exists")
	}
	if err := s.d.Tokens.TouchToken(c.UserContext(), t.ID, time.Now()); err != nil {
		// Last-used is informational; a full disk must not stop the API.
		s.d.Logger.Warn().Err(err).Str("token", t.Prefix).Msg("record API token use")
	}
	cl := auth.Claims{Username: u.Username, Role: lowerRole(auth.Role(t.Role), u.Role)}
	if t.ExpiresAt != nil {
		cl.Expires = *t.ExpiresAt
	}
	c.Locals(claimsKey, cl)
	c.Locals(tokenKey, t)
	return nil
}

// viaToken returns the token that authenticated the request, if one did.
func viaToken(c *fiber.Ctx) (APIToken, bool) {
	t, ok := c.Locals(tokenKey).(APIToken)
	return t, ok
}

func roleRank(r auth.Role) int {
	switch r {
	case auth.RoleAdmin:
		return 2
	case auth.RoleViewer:
		return 1
	}
	return 0
}

// lowerRole is the less powerful of a and b.
func lowerRole(a, b auth.Role) auth.Role {
	if roleRank(a) < roleRank(b) {
		return a
	}
	return b
}

// requireSignedIn keeps token management to people: a stolen token must not
// be able to mint tokens that outlive its own revocation.
func (s *Server) requireSignedIn(c *fiber.Ctx) error {
	if _, ok := viaToken(c); ok {
		return errForbidden("API tokens are managed from a signed-in session; a token cannot list, create or revoke tokens")
	}
	return c.Next()
}

// tokenDoc is a record as the API shows it, times in Unix seconds like
// every time on the wire, plus its state now: "active", "expired",
// "revoked" or "user_removed".
type tokenDoc struct {
	ID         int64    `json:"id"`
	User       string   `json:"user"`
	Role       string   `json:"role"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	CreatedAt  float64  `json:"created_at"`
	ExpiresAt  *float64 `json:"expires_at,omitempty"`
	LastUsedAt *float64 `json:"last_used_at,omitempty"`
	RevokedAt  *float64 `json:"revoked_at,omitempty"`
	State      string   `json:"state"`
}

func (s *Server) tokenDoc(t APIToken, now time.Time) tokenDoc {
	d := tokenDoc{
		ID: t.ID, User: t.User, Role: t.Role, Name: t.Name, Prefix: t.Prefix,
		CreatedAt: live.UnixSeconds(t.CreatedAt), ExpiresAt: optSeconds(t.ExpiresAt),
		LastUsedAt: optSeconds(t.LastUsedAt), RevokedAt: optSeconds(t.RevokedAt),
		State: "active",
	}
	switch _, known := s.d.Users.Lookup(t.User); {
	case t.RevokedAt != nil:
		d.State = "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		d.State = "expired"
	case !known:
		d.State = "user_removed"
	}
	return d
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	list, err := s.d.Tokens.ListTokens(c.UserContext())
	if err != nil {
		return tokenStoreError(err)
	}
	now := time.Now()
	out := make([]tokenDoc, len(list))
	for i, t := range list {
		out[i] = s.tokenDoc(t, now)
	}
	return c.JSON(fiber.Map{"tokens": out})
}

type createTokenRequest struct {
	User      string  `json:"user"`       // default: the admin making the request
	Name      string  `json:"name"`       // what it is for: "grafana", "nightly export"
	ExpiresIn *string `json:"expires_in"` // "30d", "12h"
	// ExpiresAt is RFC 3339 ("2030-01-31T00:00:00Z") or Unix seconds
	// (1896048000): outputs are seconds, and a script may send back what it
	// read; a person writes the date.
	ExpiresAt *json.RawMessage `json:"expires_at"`
}

// createdToken is the one answer that carries the plaintext.
type createdToken struct {
	Token string `json:"token"`
	tokenDoc
}

const createTokenForm = `expected JSON {"user": "alice" (default: you), "name": "grafana", "expires_in": "30d" or "expires_at": "2030-01-31T00:00:00Z" or 1896048000 (optional)}`

func (s *Server) createToken(c *fiber.Ctx) error {
	var req createTokenRequest
	// Strict: "expires": "30d" must not quietly make a token that never expires.
	if err := decodeBody(c.Body(), &req, true, createTokenForm); err != nil {
		return err
	}
	cl, _ := claimsFrom(c)
	if req.User == "" {
		req.User = cl.Username
	}
	u, ok := s.d.Users.Lookup(req.User)
	if !ok {
		return errBadRequest("invalid user", fmt.Sprintf("user: %q is not a configured user", logsafe.Clip(req.User)))
	}
	if !u.Role.CanView() {
		return errBadRequest("invalid user", fmt.Sprintf("user: %q has the %s role, which has no API access; tokens are for admins and viewers", u.Username, u.Role))
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > maxTokenName || strings.ContainsFunc(req.Name, isControl) {
		return errBadRequest("invalid name", fmt.Sprintf("name: 1 to %d characters without control characters, saying what the token is for", maxTokenName))
	}
	now := time.Now()
	exp, err := parseExpiry(req.ExpiresIn, req.ExpiresAt, now)
	if err != nil {
		return err
	}
	plain, t, err := s.d.Tokens.CreateToken(c.UserContext(), u.Username, string(u.Role), req.Name, exp)
	target := fmt.Sprintf("token for %s %q", u.Username, req.Name)
	if err == nil {
		target = fmt.Sprintf("token %d %s for %s %q", t.ID, t.Prefix, t.User, t.Name)
	}
	s.record(c, "token_create", target, err)
	if err != nil {
		return tokenStoreError(err)
	}
	// The plaintext is in this body and nowhere else: no cache may keep it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(createdToken{Token: plain, tokenDoc: s.tokenDoc(t, now)})
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	uid, err := pathID(c, "GET /api/admin/tokens")
	if err != nil {
		return err
	}
	id := int64(uid) // pathID allows 63 bits
	// Found first so that the audit names whose token it was.
	list, err := s.d.Tokens.ListTokens(c.UserContext())
	if err != nil {
		return tokenStoreError(err)
	}
	var t APIToken
	for _, x := range list {
		if x.ID == id {
			t = x
		}
	}
	if t.ID == 0 {
		return errNotFound("unknown token", fmt.Sprintf("no token with id %d", id))
	}
	err = s.d.Tokens.RevokeToken(c.UserContext(), id)
	s.record(c, "token_revoke", fmt.Sprintf("token %d %s of %s %q", t.ID, t.Prefix, t.User, t.Name), err)
	if err != nil {
		return tokenStoreError(err)
	}
	return c.JSON(fiber.Map{"ok": true, "id": id})
}

// parseExpiry reads expires_in or expires_at (at most one); nil, nil means
// the token never expires.
func parseExpiry(in *string, at *json.RawMessage, now time.Time) (*time.Time, error) {
	switch {
	case in != nil && at != nil:
		return nil, errBadRequest("invalid expiry", "give expires_in or expires_at, not both")
	case in != nil:
		d, err := parseDays(strings.TrimSpace(*in))
		if err != nil || d <= 0 || d > maxTokenExpiry {
			return nil, errBadRequest("invalid expires_in", fmt.Sprintf("expires_in: %q: use %s", logsafe.Clip(*in), expiresInForm))
		}
		exp := now.Add(d)
		return &exp, nil
	case at != nil:
		// A JSON string is unquoted; a number is read as its literal.
		text := string(*at)
		var str string
		if json.Unmarshal(*at, &str) == nil {
			text = str
		}
		exp, err := parseTimeInput(strings.TrimSpace(text))
		if err != nil || !exp.After(now) || exp.Sub(now) > maxTokenExpiry {
			return nil, errBadRequest("invalid expires_at", fmt.Sprintf("expires_at: %s: use %s", logsafe.Clip(string(*at)), expiresAtForm))
		}
		return &exp, nil
	}
	return nil, nil
}

// parseDays is time.ParseDuration plus a whole-days form ("30d"), the unit
// people think of token lifetimes in.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > int(maxTokenExpiry/(24*time.Hour)) {
			return 0, fmt.Errorf("days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// tokenStoreError maps the store's answers to HTTP statuses.
func tokenStoreError(err error) error {
	switch {
	case errors.Is(err, ErrTokenInvalid):
		return errBadRequest("invalid token request", err.Error())
	case errors.Is(err, ErrTokenNotFound):
		return errNotFound("unknown token", err.Error())
	}
	return &apiError{Status: fiber.StatusServiceUnavailable, Message: "token store unavailable", Detail: err.Error()}
}
