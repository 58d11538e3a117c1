package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "tw_session"

const claimsKey = "tw_claims"

// loadSession verifies the session cookie, if any, against the server's
// session registry and keeps the claims on the request. It never rejects:
// the route decides what it needs.
func (s *Server) loadSession(c *fiber.Ctx) error {
	// An Authorization: Bearer header is the request's credential (a
	// script's API token); a bad one is refused here, never replaced by a
	// cookie the same request may carry.
	if plain, ok := s.bearerToken(c); ok {
		if err := s.authenticateBearer(c, plain); err != nil {
			return err
		}
		return c.Next()
	}
	if tok := c.Cookies(SessionCookie); tok != "" {
		// Changing or removing a user ends their sessions (app reloads the
		// users file); checking the user here as well keeps a request that
		// races the reload from running on the old role.
		if cl, err := s.d.Sessions.Verify(tok); err == nil {
			if u, ok := s.d.Users.Lookup(cl.Username); ok {
				cl.Role = u.Role
				c.Locals(claimsKey, cl)
			}
		}
	}
	return c.Next()
}

func claimsFrom(c *fiber.Ctx) (auth.Claims, bool) {
	cl, ok := c.Locals(claimsKey).(auth.Claims)
	return cl, ok
}

func (s *Server) requireViewer(c *fiber.Ctx) error {
	cl, ok := claimsFrom(c)
	if !ok {
		return errUnauthorized()
	}
	if !cl.Role.CanView() {
		return errForbidden("the " + string(cl.Role) + " role has no access to the dashboard")
	}
	return c.Next()
}

func (s *Server) requireAdmin(c *fiber.Ctx) error {
	cl, _ := claimsFrom(c) // requireViewer ran first
	if !cl.Role.CanAct() {
		return errForbidden("only admins can do this; you are " + string(cl.Role))
	}
	return c.Next()
}

// checkOrigin is the CSRF defence for state-changing requests: the browser's
// Origin (or, failing that, Referer) must be our own origin or one listed in
// ALLOWED_ORIGINS. Together with the SameSite=Strict cookie this needs no
// token: a cross-site page can neither send our cookie nor forge Origin.
func (s *Server) checkOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if _, ok := viaToken(c); ok {
		// A header credential is not CSRF's concern: a cross-site page
		// cannot make the browser add it, only a cookie rides along.
		return c.Next()
	}
	if !s.originOK(c) {
		return errForbidden("cross-origin request refused (Origin must be this server or one of ALLOWED_ORIGINS)")
	}
	return c.Next()
}

func (s *Server) originOK(c *fiber.Ctx) bool {
	origin := auth.RequestOrigin(c.Get(fiber.HeaderOrigin), c.Get(fiber.HeaderReferer))
	return auth.OriginAllowed(origin, c.Protocol(), c.Hostname(), s.d.Config.AllowedOrigins)
}

// checkContentType refuses bodies that are not JSON (415), so a form post
// from elsewhere cannot reach a handler either.
func (s *Server) checkContentType(c *fiber.Ctx) error {
	if len(c.Body()) == 0 {
		return c.Next()
	}
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &apiError{Status: fiber.StatusUnsupportedMediaType, Message: "unsupported content type", Detail: "send application/json"}
	}
	return c.Next()
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := c.BodyParser(&req); err != nil {
		return errBadRequest("invalid body", "expected JSON {\"username\", \"password\"}")
	}
	if req.Username == "" || req.Password == "" {
		return errBadRequest("invalid body", "username and password are required")
	}
	u, err := s.logins.Login(s.d.Users, s.clientIP(c), req.Username, req.Password)
	var refused *auth.RefusedError
	switch {
	case errors.As(err, &refused):
		ra := auth.RetryAfterSeconds(refused.RetryAfter)
		secs, _ := strconv.Atoi(ra)
		c.Set(fiber.HeaderRetryAfter, ra)
		if refused.Busy {
			return &apiError{Status: fiber.StatusServiceUnavailable, Message: "server busy",
				Detail: "too many logins in progress; try again in " + ra + " s", RetryAfter: secs}
		}
		return &apiError{Status: fiber.StatusTooManyRequests, Message: "too many attempts",
			Detail: "try again in " + ra + " s", RetryAfter: secs}
	case err != nil:
		s.d.Logger.Warn().Str("user", logsafe.Clip(req.Username)).Str("ip", s.clientIP(c)).Msg("login failed")
		return &apiError{Status: fiber.StatusUnauthorized, Message: "invalid credentials", Detail: "wrong username or password"}
	}
	tok, exp, err := s.d.Sessions.Issue(u, auth.Client{Addr: s.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", Expires: exp,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https",
	})
	s.d.Logger.Info().Str("user", u.Username).Str("role", string(u.Role)).Msg("login")
	return c.JSON(fiber.Map{"username": u.Username, "role": u.Role})
}

// logout ends the caller's session on the server, which also closes its
// open /admin-ws sockets (4001), and clears the cookie.
func (s *Server) logout(c *fiber.Ctx) error {
	if cl, ok := claimsFrom(c); ok {
		s.d.Sessions.End(cl.SessionID)
		s.d.Logger.Info().Str("user", cl.Username).Msg("logout")
	}
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https",
	})
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	cl, ok := claimsFrom(c)
	if !ok {
		return errUnauthorized()
	}
	if t, ok := viaToken(c); ok {
		return c.JSON(fiber.Map{"username": cl.Username, "role": cl.Role, "token": t.Prefix, "expires": t.ExpiresAt})
	}
	return c.JSON(fiber.Map{"username": cl.Username, "role": cl.Role, "expires": float64(cl.Expires.UnixMilli()) / 1000})
}
