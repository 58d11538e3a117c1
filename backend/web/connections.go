package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/admin"
	"github.com/tickwatch/tickwatch/backend/manager"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// maxTicksLimit caps /ticks so one request cannot copy a whole large ring.
const maxTicksLimit = 1000

// parseConnectionID accepts "2" or "connection_2" (massive.ParseConnID) for
// a configured slot and returns "connection_2".
func (s *Server) parseConnectionID(raw string) (string, bool) {
	id, err := massive.ParseConnID(raw)
	if err != nil || int(id) > s.d.Config.MaxConnections {
		return "", false
	}
	return id.String(), true
}

// connectionID reads the :id route parameter.
func (s *Server) connectionID(c *fiber.Ctx) (string, error) {
	raw := c.Params("id")
	id, ok := s.parseConnectionID(raw)
	if !ok {
		return "", errNotFound("unknown connection",
			fmt.Sprintf("%q is not a connection; use 1..%d or connection_1..connection_%d", raw, s.d.Config.MaxConnections, s.d.Config.MaxConnections))
	}
	return id, nil
}

type tickDoc struct {
	Symbol    string  `json:"symbol"`
	Price     float64 `json:"price"`
	Size      float64 `json:"size"`
	Timestamp float64 `json:"timestamp"`
	Kind      string  `json:"kind"`
}

func (s *Server) connectionTicks(c *fiber.Ctx) error {
	id, err := s.connectionID(c)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 50, maxTicksLimit)
	if err != nil {
		return err
	}
	recent := s.d.Store.Conn(id).Recent(limit, make([]tickstore.Tick, 0, limit))
	out := make([]tickDoc, len(recent))
	for i, t := range recent {
		out[i] = tickDoc{Symbol: t.Symbol, Price: t.Price, Size: t.Size, Timestamp: float64(t.Time) / 1000, Kind: t.Kind.Prefix()}
	}
	return c.JSON(fiber.Map{"connection_id": id, "ticks": out})
}

func (s *Server) reconnect(c *fiber.Ctx) error {
	return s.connectionAction(c, func(id string) (fiber.Map, error) {
		return nil, s.d.Admin.Reconnect(c.UserContext(), actor(c, s), id)
	})
}

func (s *Server) enable(c *fiber.Ctx) error {
	return s.connectionAction(c, func(id string) (fiber.Map, error) {
		return nil, s.d.Admin.SetEnabled(c.UserContext(), actor(c, s), id, true)
	})
}

func (s *Server) disable(c *fiber.Ctx) error {
	return s.connectionAction(c, func(id string) (fiber.Map, error) {
		return nil, s.d.Admin.SetEnabled(c.UserContext(), actor(c, s), id, false)
	})
}

// reset returns a connection to its configured tickers and enabled state
// and drops its saved runtime changes.
//
// An id above WEBSOCKET_CONNECTIONS_MAX is accepted here (and only here)
// when the store still holds saved changes for it: the start-up warning
// about such changes points at this request to drop them. Without saved
// changes it is the usual 404.
func (s *Server) reset(c *fiber.Ctx) error {
	do := func(id string) (fiber.Map, error) {
		ch, err := s.d.Admin.Reset(c.UserContext(), actor(c, s), id)
		return fiber.Map{"added": nonNil(ch.Added), "removed": nonNil(ch.Removed), "skipped": nonNil(ch.Skipped)}, err
	}
	n, err := massive.ParseConnID(c.Params("id"))
	if err != nil || int(n) <= s.d.Config.MaxConnections {
		return s.connectionAction(c, do)
	}
	out, err := do(n.String())
	if errors.Is(err, manager.ErrUnknownConnection) {
		_, err = s.connectionID(c) // nothing saved for it: the usual 404
		return err
	}
	if err != nil {
		return actionError(err)
	}
	out["ok"], out["connection_id"], out["status"] = true, n.String(), "not configured"
	return c.JSON(out)
}

// connectionAction runs do on the :id connection and answers with the
// connection's status plus what do returned.
func (s *Server) connectionAction(c *fiber.Ctx, do func(id string) (fiber.Map, error)) error {
	id, err := s.connectionID(c)
	if err != nil {
		return err
	}
	extra, err := do(id)
	if err != nil {
		return actionError(err)
	}
	status := ""
	for _, sl := range s.d.Manager.SlotMetrics() {
		if sl.ConnectionID == id {
			status = sl.Status
		}
	}
	out := fiber.Map{"ok": true, "connection_id": id, "status": status}
	for k, v := range extra {
		out[k] = v
	}
	return c.JSON(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// actor is who is acting, for the audit log; a request authenticated by an
// API token names the token (its display prefix and name, never the secret).
func actor(c *fiber.Ctx, s *Server) admin.Actor {
	cl, _ := claimsFrom(c)
	a := admin.Actor{User: cl.Username, Role: string(cl.Role), ClientIP: s.clientIP(c)}
	if t, ok := viaToken(c); ok {
		a.Via = "via API token " + t.Prefix + " (" + t.Name + ")"
	}
	return a
}

// record writes an action that is not a connection change (API tokens,
// sessions) to the audit log.
func (s *Server) record(c *fiber.Ctx, action, target string, err error) {
	s.d.Admin.Record(c.UserContext(), actor(c, s), action, target, err)
}

// actionError maps the store's and the manager's sentinel errors to HTTP
// statuses. A store failure means the action was not applied (admin undid
// it), so the admin can simply retry once the cause is fixed.
func actionError(err error) error {
	switch {
	case errors.Is(err, admin.ErrFull):
		return &apiError{Status: fiber.StatusInsufficientStorage, Message: "not saved: disk full", Detail: err.Error()}
	case errors.Is(err, admin.ErrBusy):
		return &apiError{Status: fiber.StatusServiceUnavailable, Message: "not saved: database busy", Detail: err.Error(), RetryAfter: 5}
	case errors.Is(err, admin.ErrReadOnly), errors.Is(err, admin.ErrCorrupt):
		return &apiError{Status: fiber.StatusServiceUnavailable, Message: "not saved: database unavailable", Detail: err.Error()}
	}
	return managerError(err)
}
