package massive

import (
	"strings"
	"testing"
	"time"
)

func TestBackoffFullJitter(t *testing.T) {
	c := &Client{cfg: Config{ReconnectDelay: 100 * time.Millisecond, MaxReconnectDelay: time.Second}}
	for _, tt := range []struct {
		failures int
		max      time.Duration
	}{{0, 100 * time.Millisecond}, {1, 200 * time.Millisecond}, {3, 800 * time.Millisecond}, {4, time.Second}, {1000, time.Second}} {
		var top time.Duration
		for range 2000 {
			d := c.backoff(tt.failures)
			if d < 0 || d > tt.max {
				t.Fatalf("backoff(%d) = %s, outside [0, %s]", tt.failures, d, tt.max)
			}
			top = max(top, d)
		}
		// Full jitter spreads over the whole window, not just its top.
		if top < tt.max/2 {
			t.Errorf("backoff(%d) never above %s in 2000 draws", tt.failures, top)
		}
	}
}

func TestChunkParams(t *testing.T) {
	var subs []string
	for i := range 3000 {
		subs = append(subs, "AM.T"+strings.Repeat("X", i%7)+string(rune('A'+i%26)))
	}
	chunks := chunkParams(subs)
	if len(chunks) < 2 {
		t.Fatalf("3000 subscriptions in %d chunk(s)", len(chunks))
	}
	var back []string
	for _, ch := range chunks {
		if len(ch) > maxParamsBytes {
			t.Fatalf("chunk of %d bytes", len(ch))
		}
		back = append(back, strings.Split(ch, ",")...)
	}
	if strings.Join(back, ",") != strings.Join(subs, ",") {
		t.Fatal("chunks do not join back to the input")
	}
	if chunkParams(nil) != nil {
		t.Fatal("no subscriptions should give no messages")
	}
}

func TestRedact(t *testing.T) {
	c := &Client{cfg: Config{APIKey: "secret-key-5678"}}
	if got := c.redact("bad key secret-key-5678 echoed"); got != "bad key ****5678 echoed" {
		t.Errorf("redact = %q", got)
	}
}
