package web

import (
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/live"
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
	// Admin: the session also gets admin-only events (the relay's consumers).
	c.Locals("ws_peer", live.Peer{User: cl.Username, AuthSession: cl.SessionID, Admin: cl.Role.CanAct()})
	return c.Next()
}

func (s *Server) adminWS() fiber.Handler {
	return websocket.New(func(conn *websocket.Conn) {
		peer, _ := conn.Locals("ws_peer").(live.Peer)
		// Serve returns only after the session's writer has stopped: the
		// contrib package recycles conn as soon as this function returns.
		s.d.Hub.Serve(conn.Conn, peer)
	}, websocket.Config{
		// Origin was checked above; the upgrader's own check would reject
		// ALLOWED_ORIGINS entries, so it accepts what got this far.
		Origins: []string{"*"},
		// Memory per session (BENCHMARKS.md): browsers send only tiny
		// frames, so a small read buffer does (it does not bound a message;
		// the hub's read limit does). The write buffer is borrowed from a
		// pool for the length of one message instead of held for the
		// session's life: tick frames are PreparedMessages written straight
		// to the socket and never use it, only snapshots and metrics do.
		ReadBufferSize:    1024,
		WriteBufferSize:   16384,
		WriteBufferPool:   s.wsWriteBuffers,
		EnableCompression: false,
	})
}
