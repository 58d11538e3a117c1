package redissink

import (
	"strings"
	"testing"
)

func TestCheckAndRedactURL(t *testing.T) {
	cases := []struct {
		raw, target, redacted string
		ok                    bool
	}{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", true},
		{"rediss://app:s3cret@cache:6380/1", "rediss://app:xxxxx@cache:6380/1", "rediss://app:xxxxx@cache:6380/1", true},
		{"redis://:s3cret@127.0.0.1:notaport/0", "", "redis://:xxxxx@127.0.0.1:notaport/0", false},
		{"http://:s3cret@127.0.0.1:6379", "", "http://:xxxxx@127.0.0.1:6379", false},
		{"redis://:s3cret@127.0.0.1:99999/0", "", "redis://:xxxxx@127.0.0.1:99999/0", false},
		{"redis://127.0.0.1:0", "", "redis://127.0.0.1:0", false},
		{"redis://127.0.0.1:65535", "redis://127.0.0.1:65535", "redis://127.0.0.1:65535", true},
		{"redis://127.0.0.1:1/2", "redis://127.0.0.1:1/2", "redis://127.0.0.1:1/2", true},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			target, err := CheckURL(c.raw)
			if (err == nil) != c.ok || target != c.target {
				t.Fatalf("CheckURL = %q, %v; want %q, ok=%v", target, err, c.target, c.ok)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %q contains the password", err)
			}
			// The caller (config) adds the accepted form; the error
			// must not say it a second time.
			if err != nil && strings.Contains(err.Error(), urlForm) {
				t.Fatalf("error %q repeats the accepted form", err)
			}
			if got := RedactURL(c.raw); got != c.redacted {
				t.Fatalf("RedactURL = %q, want %q", got, c.redacted)
			}
		})
	}
}

// TestCheckURLPort: a port outside 1..65535 is refused at once, naming the
// value and the accepted range, instead of failing every dial forever.
func TestCheckURLPort(t *testing.T) {
	for _, port := range []string{"0", "99999", "65536", "00000"} {
		_, err := CheckURL("redis://:s3cret@127.0.0.1:" + port + "/0")
		if err == nil || !strings.Contains(err.Error(), "port "+port+" is out of range (use 1 to 65535") {
			t.Errorf("port %s: %v", port, err)
		}
	}
}
