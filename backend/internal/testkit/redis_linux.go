package testkit

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server if the test binary dies
// without running its cleanups (a -timeout panic, a kill): a leftover
// redis-server would hold its port on a machine shared with other builds.
// (The signal follows the forking OS thread; Go keeps its threads for the
// life of the process unless a goroutine exits locked to one, which the
// test helpers never do.)
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
