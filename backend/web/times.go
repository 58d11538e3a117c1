package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tickwatch/tickwatch/backend/live"
)

// Times on the wire. Every time the API answers with is Unix seconds with
// millisecond precision (live.UnixSeconds), the form the status document,
// the live events and the audit log use, so a client handles one kind of
// time. Inputs are lenient: a time a person or a script sends (audit since
// and until, a token's expires_at) may be Unix seconds or RFC 3339.

// optSeconds is live.UnixSeconds for an optional time: nil stays nil, so
// the field is left out (omitempty) instead of claiming the epoch.
func optSeconds(t *time.Time) *float64 {
	if t == nil {
		return nil
	}
	v := live.UnixSeconds(*t)
	return &v
}

// parseTimeInput reads unix seconds (with an optional fraction) or RFC 3339.
func parseTimeInput(q string) (time.Time, error) {
	if v, err := strconv.ParseFloat(q, 64); err == nil {
		if v < 0 || v > 1e11 || math.IsNaN(v) {
			return time.Time{}, fmt.Errorf("out of range")
		}
		return time.UnixMilli(int64(math.Round(v * 1000))).UTC(), nil
	}
	if strings.ContainsAny(q, "T") {
		return time.Parse(time.RFC3339, q)
	}
	return time.Time{}, fmt.Errorf("not a time")
}
