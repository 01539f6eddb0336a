package ffmpeg

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill ffmpeg when antenne dies, even by
// SIGKILL: a job whose process is gone is taken over by another replica,
// and its orphaned ffmpeg would only burn a CPU for nothing.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
