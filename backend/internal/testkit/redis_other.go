//go:build !linux

package testkit

import "os/exec"

// dieWithParent has no portable equivalent; the test's cleanup stops the
// server in every normal exit.
func dieWithParent(*exec.Cmd) {}
