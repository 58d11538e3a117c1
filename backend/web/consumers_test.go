package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestConsumerWireTimes: the relay's consumer and key documents answer with
// Unix seconds like every other time in the API, not RFC 3339 strings.
func TestConsumerWireTimes(t *testing.T) {
	created := time.UnixMilli(1_893_456_000_123)
	used := created.Add(90 * time.Minute)
	revoked := created.Add(time.Hour)
	for _, tc := range []struct {
		name string
		v    any
		want []string
	}{
		{"active key", newConsumerKeyDoc(ConsumerKey{ID: 1, Name: "risk", Prefix: "twk_a", CreatedAt: created, LastUsedAt: &used}, 2),
			[]string{`"created_at":1893456000.123`, `"last_used_at":1893461400.123`, `"state":"active"`, `"connected":2`}},
		{"revoked key", newConsumerKeyDoc(ConsumerKey{ID: 2, Name: "old", Prefix: "twk_b", CreatedAt: created, RevokedAt: &revoked}, 3),
			[]string{`"revoked_at":1893459600.123`, `"state":"revoked"`, `"connected":0`}},
		{"consumer", RelayConsumer{ID: 7, Name: "risk", Since: created}, []string{`"since":1893456000.123`, `"id":7`}},
		{"consumer before auth", RelayConsumer{ID: 8}, []string{`"since":0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %s", b, w)
				}
			}
			if strings.Contains(string(b), `"20`) || strings.Count(string(b), `"since"`) > 1 || strings.Count(string(b), `"created_at"`) > 1 {
				t.Errorf("an RFC 3339 time or a duplicate key is left: %s", b)
			}
		})
	}
}
