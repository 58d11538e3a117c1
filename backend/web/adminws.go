package web

import (
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// adminWSUpgrade authorises /admin-ws BEFORE the upgrade, so refusals are
// plain HTTP statuses (401/403) the browser and tests can see.
func (s *Server) adminWSUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return &apiError{Status: fiber.StatusUpgradeRequired, Message: "websocket upgrade required", Detail: "connect with a WebSocket client"}
	}
	cl, ok := claimsFrom(c)
	if !ok {
		return errUnauthorized()
	}
	if !cl.Role.CanView() {
		return errForbidden("the " + string(cl.Role) + " role has no access to the dashboard")
	}
	// Browsers always send Origin on WebSocket handshakes; the contrib
	// middleware would accept any, which would let another site read the
	// feed with the admin's cookie if SameSite were ever relaxed.
	// A script with an API token sends no Origin; only browsers need the check.
	if _, token := viaToken(c); !token && !s.originOK(c) {
		return errForbidden("cross-origin WebSocket refused (Origin must be this server or one of ALLOWED_ORIGINS)")
	}
	c.Locals("ws_user", cl.Username)
	return c.Next()
}

func (s *Server) adminWS() fiber.Handler {
	return websocket.New(func(conn *websocket.Conn) {
		user, _ := conn.Locals("ws_user").(string)
		// Serve returns only after the session's writer has stopped: the
		// contrib package recycles conn as soon as this function returns.
		s.d.Hub.Serve(conn.Conn, user)
	}, websocket.Config{
		// Origin was checked above; the upgrader's own check would reject
		// ALLOWED_ORIGINS entries, so it accepts what got this far.
		Origins:           []string{"*"},
		ReadBufferSize:    4096,
		WriteBufferSize:   16384,
		EnableCompression: false,
	})
}
