package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

func TestAuditRing(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		capacity int
		records  int
		limit    int
		want     []string // targets, newest first
	}{
		{"empty", 3, 0, 0, []string{}},
		{"under capacity", 3, 2, 0, []string{"t1", "t0"}},
		{"exactly full", 3, 3, 0, []string{"t2", "t1", "t0"}},
		{"wrapped", 3, 7, 0, []string{"t6", "t5", "t4"}},
		{"limit", 3, 7, 2, []string{"t6", "t5"}},
		{"limit over count", 5, 2, 10, []string{"t1", "t0"}},
		{"negative limit = all", 2, 3, -1, []string{"t2", "t1"}},
		{"capacity 1", 1, 4, 0, []string{"t3"}},
		{"default capacity", 0, DefaultAuditCapacity + 1, 1, []string{fmt.Sprintf("t%d", DefaultAuditCapacity)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAudit(tt.capacity, zerolog.Nop())
			for i := range tt.records {
				a.Record(AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), User: "alice",
					Action: "reconnect", Target: fmt.Sprintf("t%d", i), Result: "ok"})
			}
			got := a.Recent(tt.limit)
			targets := make([]string, len(got))
			for i, e := range got {
				targets[i] = e.Target
			}
			if fmt.Sprint(targets) != fmt.Sprint(tt.want) {
				t.Fatalf("Recent(%d) = %v, want %v", tt.limit, targets, tt.want)
			}
			if tt.capacity == 0 {
				if n := len(a.Recent(0)); n != DefaultAuditCapacity {
					t.Fatalf("default capacity holds %d", n)
				}
			}
		})
	}
}

func TestAuditRecordDetails(t *testing.T) {
	var buf bytes.Buffer
	a := NewAudit(4, zerolog.New(&buf))
	before := time.Now()
	a.Record(AuditEntry{User: "alice", Action: "subscribe", Target: "AAPL,MSFT", Result: "ok"})
	a.Record(AuditEntry{User: "alice", Action: "disable", Target: "connection_2", Result: "error",
		Detail: strings.Repeat("é", 2000)})

	got := a.Recent(0)
	if got[1].Time.Before(before) || got[1].Time.After(time.Now()) {
		t.Errorf("zero Time not stamped with now: %v", got[1].Time)
	}
	if d := got[0].Detail; len(d) > maxAuditField+len("…(4000 bytes)") || !utf8.ValidString(d) {
		t.Errorf("Detail not clipped to valid UTF-8: %d bytes, valid=%v", len(d), utf8.ValidString(d))
	}
	// Recent hands out copies.
	got[0].User = "mallory"
	if a.Recent(1)[0].User != "alice" {
		t.Error("Recent exposes the ring")
	}
	// Each entry is also a structured log line; failures are warnings.
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2: %s", len(lines), buf.String())
	}
	var l0, l1 map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &l0); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &l1); err != nil {
		t.Fatal(err)
	}
	want0 := map[string]any{"level": "info", "user": "alice", "action": "subscribe", "target": "AAPL,MSFT", "result": "ok", "message": "admin action"}
	for k, v := range want0 {
		if l0[k] != v {
			t.Errorf("log line 1 %s = %v, want %v", k, l0[k], v)
		}
	}
	if l1["level"] != "warn" || l1["detail"] == nil {
		t.Errorf("log line 2 = %v, want a warn with detail", l1)
	}
	// The JSON shape the audit endpoint serves.
	// Times are Unix seconds with millisecond precision, as everywhere in the API.
	js, _ := json.Marshal(AuditEntry{Time: time.UnixMilli(1705853696123).Add(456 * time.Microsecond), User: "u", Action: "a", Target: "t", Result: "ok"})
	if string(js) != `{"time":1705853696.123,"user":"u","action":"a","target":"t","result":"ok"}` {
		t.Errorf("json = %s", js)
	}
}

func TestAuditConcurrent(t *testing.T) {
	a := NewAudit(50, zerolog.Nop())
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				a.Record(AuditEntry{User: fmt.Sprintf("w%d", w), Action: "x", Target: fmt.Sprint(i), Result: "ok"})
				if i%10 == 0 {
					_ = a.Recent(5)
				}
			}
		})
	}
	wg.Wait()
	got := a.Recent(0)
	if len(got) != 50 {
		t.Fatalf("Recent = %d entries, want 50", len(got))
	}
	// Per writer, entries appear newest first.
	last := map[string]int{}
	for _, e := range got {
		var i int
		fmt.Sscan(e.Target, &i)
		if prev, ok := last[e.User]; ok && i >= prev {
			t.Fatalf("writer %s: %d after %d, not newest first", e.User, i, prev)
		}
		last[e.User] = i
	}
}
