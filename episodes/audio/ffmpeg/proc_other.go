//go:build !linux

package ffmpeg

import "os/exec"

// dieWithParent does nothing where the kernel has no parent-death signal:
// ffmpeg is then stopped by its context only.
func dieWithParent(*exec.Cmd) {}
