//go:build unix

package app

import "syscall"

// openFileLimit reports RLIMIT_NOFILE. Since Go 1.19 the runtime raises the
// soft limit to the hard limit when package os starts, so there is nothing
// left to raise here; app logs the figures so an operator can see them.
func openFileLimit() (soft, hard uint64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, false
	}
	return uint64(rl.Cur), uint64(rl.Max), true
}
