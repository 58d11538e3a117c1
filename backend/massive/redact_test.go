package massive

import "testing"

// TestRedactKeyAsToken: the key is hidden where it stands as a token of its
// own, and nowhere else, so a short key neither mangles the words that
// contain it nor gives itself away by the holes it leaves
// ("ma****_connections"; issue 10, item 8).
func TestRedactKeyAsToken(t *testing.T) {
	tests := []struct{ key, in, want string }{
		{"max", "max_connections exceeded", "max_connections exceeded"},
		{"max", "Maximum number of connections exceeded.", "Maximum number of connections exceeded."},
		{"max", "auth failed for key max", "auth failed for key ****"},
		{"max", `{"action":"auth","params":"max"}`, `{"action":"auth","params":"****"}`},
		{"max", "max", "****"},
		{"max", "max max,max;maxi", "**** ****,****;maxi"},
		{"max", "apiKey=max&x=1", "apiKey=****&x=1"},
		{"max", "maxmax max", "maxmax ****"},
		{"x", "max_connections", "max_connections"},
		{"x", "x-ray x", "x-ray ****"},
		{"secret-key-5678", "bad key secret-key-5678 echoed", "bad key ****5678 echoed"},
		{"secret-key-5678", "bad key xsecret-key-5678 echoed", "bad key xsecret-key-5678 echoed"},
		{"secret-key-5678", "no key here", "no key here"},
		{"", "anything", "anything"},
	}
	for _, tc := range tests {
		c := &Client{cfg: Config{APIKey: tc.key}}
		if got := c.redact(tc.in); got != tc.want {
			t.Errorf("key %q: redact(%q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
		if got := RedactKey(tc.in, tc.key); got != tc.want {
			t.Errorf("RedactKey(%q, %q) = %q, want %q", tc.in, tc.key, got, tc.want)
		}
	}
}
