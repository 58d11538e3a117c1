package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/admin"
	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// auditEntryDoc is one audit entry on the wire; time in unix seconds with
// millisecond precision, like every other time of the API.
type auditEntryDoc struct {
	ID       int64   `json:"id"`
	Time     float64 `json:"time"`
	User     string  `json:"user"`
	Role     string  `json:"role"`
	Action   string  `json:"action"`
	Target   string  `json:"target"`
	Result   string  `json:"result"`
	Detail   string  `json:"detail"`
	ClientIP string  `json:"client_ip"`
}

// audit answers GET /api/admin/audit: newest first, one page at a time
// (limit, before = the previous page's next_before), filtered by user,
// action, target (exact), connection (2 or connection_2: every entry that
// touched it, including older entries whose target lists several), since
// and until (unix seconds or RFC 3339).
func (s *Server) audit(c *fiber.Ctx) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	page, err := s.d.Admin.Audit(c.UserContext(), f)
	if err != nil {
		return actionError(err)
	}
	out := make([]auditEntryDoc, len(page.Entries))
	for i, e := range page.Entries {
		out[i] = auditEntryDoc{ID: e.ID, Time: live.UnixSeconds(e.Time), User: e.User, Role: e.Role, Action: e.Action,
			Target: e.Target, Result: e.Result, Detail: e.Detail, ClientIP: e.ClientIP}
	}
	var next *int64
	if page.NextBeforeID > 0 {
		next = &page.NextBeforeID
	}
	return c.JSON(fiber.Map{"entries": out, "next_before": next})
}

func (s *Server) auditFilter(c *fiber.Ctx) (admin.AuditFilter, error) {
	f := admin.AuditFilter{User: c.Query("user"), Action: c.Query("action"), Target: c.Query("target")}
	var err error
	if f.Limit, err = queryLimit(c, admin.DefaultAuditPage, admin.MaxAuditPage); err != nil {
		return f, err
	}
	if q := c.Query("before"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			return f, errBadRequest("invalid before", fmt.Sprintf("before=%q: use the next_before value of the previous page (a positive integer)", q))
		}
		f.BeforeID = n
	}
	if q := c.Query("connection"); q != "" {
		// Any well-formed id, not only today's slots: the log keeps the
		// history of a connection WEBSOCKET_CONNECTIONS_MAX since dropped.
		n, err := massive.ParseConnID(q)
		if err != nil {
			return f, errBadRequest("invalid connection", fmt.Sprintf("connection=%q: use a connection number (2) or id (connection_2); this server runs 1..%d", logsafe.Clip(q), s.d.Config.MaxConnections))
		}
		f.Connection = n.String()
	}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		q := c.Query(p.name)
		if q == "" {
			continue
		}
		t, err := parseTimeInput(q)
		if err != nil {
			return f, errBadRequest("invalid "+p.name, fmt.Sprintf("%s=%q: use unix seconds (1764547200 or 1764547200.5) or RFC 3339 (2026-12-01T00:00:00Z)", p.name, q))
		}
		*p.into = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, errBadRequest("invalid until", "until must be later than since")
	}
	return f, nil
}

// queryLimit reads the limit query parameter: def when absent, else an
// integer from 1 to most. Anything else, however large, is the same 400:
// clamping 999999999 while refusing 1001 elsewhere (or refusing only what
// overflows an int) would make the accepted range depend on the endpoint
// and the size of the number.
func queryLimit(c *fiber.Ctx, def, most int) (int, error) {
	q := c.Query("limit")
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > most {
		return 0, errBadRequest("invalid limit", fmt.Sprintf("limit=%q: use an integer from 1 to %d", logsafe.Clip(q), most))
	}
	return n, nil
}
