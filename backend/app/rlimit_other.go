//go:build !unix

package app

// openFileLimit: no RLIMIT_NOFILE on this platform.
func openFileLimit() (soft, hard uint64, ok bool) { return 0, 0, false }
