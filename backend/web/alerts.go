package web

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/alert"
)

// Alerts is what the alert endpoints and /metrics read (alert.Engine; app
// hands it over). Nil: no alert routes, no alert metrics.
type Alerts interface {
	List() []alert.Alert
	Ack(ctx context.Context, id int64, user string) (alert.Alert, error)
	FiringByKind() map[alert.Kind]int
	SilentTickers() map[string]int
}

// ActionAlertAck names an acknowledgement in the audit log.
const ActionAlertAck = "alert_ack"

type alertsDoc struct {
	Alerts []alert.Alert `json:"alerts"` // firing and recently resolved, newest first
	Firing int           `json:"firing"`
}

// listAlerts serves GET /api/admin/alerts.
func (s *Server) listAlerts(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	list := s.d.Alerts.List()
	doc := alertsDoc{Alerts: list}
	for _, a := range list {
		if a.State == alert.Firing {
			doc.Firing++
		}
	}
	return c.JSON(doc)
}

// ackAlert serves POST /api/admin/alerts/:id/ack; it is audited, refused
// ones included.
func (s *Server) ackAlert(c *fiber.Ctx) error {
	raw := c.Params("id")
	target := "alert " + raw
	// A malformed id is a 400 like every other :id route's (tokens,
	// consumer keys); 404 is for a well-formed id no alert has.
	uid, err := pathID(c, "GET /api/admin/alerts")
	if err != nil {
		s.record(c, ActionAlertAck, target, err)
		return err
	}
	id := int64(uid) // pathID allows 63 bits
	cl, _ := claimsFrom(c)
	a, err := s.d.Alerts.Ack(c.UserContext(), id, cl.Username)
	if errors.Is(err, alert.ErrNotFound) {
		err = errNotFound("unknown alert", "alert "+raw+" is neither firing nor recently resolved")
	}
	s.record(c, ActionAlertAck, target, err)
	if err != nil {
		return err
	}
	return c.JSON(a)
}
