package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/auth"
)

// sessionView is one login session as GET /api/admin/sessions shows it.
// The id names the session for DELETE; it is not a credential (the cookie
// is the id signed with SESSION_SECRET).
type sessionView struct {
	ID         string    `json:"id"`
	User       string    `json:"user"`
	Role       auth.Role `json:"role"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	Expires    time.Time `json:"expires"`
	ClientAddr string    `json:"client_addr"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"` // the caller's own session
	Sockets    int       `json:"sockets"` // open /admin-ws sockets
}

// listSessions: every live login session, oldest first.
func (s *Server) listSessions(c *fiber.Ctx) error {
	cl, _ := claimsFrom(c)
	sockets := s.d.Hub.SocketsByAuthSession()
	list := s.d.Sessions.List()
	out := make([]sessionView, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionView{
			ID: ss.ID, User: ss.Username, Role: ss.Role,
			Created: ss.Created, LastSeen: ss.LastSeen, Expires: ss.Expires,
			ClientAddr: ss.Client.Addr, UserAgent: ss.Client.UserAgent,
			Current: ss.ID == cl.SessionID, Sockets: sockets[ss.ID],
		})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"sessions": out})
}

// revokeSession ends a session at once: its cookie stops working and its
// open /admin-ws sockets are closed with 4001 (through the registry's
// OnEnd, which app wires to the hub). Revoking one's own session is a
// logout. Audited.
func (s *Server) revokeSession(c *fiber.Ctx) error {
	id := c.Params("id")
	ended, ok := s.d.Sessions.End(id)
	if !ok {
		return errNotFound("no such session", "session "+clipID(id)+" is not live (ended, expired or never existed)")
	}
	s.record(c, "revoke_session", ended.Username+" "+clipID(id), nil)
	return c.SendStatus(fiber.StatusNoContent)
}

// clipID keeps an id from the URL short in messages and the audit log.
func clipID(id string) string {
	if len(id) > 32 {
		return id[:32] + "..."
	}
	return id
}
