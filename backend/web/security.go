package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
)

// csp allows only our own origin: the SPA has no inline script and no
// third-party assets, and the live socket is same-origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if c.Protocol() == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// requestLog writes one structured line per request; never the query string
// of auth routes, never a cookie.
func (s *Server) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler set the final status before logging it.
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	ev := s.d.Logger.Info()
	switch {
	case status >= 500:
		ev = s.d.Logger.Error()
	case strings.HasPrefix(c.Path(), "/assets/") || c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/metrics":
		// Probes and scrapes come every few seconds: at info they would bury the log.
		ev = s.d.Logger.Debug()
	}
	ev = ev.Str("method", c.Method()).Str("path", logsafe.Clip(c.Path())).Int("status", status).
		Dur("duration_ms", time.Since(start)).Str("ip", s.clientIP(c))
	if cl, ok := claimsFrom(c); ok {
		ev = ev.Str("user", cl.Username)
	}
	if t, ok := viaToken(c); ok {
		ev = ev.Str("token", t.Prefix) // the display prefix only, never the credential
	}
	ev.Msg("request")
	return nil
}
