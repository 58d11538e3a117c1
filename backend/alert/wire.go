package alert

import (
	"encoding/json"
	"math"
	"time"
)

// Alerts leave the process as JSON through GET /api/admin/alerts, the
// /admin-ws "alert" event and webhooks. Their times go out as Unix seconds
// with millisecond precision: the one time format of the API (docs/api.md),
// so a client reads an alert's since like a status change's timestamp.

// alertFields is Alert without its JSON methods, so wireAlert can embed it
// and shadow the time fields.
type alertFields Alert

type wireAlert struct {
	alertFields
	Since      float64  `json:"since"`
	FiredAt    float64  `json:"fired_at"`
	ResolvedAt *float64 `json:"resolved_at,omitempty"`
	AckedAt    *float64 `json:"acked_at,omitempty"`
}

// MarshalJSON writes a with its times in Unix seconds.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireAlert{alertFields: alertFields(a), Since: seconds(a.Since), FiredAt: seconds(a.FiredAt),
		ResolvedAt: optSeconds(a.ResolvedAt), AckedAt: optSeconds(a.AckedAt)})
}

// UnmarshalJSON reads what MarshalJSON writes (clients and tests in Go).
func (a *Alert) UnmarshalJSON(b []byte) error {
	var w wireAlert
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Alert(w.alertFields)
	a.Since, a.FiredAt = fromSeconds(w.Since), fromSeconds(w.FiredAt)
	a.ResolvedAt, a.AckedAt = optTime(w.ResolvedAt), optTime(w.AckedAt)
	return nil
}

// seconds matches live.UnixSeconds (alert does not import live): ms
// precision, the zero time as 0.
func seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func optSeconds(t *time.Time) *float64 {
	if t == nil {
		return nil
	}
	v := seconds(*t)
	return &v
}

func fromSeconds(s float64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(math.Round(s * 1000)))
}

func optTime(s *float64) *time.Time {
	if s == nil {
		return nil
	}
	t := fromSeconds(*s)
	return &t
}
