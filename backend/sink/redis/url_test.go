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
			if got := RedactURL(c.raw); got != c.redacted {
				t.Fatalf("RedactURL = %q, want %q", got, c.redacted)
			}
		})
	}
}
