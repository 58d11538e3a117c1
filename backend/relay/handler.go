package relay

import (
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// localRemote carries the client's address from the HTTP request into the
// upgraded connection's handler.
const localRemote = "relay_remote"

// Handler serves the relay on a Fiber route: Tickwatch answers Massive's
// URL shape, so register it at /stocks (the official Go client dials
// Feed + "/" + Market). clientIP names the client for the auth failure
// limit and the stats (the web layer's trusted-proxy logic); nil uses
// c.IP(). A request that is not a WebSocket upgrade gets 426.
//
// Any Origin is accepted: consumers are programs, and the relay uses no
// cookie or ambient credential a foreign page could ride on; a key is
// required for everything.
func (h *Hub) Handler(clientIP func(*fiber.Ctx) string) fiber.Handler {
	if clientIP == nil {
		clientIP = func(c *fiber.Ctx) string { return c.IP() }
	}
	ws := websocket.New(func(conn *websocket.Conn) {
		remote, _ := conn.Locals(localRemote).(string)
		// Serve returns only after the connection's writer has stopped: the
		// contrib package recycles conn as soon as this function returns.
		h.Serve(conn.Conn, remote)
	}, websocket.Config{
		Origins:         []string{"*"},
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 32 << 10,
	})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		c.Locals(localRemote, clientIP(c))
		return ws(c)
	}
}
