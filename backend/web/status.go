package web

import (
	"github.com/gofiber/fiber/v2"
)

// websocketStatus serves the status document; backend/status builds it, so
// it is the same document the live snapshots carry.
func (s *Server) websocketStatus(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.d.Status.Document())
}

func (s *Server) websocketHealth(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.d.Manager.Health())
}
