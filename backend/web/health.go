package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz is liveness: the process serves HTTP.
func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok", "version": s.d.Version, "uptime_seconds": time.Since(s.d.Started).Seconds()})
}

// readyz is readiness: every enabled upstream connection has been attempted
// at least once, so the dashboard has something true to show.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.d.Ready != nil && !s.d.Ready() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "starting"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
