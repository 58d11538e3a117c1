package web

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz is liveness: the process serves HTTP.
func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok", "version": s.d.Version, "uptime_seconds": time.Since(s.d.Started).Seconds()})
}

// readyz is readiness: every enabled upstream connection has been attempted
// at least once, so the dashboard has something true to show. A sink counts
// only when it is required (REDIS_REQUIRED=true): by default ingest, the
// dashboard and the API work the same with Redis down, so a load balancer
// must not take Tickwatch out for it.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.d.Ready != nil && !s.d.Ready() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "starting"})
	}
	if s.d.Upstream != nil {
		if ok, reason := s.d.Upstream(); !ok {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "not_ready", "reason": reason})
		}
	}
	if s.d.Status != nil {
		for _, sk := range s.d.Status.Sinks() {
			if sk.Required && sk.State != "connected" {
				reason := fmt.Sprintf("%s sink %s (required)", sk.Name, sk.State)
				if sk.LastError != "" {
					reason += ": " + sk.LastError
				}
				return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "not_ready", "reason": reason})
			}
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
