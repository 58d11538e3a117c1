package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// maxTicksLimit caps /ticks so one request cannot copy a whole large ring.
const maxTicksLimit = 1000

// parseConnectionID accepts "2" or "connection_2" for a configured slot and
// returns "connection_2".
func (s *Server) parseConnectionID(raw string) (string, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(raw, "connection_"))
	if err != nil || n < 1 || n > s.d.Config.MaxConnections {
		return "", false
	}
	return fmt.Sprintf("connection_%d", n), true
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
	limit := 50
	if q := c.Query("limit"); q != "" {
		limit, err = strconv.Atoi(q)
		if err != nil || limit < 1 {
			return errBadRequest("invalid limit", fmt.Sprintf("limit=%q: use an integer from 1 to %d", q, maxTicksLimit))
		}
		limit = min(limit, maxTicksLimit)
	}
	recent := s.d.Store.Conn(id).Recent(limit, make([]tickstore.Tick, 0, limit))
	out := make([]tickDoc, len(recent))
	for i, t := range recent {
		out[i] = tickDoc{Symbol: t.Symbol, Price: t.Price, Size: t.Size, Timestamp: float64(t.Time) / 1000, Kind: massive.Kind(t.Kind).Prefix()}
	}
	return c.JSON(fiber.Map{"connection_id": id, "ticks": out})
}

func (s *Server) reconnect(c *fiber.Ctx) error {
	return s.connectionAction(c, "reconnect", s.d.Manager.Reconnect)
}

func (s *Server) enable(c *fiber.Ctx) error {
	return s.connectionAction(c, "enable", func(id string) error { return s.d.Manager.SetEnabled(id, true) })
}

func (s *Server) disable(c *fiber.Ctx) error {
	return s.connectionAction(c, "disable", func(id string) error { return s.d.Manager.SetEnabled(id, false) })
}

func (s *Server) connectionAction(c *fiber.Ctx, action string, do func(id string) error) error {
	id, err := s.connectionID(c)
	if err != nil {
		return err
	}
	err = do(id)
	s.record(c, action, id, err)
	if err != nil {
		return managerError(err)
	}
	status := ""
	for _, sl := range s.d.Manager.SlotMetrics() {
		if sl.ConnectionID == id {
			status = sl.Status
		}
	}
	return c.JSON(fiber.Map{"ok": true, "connection_id": id, "status": status})
}

// record writes an admin action to the audit log.
func (s *Server) record(c *fiber.Ctx, action, target string, err error) {
	cl, _ := claimsFrom(c)
	e := auth.AuditEntry{User: cl.Username, Action: action, Target: target, Result: "ok"}
	if err != nil {
		e.Result, e.Detail = "error", err.Error()
	}
	s.d.Audit.Record(e)
}

func (s *Server) audit(c *fiber.Ctx) error {
	limit := c.QueryInt("limit", 50)
	if limit < 1 || limit > 1000 {
		return errBadRequest("invalid limit", "use an integer from 1 to 1000")
	}
	return c.JSON(fiber.Map{"entries": s.d.Audit.Recent(limit)})
}
