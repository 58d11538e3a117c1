package logsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	a64 := strings.Repeat("a", 64)
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"short", "admin", "admin"},
		{"exactly MaxLen", a64, a64},
		{"one over", a64 + "b", a64 + "…(65 bytes)"},
		{"60 KB", strings.Repeat("x", 60<<10), strings.Repeat("x", 64) + "…(61440 bytes)"},
		// "é" is 2 bytes: 63 a's then é straddles the cut, so it goes whole.
		{"multi-byte at the cut", strings.Repeat("a", 63) + "éé", strings.Repeat("a", 63) + "…(67 bytes)"},
	}
	for _, tc := range tests {
		got := Clip(tc.in)
		if got != tc.want {
			t.Errorf("%s: Clip = %q, want %q", tc.name, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("%s: Clip made invalid UTF-8 %q", tc.name, got)
		}
	}
}

func TestClipTo(t *testing.T) {
	if got := ClipTo("abcdef", 3); got != "abc…(6 bytes)" {
		t.Errorf("ClipTo(abcdef, 3) = %q", got)
	}
	if got := ClipTo("abc", -1); got != "…(3 bytes)" {
		t.Errorf("ClipTo(abc, -1) = %q", got)
	}
}
