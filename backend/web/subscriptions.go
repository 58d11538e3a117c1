package web

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// maxTickersPerRequest bounds one subscribe call; larger changes belong in
// the configuration.
const maxTickersPerRequest = 500

type subscribeRequest struct {
	Tickers      []string        `json:"tickers"`
	ConnectionID json.RawMessage `json:"connection_id"` // 2 or "connection_2"; optional
}

func (s *Server) subscribe(c *fiber.Ctx) error {
	var req subscribeRequest
	if err := decodeBody(c.Body(), &req, false, `expected JSON {"tickers": ["AAPL", ...], "connection_id": 2 (optional)}`); err != nil {
		return err
	}
	if len(req.Tickers) == 0 || len(req.Tickers) > maxTickersPerRequest {
		return errBadRequest("invalid tickers", fmt.Sprintf("send 1 to %d tickers", maxTickersPerRequest))
	}
	target := ""
	if raw := strings.Trim(strings.TrimSpace(string(req.ConnectionID)), `"`); raw != "" && raw != "null" {
		id, ok := s.parseConnectionID(raw)
		if !ok {
			return errBadRequest("invalid connection_id", fmt.Sprintf("%q: use 1..%d", raw, s.d.Config.MaxConnections))
		}
		target = id
	}
	added, err := s.d.Admin.Subscribe(c.UserContext(), actor(c, s), req.Tickers, target)
	if err != nil {
		return actionError(err)
	}
	return c.JSON(fiber.Map{"added": added})
}

func (s *Server) unsubscribe(c *fiber.Ctx) error {
	sym, err := massive.NormalizeTicker(c.Params("symbol"))
	if err != nil {
		return errBadRequest("invalid symbol", err.Error())
	}
	removed, err := s.d.Admin.Unsubscribe(c.UserContext(), actor(c, s), sym)
	if err != nil {
		return actionError(err)
	}
	return c.JSON(fiber.Map{"removed": sym, "connection_id": removed.ConnectionID})
}

func (s *Server) tickerLookup(c *fiber.Ctx) error {
	sym, err := massive.NormalizeTicker(c.Params("symbol"))
	if err != nil {
		return errBadRequest("invalid symbol", err.Error())
	}
	id, ok := s.d.Manager.TickerAssignment(sym)
	if !ok {
		return errNotFound("ticker not assigned", sym+" is not assigned to any connection")
	}
	n, _ := massive.ParseConnID(id) // the manager's own id: it parses
	out := fiber.Map{"symbol": sym, "connection_id": id, "connection": int(n), "latest": nil}
	if l, ok := s.d.Store.Latest(sym); ok {
		out["latest"] = fiber.Map{"price": l.Price, "size": l.Size, "timestamp": float64(l.Time) / 1000,
			"change_pct": l.ChangePct, "count": l.Count}
	}
	return c.JSON(out)
}
