// Package logsafe prepares strings that a client controls for a log line.
// A username, a path or a query parameter can be as long as the request
// limits allow (a 60 KB username was once logged whole); logged through
// Clip, each costs at most a few dozen bytes of log and still shows what it
// began with and how long it was.
package logsafe

import (
	"strconv"
	"unicode/utf8"
)

// MaxLen is how many bytes of a client-controlled string a log line keeps.
const MaxLen = 64

// Clip returns s when it is at most MaxLen bytes long; otherwise its first
// MaxLen bytes (cut back to a whole UTF-8 character) followed by
// "…(N bytes)", N being the length of s.
func Clip(s string) string { return ClipTo(s, MaxLen) }

// ClipTo is Clip with a limit of n bytes, for stores that keep more than a
// log line (the audit trail keeps 1 KiB per field).
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
